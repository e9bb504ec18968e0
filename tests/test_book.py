"""hlmkit.book: the checks the pages rely on must be able to fail."""

from __future__ import annotations

import numpy as np
import pytest

from hlmkit.book import GLUED, check, check_printed, glue, notes_listings, printed_decimals


def test_printed_decimals():
    assert printed_decimals("12.60468") == 5
    assert printed_decimals("1937") == 0
    assert printed_decimals("-0.0266") == 4
    assert printed_decimals("2.84e-05") == 7


def test_check_printed_passes_to_the_last_digit():
    check_printed(12.6046755, "12.60468")
    check_printed(12.6046849, "12.60468")  # one unit in the last digit either way
    check_printed(np.float64(-6489.9693), "-6489.969")


@pytest.mark.parametrize("value, printed", [(12.60471, "12.60468"), (0.4711951, "0.4711941"), (1939, "1937")])
def test_check_printed_fails_beyond_the_last_digit(value, printed):
    with pytest.raises(AssertionError, match="the notes print"):
        check_printed(value, printed, what="x")


def test_check_printed_refuses_arrays_and_nan():
    with pytest.raises(TypeError):
        check_printed(np.array([1.0, 2.0]), "1")
    with pytest.raises(AssertionError):
        check_printed(float("nan"), "1.0")


def test_check_exact_and_with_tolerance():
    check(1977, 1977)
    check([1.0, 2.0], [1.0, 2.0 + 1e-9], rel=1e-6)
    check({"a": 1, "b": 2.0}, {"a": 1, "b": 2.0})
    check("Female", "Female")
    with pytest.raises(AssertionError, match="expected"):
        check(1976, 1977)
    with pytest.raises(AssertionError, match="shape"):
        check([1, 2], [1, 2, 3])
    with pytest.raises(AssertionError):
        check("Male", "Female")


def test_glue_stores_plain_python_numbers():
    value = glue("test-value", np.float64(1.5))
    assert type(value) is float and GLUED["test-value"] == 1.5


def test_glue_refuses_a_figure():
    import matplotlib.pyplot as plt

    fig, _ax = plt.subplots()
    try:
        with pytest.raises(TypeError, match="not glued"):
            glue("test-figure", fig)
    finally:
        plt.close(fig)


def test_hires_figures_sends_150_dpi_pngs_at_their_100_dpi_size(tmp_path, monkeypatch):
    """In a Jupyter kernel with the inline backend (as the book and a reader run a page), a figure
    comes out as a 150-dpi PNG whose display size is that of 100 dpi."""
    import base64
    import struct

    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel must use the inline backend
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nfrom hlmkit.book import hires_figures\nhires_figures()"
        ),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([0, 1], [0, 1]);"),
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    [out] = nb.cells[1].outputs
    png = base64.b64decode(out["data"]["image/png"])
    width, height = struct.unpack(">II", png[16:24])
    shown = out["metadata"]["image/png"]
    assert abs(shown["width"] - width / 1.5) <= 1 and abs(shown["height"] - height / 1.5) <= 1
    assert 300 <= shown["width"] <= 400  # a 4-inch figure at 100 dpi, trimmed by bbox_inches="tight"


def test_notes_listings_are_the_notes_printouts():
    listings = notes_listings("ch02")
    assert len(listings) == 15
    head = listings["head50"]
    assert head.shape == (50, 9) and list(head.index[:2]) == ["1", "2"]
    assert head.loc["49", "school"] == "1906" and head.loc["50", "DISCLIM"] == "-0.939"
    assert listings["sex_school"].loc["Total", "Total"] == "1977"


def test_notes_listings_name_what_is_wrong(tmp_path, monkeypatch):
    import hlmkit.book as book

    with pytest.raises(FileNotFoundError, match="'nope'"):
        notes_listings("nope")
    bad = tmp_path / "bad_listings.txt"
    monkeypatch.setattr(book, "_reference_file", lambda filename: bad)
    bad.write_text("# comment\n== a: x\nrow v\n1 2\n== a: again\nrow v\n1 3\n")
    with pytest.raises(ValueError, match="line 5: a listing needs a new name, not 'a'"):
        notes_listings("bad")
    bad.write_text("row v\n1 2\n")
    with pytest.raises(ValueError, match="line 1: text before the first"):
        notes_listings("bad")
