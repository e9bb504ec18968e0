"""The book's pages as notebooks a reader can read: plain Markdown, every figure inline, no checks.

A page of the book is a MyST-markdown notebook. Jupyter shows MyST syntax as typed (a reader sees
``{glue:text}`ch07_n1` `` where the book shows a number), so this module rewrites each page into a
*reader notebook*: the page as the book executed it, with

* every MyST role replaced by the text the book shows: glued numbers (as formatted in the prose),
  cross-references ("Figure 11.3", "Exercise 11.2", "(7.1)", a section's or a chapter's title) and
  citations ("Monette (2017)");
* notes and admonitions as block quotes, exercises as block quotes headed "Exercise 11.2", and
  solutions in a ``<details>`` block (full edition) or left out (student edition);
* each figure's number and caption in a Markdown cell under the cell that draws it;
* no check cells: cells tagged ``remove-cell`` (the book's hidden checks and autograder tests) are
  dropped, and the glue records are removed from the outputs;
* a first cell that installs hlmkit when it is missing (see :func:`install_cell_source`).

Interface (shared with the assignments tool, ``make assignments``)
------------------------------------------------------------------
``to_markdown(text: str, context: dict) -> str``
    Pure: one Markdown cell of a page (MyST) to plain Markdown, given the page's context.
    Raises ``ValueError`` naming the role, directive or label it cannot convert.
``convert_cell(text, context, solution=None) -> (markdown, solution)``
    The same, for a caller that walks a page's cells in order: ``solution`` is the label of the
    exercise whose gated solution (``{solution-start}`` ... ``{solution-end}``) is open before the
    cell, and the second value the one open after it (``None`` outside solutions).
``reader_cells(cells, context) -> cells``
    The whole page: nbformat cells in, reader cells out (uses ``convert_cell``).

The context of a page is a JSON-serialisable dict. The HTML build writes it, for every notebook
page, to ``_build/notebooks/context/<docname>.json``; callers add ``"edition"``:

``edition``      ``"full"`` (solutions in ``<details>``) or ``"student"`` (solutions removed). Required.
``docname``      e.g. ``"labs/lab1_example1"``.
``number``       the page's chapter number as the book shows it ("11"), or "".
``glue``         glue key -> the glued value's ``text/plain`` representation.
``glue_text``    each glue role of the page, ``"key"`` or ``"key:format"`` -> the text the book shows.
``refs``         each cross-reference role of the page, as ``":role:`content`"`` (whitespace
                 collapsed) -> the text the book shows, e.g. ``":numref:`fig-ch03-xqplot`"`` ->
                 ``"Figure 3.1"``, ``":cite:t:`monette2017`"`` -> ``"Monette (2017)"``.
``labels``       every numbered label of the book -> its reference text ("Figure 11.3",
                 "Exercise 11.2", "Table 4.1", "(7.1)").
``numbers``      the same labels -> their number alone ("11.3"), for ``{numref}`Fig. %s <label>` ``.
``titles``       section, figure, exercise and page labels/docnames -> their title text.
``citations``    citation key -> its textual form ("Monette (2017)").
``citations_p``  citation key -> its parenthetical form ("(Monette, 2017)").
``bibliography`` citation key -> the full reference, for the keys the page cites.
``exercises``    the page's exercises in order: ``{"label", "number", "text", "title"}``
                 (``text`` is "Exercise 11.2").
``footnotes``    footnote name -> its number on the page.

Roles and directives converted: ``glue``, ``glue:text``, ``numref``, ``ref``, ``doc``, ``eq``,
``cite`` and ``cite:*``, ``math``, ``sub``, ``sup``, ``abbr``; admonitions (``note``, ``tip``,
``warning``, ``admonition``, ...), ``exercise``, ``exercise-start``/``-end``, ``solution``,
``solution-start``/``-end``, ``math``, ``code-block``; targets ``(label)=``, labelled display
math ``$$ ... $$ (label)``, footnotes ``[^name]`` and definition lists. Anything else is an error.
"""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "convert_cell",
    "format_glue",
    "install_cell_source",
    "page_footnotes",
    "reader_cells",
    "reader_notebook",
    "split_solutions",
    "strip_solutions",
    "to_markdown",
]

EDITIONS = ("full", "student")
ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}
XREF_ROLES = {"numref", "ref", "doc", "eq", "term", "cite", "any"}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE_INFO = re.compile(r"^\s*\{(?P<name>[A-Za-z][\w:.+-]*)\}\s*(?P<args>.*?)\s*$")
_TARGET = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):(?:\s+(?P<value>.*))?$")
_INLINE = re.compile(
    r"\{(?P<role>[A-Za-z][\w:.+-]*)\}(?P<ticks>`+)(?P<content>.+?)(?P=ticks)"
    r"|(?P<code>(?P<cticks>`+).+?(?P=cticks))",
    re.DOTALL,
)
_FOOTREF = re.compile(r"\[\^(?P<name>[^\]\s]+)\](?!:)")
_FOOTDEF = re.compile(r"^\[\^(?P<name>[^\]\s]+)\]:\s?")
_MATH_LABEL = re.compile(r"\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_START = "\x00solution-start\x00"  # marks where a gated solution opens
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+)$")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def role_key(role: str, content: str) -> str:
    """The key of a cross-reference role in ``context["refs"]``: ``:role:`content` ``, whitespace collapsed."""
    return f":{role}:`{_collapse(content)}`"


