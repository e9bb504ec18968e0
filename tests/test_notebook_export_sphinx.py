"""_ext/notebook_export.py inside a real Sphinx build of a one-page book, in both editions.

The page has a glued number, two figures drawn by their cells, a figure inside a gated solution,
a citation, a note, an exercise and a hidden check. The full edition must write the page's context
and a reader notebook with every figure; the student edition must number the figure after the
solution as the full edition does, and leave the solution out of the page, the search index and
the notebook and Markdown downloads.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest
from myst_pages import FRONT_MATTER

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import notebook_audit

PAGE = (
    FRONT_MATTER
    + """
# Mini

```{code-cell} ipython3
import matplotlib.pyplot as plt
from hlmkit.book import glue, hires_figures
hires_figures()
glue("slope", 2.1834)
```

```{code-cell} ipython3
:tags: [remove-cell]
assert 1 + 1 == 2
```

```{code-cell} ipython3
---
mystnb:
  figure:
    name: fig-a
    caption: |
      A line of slope {glue:text}`slope:.2f`.
---
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [0, 2]);
```

The slope is {glue:text}`slope:.1f` ({numref}`fig-a`), as {cite:t}`monette2017` explains.

(sec-gamma)=
## What the slope means

See {ref}`sec-gamma`.

:::{note}
A note about {numref}`fig-b`.
:::

```{exercise}
:label: ex-mini
Draw the residuals.
```

```{solution-start} ex-mini
:class: dropdown
```
Zanzibar quokkas reveal the residuals wobble.

```{code-cell} ipython3
---
mystnb:
  figure:
    name: fig-sol
    caption: |
      Residuals of the solution.
---
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [1, 0]);
```

```{solution-end}
```

```{code-cell} ipython3
---
mystnb:
  figure:
    name: fig-b
    caption: |
      After the solution.
---
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [2, 2]);
```

```{bibliography}
```
"""
)

CONF = """\
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_nb", "sphinx_exercise", "sphinxcontrib.bibtex", "citation_style", "notebook_export"]
bibtex_bibfiles = ["refs.bib"]
bibtex_reference_style = "author_year_round"
numfig = True
numfig_format = {{"figure": "Figure %s"}}
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath"]
nb_execution_mode = "cache"
nb_execution_cache_path = {cache!r}   # shared: the student edition does not execute the page again
exclude_patterns = ["_build"]
html_theme = "basic"
exercise_style = "solution_follow_exercise"
hlmkit_notebooks_dir = {notebooks!r}
"""

BIB = "@book{monette2017, author={Monette, Georges}, title={Mixed Models with R}, year={2017}, publisher={York University}}\n"
INDEX = "# Book\n\n```{toctree}\n:numbered:\n\npage\n```\n"


def _build(src: Path, out: Path, edition: str) -> None:
    from sphinx.cmd.build import build_main

    status = build_main(
        [
            "-b",
            "html",
            "-W",
            "-q",
            "-T",
            "-D",
            f"hlmkit_edition={edition}",
            "-d",
            str(out / "doctrees"),
            str(src),
            str(out / "html"),
        ]
    )
    assert status == 0, f"the {edition} edition did not build"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("minibook")
    src = root / "src"
    src.mkdir()
    notebooks = root / "notebooks"
    (src / "conf.py").write_text(
        CONF.format(ext=str(ROOT / "_ext"), notebooks=str(notebooks), cache=str(root / "jupyter_cache"))
    )
    (src / "refs.bib").write_text(BIB)
    (src / "index.md").write_text(INDEX)
    (src / "page.md").write_text(textwrap.dedent(PAGE))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(
            "MPLBACKEND", raising=False
        )  # the kernels must draw inline, as in the book (make test sets Agg)
        _build(src, root / "full", "full")
        _build(src, root / "student", "student")
    return {
        "root": root,
        "notebooks": notebooks,
        "full": root / "full" / "html",
        "student": root / "student" / "html",
    }


def _images(nb: dict) -> int:
    return sum(1 for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {}))


def _markdown(nb: dict) -> str:
    return "\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "markdown")


def test_the_context_records_what_the_book_shows(built):
    ctx = json.loads((built["notebooks"] / "context" / "page.json").read_text())
    assert ctx["number"] == "1"
    assert ctx["glue_text"] == {"slope:.2f": "2.18", "slope:.1f": "2.2"}
    assert ctx["refs"][":numref:`fig-a`"] == "Figure 1.1"
    assert ctx["refs"][":numref:`fig-b`"] == "Figure 1.3"
    assert ctx["refs"][":cite:t:`monette2017`"] == "Monette (2017)"
    assert ctx["labels"]["fig-sol"] == "Figure 1.2"
    assert ctx["exercises"] == [{"label": "ex-mini", "number": "1.1", "text": "Exercise 1.1", "title": ""}]
    assert "Mixed Models with R" in ctx["bibliography"]["monette2017"]


def test_the_full_reader_notebook(built):
    nb = json.loads((built["notebooks"] / "full" / "page.ipynb").read_text())
    text = _markdown(nb)
    assert _images(nb) == 3
    assert "install-hlmkit" in nb["cells"][0]["metadata"]["tags"]
    assert "The slope is 2.2 (Figure 1.1), as Monette (2017) explains." in text
    assert "See *What the slope means*." in text
    assert "**Figure 1.3.** After the solution." in text and "**Figure 1.1.** A line of slope 2.18." in text
    assert "> **Note**" in text and "<summary><b>Solution to Exercise 1.1</b></summary>" in text
    assert "Zanzibar quokkas" in text and "assert 1 + 1" not in json.dumps(nb)
    assert not re.search(r"\{[a-z:-]+\}`|```\{", text)
    assert notebook_audit.audit_notebook(nb)["raw_myst"] == 0  # Markdown and cell metadata (captions)
    served = json.loads((built["full"] / "_sources" / "page.ipynb").read_text())
    assert served == nb


def test_figures_have_their_caption_as_alt_text(built):
    html = (built["full"] / "page.html").read_text()
    alts = re.findall(r'<img alt="([^"]*)"', html)
    assert "A line of slope 2.18." in alts and "After the solution." in alts


def test_the_student_edition_numbers_alike_and_leaks_nothing(built):
    html = (built["student"] / "page.html").read_text()
    assert "Figure 1.3" in html and "Figure 1.1" in html and "Figure 1.2" not in html
    assert "Exercise 1.1" in html
    leaks = []
    for path in built["student"].rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".md", ".txt", ".ipynb"):
            text = path.read_text(errors="replace").lower()
            if "zanzibar" in text or "quokka" in text:
                leaks.append(path.relative_to(built["student"]))
    assert leaks == []
    assert "quokka" in (built["full"] / "searchindex.js").read_text()  # the probe finds it where it is
    nb = json.loads((built["notebooks"] / "student" / "page.ipynb").read_text())
    assert _images(nb) == 2 and "Solution" not in _markdown(nb)
    assert "Draw the residuals." in _markdown(nb)
