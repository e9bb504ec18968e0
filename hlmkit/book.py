"""Helpers for the book's pages: glue values into the prose, and check numbers against R.

The book checks itself while it builds. Each number the notes or the lab print is compared with
the value our code computes, in a hidden cell, with :func:`check_printed`: the build fails if they
disagree. Numbers quoted in the prose are inserted with :func:`glue`, never typed.

Outside a Jupyter Book build (a notebook in JupyterLab, a script) :func:`glue` still works: it
falls back to storing the value when myst-nb is not installed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "GLUED",
    "check",
    "check_printed",
    "glue",
    "hires_figures",
    "notes_listings",
    "printed_decimals",
    "r_reference",
]

#: Values glued in this session (also when myst-nb is not available).
GLUED: dict[str, Any] = {}


def _plain(value: Any) -> Any:
    """numpy scalars become Python scalars (formatted glue fails on ``np.float64`` reprs)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Make ``value`` available to the prose as ``{glue:text}`name:.3f` `` (myst-nb's glue).

    numpy scalars are converted to plain Python numbers first. Glue numbers and short texts only: a
    figure is the output of the cell that draws it (a notebook cannot show a glued figure), so
    gluing a matplotlib figure is an error. Returns the (converted) value.
    """
    value = _plain(value)
    if hasattr(value, "savefig"):
        raise TypeError(
            f"glue({name!r}, <figure>): a figure is not glued; make it the output of its cell "
            "(STYLE.md, 'Figures')"
        )
    GLUED[name] = value
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:  # pragma: no cover - outside the book
        return value
    _myst_glue(name, value, display=display)
    return value


def hires_figures(dpi: int = 150) -> None:
    """Send figures to the notebook at ``dpi`` dots per inch, shown at their usual size.

    Call it once, in a page's first cell. Jupyter's inline backend draws a figure at matplotlib's
    ``figure.dpi`` (100). After this call it draws it at ``dpi`` and tells the viewer (JupyterLab,
    VS Code, the book) the size to show it at, so figures keep their size and become sharper.
    ``savefig`` also uses ``dpi``. Outside IPython only ``savefig`` is affected.

    Examples
    --------
    >>> from hlmkit.book import hires_figures
    >>> hires_figures()
    >>> import matplotlib
    >>> matplotlib.rcParams["savefig.dpi"]
    150.0
    """
    import base64
    import struct

    import matplotlib

    if not dpi >= 100:
        raise ValueError(f"hires_figures: dpi must be at least 100, not {dpi!r}")
    matplotlib.rcParams["savefig.dpi"] = float(dpi)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every kernel
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure

    from hlmkit.plots import smallest_text_pt

    # matplotlib loads its backend at the first figure; the inline backend then installs its own PNG
    # formatter. Load it now, so that the formatter below is the one that stays.
    plt.switch_backend(matplotlib.get_backend())
    from matplotlib.figure import Figure

    def png(fig: Figure) -> tuple[str, dict[str, int]] | None:
        data = print_figure(fig, "png", bbox_inches="tight", pad_inches=0.02, dpi=dpi)
        if data is None:  # an empty figure shows nothing
            return None
        smallest = smallest_text_pt(fig, draw=False)  # saving drew it
        if smallest is not None:  # for the browser suite's legibility check (browser_tests/)
            data = png_with_text(data, SMALLEST_TEXT_KEY, f"{smallest:g}")
        width, height = struct.unpack(">II", data[16:24])
        scale = fig.dpi / dpi
        return (
            base64.b64encode(data).decode("ascii"),
            {"width": round(width * scale), "height": round(height * scale)},
        )

    shell.display_formatter.formatters["image/png"].for_type(Figure, png)


#: The PNG text chunk in which :func:`hires_figures` records a figure's smallest text, in points.
SMALLEST_TEXT_KEY = "hlmkit:smallest-text-pt"


def png_with_text(data: bytes, key: str, value: str) -> bytes:
    """A PNG with one more text chunk (``tEXt``, Latin-1), placed right after its header.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("L", (2, 2)).save(buf, "png")
    >>> Image.open(io.BytesIO(png_with_text(buf.getvalue(), "k", "8.5"))).info["k"]
    '8.5'
    """
    import struct
    import zlib

    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("png_with_text: not a PNG")
    body = b"tEXt" + key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    end_of_header = 8 + 4 + 4 + 13 + 4
    return data[:end_of_header] + chunk + data[end_of_header:]


def printed_decimals(printed: str) -> int:
    """Number of decimals in a printed number (``"12.60468"`` -> 5; ``"2.84e-05"`` -> 7)."""
    d = Decimal(printed.strip())
    exp = d.as_tuple().exponent
    return max(0, -int(exp)) if isinstance(exp, int) else 0


def check_printed(actual: Any, printed: str | float, what: str = "", ulps: float = 1.0) -> None:
    """Assert that ``actual`` shows as ``printed`` to the digits printed.

    ``printed`` is the number as the notes or R print it (a string keeps its trailing zeros).
    The check passes when ``actual`` differs from it by at most ``ulps`` units of the last
    printed digit: R's optimisers and ours stop at slightly different points, so the last digit of a
    converged estimate can differ by one.

    Examples
    --------
    >>> from hlmkit.book import check_printed
    >>> check_printed(12.6046791, "12.60468")
    >>> check_printed(0.4711941178, "0.4711941")
    """
    text = str(printed).strip()
    expected = float(text)
    if isinstance(actual, (list, tuple, np.ndarray)):
        raise TypeError("check_printed compares one number; loop over the values")
    value = float(_plain(actual))
    unit = 10.0 ** (-printed_decimals(text))
    tol = ulps * unit * (1 + 1e-9) + 1e-12 * abs(expected)
    if not (math.isfinite(value) and abs(value - expected) <= tol):
        label = f" ({what})" if what else ""
        raise AssertionError(
            f"check failed{label}: computed {value!r}, the notes print {text} "
            f"(difference {value - expected:.3g}, allowed {tol:.3g})"
        )


def check(
    actual: Any,
    expected: Any,
    *,
    rel: float | None = None,
    abs: float | None = None,  # noqa: A002
    what: str = "",
) -> None:
    """Assert that ``actual`` equals ``expected`` within ``rel``/``abs`` (exactly, if neither is given).

    Works on numbers, sequences, arrays and mappings (compared key by key).

    Examples
    --------
    >>> from hlmkit.book import check
    >>> check(1977, 1977)
    >>> check([0.5, 0.25], [0.5, 0.2500001], rel=1e-5)
    """
    label = f" ({what})" if what else ""
    if isinstance(expected, Mapping):
        for k, v in expected.items():
            check(actual[k], v, rel=rel, abs=abs, what=f"{what} {k}".strip())
        return
    if isinstance(expected, str):
        if str(actual) != expected:
            raise AssertionError(f"check failed{label}: got {actual!r}, expected {expected!r}")
        return
    a = np.asarray(_plain(actual), dtype=float)
    e = np.asarray(_plain(expected), dtype=float)
    if a.shape != e.shape:
        raise AssertionError(f"check failed{label}: shape {a.shape} but expected {e.shape}")
    if rel is None and abs is None:
        ok = np.array_equal(a, e)
    else:
        ok = bool(np.allclose(a, e, rtol=rel or 0.0, atol=abs or 0.0, equal_nan=True))
    if not ok:
        raise AssertionError(f"check failed{label}: got {a.tolist()}, expected {e.tolist()}")


def _reference_file(filename: str) -> Path | None:
    """A file of reference values: in an installed wheel (``hlmkit/_reference/``), else in the repository's
    ``tests/reference/``; None where neither has it."""
    from importlib import resources

    packaged = resources.files("hlmkit") / "_reference" / filename
    if packaged.is_file():
        return Path(str(packaged))
    source = Path(__file__).resolve().parent.parent / "tests" / "reference" / filename
    return source if source.is_file() else None


def r_reference(name: str) -> Any:
    """Values frozen from R for the book's checks: ``tests/reference/<name>.json`` of the repository.

    The pages compare their numbers with these in hidden cells. They live in the book's repository
    (written by ``tests/reference/make_reference.R``), not in the installed package (which carries only
    the notes' listings, :func:`notes_listings`), so a page run outside a clone cannot make those checks.

    Examples
    --------
    >>> from hlmkit.book import r_reference
    >>> r_reference("lme_models")["hs_oneway"]["df"]
    {'(Intercept)': 1937}
    """
    path = _reference_file(f"{name}.json")
    if path is None:
        raise FileNotFoundError(
            f"no frozen R values {name!r} (tests/reference/{name}.json): the hidden checks of the book's pages "
            "need a clone of the book's repository"
        )
    return json.loads(path.read_text())


def notes_listings(page: str) -> dict[str, Any]:
    """The listings (data frames, tables) the course notes print for a page, as R printed them.

    They are kept in ``tests/reference/<page>_listings.txt``, one listing after another: a line
    ``== <name>: <the R call>``, R's header line, then the rows, columns separated by spaces.
    The installed package carries a copy, so this also works outside the repository.

    Parameters
    ----------
    page : str
        The page's short name, e.g. ``"ch02"``.

    Returns
    -------
    dict of str to DataFrame
        Each listing by name, in the file's order: every cell is the text R printed (``str``),
        and the index is R's row names (the first column).

    Examples
    --------
    >>> from hlmkit.book import notes_listings
    >>> head = notes_listings("ch02")["head50"]
    >>> head.loc["1", ["school", "mathach", "Sex"]].tolist()
    ['1317', '12.862', 'Female']
    """
    import io

    import pandas as pd

    path = _reference_file(f"{page}_listings.txt")
    if path is None:
        raise FileNotFoundError(
            f"no listings of the notes for page {page!r} (tests/reference/{page}_listings.txt)"
        )
    texts: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("== "):
            name = line[3:].split(":", 1)[0].strip()
            if not name or name in texts:
                raise ValueError(f"{path.name}, line {number}: a listing needs a new name, not {name!r}")
            current = texts[name] = []
        elif line.strip() and not line.startswith("#"):
            if current is None:
                raise ValueError(f"{path.name}, line {number}: text before the first '== <name>' line")
            current.append(line)
    return {
        name: pd.read_csv(io.StringIO("\n".join(lines)), sep=r"\s+", dtype=str, index_col=0)
        for name, lines in texts.items()
    }
