"""Once for the site: search finds things offline, the light/dark toggle works, the footer reads."""

from __future__ import annotations

import re
from typing import Any

import pytest
from site_checks import SEARCH_TERMS, footer_text, search, theme_toggle_problems


@pytest.mark.parametrize("term", SEARCH_TERMS)
def test_search_finds(term: str, driver: Any, base_url: str) -> None:
    hits = search(driver, base_url, term)
    pages = [h for h in hits if re.match(r"(\.\./)?(chapters|labs)/", h)]
    assert pages, f"searching for {term!r} found no chapter or lab (results: {hits})"


def test_search_finds_nothing_for_a_word_not_in_the_book(driver: Any, base_url: str) -> None:
    """The search above is not vacuous: a word the book never uses finds no page."""
    assert search(driver, base_url, "zebrafish") == []


def test_theme_toggle(driver: Any, base_url: str) -> None:
    problems = theme_toggle_problems(driver, base_url + "intro.html")
    assert not problems, "\n".join(problems)


def test_footer_names_authors_licence_and_source(driver: Any, base_url: str) -> None:
    text = " ".join(footer_text(driver, base_url + "chapters/01_introduction.html").split())
    assert "By the hlmkit authors" in text, text
    assert "CC BY-SA 4.0" in text and "Georges Monette" in text, text
