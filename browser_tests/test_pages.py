"""Every page of the built book, every check (see ``checks.py`` for what each one asserts)."""

from __future__ import annotations

from typing import Any

import pytest
from checks import CHECKS
from conftest import book_pages


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("page", book_pages())
def test_page(page: str, check: str, reports: Any) -> None:
    problems = reports[page].problems[check]
    assert not problems, f"{page}: {check}:\n  " + "\n  ".join(problems)


def test_every_page_was_inspected(reports: Any) -> None:
    """The suite saw the whole book: every chapter and lab in the table of contents."""
    pages = book_pages()
    for page in pages:
        reports[page]
    chapters = [p for p in pages if p.startswith(("chapters/", "labs/"))]
    assert len(chapters) >= 12, chapters
    print("\nseconds per page: " + ", ".join(f"{p} {r.seconds:.1f}" for p, r in reports.items()))
