"""The browser suite: the built book (``_build/html``, or $BOOK_HTML) in headless Chromium.

Run it with ``make browser-test`` (which installs selenium and axe-core, and says so plainly
when this machine has no Chromium). ``make test`` does not collect this folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browser import axe_source_path, chromium, missing_tools, serve, site_pages
from checks import PageReport, inspect_page

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()


def pytest_configure(config: Any) -> None:
    if not (HTML / "index.html").exists():
        raise pytest.UsageError(f"no built book in {HTML}: run `make book` first")
    missing = missing_tools()
    if missing:
        raise pytest.UsageError("the browser suite needs " + ", ".join(missing))


def book_pages() -> list[str]:
    return site_pages(HTML)


@pytest.fixture(scope="session")
def html_dir() -> Path:
    return HTML


@pytest.fixture(scope="session")
def base_url() -> Any:
    with serve(HTML) as url:
        yield url


@pytest.fixture(scope="session")
def driver() -> Any:
    with chromium() as d:
        yield d


@pytest.fixture(scope="session")
def axe_js() -> str:
    path = axe_source_path()
    assert path is not None
    return path.read_text(encoding="utf-8")


class _Reports(dict):
    """Page reports computed on first use (set up by the ``reports`` fixture)."""

    inspect: Any = None

    def __missing__(self, page: str) -> PageReport:
        self[page] = self.inspect(page)
        return self[page]


_SUMMARY = _Reports()


@pytest.fixture(scope="session")
def reports(driver: Any, base_url: str, axe_js: str) -> dict[str, PageReport]:
    """Every page inspected once (lazily, on first use), shared by all the per-page tests."""

    _SUMMARY.clear()
    _SUMMARY.inspect = lambda page: inspect_page(driver, base_url + page, axe_js)
    return _SUMMARY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The counts the issue asks for, over the pages this run inspected."""
    if not _SUMMARY:
        return
    r = list(_SUMMARY.values())

    def n(check: str) -> int:
        return sum(len(x.problems.get(check, [])) for x in r)

    pages_with = lambda check: sum(bool(x.problems.get(check)) for x in r)  # noqa: E731
    terminalreporter.write_sep("-", "browser suite: counts over the pages inspected")
    terminalreporter.write_line(
        f"pages {len(r)}; console errors {n('console_errors')}; images not loaded "
        f"{n('images_loaded')}; empty plotly views {n('plotly_rendered')}; 3D views that do not "
        f"rotate {n('plotly_rotates')}; MathJax errors {n('mathjax_errors')}; raw TeX/MyST "
        f"{n('raw_markup')}; serious/critical axe violations {n('axe_serious')} (rules x pages); "
        f"figures without caption alt text {n('figure_alt')}; pages overflowing at 400 px "
        f"{pages_with('overflow_400px')}; seconds in pages {sum(x.seconds for x in r):.0f}"
    )
