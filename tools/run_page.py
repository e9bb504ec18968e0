"""Execute one page of the book (a MyST-markdown notebook) and report errors, warnings and time.

    .venv/bin/python tools/run_page.py chapters/04_four_methods.md [--save out.ipynb]

A quick check while writing a page; `make book` remains the real test (it renders and checks
references and glue too).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("page")
    ap.add_argument("--save", help="write the executed notebook here")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    path = Path(args.page).resolve()
    nb = jupytext.read(path)
    client = NotebookClient(
        nb, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    t0 = time.perf_counter()
    status = 0
    try:
        client.execute()
    except CellExecutionError as exc:
        print(f"ERROR while executing {args.page}:\n{exc}", file=sys.stderr)
        status = 1
    elapsed = time.perf_counter() - t0
    stderr_cells = []
    slow = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                stderr_cells.append((k, out.get("text", "")[:500]))
        meta = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in meta and "shell.execute_reply" in meta:
            from datetime import datetime

            t1 = datetime.fromisoformat(meta["iopub.execute_input"].replace("Z", "+00:00"))
            t2 = datetime.fromisoformat(meta["shell.execute_reply"].replace("Z", "+00:00"))
            slow.append(((t2 - t1).total_seconds(), k))
    for k, text in stderr_cells:
        print(f"stderr output in cell {k} (a warning is a build failure):\n{text}", file=sys.stderr)
        status = status or 2
    slow.sort(reverse=True)
    print(
        f"{args.page}: executed in {elapsed:.1f} s; slowest cells: "
        + ", ".join(f"#{k} {s:.1f}s" for s, k in slow[:3])
    )
    if args.save:
        import nbformat

        nbformat.write(nb, args.save)
    return status


if __name__ == "__main__":
    sys.exit(main())
