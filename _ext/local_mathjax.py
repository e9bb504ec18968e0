"""Serve MathJax from the book itself, once per page.

``_config.yml`` points ``mathjax_path`` at the vendored ``_static/mathjax/tex-svg.js`` (MathJax
3.2.2, Apache-2.0), so math renders without a network. Jupyter Book 1.x also adds every ``.js``
file under ``_static/`` to every page; this extension removes that second, non-deferred copy.
"""

from __future__ import annotations

from typing import Any


def _drop_auto_added_mathjax(app: Any, config: Any) -> None:
    def name(entry: Any) -> str:
        return str(entry[0] if isinstance(entry, (tuple, list)) else entry)

    config.html_js_files = [e for e in config.html_js_files if not name(e).startswith("mathjax/")]


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _drop_auto_added_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
