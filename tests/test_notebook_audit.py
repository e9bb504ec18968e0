"""tools/notebook_audit.py: what it counts in a notebook, and the hidden-cell dependencies it finds."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import notebook_audit as na
from myst_pages import FRONT_MATTER


def test_raw_myst_counts_roles_directives_and_targets():
    text = "(sec)=\n# T\n\nSee {numref}`fig-a` and {glue:text}`n:.2f`.\n\n:::{note}\nx\n:::\n\n```{exercise}\n:label: e\n```"
    assert na.raw_myst(text) == 5
    assert na.raw_myst("Plain `code` and $x_{ij}$ and ```python\nx\n```") == 0


def test_audit_notebook_counts_images_checks_and_myst():
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["See {numref}`fig-a`."]},
            {"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "outputs": []},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [
                    {"output_type": "display_data", "data": {"image/png": "x", "text/plain": "<Figure>"}},
                    {"output_type": "display_data", "data": {"application/papermill.record/image/png": "x"}},
                ],
            },
        ]
    }
    assert na.audit_notebook(nb) == {"shown": 1, "raw_myst": 1, "check_cells": 1}


def test_audit_notebook_counts_raw_myst_in_cell_metadata():
    """A figure's caption kept in the cell's metadata shows in Jupyter's property inspector and in
    any tool that renders myst-nb metadata: an unresolved role there counts too."""
    caption = {"mystnb": {"figure": {"name": "fig-a", "caption": "Data of {glue:text}`n` schools."}}}
    nb = {"cells": [{"cell_type": "code", "metadata": caption, "outputs": []}]}
    assert na.audit_notebook(nb)["raw_myst"] == 1
    plain = {"mystnb": {"figure": {"name": "fig-a", "caption": "Data of 40 schools."}}}
    nb["cells"][0]["metadata"] = plain
    assert na.audit_notebook(nb)["raw_myst"] == 0


def test_hidden_dependencies():
    cells = [
        ("import numpy as np\nref = np.ones(2)", True),  # hidden
        ("def f(x):\n    return x + 1", False),
        ("total = f(ref.sum())", False),  # uses ref: defined only in a hidden cell
        ("ref = 3\nprint(ref)", False),
    ]  # defines it itself: fine
    assert na.hidden_dependencies(cells) == ["ref"]
    assert na.hidden_dependencies([("%matplotlib inline\nx = 1", False), ("x", False)]) == []


def test_solution_code_counts_as_hidden(tmp_path):
    """The student edition's notebooks leave gated solutions out: later cells must not need them."""
    page = tmp_path / "page.md"
    page.write_text(
        FRONT_MATTER
        + "\n".join(
            [
                "",
                "```{solution-start} ex-a",
                "```",
                "",
                "```{code-cell} ipython3",
                "gap = 1.0",
                "```",
                "",
                "```{solution-end}",
                "```",
                "",
                "```{code-cell} ipython3",
                "print(gap)",
                "```",
                "",
            ]
        )
    )
    assert na.page_hidden_dependencies(page) == ["gap"]
