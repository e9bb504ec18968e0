"""Graded assignments from the book's pages: an otter-grader master notebook per page, then `otter assign`.

    python tools/make_assignments.py                     # every chapter and lab with exercises
    python tools/make_assignments.py labs/lab1_example1.md --out _build/assignments
    python tools/make_assignments.py --check             # validate the exercises only (no otter needed)

For each page with an exercise it writes ``<out>/<page>/master/<page>.ipynb``, an otter-grader
master notebook (otter's "notebook format", v1), and runs ``otter assign`` on it, which writes
``<out>/<page>/student/<page>.ipynb`` (the notebook to hand out) and ``<out>/<page>/autograder/``
(the solution notebook and the autograder zip).

The page is read with jupytext and split into exercises, solutions, autograder test cells and the
rest, following STYLE.md ("Exercises"):

* an exercise whose solution has a code cell is *computable*, unless it carries ``:class: manual``;
  its test cells (metadata ``autograde: {exercise, points, hidden}``) become its otter tests, and it
  earns its points only when all of them pass;
* prose and manual exercises become manually graded questions;
* in the student notebook a solution code cell becomes a stub that keeps the answer variables
  (``gap_ols = ...``): the names the solution assigns and the tests use;
* hidden (``remove-cell``) cells are the book's checks and are left out;
* a test runs in the notebook's namespace (in the book and when graded), so the names it assigns
  start with ``_``.

Bad input stops with an error that names the page and the exercise: a computable exercise without
tests, a test with no ``assert``, a test or a cell that uses a name only a hidden cell or another
exercise's solution defines, an answer variable the exercise text does not name.

Markdown goes through ``to_markdown(text, context)`` from ``_ext/notebook_export.py`` (glue values,
cross-references, directives as plain Markdown), with the page's context from the HTML build
(``_build/notebooks/context/<docname>.json``) when it exists.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import json
import re
import shutil
import symtable
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "_build" / "assignments"
CONTEXT_DIR = ROOT / "_build" / "notebooks" / "context"

# --- Markdown conversion ------------------------------------------------------------------------
# `_ext/notebook_export.py` turns one MyST Markdown cell into plain Markdown, given the page's
# context written by the HTML build (the same conversion as the book's reader notebooks).
sys.path.insert(0, str(ROOT / "_ext"))
from notebook_audit import audit_notebook  # noqa: E402
from notebook_export import figure_caption, to_markdown  # noqa: E402

DIRECTIVES = ("exercise", "exercise-start", "exercise-end", "solution", "solution-start", "solution-end")
FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE_INFO = re.compile(r"^\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$")
# names a test or a solution may use without the page defining them
AMBIENT = set(dir(builtins)) | {"display", "get_ipython", "__name__"}


class AssignmentError(ValueError):
    """A page cannot become an assignment: the message names the page and what is wrong."""


# --- the page, split ----------------------------------------------------------------------------
@dataclass
class Directive:
    """One fenced MyST directive of the exercise family, as written."""

    name: str
    arg: str
    options: dict[str, str]
    body: str


@dataclass
class Exercise:
    """An exercise with its solution (Markdown and code cells, in order) and its test cells."""

    label: str
    text: str
    manual: bool
    options: dict[str, str] = field(default_factory=dict)
    solution: list[tuple[str, Any]] = field(default_factory=list)
    tests: list[nbformat.NotebookNode] = field(default_factory=list)
    has_solution: bool = False
    answers: list[str] = field(default_factory=list)

    @property
    def computable(self) -> bool:
        return not self.manual and any(kind == "code" for kind, _ in self.solution)


def _parse_directive(name: str, arg: str, inner: list[str]) -> Directive:
    """Options (``:key: value`` lines or a ``---`` YAML block) and body of a directive."""
    options: dict[str, str] = {}
    k = 0
    if inner and inner[0].strip() == "---":
        end = next(i for i in range(1, len(inner)) if inner[i].strip() == "---")
        options = {str(key): str(v) for key, v in (yaml.safe_load("\n".join(inner[1:end])) or {}).items()}
        k = end + 1
    else:
        while k < len(inner) and (m := re.match(r"^:([\w-]+):\s*(.*)$", inner[k])):
            options[m.group(1)] = m.group(2).strip()
            k += 1
    return Directive(name, arg.strip(), options, "\n".join(inner[k:]).strip("\n"))


def exercise_directive(ex: Exercise) -> str:
    """The exercise as one ``{exercise}`` directive (also for the gated exercise-start/end form)."""
    longest = max((len(run) for run in re.findall(r"`{3,}", ex.text)), default=2)
    fence = "`" * (longest + 1)
    options = "".join(f":{k}: {v}\n" for k, v in ex.options.items())
    return f"{fence}{{exercise}}\n{options}\n{ex.text}\n{fence}"


def split_markdown(text: str) -> list[str | Directive]:
    """Split one Markdown cell into text and the exercise / solution directives it holds.

    Other fenced blocks (code, notes, figures) stay inside the text around them.

    >>> parts = split_markdown("Intro.\\n\\n```{exercise}\\n:label: ex-a\\n\\nDo it.\\n```\\nAfter.")
    >>> [p if isinstance(p, str) else (p.name, p.options["label"], p.body) for p in parts]
    ['Intro.\\n', ('exercise', 'ex-a', 'Do it.'), 'After.']
    """
    lines = text.split("\n")
    parts: list[str | Directive] = []
    buf: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            buf.append(lines[i])
            i += 1
            continue
        fence = m.group("fence")
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), len(lines) - 1)
        block = lines[i : j + 1]
        d = DIRECTIVE_INFO.match(m.group("info").strip())
        if d and d.group("name") in DIRECTIVES:
            if buf:
                parts.append("\n".join(buf))
                buf = []
            parts.append(_parse_directive(d.group("name"), d.group("arg"), lines[i + 1 : j]))
        else:
            buf.extend(block)
        i = j + 1
    if buf:
        parts.append("\n".join(buf))
    return parts


def is_hidden(cell: nbformat.NotebookNode) -> bool:
    return "remove-cell" in cell.get("metadata", {}).get("tags", [])


def parse_page(nb: nbformat.NotebookNode, page: str = "page") -> list[Any]:
    """The page as a list of ``("markdown", text)``, ``("code", cell)``, ``("hidden", cell)`` and
    :class:`Exercise` items, in order."""
    items: list[Any] = []
    exercises: dict[str, Exercise] = {}
    asking: Exercise | None = None  # inside {exercise-start} ... {exercise-end}
    gated: Exercise | None = None  # inside {solution-start} ... {solution-end}
    tests_open: Exercise | None = None  # the exercise whose test cells may come next

    def err(msg: str) -> AssignmentError:
        return AssignmentError(f"{page}: {msg}")

    def exercise_for(label: str, what: str) -> Exercise:
        ex = exercises.get(label)
        if ex is None:
            raise err(f"a {{{what}}} for '{label}', which no earlier exercise has as its label")
        if ex.has_solution:
            raise err(f"exercise '{label}' has two solutions")
        ex.has_solution = True
        return ex

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for part in split_markdown(cell.source):
                if isinstance(part, str):
                    if not part.strip():
                        continue
                    if asking is not None:
                        asking.text += ("\n\n" if asking.text else "") + part.strip("\n")
                    elif gated is not None:
                        gated.solution.append(("markdown", part.strip("\n")))
                    else:
                        tests_open = None
                        items.append(("markdown", part.strip("\n")))
                elif part.name in ("exercise", "exercise-start"):
                    if gated is not None or asking is not None:
                        raise err(f"an exercise inside exercise '{(gated or asking).label}'")
                    label = part.options.get("label")
                    if not label:
                        raise err("an exercise without a :label:")
                    if label in exercises:
                        raise err(f"two exercises labelled '{label}'")
                    manual = "manual" in part.options.get("class", "").split()
                    ex = Exercise(label, part.body, manual, part.options)
                    exercises[label] = ex
                    items.append(ex)
                    tests_open = None
                    if part.name == "exercise-start":
                        asking = ex
                elif part.name == "exercise-end":
                    if asking is None:
                        raise err("an {exercise-end} without an {exercise-start}")
                    asking = None
                elif part.name == "solution":
                    ex = exercise_for(part.arg, "solution")
                    ex.solution.append(("markdown", part.body))
                    tests_open = ex
                elif part.name == "solution-start":
                    gated = exercise_for(part.arg, "solution-start")
                elif part.name == "solution-end":
                    if gated is None:
                        raise err("a {solution-end} without a {solution-start}")
                    tests_open, gated = gated, None
        elif cell.cell_type == "code":
            autograde = cell.metadata.get("autograde")
            if autograde is not None:
                label = autograde.get("exercise") if isinstance(autograde, dict) else None
                if label not in exercises:
                    raise err(f"a test cell for '{label}', which is not the label of an exercise above it")
                if tests_open is None or tests_open.label != label:
                    raise err(
                        f"a test cell for '{label}' that does not follow its solution "
                        "(test cells come right after the solution)"
                    )
                if not is_hidden(cell):
                    raise err(
                        f"a test cell for '{label}' without `tags: [remove-cell]`: the book would show it"
                    )
                exercises[label].tests.append(cell)
            elif asking is not None:
                raise err(
                    f"a code cell inside exercise '{asking.label}' (between exercise-start and "
                    "exercise-end): put it before the exercise"
                )
            elif gated is not None:
                gated.solution.append(("hidden" if is_hidden(cell) else "code", cell))
            elif is_hidden(cell):
                items.append(("hidden", cell))
            else:
                tests_open = None
                items.append(("code", cell))
    if asking is not None:
        raise err(f"exercise '{asking.label}' has no {{exercise-end}}")
    if gated is not None:
        raise err(f"the solution of '{gated.label}' has no {{solution-end}}")
    for ex in exercises.values():
        if not ex.has_solution:
            raise err(f"exercise '{ex.label}' has no solution")
    return items


# --- names --------------------------------------------------------------------------------------
def _python(source: str) -> str:
    """Cell source as plain Python (IPython magics translated)."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)


