"""Serve the built book on loopback and drive Debian's Chromium through chromedriver (selenium).

The browser runs headless with every host but 127.0.0.1 unresolvable, so a page that needs the
network shows it as a failed request (a console error), as it would for a reader offline.
Nothing here downloads anything: the browser is ``/usr/bin/chromium``, the driver
``/usr/bin/chromedriver`` and axe-core the copy ``make browser-test`` installs from npm.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
DESKTOP = (1280, 900)  # a laptop screen: the width at which figures are judged for legibility
PHONE_WIDTH = 400


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def missing_tools() -> list[str]:
    """What this machine lacks to run the browser suite (empty when it can run)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the Python package selenium")
    if axe_source_path() is None:
        missing.append("axe-core (npm)")
    return missing


def axe_source_path() -> Path | None:
    """axe.min.js as installed by ``make browser-test`` (or named by $AXE_CORE_JS)."""
    candidates = [os.environ.get("AXE_CORE_JS", "")]
    venv = Path(__file__).resolve().parent.parent / ".venv"
    candidates.append(str(venv / "browser" / "node_modules" / "axe-core" / "axe.min.js"))
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium with a fresh profile, offline but for loopback; yields the driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="book-browser-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-extensions",
        "--mute-audio",
        # a headless page counts as hidden: without these, Chromium throttles its timers and
        # axe-core's queue (setTimeout chains) runs a hundred times slower
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
        # WebGL (plotly's 3D scenes) through the software renderer, as on a machine without a GPU
        "--enable-unsafe-swiftshader",
        # the network is off: any host but loopback fails to resolve
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver: Any, width: int, height: int = DESKTOP[1]) -> None:
    """Give the page exactly ``width`` x ``height`` CSS pixels (not the window's outer size)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": False,
        },
    )


def site_pages(html: Path) -> list[str]:
    """Every page of the built book, as paths relative to ``html`` (search and index pages too)."""
    pages = []
    for p in sorted(html.rglob("*.html")):
        rel = p.relative_to(html)
        if rel.parts[0] in ("_static", "_sources", "_images", "_downloads"):
            continue
        pages.append(rel.as_posix())
    return pages


def mirror(html: Path, dest: Path) -> Path:
    """A copy of the built site whose files are symlinks: fixture pages are written beside the
    real ones (so their relative links to ``_static`` work) without touching ``_build``."""
    shutil.copytree(html, dest, copy_function=lambda s, d: os.symlink(os.path.abspath(s), d))
    return dest
