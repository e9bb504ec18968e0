"""The assignment generator (tools/make_assignments.py): pages become otter master notebooks.

These tests need no otter-grader; grading itself is tested in tests/test_grading.py.
"""

from __future__ import annotations

import doctest
import sys
import textwrap
from pathlib import Path

import pytest
from myst_pages import HEAD, exercise, page_context

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_assignments as ma

GOOD_TESTS = [
    ('assert isinstance(mean_x, float), "mean_x should be a number"', False),
    ('assert np.isclose(mean_x, x.mean()), "mean_x is not the mean of x"', True),
]


def write(tmp_path: Path, body: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(HEAD + "\n" + body)
    return page


def test_docstring_examples():
    assert doctest.testmod(ma).failed == 0


def test_a_computable_exercise_becomes_an_autograded_question_with_stubs(tmp_path):
    page = write(
        tmp_path,
        exercise(
            "ex-t-mean",
            "Store the mean of `x` in `mean_x`.",
            "half = x / 2\nmean_x = float(x.mean())\nmean_x",
            GOOD_TESTS,
        )
        + "```{exercise}\n:label: ex-t-why\n\nWhy?\n```\n\n"
        + "```{solution} ex-t-why\n:class: dropdown\n\nBecause.\n```\n",
    )
    nb = ma.master_notebook(page, page_context("ex-t-mean", "ex-t-why"))
    sources = [c.source for c in nb.cells]
    configs = [s for s in sources if s.startswith("# BEGIN QUESTION")]
    assert configs == [
        "# BEGIN QUESTION\nname: ex-t-mean\nmanual: false\nall_or_nothing: true\n",
        "# BEGIN QUESTION\nname: ex-t-why\nmanual: true\npoints: 1\n",
    ]
    [solution] = [s for s in sources if "# BEGIN SOLUTION NO PROMPT" in s]
    # the student keeps the answer variable the tests use, not the helper `half`
    assert solution.startswith('""" # BEGIN PROMPT\nmean_x = ...\n"""; # END PROMPT\n')
    tests = [s for s in sources if "BEGIN TEST CONFIG" in s]
    assert len(tests) == 2 and "hidden: true" in tests[1] and "points: 1" in tests[1]
    assert not any("remove-cell" in str(c.metadata) for c in nb.cells)
    assert sources[0].startswith("# ASSIGNMENT CONFIG\nname: page\n")


def test_a_computable_exercise_without_tests_fails_and_names_it(tmp_path, capsys):
    page = write(
        tmp_path, exercise("ex-t-untested", "Store the mean in `mean_x`.", "mean_x = float(x.mean())", [])
    )
    with pytest.raises(ma.AssignmentError, match="ex-t-untested.*no autograder test cells"):
        ma.master_notebook(page)
    for args in (["--check"], ["--out", str(tmp_path / "out")]):  # the second is what `make assignments` runs
        assert ma.main([str(page), *args]) == 1
        assert "ex-t-untested" in capsys.readouterr().err
    assert not (tmp_path / "out" / "page").exists()


@pytest.mark.parametrize(
    ("text", "solution", "tests", "manual", "message"),
    [
        (
            "Store it in `mean_x`.",
            "mean_x = float(x.mean())",
            [GOOD_TESTS[0]],
            False,
            "needs at least one public and one hidden test",
        ),
        (
            "Store it in `mean_x`.",
            "mean_x = float(x.mean())",
            [("mean_x > 0", False), GOOD_TESTS[1]],
            False,
            r"test 1 .* has no `assert`",
        ),
        (
            "Store it in `mean_x`.",
            "mean_x = float(x.mean())",
            [GOOD_TESTS[0], ("ref = x.mean()\nassert np.isclose(mean_x, ref)", True)],
            False,
            "assigns `ref`",
        ),
        (
            "Compute the mean.",
            "mean_x = float(x.mean())",
            GOOD_TESTS,
            False,
            "does not name its answer variable `mean_x`",
        ),
        (
            "Store it in `mean_x`.",
            "mean_x = float(x.mean())",
            [("assert x.sum() > 0", False), ("assert len(x)", True)],
            False,
            "use no variable its solution assigns",
        ),
        (
            "Draw it.",
            "mean_x = float(x.mean())",
            GOOD_TESTS,
            True,
            "marked `:class: manual`.*has autograder test cells",
        ),
    ],
)
def test_exercises_that_break_the_style_are_refused(tmp_path, text, solution, tests, manual, message):
    page = write(tmp_path, exercise("ex-t-bad", text, solution, tests, manual))
    with pytest.raises(ma.AssignmentError, match=message):
        ma.master_notebook(page)


def test_names_only_hidden_cells_or_solutions_define_are_refused(tmp_path):
    hidden = "```{code-cell} ipython3\n:tags: [remove-cell]\nsecret = 3\n```\n\n"
    uses_hidden = "```{code-cell} ipython3\nprint(secret)\n```\n\n"
    with pytest.raises(ma.AssignmentError, match="uses `secret`, which only a hidden"):
        ma.master_notebook(write(tmp_path, hidden + uses_hidden))
    later = "```{code-cell} ipython3\nprint(mean_x)\n```\n"
    ok = exercise("ex-t-mean", "Store it in `mean_x`.", "mean_x = float(x.mean())", GOOD_TESTS)
    with pytest.raises(ma.AssignmentError, match="uses `mean_x`, which the solution of 'ex-t-mean' defines"):
        ma.master_notebook(write(tmp_path, ok + later))


def test_a_figure_keeps_its_caption_as_markdown_not_as_myst_metadata(tmp_path):
    """A figure's caption is MyST source in myst-nb's cell metadata; the assignment shows it as
    Markdown under the cell, with its glued number, as the reader notebooks do."""
    page = write(
        tmp_path,
        "```{code-cell} ipython3\n---\nmystnb:\n  figure:\n    name: fig-x\n"
        "    caption: The {glue:text}`n` values of `x`.\n---\nplot(x)\n```\n",
    )
    context = {**page_context(), "labels": {"fig-x": "Figure 1.1"}, "glue_text": {"n": "10"}}
    nb = ma.master_notebook(page, context)
    [i] = [k for k, c in enumerate(nb.cells) if c.cell_type == "code" and c.source == "plot(x)"]
    assert "mystnb" not in nb.cells[i].metadata
    assert nb.cells[i + 1].cell_type == "markdown"
    assert nb.cells[i + 1].source == "**Figure 1.1.** The 10 values of `x`."


def test_raw_myst_left_in_a_notebook_is_an_error(tmp_path, monkeypatch):
    """The last guard: were a cell's MyST metadata kept (as before captions became Markdown),
    the notebook would be refused rather than handed out."""
    page = write(
        tmp_path,
        "```{code-cell} ipython3\n---\nmystnb:\n  figure:\n    name: fig-x\n"
        "    caption: See {numref}`fig-x`.\n---\nplot(x)\n```\n",
    )
    context = {**page_context(), "labels": {"fig-x": "Figure 1.1"}, "refs": {":numref:`fig-x`": "Figure 1.1"}}
    ma.master_notebook(page, context)  # fine as it is
    monkeypatch.setattr(ma, "_meta", lambda cell: dict(cell.metadata))
    with pytest.raises(ma.AssignmentError, match="1 MyST roles, directives or targets left"):
        ma.master_notebook(page, context)


def test_the_gated_exercise_form_is_read_as_one_exercise():
    nb = ma.jupytext.reads(
        HEAD
        + textwrap.dedent("""
        ```{exercise-start}
        :label: ex-t-gated
        ```
        Compute the mean of `x` as `mean_x`.
        ```{exercise-end}
        ```

        ```{solution} ex-t-gated
        Use `x.mean()`.
        ```
        """),
        fmt="myst",
    )
    [ex] = [item for item in ma.parse_page(nb) if isinstance(item, ma.Exercise)]
    assert ex.label == "ex-t-gated" and not ex.computable
    assert (
        ma.exercise_directive(ex)
        == "```{exercise}\n:label: ex-t-gated\n\nCompute the mean of `x` as `mean_x`.\n```"
    )


@pytest.mark.parametrize("page", ma.pages_with_exercises(), ids=lambda p: p.stem)
def test_every_page_with_exercises_follows_the_style(page):
    """Every chapter and lab passes the checks of `make assignments` (the build is not needed)."""
    exercises = [item for item in ma.check_exercises(page) if isinstance(item, ma.Exercise)]
    assert len(exercises) >= 3
    for ex in exercises:
        if ex.computable:
            assert ex.answers and any(t.metadata["autograde"].get("hidden") for t in ex.tests), ex.label


@pytest.mark.parametrize("page", ["labs/lab1_example1.md", "labs/lab1_example2.md"])
def test_the_labs_have_their_questions(page):
    exercises = [item for item in ma.check_exercises(ROOT / page) if isinstance(item, ma.Exercise)]
    assert len(exercises) == 12 and sum(ex.computable for ex in exercises) >= 5
