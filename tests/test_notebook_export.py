"""The reader-notebook transform (_ext/notebook_export.py): each MyST role and directive, on small inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))

import notebook_export as ne

CTX = {
    "docname": "labs/lab1_example1",
    "number": "11",
    "glue": {"n": "1977", "icc": "0.18015", "name": "'Catholic'"},
    "glue_text": {"icc:.3f": "0.180"},
    "refs": {
        ":numref:`fig-a`": "Figure 11.3",
        ":cite:t:`monette2017`": "Monette (2017)",
        ":cite:`bryk1992`": "(Bryk and Raudenbush, 1992)",
        ":doc:`02_hierarchical_data`": "Hierarchical data",
        ":ref:`ex-q2`": "Exercise 11.2",
        ":eq:`eq-gls`": "(7.1)",
    },
    "labels": {
        "fig-a": "Figure 11.3",
        "fig-b": "Figure 11.4",
        "ex-q1": "Exercise 11.1",
        "ex-q2": "Exercise 11.2",
        "eq-gls": "(7.1)",
        "tab-t": "Table 11.1",
    },
    "numbers": {"fig-a": "11.3", "fig-b": "11.4", "ex-q1": "11.1", "ex-q2": "11.2", "eq-gls": "7.1"},
    "titles": {"sec-fit": "Fitting the model", "chapters/02_hierarchical_data": "Hierarchical data"},
    "citations": {"monette2017": "Monette (2017)", "bryk1992": "Bryk and Raudenbush (1992)"},
    "citations_p": {"monette2017": "(Monette, 2017)", "bryk1992": "(Bryk and Raudenbush, 1992)"},
    "bibliography": {"monette2017": "Georges Monette. Mixed models with R. 2017."},
    "exercises": [
        {"label": "ex-q1", "number": "11.1", "text": "Exercise 11.1", "title": ""},
        {"label": "ex-q2", "number": "11.2", "text": "Exercise 11.2", "title": ""},
    ],
    "footnotes": {"levels": 1},
}
FULL = {**CTX, "edition": "full"}
STUDENT = {**CTX, "edition": "student"}


def md(text: str, ctx: dict = FULL) -> str:
    return ne.to_markdown(text, ctx)


# --------------------------------------------------------------------------- roles


def test_glue_text_with_and_without_format():
    assert md("ICC {glue:text}`icc:.3f`, n = {glue:text}`n`.") == "ICC 0.180, n = 1977."
    assert md("{glue}`name` schools") == "Catholic schools"  # quotes of a string's repr go
    assert md("{glue:text}`icc:.1%`") == "18.0%"  # not recorded: formatted like myst-nb


def test_glue_text_matches_myst_nb_formatting():
    from myst_nb.core.variables import format_plain_text

    for text, spec in [("0.18015", ".3f"), ("1977", ",d"), ("'abc'", ""), ("2.5e-05", ".2e"), ("12", ".1f")]:
        assert ne.format_glue(text, spec) == format_plain_text(text, spec)


def test_unknown_glue_key_names_it():
    with pytest.raises(ValueError, match="glue key 'nope'"):
        md("{glue:text}`nope:.2f`")


def test_cross_references_and_citations_as_the_book_shows_them():
    assert md("See {numref}`fig-a`.") == "See Figure 11.3."
    assert (
        md("As {cite:t}`monette2017` shows {cite}`bryk1992`.")
        == "As Monette (2017) shows (Bryk and Raudenbush, 1992)."
    )
    assert md("({doc}`02_hierarchical_data`)") == "(*Hierarchical data*)"  # a title: in italics
    assert md("exercise {ref}`ex-q2`") == "exercise Exercise 11.2"
    assert md("by {eq}`eq-gls`") == "by (7.1)"


def test_cross_references_not_recorded_fall_back_on_labels():
    assert md("{numref}`fig-b`") == "Figure 11.4"
    assert md("{numref}`Panel %s <fig-b>`") == "Panel 11.4"
    assert md("{ref}`sec-fit`") == "*Fitting the model*"
    assert md("{ref}`the fit <sec-fit>`") == "the fit"
    assert md("{doc}`the chapter on data <02_hierarchical_data>`") == "the chapter on data"
    assert md("{cite:t}`bryk1992`") == "Bryk and Raudenbush (1992)"
    assert md("{cite:p}`monette2017,bryk1992`") == "(Monette, 2017; Bryk and Raudenbush, 1992)"
    with pytest.raises(ValueError, match="label 'fig-z'"):
        md("{numref}`fig-z`")


def test_a_role_split_over_two_lines():
    assert md("as in {doc}`the chapter on\ndata <02_hierarchical_data>`.") == "as in the chapter on data."


def test_math_sub_sup_roles():
    assert md("{math}`\\beta_0`, H{sub}`2`O, x{sup}`2`") == "$\\beta_0$, H<sub>2</sub>O, x<sup>2</sup>"


def test_code_is_left_alone():
    assert md("Write `` {glue:text}`n` `` in prose.") == "Write `` {glue:text}`n` `` in prose."
    block = "```r\nfit <- lme(y ~ x)  # {numref}`fig-a`\n```"
    assert md(block) == block


def test_unknown_role_or_directive_is_an_error():
    with pytest.raises(ValueError, match="role {kbd}"):
        md("Press {kbd}`Ctrl`.")
    with pytest.raises(ValueError, match="directive {glue:figure}"):
        md("```{glue:figure} fig-a\n:name: fig-a\n\nCaption.\n```")


def test_edition_is_required():
    with pytest.raises(ValueError, match="edition"):
        ne.to_markdown("text", CTX)


# --------------------------------------------------------------------------- blocks


def test_targets_are_removed():
    assert md("(sec-fit)=\n## Fitting the model") == "## Fitting the model"


def test_note_and_admonition_become_block_quotes():
    assert (
        md(":::{note}\nOur value differs: {glue:text}`n`.\n:::")
        == "> **Note**\n>\n> Our value differs: 1977."
    )
    sas = "````{admonition} M1 (SAS)\n:class: dropdown\n\n```sas\nproc mixed;\n```\n````"
    assert md(sas) == "> **M1 (SAS)**\n>\n> ```sas\n> proc mixed;\n> ```"


def test_exercise_and_solution_in_both_editions():
    text = (
        "```{exercise}\n:label: ex-q1\n\nWhat is {numref}`fig-a`?\n```\n\n"
        "```{solution} ex-q1\n:class: dropdown\n\nA scatterplot.\n```\n\nAfter."
    )
    assert md(text) == (
        "> **Exercise 11.1**\n>\n> What is Figure 11.3?\n\n"
        "<details>\n<summary><b>Solution to Exercise 11.1</b></summary>\n\n"
        "A scatterplot.\n\n</details>\n\nAfter."
    )
    assert md(text, STUDENT) == "> **Exercise 11.1**\n>\n> What is Figure 11.3?\n\nAfter."


def test_gated_exercise():
    text = "```{exercise-start}\n:label: ex-q2\n```\nSimulate 200 schools.\n```{exercise-end}\n```"
    assert md(text) == "**Exercise 11.2**\n\nSimulate 200 schools."


def test_gated_solution_over_several_cells():
    first, state = ne.convert_cell(
        "Question done.\n\n```{solution-start} ex-q2\n:class: dropdown\n```\nThe correlations:", FULL
    )
    assert state == "ex-q2"
    assert first == (
        "Question done.\n\n<details>\n<summary><b>Solution to Exercise 11.2</b></summary>\n\n"
        "The correlations:\n\n</details>"
    )
    middle, state = ne.convert_cell("They are small.", FULL, state)
    assert state == "ex-q2" and "Solution to Exercise 11.2 (continued)" in middle
    last, state = ne.convert_cell("Hence none.\n```{solution-end}\n```\n\n## Next", FULL, state)
    assert state is None and last.endswith("</details>\n\n## Next") and "Hence none." in last
    for text, before in [
        ("Question done.\n\n```{solution-start} ex-q2\n```\nThe correlations:", None),
        ("They are small.", "ex-q2"),
        ("Hence none.\n```{solution-end}\n```\n\n## Next", "ex-q2"),
    ]:
        out, _ = ne.convert_cell(text, STUDENT, before)
        assert "correlations" not in out and "small" not in out and "Hence" not in out
    assert ne.convert_cell("Hence none.\n```{solution-end}\n```\n\n## Next", STUDENT, "ex-q2")[0] == "## Next"


def test_solution_end_without_start_is_an_error():
    with pytest.raises(ValueError, match="solution-end"):
        md("```{solution-end}\n```")


def test_labelled_equations_get_their_number():
    assert md("$$\ny = X\\beta\n$$ (eq-gls)") == "$$\ny = X\\beta\n\\tag{7.1} $$"
    assert md("```{math}\n:label: eq-gls\ny = X\\beta\n```") == "$$\ny = X\\beta\n\\tag{7.1}\n$$"


def test_footnotes_and_definition_lists():
    assert (
        md("Level-1 variables[^levels] are micro.\n\n[^levels]: Counted from the bottom.")
        == "Level-1 variables<sup>1</sup> are micro.\n\n<sup>1</sup> Counted from the bottom."
    )
    assert (
        md("Consistent\n: It aims at the right target,\n  and closes in.")
        == "- **Consistent**: It aims at the right target,\n  and closes in."
    )
    assert ne.page_footnotes(["a[^x] b[^y]", "c[^x]", "[^y]: def"]) == {"x": 1, "y": 2}


# --------------------------------------------------------------------------- cells and notebooks


def _code(source: str, outputs=(), **metadata) -> dict:
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": metadata,
        "outputs": list(outputs),
        "source": source,
    }


PNG = {
    "output_type": "display_data",
    "metadata": {},
    "data": {"image/png": "iVBOR", "text/plain": "<Figure>"},
}
GLUE_OUT = {
    "output_type": "display_data",
    "metadata": {"scrapbook": {"name": "n"}},
    "data": {"application/papermill.record/text/plain": "1977"},
}


def test_reader_cells_drop_checks_and_glue_records_and_caption_figures():
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "(top)=\n# Title"},
        _code("n = 1977\nglue('n', n)", [GLUE_OUT]),
        _code("check(n, 1977)", tags=["remove-cell"]),
        _code(
            "fig = plot()",
            [PNG],
            mystnb={"figure": {"name": "fig-a", "caption": "The data, n = {glue:text}`n`."}},
        ),
        _code(
            "x",
            [
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": "1"},
                    "metadata": {},
                    "execution_count": 1,
                }
            ],
            tags=["remove-output"],
        ),
    ]
    out = ne.reader_cells(cells, FULL)
    assert [c["cell_type"] for c in out] == ["markdown", "code", "code", "markdown", "code"]
    assert out[0]["source"] == "# Title"
    assert out[1]["outputs"] == []
    assert out[2]["outputs"] == [PNG]
    assert out[3]["source"] == "**Figure 11.3.** The data, n = 1977."
    assert "mystnb" not in out[2]["metadata"]  # its caption, MyST source, is the Markdown below
    assert out[4]["outputs"] == []
    assert cells[1]["outputs"] == [GLUE_OUT]  # the input is not modified


def test_reader_cells_fold_or_drop_a_gated_solution():
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "```{solution-start} ex-q2\n```\nFirst:"},
        _code("corr = 0.5\ncorr", [PNG]),
        _code("fig = plot()", [PNG], mystnb={"figure": {"name": "fig-b", "caption": "In the solution."}}),
        {"cell_type": "markdown", "metadata": {}, "source": "```{solution-end}\n```\nBack to the text."},
    ]
    full = ne.reader_cells(cells, FULL)
    assert [c["cell_type"] for c in full] == ["markdown", "code", "code", "markdown", "markdown"]
    assert all(
        c["metadata"]["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
        for c in full
        if c["cell_type"] == "code"
    )
    assert "<details>" in full[3]["source"] and "Figure 11.4" in full[3]["source"]
    assert full[4]["source"] == "Back to the text."
    student = ne.reader_cells(cells, STUDENT)
    assert [c["source"] for c in student] == ["Back to the text."]


def test_unclosed_gated_solution_is_an_error():
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "```{solution-start} ex-q2\n```\n"}]
    with pytest.raises(ValueError, match="no {solution-end}"):
        ne.reader_cells(cells, FULL)


def test_reader_notebook_first_cell_title_and_references():
    executed = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"jupytext": {}, "kernelspec": {"name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Lab 1\n\nAs {cite:t}`monette2017`."},
            _code("1 + 1"),
        ],
    }
    nb = ne.reader_notebook(executed, FULL, ne.install_cell_source("0.1.0"))
    assert nb["cells"][0]["cell_type"] == "code" and "install-hlmkit" in nb["cells"][0]["metadata"]["tags"]
    assert nb["cells"][1]["source"] == "# 11. Lab 1\n\nAs Monette (2017)."
    assert nb["cells"][-1]["source"] == "## References\n\n- Georges Monette. Mixed models with R. 2017."
    assert "jupytext" not in nb["metadata"]
    import nbformat

    nbformat.validate(nbformat.from_dict(nb))


def test_strip_solutions_removes_every_solution_and_autograder_test():
    source = "\n".join(
        [
            "```{exercise}",
            ":label: ex-q1",
            "",
            "Why?",
            "```",
            "",
            "```{solution} ex-q1",
            ":class: dropdown",
            "",
            "Because.",
            "```",
            "",
            "```{solution-start} ex-q2",
            "```",
            "Compute:",
            "",
            "```{code-cell} ipython3",
            "gap = 1.0",
            "```",
            "",
            "```{code-cell} ipython3",
            "---",
            "tags: [remove-cell]",
            "autograde:",
            "  exercise: ex-q2",
            "---",
            "assert gap > 0",
            "```",
            "",
            "```{solution-end}",
            "```",
            "",
            "```{code-cell} ipython3",
            "---",
            "tags: [remove-cell]",
            "autograde:",
            "  exercise: ex-q2",
            "---",
            "assert gap == 1.0",
            "```",
            "",
            "Next section.",
        ]
    )
    out = ne.strip_solutions(source)
    assert "Why?" in out and "Next section." in out
    for gone in ("Because.", "Compute:", "gap = 1.0", "assert gap"):
        assert gone not in out
    kept, removed = ne.split_solutions(source)
    assert kept == out and len(removed) == 3
    assert "Because." in removed[0] and "gap = 1.0" in removed[1] and "assert gap == 1.0" in removed[2]


def test_install_cell_stops_with_one_line_when_hlmkit_is_missing(tmp_path):
    """In a kernel where hlmkit cannot be imported and no wheel is at hand, the first cell stops the
    notebook, and its error is one line that says how to install hlmkit."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sys; sys.modules['hlmkit'] = None  # hide the installed hlmkit"),
        nbformat.v4.new_code_cell(ne.install_cell_source("0.1.0")),
        nbformat.v4.new_code_cell("print('not reached')"),
    ]
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(CellExecutionError):
        client.execute()
    error = nb.cells[1].outputs[-1]
    assert error["output_type"] == "error" and error["ename"] == "HlmkitMissing"
    assert len(error["traceback"]) == 1
    assert "pip install dist/hlmkit-0.1.0-py3-none-any.whl" in error["traceback"][0]
    assert nb.cells[2].outputs == []


def test_install_cell_does_nothing_when_hlmkit_is_present(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(ne.install_cell_source("0.1.0"))]
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert nb.cells[0].outputs == []
    assert nb.cells[0].source.splitlines()[0].startswith("# hlmkit, the book's Python package")