def cell_names(source: str) -> tuple[set[str], set[str]]:
    """Names a cell binds at top level, and the global names it uses without binding them.

    >>> bound, used = cell_names("f = lambda x: x + a\\ny = f(b)")
    >>> sorted(bound), sorted(used)
    (['f', 'y'], ['a', 'b'])
    """
    top = symtable.symtable(_python(source), "<cell>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    used = {s.get_name() for s in top.get_symbols() if s.is_referenced()}

    def nested(table: symtable.SymbolTable) -> None:
        for child in table.get_children():
            for s in child.get_symbols():
                if s.is_global() and s.is_referenced() and not s.is_declared_global():
                    used.add(s.get_name())
            nested(child)

    nested(top)
    return bound, used - bound


def _binding_order(source: str, name: str) -> tuple[int, int]:
    """Where a cell first binds ``name``: (top-level statement, position in it)."""
    for k, stmt in enumerate(ast.parse(_python(source)).body):
        text = ast.unparse(stmt)
        if name in cell_names(text)[0]:
            return k, text.find(name)
    return len(source), 0


def has_assert(source: str) -> bool:
    return any(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(_python(source))))


def stub(source: str, names: list[str]) -> str:
    """The student's version of a solution cell: each answer variable it defines, unanswered.

    >>> print(stub("def f(a, b=1):\\n    return a + b\\nx, y = 1, 2", ["f", "y"]))
    def f(a, b=1):
        ...
    y = ...
    """
    tree = ast.parse(_python(source))
    defs = {
        node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    lines = []
    for name in names:
        if name in defs:
            head = "async def" if isinstance(defs[name], ast.AsyncFunctionDef) else "def"
            lines.append(f"{head} {name}({ast.unparse(defs[name].args)}):\n    ...")
        else:
            lines.append(f"{name} = ...")
    return "\n".join(lines)


def check_page(items: list[Any], page: str = "page") -> None:
    """Check the exercises against STYLE.md and find each one's answer variables (``Exercise.answers``).

    Raises :class:`AssignmentError` listing every problem found.
    """
    problems: list[str] = []
    visible: set[str] = set()  # bound by the page's visible cells so far
    hidden_only: set[str] = set()  # bound only by hidden cells so far
    from_solution: dict[str, str] = {}  # (re)bound by a solution, not rebound by the page since

    def uses(where: str, names: set[str], allowed: set[str]) -> None:
        for n in sorted(names - allowed - AMBIENT):
            if n in from_solution:
                problems.append(
                    f"{where} uses `{n}`, which the solution of '{from_solution[n]}' defines: "
                    "the student notebook does not have it (rename it in the solution)"
                )
            elif n in hidden_only:
                problems.append(
                    f"{where} uses `{n}`, which only a hidden (remove-cell) cell defines: "
                    "the notebooks leave hidden cells out (define it in a visible cell)"
                )

    for k, item in enumerate(items):
        if isinstance(item, Exercise):
            ex = item
            where = f"exercise '{ex.label}'"
            bound_sol: set[str] = set()
            last_cell: dict[str, int] = {}
            for j, (kind, cell) in enumerate(ex.solution):
                if kind != "code":
                    continue
                bound, used = cell_names(cell.source)
                uses(f"the solution of {where}", used - bound_sol, visible)
                bound_sol |= bound
                for n in bound:
                    last_cell[n] = j
            answers: set[str] = set()
            n_public = n_hidden = 0
            for t, cell in enumerate(ex.tests, start=1):
                bound, used = cell_names(cell.source)
                if not has_assert(cell.source):
                    problems.append(f"test {t} of {where} has no `assert`: a test must be able to fail")
                uses(f"test {t} of {where}", used, visible | bound_sol)
                for n in sorted(n for n in bound if not n.startswith("_")):
                    problems.append(
                        f"test {t} of {where} assigns `{n}`: a test's own names start with `_`, "
                        "since tests run in the notebook's namespace"
                    )
                answers |= used & bound_sol
                if ex.tests[t - 1].metadata["autograde"].get("hidden", False):
                    n_hidden += 1
                else:
                    n_public += 1
            if ex.computable:
                if not ex.tests:
                    problems.append(
                        f"{where} is computable (its solution has code) but has no autograder "
                        "test cells; add them (STYLE.md, Exercises) or mark it `:class: manual`"
                    )
                else:
                    if not answers:
                        problems.append(f"the tests of {where} use no variable its solution assigns")
                    if not n_public or not n_hidden:
                        problems.append(
                            f"{where} needs at least one public and one hidden test "
                            f"(has {n_public} public, {n_hidden} hidden)"
                        )
                    for n in sorted(answers):
                        if not re.search(rf"`{re.escape(n)}\b[^`]*`", ex.text):  # `gap_ols`, `sb_r2(fit)`
                            problems.append(f"the text of {where} does not name its answer variable `{n}`")
            elif ex.tests:
                kind = "marked `:class: manual`" if ex.manual else "a prose exercise"
                problems.append(f"{where} is {kind}, graded by hand, but has autograder test cells")
            ex.answers = sorted(
                answers, key=lambda n: (last_cell[n], _binding_order(ex.solution[last_cell[n]][1].source, n))
            )
            for n in bound_sol:
                from_solution[n] = ex.label
        elif item[0] == "code":
            bound, used = cell_names(item[1].source)
            uses(f"code cell {k} (`{item[1].source.splitlines()[0][:40]}`)", used, visible)
            visible |= bound
            hidden_only -= bound
            for n in bound:
                from_solution.pop(n, None)
        elif item[0] == "hidden":
            bound, _ = cell_names(item[1].source)
            hidden_only |= bound - visible
    if problems:
        raise AssignmentError(f"{page}: cannot make an assignment:\n  - " + "\n  - ".join(problems))


# --- the otter master notebook ------------------------------------------------------------------
def _raw(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(text)


def _md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def _code(source: str, metadata: dict | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if metadata:
        cell.metadata.update(copy.deepcopy(metadata))
    return cell


def _requirements() -> list[str]:
    """hlmkit's own dependencies, for the grading environment (hlmkit itself is not on PyPI)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def assignment_config(name: str, any_tests: bool) -> str:
    config = {
        "name": name,
        "init_cell": True,
        "check_all_cell": False,
        "run_tests": False,  # the solution notebook is graded in CI (.ci/run) instead
        "export_cell": {"pdf": False},
        "generate": {"pdf": False},
        "requirements": _requirements(),
        "python_version": "3.11",
        "tests": {"files": False, "ok_format": True},
        "suppress_no_tests_warning": not any_tests,
    }
    return "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)


def _meta(cell: nbformat.NotebookNode) -> dict:
    """The cell metadata worth keeping in a notebook: its tags. (A figure's caption, MyST source in
    myst-nb's metadata, follows its cell as Markdown instead: see :func:`master_notebook`.)"""
    return {k: v for k, v in cell.metadata.items() if k == "tags"}


def solution_code(cell: nbformat.NotebookNode, answers: list[str]) -> nbformat.NotebookNode:
    """A solution code cell in otter's format: the student gets stubs of ``answers`` (or ``...``)."""
    src = cell.source.rstrip("\n")
    if answers:
        text = (
            f'""" # BEGIN PROMPT\n{stub(src, answers)}\n"""; # END PROMPT\n'
            f"# BEGIN SOLUTION NO PROMPT\n{src}\n# END SOLUTION"
        )
    else:
        text = f"# BEGIN SOLUTION\n{src}\n# END SOLUTION"
    return _code(text, _meta(cell))


def test_code(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    meta = cell.metadata["autograde"]
    config = {"hidden": bool(meta.get("hidden", False)), "points": meta.get("points", 1)}
    head = '""" # BEGIN TEST CONFIG\n' + yaml.safe_dump(config, sort_keys=False) + '""" # END TEST CONFIG\n'
    return _code(head + cell.source.rstrip("\n"))


def question(ex: Exercise, context: dict) -> list[nbformat.NotebookNode]:
    config: dict[str, Any] = {"name": ex.label, "manual": not ex.computable}
    if ex.computable:
        config["all_or_nothing"] = True  # an exercise earns its points when all its tests pass
    else:
        config["points"] = 1
    cells = [
        _raw("# BEGIN QUESTION\n" + yaml.safe_dump(config, sort_keys=False)),
        _md(to_markdown(exercise_directive(ex), context)),
        _raw("# BEGIN SOLUTION"),
    ]
    stubs_in: dict[int, list[str]] = {}
    for n in ex.answers:  # each answer variable is stubbed where the solution last assigns it
        j = max(
            j
            for j, (kind, cell) in enumerate(ex.solution)
            if kind == "code" and n in cell_names(cell.source)[0]
        )
        stubs_in.setdefault(j, []).append(n)
    for j, (kind, part) in enumerate(ex.solution):
        if kind == "markdown":
            cells.append(_md(to_markdown(part, context)))
        elif kind == "code":
            cells.append(solution_code(part, stubs_in.get(j, [])))
    cells.append(_raw("# END SOLUTION"))
    if ex.tests:
        cells += [_raw("# BEGIN TESTS"), *[test_code(t) for t in ex.tests], _raw("# END TESTS")]
    cells.append(_raw("# END QUESTION"))
    return cells


def check_exercises(page: Path) -> list:
    """Parse a page and check its exercises against STYLE.md (no build needed).

    Returns the page's items; raises :class:`AssignmentError` listing every problem found.
    """
    rel = _rel(page)
    items = parse_page(jupytext.read(page), rel)
    check_page(items, rel)
    return items


def master_notebook(page: Path, context: dict | None = None) -> nbformat.NotebookNode:
    """The otter master notebook of a page (raises :class:`AssignmentError` on bad exercises).

    ``context`` is the page's build context (``_build/notebooks/context/<docname>.json``), which
    the Markdown conversion needs for glued numbers, cross-references and exercise numbers.
    """
    items = check_exercises(page)
    context = {**(context or {}), "edition": "student"}
    exercises = [item for item in items if isinstance(item, Exercise)]
    cells = [_raw(assignment_config(page.stem, any(ex.computable for ex in exercises)))]
    for item in items:
        if isinstance(item, Exercise):
            cells += question(item, context)
        elif item[0] == "markdown":
            cells.append(_md(to_markdown(item[1], context)))
        elif item[0] == "code":
            cells.append(_code(item[1].source, _meta(item[1])))
            caption = figure_caption(item[1], context)  # "**Figure 3.1.** ...", as the reader notebooks
            if caption:
                cells.append(_md(caption))
    out = nbformat.v4.new_notebook(cells=cells)
    raw = audit_notebook(out)["raw_myst"]  # what Jupyter would show as typed
    if raw:
        raise AssignmentError(f"{_rel(page)}: {raw} MyST roles, directives or targets left in its notebook")
    out.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    out.metadata["language_info"] = {"name": "python"}
    return out


def _rel(page: Path) -> str:
    try:
        return str(page.resolve().relative_to(ROOT))
    except ValueError:
        return str(page)


def page_context(page: Path) -> dict:
    """The page's context from the HTML build (glue values, figure and exercise numbers)."""
    path = CONTEXT_DIR / Path(_rel(page)).with_suffix(".json")
    if path.exists():
        return json.loads(path.read_text())
    raise AssignmentError(
        f"{_rel(page)}: no build context in {path}: run `make book` first "
        "(the glued numbers and cross-references come from it)"
    )


def has_exercises(page: Path) -> bool:
    return (
        re.search(r"^ {0,3}(`{3,}|:{3,})\{exercise(-start)?\}", page.read_text(), flags=re.MULTILINE)
        is not None
    )


def pages_with_exercises() -> list[Path]:
    pages = sorted((ROOT / "chapters").glob("*.md")) + sorted((ROOT / "labs").glob("*.md"))
    return [p for p in pages if has_exercises(p)]


def make_assignment(page: Path, out: Path, context: dict | None = None) -> Path:
    """Write ``out/<page>/`` (master, student and autograder) for one page; returns that folder.

    ``context`` is the page's build context (default: :func:`page_context`).
    """
    check_exercises(page)  # a page with bad exercises fails before it needs a build
    master = master_notebook(page, page_context(page) if context is None else context)
    try:
        from otter.assign import main as otter_assign
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "make_assignments needs otter-grader: pip install -e '.[teach]' (make assignments installs it)"
        ) from exc
    target = out / page.stem
    if target.exists():
        shutil.rmtree(target)
    (target / "master").mkdir(parents=True)
    master_path = target / "master" / f"{page.stem}.ipynb"
    nbformat.write(master, master_path)
    otter_assign(str(master_path), str(target), no_pdfs=True, no_run_tests=True)
    for expected in (target / "student" / f"{page.stem}.ipynb", target / "autograder" / f"{page.stem}.ipynb"):
        if not expected.exists():
            raise AssignmentError(f"otter assign did not write {expected}")
    if not list((target / "autograder").glob("*-autograder_*.zip")):
        raise AssignmentError(f"otter assign wrote no autograder zip in {target / 'autograder'}")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "pages", nargs="*", type=Path, help="pages (default: every chapter and lab with exercises)"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--check", action="store_true", help="only check the exercises and build the master notebooks"
    )
    args = ap.parse_args(argv)
    pages = args.pages or pages_with_exercises()
    failed = 0
    for page in pages:
        try:
            if args.check:
                n = sum(1 for item in check_exercises(page) if isinstance(item, Exercise))
                print(f"{_rel(page)}: {n} exercises, fine")
            else:
                target = make_assignment(page, args.out)
                print(f"{_rel(page)}: {target}")
        except AssignmentError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
