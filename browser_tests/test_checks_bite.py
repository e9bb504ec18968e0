"""Each check can fail: a real page of the book with one defect put in must fail that check.

The fixture pages are made at run time from the built pages (so they carry the book's own theme,
MathJax and plotly), written beside them in a copy of the site whose other files are links to
``_build/html``, and served from loopback like the real ones. Each fixture names the check it
must make fail; ``test_pages.py`` shows the same checks pass on the pages as built.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser import mirror, serve
from checks import inspect_page
from images import image_problems
from site_checks import search, theme_toggle_problems

PLOTLY_PAGE = "chapters/03_looking_at_data.html"  # has an interactive 3D view
FIGURE_PAGE = "chapters/03_looking_at_data.html"  # has numbered figures
PAGE = "chapters/01_introduction.html"


def _into_article(html: str, snippet: str) -> str:
    """Put ``snippet`` at the start of the page's article (inside its first section)."""
    m = re.search(r"<section[^>]*>", html)
    assert m, "the page has no <section>"
    return html[: m.end()] + "\n" + snippet + "\n" + html[m.end() :]


def _into_page_toc(html: str, snippet: str) -> str:
    m = re.search(r'<nav id="pst-page-toc-nav"[^>]*>\s*<ul[^>]*>', html)
    assert m, "the page has no table of contents"
    return html[: m.end()] + snippet + html[m.end() :]


def _first_figure_image(html: str) -> str:
    m = re.search(r'<figure[^>]*>.*?<img[^>]*src="([^"]+)"', html, re.S)
    assert m, "the page has no figure"
    return m.group(1)


def _without_plotly_script(html: str) -> str:
    out, n = re.subn(r'<script src="[^"]*plotly\.min\.js[^"]*"></script>', "", html)
    assert n == 1, f"expected one plotly script, found {n}"
    return out


def _with_figure_alt(html: str, alt: str) -> str:
    src = _first_figure_image(html)
    return _into_article(
        html,
        f'<figure><img src="{src}" alt="{alt}"><figcaption><p>'
        '<span class="caption-number">Fig. 99 </span>Mean mathematics '
        "achievement in each school against its mean ses.</p></figcaption></figure>",
    )


# check -> (base page, the defect, what the problem must mention)
FIXTURES: dict[str, tuple[str, str, Callable[[str], str], str]] = {
    "script error": (
        "console_errors",
        PAGE,
        lambda h: h.replace("</body>", "<script>window.noSuchBookFunction();</script></body>"),
        "noSuchBookFunction",
    ),
    "resource from another host": (
        "console_errors",
        PAGE,
        lambda h: h.replace("</head>", '<script src="https://cdn.example.org/lib.js"></script></head>'),
        "cdn.example.org",
    ),
    "missing image": (
        "images_loaded",
        PAGE,
        lambda h: _into_article(
            h, '<img src="../_images/no-such-figure.png" alt="A figure that was never drawn">'
        ),
        "no-such-figure.png",
    ),
    "plotly figure without plotly": (
        "plotly_rendered",
        PLOTLY_PAGE,
        _without_plotly_script,
        "empty plotly view",
    ),
    "3D view that ignores the mouse": (
        "plotly_rotates",
        PLOTLY_PAGE,
        lambda h: h.replace(
            "</head>", "<style>.js-plotly-plot * { pointer-events: none !important; }</style></head>"
        ),
        "did not move the camera",
    ),
    "TeX error": (
        "mathjax_errors",
        PAGE,
        lambda h: _into_article(
            h, r'<p>A double exponent: <span class="math notranslate nohighlight">\(x^2^3\)</span>.</p>'
        ),
        "MathJax",
    ),
    "a formula line read as a list item": (
        "raw_markup",
        PAGE,
        lambda h: _into_article(
            h, r"<ul><li><p>\sigma^2(\mathbf{X}_1'\mathbf{X}_1)^{-1} = \mathbf{V}_1$.</p></li></ul>"
        ),
        "TeX command in the body",
    ),
    "maths in the table of contents": (
        "raw_markup",
        PAGE,
        lambda h: _into_page_toc(
            h,
            r'<li class="toc-h2 nav-item toc-entry"><a class="reference internal nav-link" '
            r'href="#x">what $\gamma$ means</a></li>',
        ),
        "table of contents",
    ),
    "an unrendered MyST role": (
        "raw_markup",
        PAGE,
        lambda h: _into_article(
            h, "<p>The data hold {glue:text}`n_students` students (see {numref}`fig-ch03-xqplot`).</p>"
        ),
        "MyST",
    ),
    "a wide table at phone width": (
        "overflow_400px",
        PAGE,
        lambda h: _into_article(
            h, "<table><tr>" + "".join(f"<td>coefficient_{i}</td>" for i in range(12)) + "</tr></table>"
        ),
        "px wide in a",
    ),
    "low-contrast text": (
        "axe_serious",
        PAGE,
        lambda h: _into_article(
            h, '<p style="color: #aaaaaa; background: #ffffff">Pale grey text on white.</p>'
        ),
        "color-contrast",
    ),
    "an image without alt text": (
        "axe_serious",
        FIGURE_PAGE,
        lambda h: _into_article(h, f'<img src="{_first_figure_image(h)}">'),
        "image-alt",
    ),
    "a figure whose alt text is its file name": (
        "figure_alt",
        FIGURE_PAGE,
        lambda h: _with_figure_alt(h, "_images/school-means.png"),
        "does not describe",
    ),
    "a figure whose alt text is not its caption": (
        "figure_alt",
        FIGURE_PAGE,
        lambda h: _with_figure_alt(h, "A photograph of a cat asleep on a warm windowsill"),
        "not taken from the caption",
    ),
}