def format_glue(text_plain: str, fmt_spec: str) -> str:
    """A glued value as myst-nb's ``{glue:text}`key:fmt` `` shows it (from its ``text/plain``)."""
    from ast import literal_eval

    try:
        value: Any = literal_eval(text_plain)
    except (SyntaxError, ValueError):
        value = text_plain
    if fmt_spec == "":
        return str(value)
    kind = fmt_spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt_spec)


def _blockquote(markdown: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in markdown.strip("\n").split("\n"))


def _details(summary: str, markdown: str) -> str:
    body = markdown.strip("\n")
    inner = f"\n\n{body}\n\n" if body else "\n\n"
    return f"<details>\n<summary><b>{html.escape(summary, quote=False)}</b></summary>{inner}</details>"


def page_footnotes(texts: Iterable[str]) -> dict[str, int]:
    """Number the footnotes of a page (its Markdown cells, in order) by their first reference."""
    numbers: dict[str, int] = {}
    for text in texts:
        for m in _FOOTREF.finditer(text):
            numbers.setdefault(m.group("name"), len(numbers) + 1)
    return numbers


class _Converter:
    """One Markdown cell, MyST -> plain Markdown (see :func:`convert_cell`)."""

    def __init__(self, context: dict[str, Any]):
        edition = context.get("edition")
        if edition not in EDITIONS:
            raise ValueError(f"context['edition'] must be one of {EDITIONS}, not {edition!r}")
        self.ctx = context
        self.edition = edition
        self.where = context.get("docname", "the page")

    # ------------------------------------------------------------------ lookups
    def _lookup(self, table: str, key: str, what: str) -> Any:
        values = self.ctx.get(table, {})
        if key not in values:
            raise ValueError(f"{self.where}: {what} {key!r} is unknown (no entry in context[{table!r}])")
        return values[key]

    def exercise_text(self, label: str) -> str:
        for ex in self.ctx.get("exercises", []):
            if ex.get("label") == label:
                return ex["text"]
        return str(self._lookup("labels", label, "exercise label"))

    # ------------------------------------------------------------------ inline
    def inline(self, text: str) -> str:
        def repl(m: re.Match) -> str:
            if m.group("code") is not None:
                return m.group("code")
            return self.role(m.group("role"), m.group("content"))

        return _FOOTREF.sub(self._footref, _INLINE.sub(repl, text))

    def _footref(self, m: re.Match) -> str:
        return f"<sup>{self._lookup('footnotes', m.group('name'), 'footnote')}</sup>"

    def role(self, role: str, content: str) -> str:
        if role in ("glue", "glue:", "glue:text", "glue:any", "glue:md"):
            key = _collapse(content)
            shown = self.ctx.get("glue_text", {})
            if key in shown:
                return shown[key]
            name, _, fmt = key.partition(":")
            return format_glue(self._lookup("glue", name, "glue key"), fmt)
        if role == "math":
            return f"${content}$"
        if role in ("sub", "sup"):
            return f"<{role}>{self.inline(content)}</{role}>"
        if role == "abbr":
            return _EXPLICIT.sub(lambda m: m.group("title"), content)
        if role in XREF_ROLES or role.startswith("cite:"):
            key = role_key(role, content)
            refs = self.ctx.get("refs", {})
            text = refs[key] if key in refs else self.xref_fallback(role, content)
            if (
                role in ("doc", "ref")
                and not _EXPLICIT.match(_collapse(content))
                and _collapse(content) not in self.ctx.get("labels", {})
            ):
                return f"*{text}*"  # a page or section title, where the book shows a link
            return text
        raise ValueError(f"{self.where}: cannot convert the role {{{role}}}`{content}` to Markdown")

    def xref_fallback(self, role: str, content: str) -> str:
        """A cross-reference the build did not record (a cell written outside the book)."""
        m = _EXPLICIT.match(_collapse(content))
        title, target = (m.group("title"), m.group("target")) if m else (None, _collapse(content))
        if role.startswith("cite"):
            keys = [k.strip() for k in target.split(",")]
            if role in (
                "cite",
                "cite:p",
            ):  # "(Monette, 2017)" and "(Bryk, 1992)" -> "(Monette, 2017; Bryk, 1992)"
                inner = [str(self._lookup("citations_p", k, "citation key")).strip("()") for k in keys]
                return "(" + "; ".join(inner) + ")"
            return "; ".join(self._lookup("citations", k, "citation key") for k in keys)
        if role == "numref":
            if title:
                number = self._lookup("numbers", target, "label")
                return title.replace("%s", number).replace("{number}", number)
            return str(self._lookup("labels", target, "label"))
        if title:
            return title
        if role == "eq":
            return str(self._lookup("labels", target, "equation label"))
        return str(self._lookup("titles", target, "label"))

    # ------------------------------------------------------------------ blocks
    def convert(self, text: str, solution: str | None = None) -> tuple[str, str | None]:
        """Convert ``text``; ``solution`` is the gated solution open before it (label or None)."""
        lines = text.split("\n")
        pieces: list[tuple[str | None, str]] = []  # (open solution or None, markdown)
        buf: list[str] = []

        def flush() -> None:
            if buf:
                pieces.append((solution, self.paragraphs(buf)))
                buf.clear()

        i = 0
        while i < len(lines):
            line = lines[i]
            fence = _FENCE.match(line)
            if fence:
                end = self._fence_end(lines, i, fence)
                info = fence.group("info")
                directive = _DIRECTIVE_INFO.match(info)
                if directive is None:  # an ordinary code block: verbatim
                    buf.extend(lines[i : end + 1])
                    i = end + 1
                    continue
                flush()
                name, args = directive.group("name"), directive.group("args")
                options, body = self._options(lines[i + 1 : end])
                if name == "solution-start":
                    solution = args.strip() or self._missing("solution-start", "the exercise label")
                    pieces.append((solution, _START))
                elif name == "solution-end":
                    if solution is None:
                        raise ValueError(f"{self.where}: {{solution-end}} without an open {{solution-start}}")
                    solution = None
                else:
                    pieces.append((solution, self.directive(name, args, options, body)))
                i = end + 1
                continue
            if _TARGET.match(line):
                i += 1
                continue
            buf.append(line)
            i += 1
        flush()
        return self._assemble(pieces), solution

    def _assemble(self, pieces: list[tuple[str | None, str]]) -> str:
        """Join the pieces; the parts inside a gated solution become one <details> each (or go)."""
        out: list[str] = []
        k = 0
        while k < len(pieces):
            sol, md = pieces[k]
            if sol is None:
                if md.strip():
                    out.append(md.strip("\n"))
                k += 1
                continue
            group = []
            first = md is _START
            while k < len(pieces) and pieces[k][0] == sol:
                if pieces[k][1] is not _START and pieces[k][1].strip():
                    group.append(pieces[k][1].strip("\n"))
                k += 1
            if self.edition == "student":
                continue
            summary = f"Solution to {self.exercise_text(sol)}"
            if not first:
                summary += " (continued)"
            out.append(_details(summary, "\n\n".join(group)))
        return "\n\n".join(out)

    def _missing(self, directive: str, what: str) -> str:
        raise ValueError(f"{self.where}: {{{directive}}} needs {what}")

    @staticmethod
    def _fence_end(lines: list[str], start: int, fence: re.Match) -> int:
        char, length = fence.group("fence")[0], len(fence.group("fence"))
        closing = re.compile(rf"^[ \t]*{re.escape(char)}{{{length},}}[ \t]*$")
        for j in range(start + 1, len(lines)):
            if closing.match(lines[j]):
                return j
        return len(lines) - 1  # an unclosed fence runs to the end of the cell, as in CommonMark

    @staticmethod
    def _options(body: list[str]) -> tuple[dict[str, str], list[str]]:
        options: dict[str, str] = {}
        if body and body[0].strip() == "---":
            import yaml

            for j in range(1, len(body)):
                if body[j].strip() == "---":
                    options = {
                        str(k): str(v) for k, v in (yaml.safe_load("\n".join(body[1:j])) or {}).items()
                    }
                    return options, body[j + 1 :]
        j = 0
        while j < len(body):
            m = _OPTION.match(body[j].strip())
            if not m:
                break
            options[m.group("key")] = (m.group("value") or "").strip()
            j += 1
        return options, body[j:]

    def directive(self, name: str, args: str, options: dict[str, str], body: list[str]) -> str:
        inner = self.convert("\n".join(body))[0] if name not in ("math", "code-block", "code") else ""
        if name in ADMONITIONS or name == "admonition":
            title = self.inline(args) if name == "admonition" and args else ADMONITIONS.get(name, "Note")
            return _blockquote(f"**{title}**\n\n{inner}")
        if name == "exercise":
            label = options.get("label") or self._missing("exercise", "a :label:")
            head = f"**{self.exercise_text(label)}**" + (f" ({self.inline(args)})" if args else "")
            return _blockquote(f"{head}\n\n{inner}")
        if name == "exercise-start":
            label = options.get("label") or self._missing("exercise-start", "a :label:")
            return f"**{self.exercise_text(label)}**" + (f" ({self.inline(args)})" if args else "")
        if name == "exercise-end":
            return ""
        if name == "solution":
            target = args.strip() or self._missing("solution", "the exercise label")
            if self.edition == "student":
                return ""
            return _details(f"Solution to {self.exercise_text(target)}", inner)
        if name == "math":
            label = options.get("label")
            tex = "\n".join(body).strip("\n")
            tag = f"\n\\tag{{{self._equation_number(label)}}}" if label else ""
            return f"$$\n{tex}{tag}\n$$"
        if name in ("code-block", "code"):
            return "\n".join([f"```{args}"] + body + ["```"])
        if name == "bibliography":
            return ""
        raise ValueError(f"{self.where}: cannot convert the directive {{{name}}} to Markdown")

    def _equation_number(self, label: str) -> str:
        return str(self._lookup("labels", label, "equation label")).strip("()")

    def paragraphs(self, lines: list[str]) -> str:
        """Plain lines (no directive): code blocks verbatim, the rest converted inline."""
        out: list[str] = []
        chunk: list[str] = []

        def flush() -> None:
            if chunk:
                out.extend(self.inline(self._deflists("\n".join(chunk))).split("\n"))
                chunk.clear()

        i = 0
        while i < len(lines):
            fence = _FENCE.match(lines[i])
            if fence:
                flush()
                end = self._fence_end(lines, i, fence)
                out.extend(lines[i : end + 1])
                i = end + 1
                continue
            line = lines[i]
            math = _MATH_LABEL.search(line)
            if math:  # `$$ (label)` closes a labelled equation: number it with \tag
                line = line[: math.start()] + f"\\tag{{{self._equation_number(math.group('label'))}}} $$"
            foot = _FOOTDEF.match(line)
            if foot:
                line = (
                    f"<sup>{self._lookup('footnotes', foot.group('name'), 'footnote')}</sup> "
                    + line[foot.end() :]
                )
            chunk.append(line)
            i += 1
        flush()
        return "\n".join(out)

    @staticmethod
    def _deflists(text: str) -> str:
        """MyST definition lists (``Term`` then ``: definition``) -> a bullet list ``- **Term**: ...``."""
        lines = text.split("\n")
        out: list[str] = []
        i = 0
        while i < len(lines):
            if (
                i + 1 < len(lines)
                and lines[i].strip()
                and not lines[i].startswith((" ", ":"))
                and lines[i + 1].startswith(": ")
            ):
                out.append(f"- **{lines[i].strip()}**: {lines[i + 1][2:]}")
                i += 2
                while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                    out.append(lines[i])
                    i += 1
                continue
            out.append(lines[i])
            i += 1
        return "\n".join(out)


