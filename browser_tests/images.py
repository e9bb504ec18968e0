"""The figures' PNG files judged at the size the page shows them.

Each figure of the book is a PNG written by ``hlmkit.book.hires_figures``: its pixel size, its
resolution (the ``pHYs`` chunk) and the size in points of its smallest text (the text chunk
``hlmkit:smallest-text-pt``) are in the file. The browser gives the width it is displayed at, on a
laptop screen (1280 CSS pixels wide). From these:

* resolution: saved at 150 dpi or more;
* sharpness: at least 1.45 image pixels per CSS pixel displayed (sharp on a 1.5x screen);
* legibility: its smallest text, scaled from the figure's width in inches to the width displayed
  (96 CSS pixels to the inch), is at least ``hlmkit.plots.MIN_TEXT_PT`` (8 pt).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote, urlparse

MIN_DPI = 150
MIN_PIXELS_PER_CSS_PIXEL = 1.45
CSS_PX_PER_INCH = 96
SMALLEST_TEXT_KEY = "hlmkit:smallest-text-pt"
MIN_TEXT_PT = 8.0


def image_file(html: Path, page: str, src: str) -> Path:
    """The file of an image ``src`` shown on ``page`` (both relative to the site's root ``html``)."""
    path = unquote(urlparse(src).path)
    return html / posixpath.normpath(posixpath.join(posixpath.dirname(page), path))


def image_problems(path: Path, displayed_width: float) -> list[str]:
    """What is wrong with the PNG at ``path`` shown ``displayed_width`` CSS pixels wide."""
    from PIL import Image

    if path.suffix.lower() == ".svg":
        return []  # vector: sharp and scalable; its text sizes are the page's business
    name = path.name[:16] + "..."
    with Image.open(path) as im:
        width = im.width
        dpi = im.info.get("dpi", (None,))[0]
        smallest = im.info.get(SMALLEST_TEXT_KEY)
    problems = []
    if dpi is None:
        problems.append(f"{name}: no resolution (pHYs) in the PNG")
    elif dpi < MIN_DPI - 0.5:
        problems.append(f"{name}: saved at {dpi:.0f} dpi (at least {MIN_DPI})")
    if displayed_width <= 0:
        return problems + [f"{name}: not displayed (width {displayed_width})"]
    ratio = width / displayed_width
    if ratio < MIN_PIXELS_PER_CSS_PIXEL:
        problems.append(
            f"{name}: {width} px shown {displayed_width:.0f} CSS px wide: "
            f"{ratio:.2f} pixels per CSS pixel (at least {MIN_PIXELS_PER_CSS_PIXEL})"
        )
    if smallest is None:
        problems.append(f"{name}: no record of its smallest text ({SMALLEST_TEXT_KEY})")
    elif dpi:
        figure_inches = width / dpi
        shown_inches = displayed_width / CSS_PX_PER_INCH
        shown_pt = float(smallest) * shown_inches / figure_inches
        if shown_pt < MIN_TEXT_PT - 0.05:
            problems.append(
                f"{name}: its smallest text ({float(smallest):g} pt in a {figure_inches:.1f}-inch "
                f"figure) is shown at {shown_pt:.1f} pt in {displayed_width:.0f} CSS px "
                f"(at least {MIN_TEXT_PT:g} pt)"
            )
    return problems
