"""Markup fixes that the accessibility check of the browser suite (axe-core) asks for.

* docutils writes a bibliography as ``<div role="list">`` whose entries have the DPUB-ARIA role
  ``doc-biblioentry``. That role is deprecated (DPUB-ARIA 1.1) and is not a list item, so the
  list has no allowed children: a critical violation (``aria-required-children``) on the
  references page. The entries become ``role="listitem"``, which is what they are.
"""

from __future__ import annotations

from typing import Any


def _page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
