"""tools/check_student_site.py on two small fabricated sites: it finds a leak wherever it is, and a renumbering."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import check_student_site as css

ANSWER = "The gap narrows as the school mean ses rises, by about two points per unit."
PAGE = """<html><body><section id="lab">
<figure id="fig-a"><img src="a.png" alt="x"><figcaption><p><span class="caption-number">Figure 11.1 </span>Data.</p></figcaption></figure>
<div class="exercise admonition" id="ex-q1"><p class="admonition-title"><span class="caption-number">Exercise 11.1 </span></p>
<section><p>How does the gap change with the school's mean ses?</p></section></div>
{solution}
<figure id="fig-b"><img src="b.png" alt="y"><figcaption><p><span class="caption-number">Figure {fig_b} </span>Later.</p></figcaption></figure>
<div class="math notranslate nohighlight" id="equation-gls"><span class="eqno">(11.1)</span>\\[y\\]</div>
</section></body></html>"""
SOLUTION = """<div class="solution dropdown admonition" id="sol-1"><p class="admonition-title">Solution</p>
<section><p>{answer}</p>
<figure id="fig-sol"><img src="s.png" alt="z"><figcaption><p><span class="caption-number">Figure 11.2 </span>In the solution.</p></figcaption></figure>
</section></div>"""


def _site(
    root: Path, *, solution: bool, fig_b: str = "11.3", leak_in: str = "", index_words: tuple = ()
) -> Path:
    (root / "labs").mkdir(parents=True)
    (root / "_sources" / "labs").mkdir(parents=True)
    sol = SOLUTION.format(answer=ANSWER) if solution else ""
    (root / "labs" / "lab.html").write_text(PAGE.format(solution=sol, fig_b=fig_b))
    md = "How does the gap change?\n" + (
        f"```{{solution}} ex-q1\n{ANSWER}\n```\n" if solution or leak_in == "md" else ""
    )
    (root / "_sources" / "labs" / "lab.md").write_text(md)
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "How does the gap change?"}]
    if solution or leak_in == "ipynb":
        cells.append(
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "<details><summary>Solution</summary>\n\nThe gap *narrows* as the school mean `ses`\nrises, by about two points per unit.\n</details>",
            }
        )
    (root / "_sources" / "labs" / "lab.ipynb").write_text(json.dumps({"cells": cells}))
    terms = {"gap": 0, "chang": 0, "school": 0} | {w: 0 for w in index_words}
    if solution:
        terms |= {"narrow": 0, "rise": 0}
    (root / "searchindex.js").write_text(
        "Search.setIndex(" + json.dumps({"terms": terms, "titleterms": {}}) + ")"
    )
    return root


def test_a_clean_student_site_passes(tmp_path):
    full = _site(tmp_path / "full", solution=True)
    student = _site(tmp_path / "student", solution=False)
    assert css.check(full, student) == []


def test_a_leak_in_the_notebook_or_markdown_download_is_found(tmp_path):
    full = _site(tmp_path / "full", solution=True)
    for where in ("ipynb", "md"):
        student = _site(tmp_path / f"student-{where}", solution=False, leak_in=where)
        problems = css.check(full, student)
        assert problems and all(f"lab.{where}" in p and "leaks" in p for p in problems)


def test_a_leak_in_the_page_or_the_search_index_is_found(tmp_path):
    full = _site(tmp_path / "full", solution=True)
    student = _site(tmp_path / "student", solution=True)
    problems = css.check(full, student)
    assert any("leaks" in p and "lab.html" in p for p in problems)
    assert any("solution blocks" in p for p in problems)
    assert any("search index" in p and "narrow" in p for p in problems)


def test_renumbered_figures_are_found(tmp_path):
    full = _site(tmp_path / "full", solution=True)
    student = _site(tmp_path / "student", solution=False, fig_b="11.2")
    problems = css.check(full, student)
    assert problems == [
        "labs/lab.html#fig-b: 'Figure 11.3' in the full edition, 'Figure 11.2' in the student edition"
    ]


def test_a_full_site_whose_downloads_lack_the_solution_is_reported(tmp_path):
    """If the search cannot find a solution in the full edition's downloads, it could not find a leak either."""
    full = _site(tmp_path / "full", solution=True)
    (full / "_sources" / "labs" / "lab.ipynb").write_text(json.dumps({"cells": []}))
    student = _site(tmp_path / "student", solution=False)
    problems = css.check(full, student)
    assert problems and "not found in its notebook download" in problems[0]


def _notebook(path: Path, cells: list[dict]) -> Path:
    path.write_text(json.dumps({"cells": cells}))
    return path


def test_a_leak_in_a_cells_metadata_is_found_and_an_answer_stub_is_not_one(tmp_path):
    """--files: the assignments' student notebooks. A solution figure's caption kept in a cell's
    metadata (myst-nb's figure options) is a leak; an answer stub naming what the exercise asks for
    (``gap_slope = ...``) is not text to search, even where a solution sentence is made of such names."""
    full = _site(tmp_path / "full", solution=True)
    caption = {"mystnb": {"figure": {"caption": ANSWER}}}
    leaky = _notebook(tmp_path / "leaky.ipynb", [{"cell_type": "code", "metadata": caption, "source": "..."}])
    problems = css.check(full, None, [leaky])
    assert len(problems) == 1 and "leaks a solution of labs/lab.html in" in problems[0]
    stub_text = (
        "the_gap_narrows_as = ...\nthe_school_mean_ses_rises = ...\nby_about_two_points_per_unit = ..."
    )
    assert css.snippets(ANSWER)[0] in css.normalize(stub_text)  # as a cell's text it would match
    stub = _notebook(tmp_path / "stub.ipynb", [{"cell_type": "code", "metadata": {}, "source": stub_text}])
    assert css.check(full, None, [stub]) == []
