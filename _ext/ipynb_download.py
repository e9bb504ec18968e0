"""Offer the executed notebook (.ipynb) of each MyST-markdown page in the download menu.

sphinx-book-theme offers ``.ipynb`` only for ``.ipynb`` sources (or when a launch server is
configured). This copies the notebook myst-nb executed (``_build/jupyter_execute/<page>.ipynb``,
with outputs) next to the page's source in ``_sources/`` and tells the theme about it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def _add_ipynb(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if doctree is None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _add_ipynb, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
