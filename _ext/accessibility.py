"""Markup fixes that the accessibility checks of the browser suite (browser_tests/) ask for.

* Every image of a numbered figure gets its caption as alt text, when it has none of its own
  (docutils would write the image's file name, which a screen reader reads out letter by letter).
  TeX in the caption is read as plain words (``$\\sigma^2$`` becomes ``sigma^2``).
* docutils writes a bibliography as ``<div role="list">`` whose entries have the DPUB-ARIA role
  ``doc-biblioentry``. That role is deprecated (DPUB-ARIA 1.1) and is not a list item, so the
  list has no allowed children: a critical violation (``aria-required-children``) on the
  references page. The entries become ``role="listitem"``, which is what they are.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes

_TEX_WRAPPERS = re.compile(
    r"\\(?:mathbf|boldsymbol|mathrm|mathit|operatorname|text|textrm|hat|bar|"
    r"tilde|widehat|overline)\s*\{([^{}]*)\}"
)


def plain_tex(tex: str) -> str:
    r"""TeX as words for alt text: ``\hat{\boldsymbol\beta}_1`` -> ``beta_1``."""
    text = _TEX_WRAPPERS.sub(r"\1", tex)
    text = re.sub(r"\\(?:boldsymbol|mathbf|left|right|,|;|!|quad)", " ", text)
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)
    return " ".join(text.replace("{", "").replace("}", "").split())


def caption_text(caption: nodes.Node) -> str:
    parts = []
    for node in caption.findall(lambda n: isinstance(n, (nodes.Text, nodes.math))):
        if isinstance(node, nodes.math):
            parts.append(plain_tex(node.astext()))
        elif not isinstance(node.parent, nodes.math):
            parts.append(node.astext())
    return " ".join("".join(parts).split())


def _figure_alt(app: Any, doctree: nodes.document, docname: str) -> None:
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        alt = caption_text(captions[0])
        for image in figure.findall(nodes.image):
            if alt and (not image.get("alt") or image.get("alt") == image.get("uri")):
                image["alt"] = alt


def _page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-resolved", _figure_alt)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
