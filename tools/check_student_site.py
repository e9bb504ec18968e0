"""Check the built student edition against the full one: no solution anywhere, the same numbers.

    .venv/bin/python tools/check_student_site.py _build/html _build/student/html
    .venv/bin/python tools/check_student_site.py _build/html --files _build/assignments/*/student/*.ipynb

``make student`` runs it after building. It takes the solutions' texts from the full edition's
pages (every ``<div class="solution ...">``), cuts them into sentences, and looks for each sentence
in every text file of the student site: pages, ``_sources`` (Markdown and notebook downloads),
``searchindex.js`` and the rest. Words that occur only in solutions must not be in the student
search index. To show that the search can find what it looks for, every solution must first be
found, the same way, in the full edition's page, notebook download and Markdown download, and its
words in the full edition's search index.

Figure, table, exercise and equation numbers (the ``caption-number`` and ``eqno`` of each element
with an id) must be the same in both editions; only elements inside solutions may be missing.

With ``--files`` (and no student edition) it looks for the solutions' text in those files only:
``make assignments`` checks the assignments' student notebooks so. A notebook's text is its cells'
sources, outputs and metadata (where a figure's caption may hide); an answer stub (``x = ...``), which
shows only the names the exercise asks for, is not text to search.

Exit status 1, with one line per problem, if anything leaks or differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))
from notebook_export import split_solutions

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
TEXT_SUFFIXES = {".html", ".js", ".txt", ".md", ".ipynb", ".json", ".css", ".xml", ".py"}
MIN_SNIPPET = 30
# an assignment's answer stub (tools/make_assignments.py): the names an exercise asks for, `name = ...`
STUB = re.compile(r"\A(\s*[A-Za-z_][\w, ]* = \.\.\.\s*\n?)+\Z")


def normalize(text: str) -> str:
    """Lowercase letters and digits only, single spaces: markup-independent text to search in."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", unescape(text).lower()).split())


class PageText(HTMLParser):
    """The text of a page, split into solutions and the rest, and the numbers of its elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, bool]] = []  # (tag, id, starts a solution)
        self.solutions: list[list[str]] = []
        self.outside: list[str] = []
        self.numbers: dict[str, str] = {}
        self.ids_in_solutions: set[str] = set()
        self._number_of: str | None = None
        self._number_text: list[str] = []
        self._skip = 0  # inside <script>/<style>

    @property
    def in_solution(self) -> bool:
        return any(starts for _, _, starts in self.stack)

    def _nearest_id(self) -> str | None:
        for _, ident, _ in reversed(self.stack):
            if ident:
                return ident
        return None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "span" and ("caption-number" in classes or "eqno" in classes):
            self._number_of, self._number_text = self._nearest_id(), []
        if tag in VOID:
            return
        starts = tag == "div" and "solution" in classes
        if starts:
            self.solutions.append([])
        self.stack.append((tag, a.get("id"), starts))
        if a.get("id") and self.in_solution:
            self.ids_in_solutions.add(a["id"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "span" and self._number_of is not None:
            self.numbers.setdefault(self._number_of, " ".join("".join(self._number_text).split()))
            self._number_of = None
        if tag in VOID:
            return
        for k in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed tags
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._number_of is not None:
            self._number_text.append(data)
        (self.solutions[-1] if self.in_solution else self.outside).append(data)


def parse_page(path: Path) -> PageText:
    parser = PageText()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def snippets(solution_text: str) -> list[str]:
    """The sentences of a solution (normalized), long enough to be specific."""
    text = re.sub(r"^\s*Solution( to Exercise [\d.]+)?\s*", "", " ".join(solution_text.split()))
    parts = re.split(r"(?<=[.!?;:])\s+|\n", text)
    out = []
    for part in parts:
        norm = normalize(part)
        if len(norm) >= MIN_SNIPPET:
            out.append(norm)
    return out


def file_text(path: Path) -> str:
    """The normalized text of a file of the site (a notebook: its sources and text outputs)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":  # each cell's source, then its outputs' text, in reading order

        def text(value: object) -> str:
            return "".join(value) if isinstance(value, list) else str(value)

        def strings(value: object) -> list[str]:  # every string of a cell's metadata (e.g. a caption)
            if isinstance(value, dict):
                return [s for v in value.values() for s in strings(v)]
            if isinstance(value, list):
                return [s for v in value for s in strings(v)]
            return [value] if isinstance(value, str) else []

        parts, metadata = [], []
        for cell in json.loads(raw).get("cells", []):
            if not STUB.match(text(cell.get("source", ""))):
                parts.append(text(cell.get("source", "")))
            metadata += strings(cell.get("metadata", {}))  # after all the cells: it has no reading order
            for out in cell.get("outputs", []):
                parts.append(text(out.get("text", "")))
                parts += [text(v) for k, v in out.get("data", {}).items() if not k.startswith("image/")]
                parts += [text(v) for v in out.get("traceback", [])]
        raw = "\n".join(parts + metadata)
    if path.suffix in (".html", ".ipynb"):
        raw = re.sub(r"<[^>]+>", " ", raw)
    return normalize(raw)


def search_terms(site: Path) -> set[str]:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return set(data.get("terms", {})) | set(data.get("titleterms", {}))


def stemmer():
    from sphinx.search.en import SearchEnglish

    return SearchEnglish({}).stem