def convert_cell(text: str, context: dict[str, Any], solution: str | None = None) -> tuple[str, str | None]:
    """One Markdown cell to plain Markdown, and the gated solution left open after it.

    Examples
    --------
    >>> ctx = {"edition": "full", "glue_text": {"n:.1f": "3.1"}, "refs": {":numref:`fig-a`": "Figure 1.1"}}
    >>> convert_cell("The slope is {glue:text}`n:.1f` ({numref}`fig-a`).", ctx)
    ('The slope is 3.1 (Figure 1.1).', None)
    """
    return _Converter(context).convert(text, solution)


def to_markdown(text: str, context: dict[str, Any]) -> str:
    """One Markdown cell of a page (MyST) as plain Markdown that Jupyter renders.

    ``context`` is the page's context (see the module docstring) with an ``edition`` key.
    Set ``context["solution"]`` to an exercise label when the cell lies inside that exercise's
    gated solution (between ``{solution-start}`` and ``{solution-end}``).

    Examples
    --------
    >>> ctx = {"edition": "student", "exercises": [{"label": "ex-a", "number": "2.1", "text": "Exercise 2.1"}]}
    >>> print(to_markdown("```{exercise}\\n:label: ex-a\\n\\nFit it.\\n```\\n\\n```{solution} ex-a\\nDone.\\n```", ctx))
    > **Exercise 2.1**
    >
    > Fit it.
    """
    return convert_cell(text, context, context.get("solution"))[0]


