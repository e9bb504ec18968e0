"""A myst-nb plugin: let the book ignore plotly's JSON output in favour of its HTML twin.

:class:`hlmkit.plot3d.Interactive3D` outputs both ``text/html`` (used by the HTML book, with
plotly.js served by the book itself) and plotly's ``application/vnd.plotly.v1+json`` (used by
JupyterLab). myst-nb warns about MIME types it does not know, and the book builds with ``-W``;
this renderer, registered as a ``myst_nb.mime_renderers`` entry point, accepts the plotly type
and renders nothing for it.
"""

from __future__ import annotations

from typing import Any, ClassVar

PLOTLY_MIME = "application/vnd.plotly.v1+json"


class PlotlyJsonRenderer:
    """Render plotly's JSON MIME type as nothing (its ``text/html`` twin is displayed)."""

    mime_priority_overrides: ClassVar[list[tuple[str, str, int | None]]] = []

    @staticmethod
    def handle_mime(renderer: Any, data: Any, inline: bool) -> list[Any] | None:
        if data.mime_type == PLOTLY_MIME:
            return []
        return None
