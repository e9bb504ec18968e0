"""Count, page by page, what a reader of the book's notebooks meets (issue 10).

    .venv/bin/python tools/notebook_audit.py                      # the download notebooks of _build/html
    .venv/bin/python tools/notebook_audit.py --notebooks notebooks --flat
    .venv/bin/python tools/notebook_audit.py --strict             # exit 1 unless every page is clean

For every page of ``_toc.yml`` that is a notebook (chapters and labs) it prints:

* ``figures``: the numbered figures of the page in the built book (``<figure`` elements of its HTML);
* ``shown``: the images a notebook viewer shows (code-cell outputs with an ``image/*`` type; glued
  figures are stored under a private MIME type that Jupyter does not render, so they do not count);
* ``raw MyST``: MyST syntax left in the Markdown cells, which Jupyter shows as typed: roles
  (``{numref}`x` ``), directive fences (```` ```{note} ````, ``:::{note}``) and targets (``(x)=``);
* ``check cells``: code cells tagged ``remove-cell`` (the book's hidden checks and autograder tests).
* ``uses hidden``: names that a visible cell of the page's source uses but only hidden cells (or the
  code of gated solutions) define: a notebook without them would stop there with a NameError.

``--strict`` fails when a page shows fewer figures than the book has, or has raw MyST, check cells
or visible cells that need hidden ones.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

ROLE = re.compile(r"\{[A-Za-z][\w:.+-]*\}`")
DIRECTIVE = re.compile(r"^\s*(?:`{3,}|~{3,}|:{3,})\s*\{[A-Za-z][\w:.+-]*\}", re.MULTILINE)
TARGET = re.compile(r"^\s*\([^()\s]+\)=\s*$", re.MULTILINE)
FIGURE = re.compile(r"<figure\b")


def toc_pages(root: Path = ROOT) -> list[str]:
    """The docnames of ``_toc.yml`` whose source is a notebook (a ``code-cell`` page)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [p for p in pages if "{code-cell}" in (root / f"{p}.md").read_text(encoding="utf-8")]


def raw_myst(markdown: str) -> int:
    """How many MyST roles, directive fences and targets a piece of Markdown holds."""
    return len(ROLE.findall(markdown)) + len(DIRECTIVE.findall(markdown)) + len(TARGET.findall(markdown))


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON value (a cell's metadata)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def audit_notebook(nb: dict) -> dict[str, int]:
    """Images shown, raw MyST (in Markdown cells and in any cell's metadata, e.g. a figure caption)
    and check cells of one notebook (as a JSON dict)."""
    shown = raw = checks = 0
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "markdown":
            raw += raw_myst(source)
        raw += sum(raw_myst(s) for s in _strings(cell.get("metadata", {})))
        if cell.get("cell_type") != "code":
            continue
        if "remove-cell" in cell.get("metadata", {}).get("tags", []):
            checks += 1
        for out in cell.get("outputs", []):
            shown += sum(1 for mime in out.get("data", {}) if mime.startswith("image/"))
    return {"shown": shown, "raw_myst": raw, "check_cells": checks}


def _bound(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
    return out


def hidden_dependencies(cells: list[tuple[str, bool]]) -> list[str]:
    """Names used by visible cells that only earlier hidden cells define.

    ``cells`` are (source, hidden) pairs of a page's code cells, in order. A name bound anywhere in
    the cell that uses it counts as defined there (a close, cheap approximation of Python's scopes).

    Examples
    --------
    >>> hidden_dependencies([("x = 1", True), ("y = 2", False), ("print(x + y)", False)])
    ['x']
    """
    visible, hidden, found = set(dir(builtins)), set(), []
    for source, is_hidden in cells:
        code = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
        tree = ast.parse(code)
        bound = _bound(tree)
        if is_hidden:
            hidden |= bound
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        found += sorted((used - bound - visible) & hidden)
        visible |= bound
    return found


GATE = re.compile(r"\{solution-(start|end)\}")


def page_hidden_dependencies(page: Path) -> list[str]:
    """Hidden-cell dependencies of a page; the code of gated solutions counts as hidden too (the
    student edition's notebooks leave it out)."""
    import jupytext

    cells, in_solution = [], False
    for c in jupytext.read(page).cells:
        if c.cell_type == "markdown":
            for m in GATE.finditer(c.source):
                in_solution = m.group(1) == "start"
        elif c.cell_type == "code":
            cells.append((c.source, in_solution or "remove-cell" in c.metadata.get("tags", [])))
    return hidden_dependencies(cells)


def audit(notebooks: Path, html: Path, flat: bool = False, root: Path = ROOT) -> list[dict]:
    rows = []
    for page in toc_pages(root):
        page_html = html / f"{page}.html"
        figures = len(FIGURE.findall(page_html.read_text(encoding="utf-8"))) if page_html.is_file() else -1
        nb_path = notebooks / (f"{Path(page).name}.ipynb" if flat else f"{page}.ipynb")
        row = {"page": page, "figures": figures, "uses_hidden": page_hidden_dependencies(root / f"{page}.md")}
        if nb_path.is_file():
            row.update(audit_notebook(json.loads(nb_path.read_text(encoding="utf-8"))))
        else:
            row.update({"shown": -1, "raw_myst": -1, "check_cells": -1})
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| page | figures in the book | figures shown | raw MyST | check cells | uses hidden |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['page']} | {r['figures']} | {r['shown']} | {r['raw_myst']} | {r['check_cells']} | "
            f"{len(r['uses_hidden'])} |"
        )
    total = {k: sum(max(r[k], 0) for r in rows) for k in ("figures", "shown", "raw_myst", "check_cells")}
    lines.append(
        f"| **total** | {total['figures']} | {total['shown']} | {total['raw_myst']} | "
        f"{total['check_cells']} | {sum(len(r['uses_hidden']) for r in rows)} |"
    )
    return "\n".join(lines)


def problems(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        if r["shown"] < 0:
            out.append(f"{r['page']}: no notebook")
            continue
        if r["figures"] < 0:
            out.append(f"{r['page']}: no HTML page")
        if r["shown"] < r["figures"]:
            out.append(f"{r['page']}: shows {r['shown']} images for {r['figures']} figures")
        if r["raw_myst"]:
            out.append(f"{r['page']}: {r['raw_myst']} raw MyST roles/directives/targets")
        if r["check_cells"]:
            out.append(f"{r['page']}: {r['check_cells']} check cells")
        if r["uses_hidden"]:
            out.append(f"{r['page']}: visible cells use {r['uses_hidden']}, defined only in hidden cells")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        help="folder of notebooks (default: the HTML build's _sources, i.e. the downloads)",
    )
    ap.add_argument("--flat", action="store_true", help="notebooks are <name>.ipynb, not <dir>/<name>.ipynb")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args(argv)
    rows = audit(args.notebooks or args.html / "_sources", args.html, flat=args.flat)
    print(table(rows))
    if args.strict:
        found = problems(rows)
        for p in found:
            print(f"FAIL {p}", file=sys.stderr)
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