@pytest.fixture(scope="module")
def fixture_site(html_dir: Path) -> Any:
    """A copy of the site (symlinks) with every fixture page written beside its base page."""
    root = Path(tempfile.mkdtemp(prefix="book-fixtures-")) / "site"
    mirror(html_dir, root)
    pages = {}
    for i, (name, (_check, base, defect, _)) in enumerate(FIXTURES.items()):
        page = base.replace(".html", f"__fixture{i}.html")
        (root / page).write_text(defect((html_dir / base).read_text(encoding="utf-8")), encoding="utf-8")
        pages[name] = page
    # a site whose search index lists no page, and a page whose light/dark button is dead
    (root / "searchindex.js").unlink()
    (root / "searchindex.js").write_text(
        'Search.setIndex({"alltitles": {}, "docnames": [], "envversion": {}, "filenames": [], '
        '"indexentries": {}, "objects": {}, "objnames": {}, "objtypes": {}, "terms": {}, '
        '"titles": [], "titleterms": {}})',
        encoding="utf-8",
    )
    dead = (
        (html_dir / "intro.html")
        .read_text(encoding="utf-8")
        .replace(
            "</head>",
            (
                "<script>document.addEventListener('click', e => { if (e.target.closest('.theme-switch-button'))"
                " e.stopImmediatePropagation(); }, true);</script></head>"
            ),
        )
    )
    (root / "intro__dead_toggle.html").write_text(dead, encoding="utf-8")
    with serve(root) as url:
        yield url, pages
    shutil.rmtree(root.parent, ignore_errors=True)


@pytest.mark.parametrize("name", list(FIXTURES))
def test_check_fails_on_fixture(name: str, fixture_site: Any, driver: Any, axe_js: str) -> None:
    check, _, _, expected = FIXTURES[name]
    url, pages = fixture_site
    problems = inspect_page(driver, url + pages[name], axe_js, only={check}).problems[check]
    assert any(expected in p for p in problems), (
        f"the {check} check did not catch {name!r} (it found: {problems})"
    )


def test_search_check_fails_without_an_index(fixture_site: Any, driver: Any) -> None:
    url, _ = fixture_site
    assert search(driver, url, "shrinkage") == []


def test_theme_check_fails_on_a_dead_button(fixture_site: Any, driver: Any) -> None:
    url, _ = fixture_site
    problems = theme_toggle_problems(driver, url + "intro__dead_toggle.html")
    assert any("never gave a dark page" in p for p in problems), problems


@pytest.mark.parametrize("defect", ["low resolution", "small text", "no text record"])
def test_image_check_fails(defect: str, tmp_path: Path) -> None:
    """A figure saved at 100 dpi, one whose 6-pt text is shown at its size, one without the record."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hlmkit.book import SMALLEST_TEXT_KEY, png_with_text

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.tick_params(labelsize=6 if defect == "small text" else 10)
    path = tmp_path / "figure.png"
    fig.savefig(path, dpi=100 if defect == "low resolution" else 150)
    plt.close(fig)
    if defect != "no text record":
        path.write_bytes(
            png_with_text(path.read_bytes(), SMALLEST_TEXT_KEY, "6" if defect == "small text" else "10")
        )
    shown = 6 * 100  # as hires_figures shows it: 100 CSS px per inch of figure
    problems = image_problems(path, shown)
    expected = {"low resolution": "dpi", "small text": "is shown at", "no text record": "no record"}
    assert any(expected[defect] in p for p in problems), problems
    good = tmp_path / "good.png"
    fig, ax = plt.subplots(figsize=(6, 4))
    fig.savefig(good, dpi=150)
    plt.close(fig)
    good.write_bytes(png_with_text(good.read_bytes(), SMALLEST_TEXT_KEY, "10"))
    assert image_problems(good, shown) == []