# ---------------------------------------------------------------------------- notebooks

_GLUE_MIME_PREFIX = "application/papermill.record/"


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _clean_outputs(outputs: list[dict], tags: list[str]) -> list[dict]:
    """Drop glue records (invisible in Jupyter) and what the cell's tags remove."""
    if "remove-output" in tags:
        return []
    kept = []
    for out in outputs:
        if "scrapbook" in out.get("metadata", {}):
            continue
        if "remove-stderr" in tags and out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue
        kept.append(out)
    return kept


def _markdown_cell(text: str, **metadata: Any) -> dict:
    return {"cell_type": "markdown", "metadata": dict(metadata), "source": text}


def figure_caption(cell: dict, context: dict[str, Any]) -> str | None:
    """The Markdown caption under a figure cell ("**Figure 3.1.** ..."), or None for other cells."""
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
    if not isinstance(figure, dict):
        return None
    name = figure.get("name")
    caption = to_markdown(str(figure.get("caption", "")).strip(), context)
    label = context.get("labels", {}).get(name) if name else None
    head = f"**{label}.**" if label else ""
    return f"{head} {caption}".strip()


def reader_cells(cells: list[dict], context: dict[str, Any]) -> list[dict]:
    """A page's cells (nbformat v4 dicts, executed) as the cells of its reader notebook.

    Cells tagged ``remove-cell`` go; Markdown goes through :func:`convert_cell`; a figure cell is
    followed by its caption, as Markdown, and loses myst-nb's metadata; inside a gated solution,
    code cells are folded (JupyterLab's ``source_hidden``/``outputs_hidden``) in the full edition
    and removed in the student edition.
    """
    _Converter(context)  # validates the edition
    student = context["edition"] == "student"
    out: list[dict] = []
    solution: str | None = None
    for cell in cells:
        tags = _tags(cell)
        if "remove-cell" in tags:
            continue
        if cell.get("cell_type") == "markdown":
            text, solution_after = convert_cell(_source(cell), context, solution)
            solution = solution_after
            if text.strip():
                out.append(_markdown_cell(text))
            continue
        if cell.get("cell_type") != "code":
            out.append(copy.deepcopy(cell))
            continue
        if solution is not None and student:
            continue
        new = copy.deepcopy(cell)
        meta = new.setdefault("metadata", {})
        meta.pop("execution", None)
        # the figure's number and caption follow as Markdown (below); myst-nb's copy of the
        # caption is MyST source, with its roles unresolved
        meta.pop("mystnb", None)
        new["outputs"] = _clean_outputs(new.get("outputs", []), tags)
        jupyter = meta.setdefault("jupyter", {})
        if "remove-input" in tags or "hide-input" in tags:
            jupyter["source_hidden"] = True
        if "hide-output" in tags:
            jupyter["outputs_hidden"] = True
        if solution is not None:
            jupyter.update(source_hidden=True, outputs_hidden=True)
            meta["tags"] = [t for t in tags if t != "solution"] + ["solution"]
        if not jupyter:
            meta.pop("jupyter")
        out.append(new)
        caption = figure_caption(cell, context)
        if caption:
            if solution is None:
                out.append(_markdown_cell(caption))
            else:
                out.append(
                    _markdown_cell(
                        _details(
                            f"Solution to {_Converter(context).exercise_text(solution)} (figure caption)",
                            caption,
                        )
                    )
                )
    if solution is not None:
        raise ValueError(
            f"{context.get('docname', 'the page')}: {{solution-start}} {solution} has no {{solution-end}}"
        )
    return out


