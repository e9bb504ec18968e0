"""Count the missing-value markers (NaN, nan, None, NA, <NA>) that the built book shows in cell outputs.

    .venv/bin/python tools/count_nan_outputs.py                  # after make book: counts per page
    .venv/bin/python tools/count_nan_outputs.py -v               # ... and the output lines holding them
    .venv/bin/python tools/count_nan_outputs.py --check          # fail on any marker not in EXPLAINED

It reads the HTML pages in ``_build/html`` and looks only at what a reader sees as the output
of a code cell (``div.cell_output``; hidden cells are not in the pages at all), so a marker in
the prose or in the code itself is not counted. A table shows a blank or "—" where a value does
not exist; a marker may remain only where the text next to it explains it. Those are listed in
``EXPLAINED`` below (page, the marker's line as printed, and where the page explains it), and
``--check`` fails on any other marker, and on a listed one that is gone (update the list).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<NA>|(?<![\w.])(?:NaN|nan|None|NA)(?!\w)")

#: Markers the text explains: (page, a substring of the output line holding them, how many on
#: that line, where the page explains them).
EXPLAINED: list[tuple[str, str, int, str]] = [
    (
        "labs/lab1_example2",
        "1436 |",
        2,
        "zz.head(8): hk.lmlist 'marks with NaN what a school cannot estimate', the text above it says",
    ),
    ("labs/lab1_example2", "1462 |", 1, "the same table"),
    (
        "labs/lab1_example2",
        "<NA> |",
        1,
        "tab of round(cook) by hat == 1: Cook's distance is undefined at leverage 1 (the text says, above and below)",
    ),
]


def output_lines(html: Path) -> list[str]:
    """The text lines of the code-cell outputs of a built page."""
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    lines: list[str] = []
    for out in soup.select("div.cell_output"):
        for table in out.select("table"):
            # one line per table row, cells separated by " | ", so that a row reads as printed
            for tr in table.select("tr"):
                lines.append(" | ".join(c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])))
            table.decompose()
        for img in out.select("img"):
            img.decompose()
        lines += [ln for ln in out.get_text("\n").splitlines() if ln.strip()]
    return lines


def count(build: Path) -> dict[str, list[tuple[str, int]]]:
    """{page: [(output line, number of markers on it), ...]} for the pages that show any."""
    found: dict[str, list[tuple[str, int]]] = {}
    for html in sorted(build.rglob("*.html")):
        rel = html.relative_to(build).with_suffix("").as_posix()
        if rel.startswith(("_", "genindex", "search")):
            continue
        hits = [(ln, len(MARKER.findall(ln))) for ln in output_lines(html)]
        hits = [(ln, n) for ln, n in hits if n]
        if hits:
            found[rel] = hits
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "_build" / "html"), help="the built HTML book")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the output lines holding markers")
    ap.add_argument("--check", action="store_true", help="fail on markers the text does not explain")
    args = ap.parse_args()
    build = Path(args.build)
    if not (build / "index.html").is_file():
        print(f"no built book in {build}: run make book first", file=sys.stderr)
        return 2
    found = count(build)
    total = 0
    for page, hits in found.items():
        n = sum(k for _, k in hits)
        total += n
        print(f"{n:4d}  {page}")
        if args.verbose:
            for ln, k in hits:
                print(f"        [{k}] {ln[:150]}")
    print(f"{total:4d}  in all ({len(found)} pages)")
    if not args.check:
        return 0
    allowed = Counter()
    for page, line, k, _why in EXPLAINED:
        allowed[(page, line)] += k
    unexplained, stale = [], []
    for page, hits in found.items():
        for ln, k in hits:
            key = next(((p, s) for p, s in allowed if p == page and s in ln), None)
            if key is None or allowed[key] < k:
                unexplained.append(f"{page}: [{k}] {ln[:150]}")
            else:
                allowed[key] -= k
    stale = [f"{p}: {s!r}" for (p, s), left in allowed.items() if left]
    for msg in unexplained:
        print(f"unexplained missing-value marker in an output: {msg}", file=sys.stderr)
    for msg in stale:
        print(f"EXPLAINED lists a marker the book no longer shows (update the list): {msg}", file=sys.stderr)
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
