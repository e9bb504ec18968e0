"""Grading an assignment with otter-grader: full marks, zero, and one wrong answer.

A small page with two computable exercises and a prose one goes through `make assignments`'s
generator and `otter assign`; `otter run` then grades its solution notebook, its untouched student
notebook and a solution notebook with one wrong answer. Needs the teach extra, so it runs in
`make test-assignments` (which sets HLMKIT_TEACH=1) and is skipped by `make test`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

# otter assign (in this process) builds traitlets classes the old way; the warning is otter's, not ours
pytestmark = pytest.mark.filterwarnings("ignore:Traits should be given as instances:DeprecationWarning")

if not os.environ.get("HLMKIT_TEACH"):
    pytest.skip("grading needs the teach extra: run `make test-assignments`", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import grade_assignments as ga
import make_assignments as ma
from myst_pages import HEAD, exercise, page_context

PAGE = (
    HEAD
    + "\n"
    + exercise(
        "ex-g-mean",
        "Store the mean of `x` in `mean_x`.",
        "mean_x = float(x.mean())",
        [
            ('assert isinstance(mean_x, float), "mean_x should be a number"', False),
            ('assert np.isclose(mean_x, x.mean()), "mean_x is not the mean of x"', True),
        ],
    )
    + exercise(
        "ex-g-fit",
        "Fit a line to `y` against `x` and store its slope in `slope`, its intercept in `icept`.",
        "y = 2 + 3 * x\nslope, icept = np.polyfit(x, y, 1)\nslope, icept = float(slope), float(icept)",
        [
            (
                'assert isinstance(slope, float) and isinstance(icept, float), "slope and icept should be numbers"',
                False,
            ),
            ('assert np.isclose(slope, np.polyfit(x, 2 + 3 * x, 1)[0]), "the slope is not right"', True),
            ('assert np.isclose(icept, np.polyfit(x, 2 + 3 * x, 1)[1]), "the intercept is not right"', True),
        ],
    )
    + "```{exercise}\n:label: ex-g-why\n\nWhy?\n```\n\n```{solution} ex-g-why\n:class: dropdown\n\nBecause.\n```\n"
)


@pytest.fixture(scope="module")
def assignment(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("grading")
    page = tmp / "small.md"
    page.write_text(PAGE)
    return ma.make_assignment(
        page, tmp / "assignments", context=page_context("ex-g-mean", "ex-g-fit", "ex-g-why")
    )


def test_the_solution_gets_full_marks_and_the_student_notebook_zero(assignment, capsys):
    assert ga.main([str(assignment), "--jobs", "1"]) == 0  # as make grade-assignments runs it
    out = capsys.readouterr()
    assert "total: solution 5/5, student 0/5" in out.out and "FAIL" not in out.err
    solution = ga.otter_run(assignment / "autograder" / "small.ipynb", ga.autograder_zip(assignment))
    assert solution == {
        "ex-g-mean": (2.0, 2.0),
        "ex-g-fit": (3.0, 3.0),
    }  # the prose question is graded by hand


def test_one_wrong_answer_loses_exactly_its_questions_points(assignment, tmp_path):
    nb = nbformat.read(assignment / "autograder" / "small.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if "slope, icept = float(slope), float(icept)" in c.source]
    cell.source += "\nicept = icept + 0.5          # a wrong intercept, still a number"
    wrong = tmp_path / "small.ipynb"
    nbformat.write(nb, wrong)
    graded = ga.otter_run(wrong, ga.autograder_zip(assignment))
    # the public test and the slope test pass, but the exercise earns its 3 points only when all pass
    assert graded == {"ex-g-mean": (2.0, 2.0), "ex-g-fit": (0.0, 3.0)}


def test_the_student_notebook_holds_stubs_not_solutions(assignment):
    nb = nbformat.read(assignment / "student" / "small.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "mean_x = ...\n" in text + "\n" and "slope = ...\nicept = ..." in text
    assert "np.polyfit(x, y, 1)" not in text and "Because." not in text
    assert "np.polyfit(x, 2 + 3 * x, 1)" not in nbformat.writes(nb)  # the hidden tests stay in the autograder