_INSTALL_CELL = """\
# hlmkit, the book's Python package: already installed, or from the wheel `make dist` builds {origin}
import importlib.util, pathlib, subprocess, sys

class HlmkitMissing(Exception):
    def _render_traceback_(self):  # one line, no traceback
        return [f"HlmkitMissing: {{self}}"]

if importlib.util.find_spec("hlmkit") is None:
    wheels = sorted(pathlib.Path().glob("{wheel}")) + sorted(pathlib.Path("../dist").glob("{wheel}"))
    what = [str(wheels[0])] if wheels else {fallback}
    if not what or subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *what]).returncode:
        raise HlmkitMissing("hlmkit is not installed: in the book's repository run `make dist`, then "
                            "`pip install dist/hlmkit-{version}-py3-none-any.whl`{or_address} in this environment")
    importlib.invalidate_caches()
    print(f"hlmkit installed from {{what[0]}}")"""


def install_cell_source(version: str, address: str = "") -> str:
    """The first cell of every reader notebook: install hlmkit when it is missing.

    It does nothing when hlmkit imports. Otherwise it installs the wheel ``hlmkit-<version>-*.whl``
    found next to the notebook (or in ``../dist``, where ``make dist`` puts it), or, when the book's
    public address is set (``repository: url:`` in ``_config.yml``), from there. When none of that
    works it stops the notebook with one line that says how to install hlmkit.
    """
    return _INSTALL_CELL.format(
        origin=f"in the book's repository ({address})" if address else "in the book's repository",
        wheel=f"hlmkit-{version}-*.whl",
        fallback=repr([f"git+{address}"]) if address else "[]",
        version=version,
        or_address=f" (or `pip install git+{address}`)" if address else "",
    )


