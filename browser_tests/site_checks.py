"""Checks made once for the whole site: offline search, the light/dark toggle, the footer."""

from __future__ import annotations

import time
from typing import Any

from browser import DESKTOP, set_viewport

# three words a reader of this book would search for, each on a different theme
SEARCH_TERMS = ("shrinkage", "Hausman", "contextual")

_SEARCH_STATE = """
const summary = document.querySelector('#search-results .search-summary, #search-results p');
const items = Array.from(document.querySelectorAll('#search-results ul.search li a'))
  .map(a => a.getAttribute('href'));
return {summary: summary ? summary.innerText : '', items: items,
        busy: !!document.querySelector('#search-progress') &&
              /Preparing|Searching/i.test(document.querySelector('#search-progress').innerText)};
"""


def search(driver: Any, base_url: str, term: str, timeout: float = 20.0) -> list[str]:
    """The pages the book's own search page lists for ``term`` (its search index, no server)."""
    set_viewport(driver, *DESKTOP)
    driver.get(f"{base_url}search.html?q={term}")
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s = driver.execute_script(_SEARCH_STATE)
        if s["items"] or ("found" in s["summary"].lower() or "did not match" in s["summary"].lower()):
            time.sleep(0.2)  # results are appended one by one
            return driver.execute_script(_SEARCH_STATE)["items"]
        time.sleep(0.1)
    return []


_THEME = """
const bg = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).slice(0, 3).map(Number);
const lum = (0.2126 * bg[0] + 0.7152 * bg[1] + 0.0722 * bg[2]) / 255;
return {theme: document.documentElement.dataset.theme, mode: document.documentElement.dataset.mode,
        luminance: lum};
"""


def theme_toggle_problems(driver: Any, url: str) -> list[str]:
    """Click the light/dark button until it has shown both a dark and a light page."""
    from selenium.webdriver.common.by import By

    set_viewport(driver, *DESKTOP)
    driver.execute_script("try { localStorage.clear(); } catch (e) {}")
    driver.get(url)
    seen = [driver.execute_script(_THEME)]
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, ".theme-switch-button") if b.is_displayed()]
    if not buttons:
        return ["no visible light/dark button"]
    for _ in range(3):
        buttons[0].click()
        time.sleep(0.4)  # the colours change with a short transition
        seen.append(driver.execute_script(_THEME))
    problems = []
    if not any(s["theme"] == "dark" and s["luminance"] < 0.2 for s in seen):
        problems.append(f"the button never gave a dark page: {seen}")
    if not any(s["theme"] == "light" and s["luminance"] > 0.8 for s in seen):
        problems.append(f"the button never gave a light page: {seen}")
    return problems


def footer_text(driver: Any, url: str) -> str:
    driver.get(url)
    return driver.execute_script(
        "const f = document.querySelector('footer.bd-footer-content, .bd-footer-content');"
        "return f ? f.innerText : '';"
    )
