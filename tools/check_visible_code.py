"""Run every page of the book with its hidden cells removed: the visible code must stand alone.

    .venv/bin/python tools/check_visible_code.py                 # every page in _toc.yml, 2 at a time
    .venv/bin/python tools/check_visible_code.py labs/lab1_example1.md --jobs 1

A reader copies the code a page shows, not the cells the book hides (tagged ``remove-cell``:
the checks against the notes, glue for the prose, autograder tests). So each page is executed
with those cells dropped, top to bottom, in a fresh kernel started in the page's folder, as the
book runs it. Any error (a NameError for something defined only in a hidden cell, above all)
fails the run, naming the page, the cell and the error. Exit status 0 when every page runs.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = "remove-cell"


def book_pages(root: Path = ROOT) -> list[Path]:
    """The pages of ``_toc.yml`` that are notebooks (MyST markdown with code cells), in book order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [ch["file"] for ch in part.get("chapters", [])]
    pages = []
    for f in files:
        path = root / f"{f}.md"
        if path.is_file() and "```{code-cell}" in path.read_text():
            pages.append(path)
    return pages


def visible_notebook(page: Path) -> nbformat.NotebookNode:
    """The page as a notebook without its hidden (``remove-cell``) cells."""
    nb = jupytext.read(page)
    nb.cells = [c for c in nb.cells if HIDDEN not in c.get("metadata", {}).get("tags", [])]
    return nb


def run_visible(page: Path, timeout: int = 600) -> tuple[str, float, str | None]:
    """Execute the visible cells of ``page``; return (page, seconds, error message or None)."""
    nb = visible_notebook(page)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(page.parent)}}
    )
    t0 = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        failed = next(
            (
                k
                for k, c in enumerate(nb.cells)
                if c.cell_type == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        source = nb.cells[failed].source if failed is not None else ""
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # no terminal colours in the report
        lines = [ln for ln in plain.splitlines() if ln.strip()]
        error = (
            f"visible cell {failed} (counting all cells, hidden ones removed):\n"
            + "\n".join("    " + ln for ln in source.splitlines()[:8])
            + f"\n  raised: {lines[-1] if lines else exc!r}"
        )
    return str(page.relative_to(ROOT) if page.is_relative_to(ROOT) else page), time.perf_counter() - t0, error


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pages", nargs="*", help="pages to run (default: every page of _toc.yml)")
    ap.add_argument("--jobs", type=int, default=2, help="pages run at the same time (default 2)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()
    pages = [Path(p).resolve() for p in args.pages] or book_pages()
    t0 = time.perf_counter()
    failures = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, seconds, error in pool.map(run_visible, pages, [args.timeout] * len(pages)):
            print(f"{'FAIL' if error else 'ok  '} {name} ({seconds:.0f} s)", flush=True)
            if error:
                failures.append((name, error))
    for name, error in failures:
        print(f"\n{name}: the visible code does not run on its own; {error}", file=sys.stderr)
    print(
        f"visible code: {len(pages) - len(failures)} of {len(pages)} pages run without their hidden cells "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