def reader_notebook(executed: dict, context: dict[str, Any], install_source: str) -> dict:
    """The reader notebook of a page: its executed notebook (nbformat v4 dict) rewritten."""
    nb = copy.deepcopy(executed)
    cells = reader_cells(nb.get("cells", []), context)
    number = context.get("number")
    for cell in cells:  # the page title carries its chapter number, as in the book
        if cell["cell_type"] == "markdown":
            m = _HEADING.match(cell["source"].split("\n", 1)[0])
            if m and m.group("hashes") == "#" and number:
                rest = cell["source"].split("\n", 1)[1:]
                cell["source"] = "\n".join([f"# {number}. {m.group('title')}"] + rest)
            break
    bibliography = context.get("bibliography", {})
    if bibliography:
        items = "\n".join(f"- {bibliography[k]}" for k in sorted(bibliography, key=lambda k: bibliography[k]))
        cells.append(_markdown_cell(f"## References\n\n{items}"))
    install = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": ["install-hlmkit"]},
        "outputs": [],
        "source": install_source,
    }
    nb["cells"] = [install] + cells
    for k, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{k}"
        if cell["cell_type"] == "markdown":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    meta = nb.setdefault("metadata", {})
    meta.pop("jupytext", None)
    meta.pop("mystnb", None)
    meta["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb["nbformat"], nb["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 5), 5)
    return nb


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------- student sources

_CODE_CELL_YAML = re.compile(r"^```\{code-cell\}[^\n]*\n---\n(?P<yaml>.*?)\n---\n", re.DOTALL)


def split_solutions(source: str) -> tuple[str, list[str]]:
    """A page's MyST source without its solutions, and the solutions (the blocks taken out).

    Takes out ``{solution}`` directives, everything from a ``{solution-start}`` to the end of its
    ``{solution-end}``, and the autograder test cells (code cells with ``autograde`` metadata).
    """
    lines = source.split("\n")
    kept: list[str] = []
    removed: list[str] = []
    gated: list[str] | None = None
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            (kept if gated is None else gated).append(lines[i])
            i += 1
            continue
        end = _Converter._fence_end(lines, i, fence)
        directive = _DIRECTIVE_INFO.match(fence.group("info"))
        name = directive.group("name") if directive else ""
        block = lines[i : end + 1]
        yaml_header = _CODE_CELL_YAML.match("\n".join(block) + "\n")
        if name == "solution-start":
            gated = list(block)
        elif name == "solution-end" and gated is not None:
            removed.append("\n".join(gated + block))
            gated = None
        elif name == "solution" or (
            name == "code-cell"
            and yaml_header
            and re.search(r"^autograde:", yaml_header.group("yaml"), re.MULTILINE)
        ):
            if gated is None:
                removed.append("\n".join(block))
            else:
                gated.extend(block)
        else:
            (kept if gated is None else gated).extend(block)
        i = end + 1
    if gated is not None:
        removed.append("\n".join(gated))
    return "\n".join(kept), removed


def strip_solutions(source: str) -> str:
    """A page's MyST source without its solutions (for the student edition's Markdown download).

    Examples
    --------
    >>> print(strip_solutions("Q?\n\n```{solution} ex-a\nAnswer.\n```\n\nNext."))
    Q?
    <BLANKLINE>
    <BLANKLINE>
    Next.
    """
    return split_solutions(source)[0]


# ---------------------------------------------------------------------------- Sphinx


def _sphinx_setup(app: Any) -> dict[str, Any]:
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.transforms.post_transforms import SphinxPostTransform
    from sphinx.util import logging

    logger = logging.getLogger(__name__)

    class RecordReferences(SphinxPostTransform):
        """Wrap each cross-reference, so that its resolved text can be read (and unwrapped) later."""

        default_priority = (
            8  # after sphinx-exercise turns {ref} to exercises into {numref} (5), before resolution (10)
        )

        def run(self, **kwargs: Any) -> None:
            for xref in list(self.document.findall(addnodes.pending_xref)):
                key = xref.rawsource
                if not key or not key.startswith(":"):
                    continue
                wrapper = nodes.inline()
                wrapper["hlmkit_ref"] = _collapse(key)
                xref.replace_self(wrapper)
                wrapper += xref

    app.add_post_transform(RecordReferences)
    app.add_config_value("hlmkit_edition", "full", "env", [str])
    app.add_config_value("hlmkit_notebooks_dir", "", "env", [str])
    app.connect("doctree-resolved", _doctree_resolved, priority=900)
    app.connect("html-page-context", _add_ipynb, priority=500)
    app.connect("build-finished", _build_finished)
    app._hlmkit_logger = logger  # type: ignore[attr-defined]
    return {"parallel_read_safe": True, "parallel_write_safe": False}


def _notebooks_dir(app: Any) -> Path:
    return Path(app.config.hlmkit_notebooks_dir or Path(app.srcdir) / "_build" / "notebooks")


