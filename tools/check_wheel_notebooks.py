"""Run reader notebooks as a reader would: an empty folder, a fresh venv, only hlmkit's wheel.

    .venv/bin/python tools/check_wheel_notebooks.py --wheel dist/hlmkit-0.1.0-py3-none-any.whl \\
        _build/notebooks/full/chapters/03_looking_at_data.ipynb _build/notebooks/full/labs/*.ipynb

1. A fresh virtual environment gets a kernel runner only (nbclient, ipykernel): no hlmkit.
2. The notebooks are copied to an empty folder. Without a wheel there, the first notebook must
   stop at its first cell, with one line saying how to install hlmkit, and run nothing else.
3. The wheel is copied next to them. The first notebook's first cell must install it (and say
   so); every notebook must then run top to bottom without error, and in the later notebooks (run
   ``--jobs`` at a time) the first cell must do nothing (hlmkit is present).

Dependencies come from PyPI, pinned by ``constraints.txt`` (``PIP_CONSTRAINT``). Exit status 1 on
any failure; the timings of each step are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNNER = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

path, timeout = sys.argv[1], int(sys.argv[2])
nb = nbformat.read(path, as_version=4)
for cell in nb.cells:  # start from a notebook that was never run: nothing from the book's own run
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": "."}})
error = None
try:
    client.execute()
except CellExecutionError as exc:
    error = str(exc)[-2000:]
cells = []
for k, cell in enumerate(nb.cells):
    if cell.cell_type != "code":
        continue
    outs = cell.get("outputs", [])
    cells.append({"index": k, "executed": cell.get("execution_count") is not None,
                  "errors": [{"ename": o.get("ename"), "traceback": o.get("traceback", [])}
                             for o in outs if o.get("output_type") == "error"],
                  "text": "".join(o.get("text", "") for o in outs if o.get("output_type") == "stream"),
                  "n_outputs": len(outs)})
print(json.dumps({"error": error, "cells": cells}))
"""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, **kw)


def _env(constraints: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND")}
    env.update(PIP_CONSTRAINT=str(constraints), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def execute(python: Path, notebook: Path, env: dict[str, str], timeout: int) -> dict:
    out = subprocess.run(
        [str(python), "-c", RUNNER, notebook.name, str(timeout)],
        cwd=notebook.parent,
        env=env,
        check=True,
        text=True,
        capture_output=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, required=True)
    ap.add_argument("--constraints", type=Path, default=ROOT / "constraints.txt")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks run at once after the first one")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("notebooks", type=Path, nargs="+")
    args = ap.parse_args(argv)
    problems: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="hlmkit-notebooks-"))
    env = _env(args.constraints.resolve())
    t0 = time.perf_counter()
    try:
        venv, work = tmp / "venv", tmp / "work"
        _run([sys.executable, "-m", "venv", str(venv)], env=env)
        python = venv / "bin" / "python"
        _run([str(python), "-m", "pip", "install", "--quiet", "nbclient", "ipykernel"], env=env)
        if (
            subprocess.run(
                [str(python), "-c", "import hlmkit"], check=False, env=env, cwd=tmp, capture_output=True
            ).returncode
            == 0
        ):
            problems.append("the fresh venv already imports hlmkit")
        t1 = time.perf_counter()
        print(f"fresh venv with a kernel runner (nbclient, ipykernel): {t1 - t0:.0f} s")

        work.mkdir()
        copies = []
        for nb in args.notebooks:
            copies.append(work / nb.name)
            shutil.copyfile(nb, copies[-1])

        # 2. hlmkit missing and nowhere to install it from: one line, nothing else runs
        result = execute(python, copies[0], env, args.timeout)
        first, rest = result["cells"][0], result["cells"][1:]
        tb = first["errors"][0]["traceback"] if first["errors"] else []
        if not (result["error"] and first["errors"] and first["errors"][0]["ename"] == "HlmkitMissing"):
            problems.append(
                f"{copies[0].name} without hlmkit: the first cell did not stop with HlmkitMissing "
                f"({result['error']!r})"
            )
        elif len(tb) != 1 or "pip install" not in tb[0]:
            problems.append(
                f"{copies[0].name} without hlmkit: expected one line saying how to install it, got {tb!r}"
            )
        else:
            print(f"without hlmkit, {copies[0].name} stops at its first cell: {tb[0]}")
        if any(c["executed"] for c in rest):
            problems.append(f"{copies[0].name} without hlmkit: cells after the first one ran")

        # 3. with the wheel next to them, every notebook runs top to bottom: the first one installs
        #    the wheel, the others (in parallel, --jobs) find hlmkit present
        shutil.copyfile(args.wheel, work / args.wheel.name)

        def run(k: int, nb: Path) -> list[str]:
            t = time.perf_counter()
            result = execute(python, nb, env, args.timeout)
            took = time.perf_counter() - t
            install, found = result["cells"][0], []
            if result["error"]:
                found.append(f"{nb.name} failed against the wheel: {result['error']}")
            if k == 0 and "hlmkit installed from hlmkit-" not in install["text"]:
                found.append(
                    f"{nb.name}: the first cell did not install the wheel ({install['text'][-300:]!r})"
                )
            if k > 0 and install["n_outputs"]:
                found.append(f"{nb.name}: with hlmkit present, the first cell printed {install['text']!r}")
            ran = sum(c["executed"] for c in result["cells"])
            said = [line for line in install["text"].splitlines() if line.startswith("hlmkit installed")]
            print(
                f"{nb.name}: {ran} of {len(result['cells'])} code cells ran in {took:.0f} s"
                + (f"; first cell: {said[0]}" if said else ""),
                flush=True,
            )
            return found

        problems += run(0, copies[0])
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for found in pool.map(run, range(1, len(copies)), copies[1:]):
                problems += found
        where = subprocess.run(
            [str(python), "-c", "import hlmkit; print(hlmkit.__file__)"],
            check=False,
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not where.startswith(str(venv)):
            problems.append(f"hlmkit was imported from {where}, not from the fresh venv")
        print(f"total {time.perf_counter() - t0:.0f} s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