def check(full: Path, student: Path | None, files: Sequence[Path] = ()) -> list[str]:
    """The problems of the student edition ``student`` (None: only the leak check of ``files``).

    ``files`` are more files handed to students, searched for solution text as the site's files
    are: the assignments' student notebooks (``make assignments``)."""
    problems: list[str] = []
    pages = sorted(
        p.relative_to(full)
        for p in full.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )
    full_pages = {p: parse_page(full / p) for p in pages}
    student_pages = {
        p: parse_page(student / p) for p in pages if student is not None and (student / p).is_file()
    }
    outside = normalize(" ".join(" ".join(pt.outside) for pt in full_pages.values()))

    # 1. the solutions of the full edition, and the proof that we can find them
    solutions: list[tuple[Path, list[str]]] = []
    in_markdown = 0
    for page, parsed in full_pages.items():
        stem = page.with_suffix("")
        downloads = {
            "notebook download": full / "_sources" / f"{stem}.ipynb",
            "Markdown download": full / "_sources" / f"{stem}.md",
        }
        texts = {kind: file_text(path) for kind, path in downloads.items() if path.is_file()}
        for k, sol in enumerate(parsed.solutions, 1):
            found = [s for s in snippets("".join(sol)) if s not in outside]
            if not found:
                continue
            solutions.append((page, found))
            if not any(s in file_text(full / page) for s in found):
                problems.append(f"full edition: solution {k} of {page} not found in the page itself")
            if "notebook download" not in texts:
                problems.append(f"full edition: {page} has no notebook download")
            elif not any(s in texts["notebook download"] for s in found):
                problems.append(
                    f"full edition: solution {k} of {page} not found in its notebook download: "
                    "the search would miss it"
                )
            in_markdown += any(s in texts.get("Markdown download", "") for s in found)
        # the Markdown downloads hold MyST, not the rendered text: also look for the solutions' source
        md = downloads["Markdown download"]
        if md.is_file() and parsed.solutions:
            kept, removed = split_solutions(md.read_text(encoding="utf-8"))
            rest = normalize(kept)
            found = [s for block in removed for s in snippets(block) if s not in rest and s not in outside]
            if removed and not found:
                problems.append(
                    f"full edition: the solutions' source in {md.relative_to(full)} yields no text to look for"
                )
            solutions.append((page, found))
    if not solutions:
        problems.append("full edition: no solution found at all (is it the full edition?)")
    elif not in_markdown:
        problems.append("full edition: no solution's rendered text found in the Markdown downloads")
    # 2. no solution text in any text file of the student site, nor in the other files given
    site_files = sorted(student.rglob("*")) if student is not None else []
    for path in [*site_files, *files]:
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        text = file_text(path)
        for page, found in solutions:
            hits = [s for s in found if s in text]
            if hits:
                where = path.relative_to(student) if path in site_files and student else path
                problems.append(f"student edition leaks a solution of {page} in {where}: {hits[0][:80]!r}")
    if student is None:
        print(f"checked {len(files)} files for the text of {len(solutions)} solutions")
        return problems
    for page, parsed in student_pages.items():
        if parsed.solutions:
            problems.append(f"student edition: {page} has {len(parsed.solutions)} solution blocks")

    # 3. words found only in solutions are not in the student search index (compared as the index
    #    stores them: stemmed)
    stem = stemmer()

    def stems(text: str) -> set[str]:
        return {stem(w) for w in text.split() if len(w) > 3 and not w.isdigit()}

    only = set().union(*(stems(s) for _, found in solutions for s in found)) - stems(outside)
    full_terms, student_terms = search_terms(full), search_terms(student)
    indexed = only & full_terms
    if only and not indexed:
        problems.append(
            "full edition: none of the solution-only words is in its search index: "
            "the search-index check would miss a leak"
        )
    for term in sorted(indexed & student_terms):
        problems.append(f"student edition's search index has {term!r}, a word found only in solutions")

    # 4. the same numbers in both editions
    for page, parsed in full_pages.items():
        spage = student_pages.get(page)
        if spage is None:
            problems.append(f"student edition has no {page}")
            continue
        for ident, number in parsed.numbers.items():
            if ident in spage.numbers:
                if spage.numbers[ident] != number:
                    problems.append(
                        f"{page}#{ident}: '{number}' in the full edition, "
                        f"'{spage.numbers[ident]}' in the student edition"
                    )
            elif ident not in parsed.ids_in_solutions:
                problems.append(f"{page}#{ident} ('{number}') is missing from the student edition")
        for ident in set(spage.numbers) - set(parsed.numbers):
            problems.append(f"{page}#{ident} ('{spage.numbers[ident]}') is only in the student edition")
    rendered = sum(len(p.solutions) for p in full_pages.values())
    print(
        f"checked {rendered} solutions ({sum(len(f) for _, f in solutions)} sentences of their text and "
        f"source, {len(indexed)} solution-only index terms) and "
        f"{sum(len(p.numbers) for p in full_pages.values())} numbered elements"
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("full", type=Path, help="the full edition's HTML")
    ap.add_argument("student", type=Path, nargs="?", help="the student edition's HTML (omit with --files)")
    ap.add_argument("--files", type=Path, nargs="+", default=[], help="more files handed to students")
    args = ap.parse_args(argv)
    if args.student is None and not args.files:
        ap.error("give the student edition, or --files, to check")
    problems = check(args.full, args.student, args.files)
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    print("student edition: OK" if not problems else f"student edition: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