def _executed(app: Any, docname: str) -> Path:
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def executed_notebook(app: Any, docname: str) -> dict | None:
    """The page's notebook with its outputs, as the book executed it.

    myst-nb writes ``jupyter_execute/<page>.ipynb``, but with the outputs only when it executed the
    page in this build: a page taken from the execution cache (a rebuild, the student edition) is
    written without them. Then the outputs come from the cache (jupyter-cache), matched on the code.
    """
    path = _executed(app, docname)
    if not path.is_file():
        return None
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if any(c.get("outputs") for c in code) or not code:
        return nb
    config = getattr(app.env, "mystnb_config", None)
    cache_path = getattr(config, "execution_cache_path", "") if config is not None else ""
    if not cache_path or not Path(cache_path).exists():
        return nb
    import nbformat
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(nbformat.from_dict(nb))
    except KeyError:  # not executed (execution off for this page)
        return nb
    return json.loads(nbformat.writes(merged))


def _number_text(numbers: tuple) -> str:
    return ".".join(map(str, numbers))


def book_labels(env: Any, config: Any) -> tuple[dict, dict, dict]:
    """Every numbered label of the book -> its reference text, its number, and every label -> title."""
    std = env.get_domain("std")
    formats = {k: str(v) for k, v in config.numfig_format.items()}  # translation proxies -> str
    labels: dict[str, str] = {}
    numbers: dict[str, str] = {}
    titles: dict[str, str] = {}
    for label, (docname, labelid, title) in std.labels.items():
        if title:
            titles[label] = str(title)
        for figtype, ids in env.toc_fignumbers.get(docname, {}).items():
            if labelid in ids and figtype in formats:
                number = _number_text(ids[labelid])
                numbers[label] = number
                labels[label] = formats[figtype] % number
    math = env.get_domain("math")
    for label, (docname, _) in getattr(math, "equations", {}).items():
        node_id = f"equation-{label}"
        number = env.toc_fignumbers.get(docname, {}).get("displaymath", {}).get(node_id)
        if number:
            numbers[label] = _number_text(number)
            labels[label] = str(config.math_eqref_format or "({number})").format(number=numbers[label])
    for docname, title in env.titles.items():
        titles[docname] = title.astext()
    return labels, numbers, titles


def _citations(app: Any, docname: str) -> tuple[dict, dict, dict]:
    """The page's cited keys -> textual ("Monette (2017)"), parenthetical and full reference texts."""
    from sphinx import addnodes
    from sphinx.errors import ExtensionError

    try:
        domain = app.env.get_domain("cite")
    except ExtensionError:  # sphinxcontrib-bibtex not loaded
        return {}, {}, {}
    keys = sorted({t.key for ref in domain.citation_refs if ref.docname == docname for t in ref.targets})
    textual, parenthetical, full = {}, {}, {}
    import pybtex.plugin

    plaintext = pybtex.plugin.find_plugin("pybtex.backends", "plaintext")()
    for key in keys:
        for typ, table in (("t", textual), ("p", parenthetical)):
            node = addnodes.pending_xref("", refdomain="cite", reftype=typ, reftarget=key)
            node.source, node.line = app.env.doc2path(docname), 0
            table[key] = domain.resolve_xref(app.env, docname, app.builder, typ, key, node, None).astext()
        for cit in domain.citations:
            if cit.key == key:
                full[key] = cit.formatted_entry.text.render(plaintext)
                break
    return textual, parenthetical, full


