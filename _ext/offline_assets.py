"""Keep the built book self-contained: plotly.js served locally, and no external requests.

* Pages with an interactive plotly figure, and only those, load ``_static/plotly/plotly.min.js``
  (4.8 MB), copied from the installed ``plotly`` package (so nothing is downloaded and the file is
  not committed). The script goes into the page's own script list, before the figure's inline
  ``Plotly.newPlot`` call runs.
* Scripts that Jupyter Book 1.x registers twice (sphinx-thebe's and sphinx-togglebutton's inline
  configuration) are written once: twice, the second ``const THEBE_JS_URL`` is a JavaScript error
  in every page.
* A figure that reached a page as the text ``<Figure size ...>`` (no image) is a warning.
* After the build, every HTML page is scanned for resources loaded from another host
  (``<script src>``, ``<link href>``, ``<img src>``, ``<iframe src>``, CSS ``url()``); each one is a
  warning, so a build with ``-W`` fails if the book would need the network to display.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)

PLOTLY_JS = "plotly/plotly.min.js"
_EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=["'](https?:)?//[^"']+["']"""
    r"""|<link\b[^>]*\bhref=["'](https?:)?//[^"']+["']"""
    r"""|url\(\s*["']?(https?:)?//""",
    re.IGNORECASE,
)


def _plotly_source() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _script_key(js: Any) -> tuple[str, str]:
    filename = getattr(js, "filename", js) or ""  # inline scripts have '' or None
    attributes = getattr(js, "attributes", {})
    return str(filename), repr(sorted(attributes.items()))


def _page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body", "") or ""
    if "plotly-graph-div" in body:
        # Sphinx adds a file given here to this page only: it appends to the list the page's
        # context holds, which is why this comes before the list is replaced below
        app.add_js_file(PLOTLY_JS)
    scripts = context.get("script_files")
    if scripts:
        seen: set[tuple[str, str]] = set()
        unique = []
        for js in scripts:
            key = _script_key(js)
            if key not in seen:
                seen.add(key)
                unique.append(js)
        context["script_files"] = unique


def _finished(app: Any, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    target = out / "_static" / PLOTLY_JS
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_plotly_source(), target)
    for page in sorted(out.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        if "&lt;Figure size" in text:
            logger.warning(
                "%s shows a figure as text (<Figure size ...>) instead of an image", page.relative_to(out)
            )
        for m in _EXTERNAL.finditer(text):
            logger.warning(
                "%s loads an external resource (%s); the book must display offline",
                page.relative_to(out),
                m.group(0)[:120],
            )


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _page_context, priority=900)  # after the theme's handlers
    app.connect("build-finished", _finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
