"""Grade every assignment with otter-grader, as an instructor would, and check the scores.

    python tools/grade_assignments.py                     # every assignment in _build/assignments
    python tools/grade_assignments.py _build/assignments/lab1_example1 --jobs 2

For each assignment folder (written by ``tools/make_assignments.py``) it runs ``otter run`` with the
folder's autograder zip on

* the solution notebook (``autograder/<page>.ipynb``), which must get full marks, and
* the untouched student notebook (``student/<page>.ipynb``), which must get zero on every
  autograded question,

prints the points per question and exits non-zero if either check fails. ``otter run`` grades
without Docker, in this environment: hlmkit and otter-grader must be installed (``.[teach]``).

The notebooks run with matplotlib's Agg backend (``MPLBACKEND=Agg``): a figure a cell shows as its
output is made but not drawn. Grades depend on the answers, not on the pictures, and drawing the
figures to PNG is most of a page's run time (lab 1, example 1: about two thirds of it).
``--draw-figures`` grades with Jupyter's inline backend instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "_build" / "assignments"


def otter_run(
    notebook: Path, autograder_zip: Path, draw_figures: bool = False
) -> dict[str, tuple[float, float]]:
    """Grade ``notebook`` with ``otter run``: ``{question: (score, possible)}`` for each autograded question."""
    otter = Path(sys.executable).with_name("otter")
    env = dict(os.environ) if draw_figures else {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            [str(otter), "run", "--no-logo", "-a", str(autograder_zip), "-o", out, str(notebook)],
            check=False,
            capture_output=True,
            text=True,
            env=env,
        )
        results = Path(out) / "results.json"
        if proc.returncode != 0 or not results.exists():
            raise RuntimeError(
                f"otter run failed on {notebook} (exit {proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        tests = json.loads(results.read_text())["tests"]
    return {t["name"]: (float(t["score"]), float(t["max_score"])) for t in tests if "max_score" in t}


def autograder_zip(folder: Path) -> Path:
    zips = sorted((folder / "autograder").glob("*-autograder_*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"{folder / 'autograder'} should hold one autograder zip, it holds {len(zips)}")
    return zips[0]


def notebooks(folder: Path) -> dict[str, Path]:
    """The two notebooks of an assignment folder that are graded."""
    page = folder.name
    return {
        "solution": folder / "autograder" / f"{page}.ipynb",
        "student": folder / "student" / f"{page}.ipynb",
    }


def check_scores(page: str, solution: dict, student: dict) -> tuple[list[str], list[str]]:
    """Report lines and problems: the solution must get full marks, the student notebook zero."""
    lines = [f"{page}: {len(solution)} autograded questions"]
    problems = []
    for q, (score, possible) in solution.items():
        line = f"  {q:32s} solution {score:g}/{possible:g}"
        if score != possible or possible <= 0:
            problems.append(f"{page}: the solution gets {score:g} of {possible:g} points on {q}")
        s_score = student.get(q, (float("nan"), possible))[0]
        line += f"   student {s_score:g}/{possible:g}"
        if s_score != 0:
            problems.append(f"{page}: the untouched student notebook gets {s_score:g} points on {q}")
        lines.append(line)
    if set(student) != set(solution):
        problems.append(f"{page}: the solution and student gradings list different questions")
    total = sum(p for _, p in solution.values())
    lines.append(
        f"  total: solution {sum(s for s, _ in solution.values()):g}/{total:g}, "
        f"student {sum(s for s, _ in student.values()):g}/{total:g}"
    )
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "folders",
        nargs="*",
        type=Path,
        help="assignment folders, or a folder of them (default: _build/assignments)",
    )
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="notebooks graded at once")
    ap.add_argument("--draw-figures", action="store_true", help="draw the figures (Jupyter's inline backend)")
    args = ap.parse_args(argv)
    folders: list[Path] = []
    for f in args.folders or [DEFAULT_DIR]:
        folders += (
            [f]
            if (f / "autograder").is_dir()
            else sorted(p for p in f.iterdir() if (p / "autograder").is_dir())
        )
    if not folders:
        print("no assignments found: run `make assignments` first", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    jobs = [(folder, which) for folder in folders for which in ("solution", "student")]

    def run(job: tuple[Path, str]) -> tuple[dict, float]:
        t = time.perf_counter()
        folder, which = job
        return otter_run(
            notebooks(folder)[which], autograder_zip(folder), args.draw_figures
        ), time.perf_counter() - t

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # the slowest pages first
        jobs.sort(key=lambda job: -notebooks(job[0])[job[1]].stat().st_size)
        done = dict(zip(jobs, pool.map(run, jobs)))
    problems = []
    for folder in folders:
        solution, t_sol = done[folder, "solution"]
        student, t_stu = done[folder, "student"]
        lines, probs = check_scores(folder.name, solution, student)
        print("\n".join(lines) + f"\n  graded in {t_sol:.0f} s (solution) and {t_stu:.0f} s (student)")
        problems += probs
    print(
        f"graded {len(folders)} assignments ({len(folders)} solutions, {len(folders)} student notebooks)"
        f" in {time.perf_counter() - t0:.0f} s"
    )
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