def page_context(app: Any, doctree: Any, docname: str, executed: dict) -> dict[str, Any]:
    """The context of a page for :func:`to_markdown` (without ``edition``), from the resolved doctree."""
    env = app.env
    labels, numbers, titles = book_labels(env, app.config)
    refs: dict[str, str] = {}
    for wrapper in doctree.findall(lambda n: "hlmkit_ref" in getattr(n, "attributes", {})):
        refs.setdefault(wrapper["hlmkit_ref"], node_markdown(wrapper))
    glue_file = _executed(app, docname).with_suffix(".glue.json")
    glue_data = json.loads(glue_file.read_text(encoding="utf-8")) if glue_file.is_file() else {}
    glue = {k: v["data"]["text/plain"] for k, v in glue_data.items() if "text/plain" in v.get("data", {})}
    markdown = [_source(c) for c in executed.get("cells", []) if c.get("cell_type") == "markdown"]
    captions = [
        str(c.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", ""))
        for c in executed.get("cells", [])
    ]
    glue_text: dict[str, str] = {}
    for text in markdown + captions:
        for m in _INLINE.finditer(text):
            if m.group("role") and m.group("role").startswith("glue"):
                key = _collapse(m.group("content"))
                name, _, fmt = key.partition(":")
                if name in glue:
                    glue_text[key] = format_glue(glue[name], fmt)
    exercises = []
    ex_numbers = env.toc_fignumbers.get(docname, {}).get("exercise", {})
    registry = getattr(env, "sphinx_exercise_registry", {})
    for label, entry in registry.items():
        if entry.get("docname") == docname and entry.get("type") in ("exercise", "exercise-start"):
            number = _number_text(ex_numbers.get(label, ()))
            node = entry.get("node")
            title = ""  # the exercise's argument, as sphinx-exercise puts it in the title's subtitle
            if node is not None:
                from sphinx_exercise.nodes import exercise_subtitle

                title = " ".join(_collapse(sub.astext()) for sub in node.findall(exercise_subtitle))
            exercises.append(
                {
                    "label": label,
                    "number": number,
                    "text": labels.get(label, f"Exercise {number}"),
                    "title": title,
                }
            )
    exercises.sort(key=lambda e: [int(x) for x in e["number"].split(".") if x.isdigit()])
    secnumbers = env.toc_secnumbers.get(docname, {})
    textual, parenthetical, full = _citations(app, docname)
    return {
        "docname": docname,
        "number": _number_text(secnumbers.get("", ())),
        "glue": glue,
        "glue_text": glue_text,
        "refs": refs,
        "labels": labels,
        "numbers": numbers,
        "titles": titles,
        "citations": textual,
        "citations_p": parenthetical,
        "bibliography": full,
        "exercises": exercises,
        "footnotes": page_footnotes(markdown),
    }


def node_markdown(node: Any) -> str:
    """The text of a doctree node, keeping math as ``$...$`` and literals as code."""
    from docutils import nodes

    if isinstance(node, nodes.math):
        return f"${node.astext()}$"
    if isinstance(node, nodes.literal):
        return f"`{node.astext()}`"
    if isinstance(node, nodes.Text):
        return str(node)
    return "".join(node_markdown(child) for child in node.children)


def _unwrap_references(doctree: Any) -> None:
    for wrapper in list(doctree.findall(lambda n: "hlmkit_ref" in getattr(n, "attributes", {}))):
        wrapper.replace_self(wrapper.children)


def _figure_images(app: Any, doctree: Any, docname: str) -> None:
    """Each figure's image gets its caption as alt text; a figure cell with other outputs is a warning."""
    from docutils import nodes

    logger = app._hlmkit_logger
    for figure in doctree.findall(nodes.figure):
        captions = [c for c in figure.children if isinstance(c, nodes.caption)]
        images = list(figure.findall(nodes.image))
        if not captions:
            continue
        text = _collapse(captions[0].astext())
        for image in images:
            if not image.get("alt") or image.get("alt") == image.get("uri"):
                image["alt"] = text
            if image.get("width") and image.get("height"):  # hires_figures' display size: keep the width
                del image["height"]  # only, so that a narrow screen scales the image without distorting it
        extra = [n for n in figure.findall(nodes.literal_block)]
        if figure.get("names") and (len(images) != 1 or extra):
            logger.warning(
                "%s: figure %s should hold exactly one image (it has %d images and %d text outputs)",
                docname,
                figure["names"][0],
                len(images),
                len(extra),
                location=figure,
            )
    for image in doctree.findall(nodes.image):
        if not image.get("alt") or image.get("alt") == image.get("uri"):
            logger.warning(
                "%s: an image without a caption (no alt text): make its cell a numbered figure",
                docname,
                location=image,
            )


def _remove_solutions(doctree: Any) -> None:
    from sphinx_exercise.nodes import solution_node

    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def _doctree_resolved(app: Any, doctree: Any, docname: str) -> None:
    edition = app.config.hlmkit_edition
    _figure_images(app, doctree, docname)
    executed = executed_notebook(app, docname) if app.builder.format == "html" else None
    if executed is not None:
        context = page_context(app, doctree, docname, executed)
        out = _notebooks_dir(app)
        if edition == "full":
            write_json(out / "context" / f"{docname}.json", context)
        import hlmkit

        address = (app.config.html_theme_options or {}).get("repository_url", "") or ""
        nb = reader_notebook(
            executed, {**context, "edition": edition}, install_cell_source(hlmkit.__version__, address)
        )
        write_json(out / edition / f"{docname}.ipynb", nb)
    _unwrap_references(doctree)
    if edition == "student":  # after numbering: figures, tables and exercises keep the full edition's numbers
        _remove_solutions(doctree)


def _add_ipynb(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Offer the page's reader notebook in the download menu (sphinx-book-theme's ``ipynb_source``)."""
    if doctree is None or app.builder.format != "html":
        return
    reader = _notebooks_dir(app) / app.config.hlmkit_edition / f"{pagename}.ipynb"
    if not reader.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(reader.read_bytes())
    context["ipynb_source"] = f"{pagename}.ipynb"


def _build_finished(app: Any, exc: Exception | None) -> None:
    """Student edition: the Markdown downloads (``_sources/*.md``) lose their solutions too."""
    if exc is not None or app.builder.format != "html" or app.config.hlmkit_edition != "student":
        return
    suffixes = (".md", ".md" + (app.config.html_sourcelink_suffix or ""))
    for md in (Path(app.outdir) / "_sources").rglob("*"):
        if not md.is_file() or not md.name.endswith(suffixes):
            continue
        text = md.read_text(encoding="utf-8")
        stripped = strip_solutions(text)
        if stripped != text:
            md.write_text(stripped, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    return _sphinx_setup(app)
