"""The book's checking tools: visible code run without hidden cells, missing-value markers in outputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from myst_pages import FRONT_MATTER

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def visible():
    return _load("check_visible_code")


def _page(tmp_path, body):
    page = tmp_path / "page.md"
    page.write_text(FRONT_MATTER + body)
    return page


def test_visible_code_that_needs_a_hidden_cell_fails(visible, tmp_path):
    page = _page(
        tmp_path,
        """
```{code-cell} ipython3
:tags: [remove-cell]
scale = 2
```

```{code-cell} ipython3
print(3 * scale)
```
""",
    )
    nb = visible.visible_notebook(page)
    assert [c.source for c in nb.cells if c.cell_type == "code"] == ["print(3 * scale)"]
    _, _, error = visible.run_visible(page, timeout=60)
    assert error is not None and "NameError" in error and "scale" in error


def test_visible_code_that_stands_alone_passes(visible, tmp_path):
    page = _page(
        tmp_path,
        """
```{code-cell} ipython3
scale = 2
```

```{code-cell} ipython3
:tags: [remove-cell]
assert scale == 3, "a failing hidden check is not the visible code's business"
```

```{code-cell} ipython3
print(3 * scale)
```
""",
    )
    _, _, error = visible.run_visible(page, timeout=60)
    assert error is None


def test_book_pages_are_the_toc_pages(visible):
    pages = [p.relative_to(visible.ROOT).as_posix() for p in visible.book_pages()]
    assert "chapters/01_introduction.md" in pages and "labs/lab1_example2.md" in pages
    assert all(p.endswith(".md") for p in pages)


def test_nan_markers_are_counted_in_outputs_only(tmp_path):
    nan = _load("count_nan_outputs")
    html = tmp_path / "page.html"
    html.write_text("""<html><body>
<p>NaN in the prose is not counted</p>
<div class="cell"><div class="cell_input"><pre>x = np.nan</pre></div>
<div class="cell_output"><table><tr><th>a</th><td>NaN</td><td>1.0</td></tr>
<tr><th>b</th><td>&lt;NA&gt;</td><td>None</td></tr></table>
<pre>Nancy nan NA 2</pre></div></div></body></html>""")
    lines = nan.output_lines(html)
    assert sum(len(nan.MARKER.findall(ln)) for ln in lines) == 5  # NaN, <NA>, None, nan, NA
    assert not any("prose" in ln for ln in lines)
    (tmp_path / "index.html").write_text("<html></html>")
    found = nan.count(tmp_path)
    assert list(found) == ["page"] and sum(k for _, k in found["page"]) == 5


def test_check_scores_flags_a_short_solution_and_a_scoring_student_notebook():
    ga = _load("grade_assignments")
    solution = {"q1": (2.0, 2.0), "q2": (3.0, 3.0)}
    lines, problems = ga.check_scores("p", solution, {"q1": (0.0, 2.0), "q2": (0.0, 3.0)})
    assert problems == [] and lines[-1] == "  total: solution 5/5, student 0/5"
    _, problems = ga.check_scores(
        "p", {"q1": (1.0, 2.0), "q2": (3.0, 3.0)}, {"q1": (0.0, 2.0), "q2": (3.0, 3.0)}
    )
    assert problems == [
        "p: the solution gets 1 of 2 points on q1",
        "p: the untouched student notebook gets 3 points on q2",
    ]
    _, problems = ga.check_scores("p", solution, {"q1": (0.0, 2.0)})
    assert problems[-1] == "p: the solution and student gradings list different questions"
