"""Every figure of every page: resolution, sharpness and legibility at the width it is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import book_pages
from images import image_file, image_problems


@pytest.mark.parametrize("page", [p for p in book_pages() if p.startswith(("chapters/", "labs/"))])
def test_figures_sharp_and_legible(page: str, reports: Any, html_dir: Path) -> None:
    problems = []
    figures = [f for f in reports[page].figures if f["in_figure"] or "_images/" in (f["src"] or "")]
    for f in figures:
        shown = f["displayed_width"] or min(f["attr_width"] or 0, f["column_width"] or 0)
        problems += image_problems(image_file(html_dir, page, f["src"]), shown)
    assert not problems, (
        f"{page}: {len(problems)} problem(s) with its {len(figures)} figures:\n  " + "\n  ".join(problems)
    )
