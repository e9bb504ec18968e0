"""R-style model formulas: terms, design matrices and coefficient names as R writes them.

The course's hypotheses are written as regular expressions on R's coefficient names
(``"ses:SectorPublic"``, ``":cvar\\(ses"``), so hlmkit builds design matrices the way R's
``model.matrix`` does:

* operators ``+ - * / : ^ %in%`` with R's precedence, ``0``/``1``/``-1`` for the intercept,
  parentheses, and ``.`` (the old right-hand side) in :func:`update_formula`;
* terms ordered by degree, keeping formula order within a degree; the variables of a term in
  order of first appearance (``ses:SectorPublic``);
* factors (pandas categoricals, text, logicals) coded with treatment contrasts against their first
  level, or with full indicators where R would use them (``factor(school):ses`` without
  ``ses``); interaction columns with the first factor varying fastest;
* variables are Python expressions on the data's columns: ``cvar(ses, school)``,
  ``factor(school)``, ``Minority == "Yes"``, ``I(ses^2)``, ``log(Size)``; column names with dots
  (``ses.m``) work as in R; labels are deparsed the way R prints them (``cvar(ses, id)``).

:class:`ModelFrame` evaluates a formula on data once, drops rows with missing values (saying how
many) and remembers factor levels, so that the same design can be rebuilt on new data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .frames import cvar, dvar

__all__ = ["Design", "FormulaError", "ModelFrame", "parse_formula", "update_formula"]


class FormulaError(ValueError):
    """A formula that cannot be parsed or evaluated on the data."""


# --------------------------------------------------------------------------------------------
# tokenising
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<backtick>`[^`]+`)
  | (?P<name>[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<op>%in%|==|!=|<=|>=|\*\*|&&|\|\||[-+*/:^~|()\[\],<>!&=$@])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str


def tokenize(text: str) -> list[Tok]:
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise FormulaError(f"cannot read the formula {text!r} at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        if kind == "ws":
            continue
        tok = m.group(kind)
        if kind == "name" and tok == ".":
            kind = "dot"
        out.append(Tok(kind, tok))
    return out


def _deparse(tokens: list[Tok]) -> str:
    """Write an expression the way R's deparse would (used for labels)."""
    out: list[str] = []
    binary = {"==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "&", "|", "&&", "||", "%in%"}
    prev: Tok | None = None
    for tok in tokens:
        t = tok.text
        if tok.kind == "string":
            t = '"' + t[1:-1] + '"' if t.startswith("'") else t
        if tok.kind == "op" and t == ",":
            out.append(", ")
        elif tok.kind == "op" and t in binary:
            unary = prev is None or (prev.kind == "op" and prev.text not in (")", "]"))
            out.append(t if unary else f" {t} ")
        else:
            out.append(t)
        prev = tok
    return "".join(out)


# --------------------------------------------------------------------------------------------
# parsing into terms
# --------------------------------------------------------------------------------------------

Term = frozenset  # a term is the set of indices of its variables; frozenset() is the intercept


@dataclass
class ParsedFormula:
    """The result of :func:`parse_formula`."""

    response: str | None  # the left-hand side expression, deparsed
    variables: list[str]  # variable labels, in order of first appearance
    terms: list[frozenset[int]]  # non-intercept terms, R's order
    intercept: bool
    var_tokens: list[list[Tok]] = field(default_factory=list)

    def term_label(self, term: frozenset[int]) -> str:
        return ":".join(self.variables[i] for i in sorted(term))

    @property
    def term_labels(self) -> list[str]:
        return [self.term_label(t) for t in self.terms]


class _Parser:
    """Precedence climbing over R's formula operators."""

    # binding powers: higher binds tighter (R: ^ > %in% > : > * / > + -)
    BP: ClassVar[dict[str, int]] = {"+": 10, "-": 10, "*": 20, "/": 20, ":": 30, "%in%": 35, "^": 40}

    def __init__(self, tokens: list[Tok], text: str, dot: list[Tok] | None) -> None:
        self.toks = tokens
        self.i = 0
        self.text = text
        self.dot = dot
        self.variables: list[str] = []
        self.var_tokens: list[list[Tok]] = []

    # --- helpers -------------------------------------------------------------------------
    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise FormulaError(f"the formula {self.text!r} ends too early")
        self.i += 1
        return tok

    def var(self, toks: list[Tok]) -> int:
        label = _deparse(toks)
        if label not in self.variables:
            self.variables.append(label)
            self.var_tokens.append(toks)
        return self.variables.index(label)

    # --- grammar -------------------------------------------------------------------------
    def parse_expr(self, min_bp: int = 0) -> tuple[list[frozenset[int]], bool | None]:
        """Returns (terms, intercept) where intercept is True/False if set explicitly, else None."""
        left = self.parse_unary()
        while True:
            tok = self.peek()
            if tok is None or tok.kind != "op" or tok.text not in self.BP:
                break
            bp = self.BP[tok.text]
            if bp <= min_bp:
                break
            self.take()
            if tok.text == "^":
                power_tok = self.take()
                if power_tok.kind != "number":
                    raise FormulaError(f"'^' needs a whole number in {self.text!r}")
                left = self.power(left, int(float(power_tok.text)))
                continue
            right = self.parse_expr(bp)
            left = self.combine(tok.text, left, right)
        return left

    def parse_unary(self) -> tuple[list[frozenset[int]], bool | None]:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "-":
            self.take()
            terms, icpt = self.parse_expr(self.BP["-"])
            return self.combine("-", ([], None), (terms, icpt))
        if tok is not None and tok.kind == "op" and tok.text == "+":
            self.take()
            return self.parse_expr(self.BP["+"])
        return self.parse_primary()

    def parse_primary(self) -> tuple[list[frozenset[int]], bool | None]:
        tok = self.take()
        if tok.kind == "number":
            if tok.text in ("0", "1"):
                return [], tok.text == "1"
            raise FormulaError(f"a number {tok.text} cannot be a term in {self.text!r}")
        if tok.kind == "dot":
            if self.dot is None:
                raise FormulaError(f"'.' has no meaning here ({self.text!r}); use update_formula")
            sub = _Parser(self.dot, self.text, None)
            sub.variables, sub.var_tokens = self.variables, self.var_tokens
            terms, icpt = sub.parse_expr()
            if sub.peek() is not None:
                raise FormulaError(f"cannot read {self.text!r}")
            return terms, icpt
        if tok.kind == "op" and tok.text == "(":
            # a parenthesised formula, or an expression such as (Minority == "Yes")
            inner = self.collect_balanced()
            if any(
                t.kind == "op" and t.text in ("==", "!=", "<", ">", "<=", ">=", "&", "|", "!") for t in inner
            ):
                return [frozenset([self.var(inner)])], None
            sub = _Parser(inner, self.text, self.dot)
            sub.variables, sub.var_tokens = self.variables, self.var_tokens
            result = sub.parse_expr()
            if sub.peek() is not None:
                raise FormulaError(f"cannot read {_deparse(inner)!r} in {self.text!r}")
            return result
        if tok.kind in ("name", "backtick", "string"):
            toks = [tok]
            nxt = self.peek()
            if tok.kind == "name" and nxt is not None and nxt.kind == "op" and nxt.text == "(":
                self.take()
                inner = self.collect_balanced()
                toks = [tok, Tok("op", "(")] + inner + [Tok("op", ")")]
            return [frozenset([self.var(toks)])], None
        raise FormulaError(f"unexpected {tok.text!r} in {self.text!r}")

    def collect_balanced(self) -> list[Tok]:
        depth, inner = 1, list[Tok]()
        while True:
            tok = self.take()
            if tok.kind == "op" and tok.text == "(":
                depth += 1
            elif tok.kind == "op" and tok.text == ")":
                depth -= 1
                if depth == 0:
                    return inner
            inner.append(tok)

    # --- term algebra --------------------------------------------------------------------
    @staticmethod
    def _union(a: list[frozenset[int]], b: list[frozenset[int]]) -> list[frozenset[int]]:
        out = list(a)
        for t in b:
            if t not in out:
                out.append(t)
        return out

    def combine(self, op: str, left: tuple, right: tuple) -> tuple[list[frozenset[int]], bool | None]:
        lt, li = left
        rt, ri = right
        if op == "+":
            icpt = ri if ri is not None else li
            return self._union(lt, rt), icpt
        if op == "-":
            icpt = li
            if ri is True:
                icpt = False
            elif ri is False:  # "- 0" adds the intercept back
                icpt = True
            return [t for t in lt if t not in rt], icpt
        if op in (":", "%in%"):
            return self._union([], [a | b for a in lt for b in rt]), None
        if op == "*":
            inter = [a | b for a in lt for b in rt]
            return self._union(self._union(lt, rt), inter), None
        if op == "/":
            allvars = frozenset().union(*lt) if lt else frozenset()
            return self._union(lt, [allvars | b for b in rt]), None
        raise FormulaError(f"operator {op!r} is not supported in {self.text!r}")

    @staticmethod
    def power(left: tuple, n: int) -> tuple[list[frozenset[int]], bool | None]:
        terms, _ = left
        out = list(terms)
        current = list(terms)
        for _ in range(n - 1):
            current = [a | b for a in current for b in terms]
            for t in current:
                if t not in out:
                    out.append(t)
        return out, None


def _split_formula(text: str) -> tuple[list[Tok] | None, list[Tok]]:
    toks = tokenize(text)
    depth = 0
    for k, tok in enumerate(toks):
        if tok.kind == "op" and tok.text == "(":
            depth += 1
        elif tok.kind == "op" and tok.text == ")":
            depth -= 1
        elif tok.kind == "op" and tok.text == "~" and depth == 0:
            return (toks[:k] or None), toks[k + 1 :]
    raise FormulaError(f"the formula {text!r} has no '~'")


def parse_formula(text: str, dot: str | None = None) -> ParsedFormula:
    """Parse an R model formula into its response, variables and ordered terms.

    Parameters
    ----------
    text : str
        ``"y ~ a * b + c"``, or a one-sided ``"~ 1 + x"``.
    dot : str, optional
        What ``.`` stands for on the right-hand side (used by :func:`update_formula`).

    Examples
    --------
    >>> from hlmkit.formula import parse_formula
    >>> parse_formula("mathach ~ ses * Sector + cvar(ses,id)").term_labels
    ['ses', 'Sector', 'cvar(ses, id)', 'ses:Sector']
    """
    lhs, rhs = _split_formula(text)
    dot_toks = tokenize(dot) if dot is not None else None
    parser = _Parser(rhs, text, dot_toks)
    if not rhs:
        raise FormulaError(f"the formula {text!r} has nothing after '~'")
    terms, icpt = parser.parse_expr()
    leftover = parser.peek()
    if leftover is not None:
        raise FormulaError(f"cannot read {text!r} from {leftover.text!r} on")
    terms = [t for t in terms if t]  # the empty term is the intercept
    order = sorted(range(len(terms)), key=lambda k: (len(terms[k]), k))
    return ParsedFormula(
        response=_deparse(lhs) if lhs else None,
        variables=parser.variables,
        terms=[terms[k] for k in order],
        intercept=True if icpt is None else icpt,
        var_tokens=parser.var_tokens,
    )


def update_formula(old: str, new: str) -> str:
    """R's ``update.formula``: ``.`` in ``new`` stands for the corresponding side of ``old``.

    Examples
    --------
    >>> from hlmkit.formula import update_formula
    >>> update_formula("y ~ ses * Sector", ". ~ . + cvar(ses, id)")
    'y ~ (ses * Sector) + cvar(ses, id)'
    """
    old_lhs, old_rhs = _split_formula(old)
    new_lhs, new_rhs = _split_formula(new)

    def sub(toks: list[Tok] | None, repl: list[Tok] | None) -> str:
        if not toks:
            return ""
        parts = []
        for tok in toks:
            if tok.kind == "dot":
                if repl is None:
                    raise FormulaError(f"'.' in {new!r} has nothing to stand for")
                parts.append("(" + _deparse(repl) + ")")
            else:
                parts.append(_deparse([tok]) if tok.kind != "op" or tok.text in "()" else f" {tok.text} ")
        text = "".join(parts)
        return re.sub(r"\s+", " ", text).strip()

    lhs = sub(new_lhs, old_lhs) if new_lhs else (_deparse(old_lhs) if old_lhs else "")
    if new_lhs and len(new_lhs) == 1 and new_lhs[0].kind == "dot":
        lhs = _deparse(old_lhs) if old_lhs else ""
    rhs = sub(new_rhs, old_rhs)
    rhs = re.sub(r"\( ", "(", rhs)
    rhs = re.sub(r" \)", ")", rhs)
    rhs = re.sub(r" ,", ",", rhs)
    return f"{lhs} ~ {rhs}".strip()


# --------------------------------------------------------------------------------------------
# evaluating variables
# --------------------------------------------------------------------------------------------


def _factor(x: Any, levels: Iterable[Any] | None = None) -> pd.Series:
    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
    if levels is not None:
        return pd.Series(pd.Categorical(s, categories=list(levels)), index=s.index, name=s.name)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    return pd.Series(pd.Categorical(s), index=s.index, name=s.name)


def _I(x: Any) -> Any:
    return x


def _as_numeric(x: Any) -> Any:
    return pd.to_numeric(x) if isinstance(x, pd.Series) else np.asarray(x, dtype=float)


def _poly_guard(*_: Any, **__: Any) -> Any:
    raise FormulaError("poly() is not supported; write the powers with I(x^2) etc.")


FUNCTIONS: dict[str, Any] = {
    "cvar": cvar,
    "dvar": dvar,
    "factor": _factor,
    "C": _factor,
    "as.factor": _factor,
    "I": _I,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "pi": np.pi,
    "abs": np.abs,
    "as.numeric": _as_numeric,
    "poly": _poly_guard,
    "TRUE": True,
    "FALSE": False,
    "T": True,
    "F": False,
    "np": np,
}


def _to_python(tokens: list[Tok], names: dict[str, str]) -> str:
    """Translate an R expression to Python: dotted names, ^, !, TRUE/FALSE."""
    out = []
    for tok in tokens:
        t = tok.text
        if tok.kind == "name":
            t = names.get(t, t)
            if "." in t:
                t = names.setdefault(t, "_v" + re.sub(r"\W", "_", t))
        elif tok.kind == "backtick":
            t = names.setdefault(t[1:-1], "_b" + str(len(names)))
        elif tok.kind == "op":
            t = {"^": "**", "!": "~", "&&": "&", "||": "|"}.get(t, t)
            if t == "%in%":
                raise FormulaError("%in% inside an expression is not supported")
        out.append(t)
    return " ".join(out)


def evaluate(tokens: list[Tok], data: pd.DataFrame, extra: Mapping[str, Any] | None = None) -> Any:
    """Evaluate one variable expression on the data (columns by name, plus :data:`FUNCTIONS`)."""
    names: dict[str, str] = {}
    code = _to_python(tokens, names)
    env: dict[str, Any] = dict(FUNCTIONS)
    if extra:
        env.update(extra)
    used = {tok.text for tok in tokens if tok.kind == "name"} | {
        tok.text[1:-1] for tok in tokens if tok.kind == "backtick"
    }
    for name in used:
        if name in data.columns:
            env[names.get(name, name)] = data[name]
    # make the R function names with dots (as.factor, as.numeric) callable
    for rname, pyname in names.items():
        if rname in FUNCTIONS and rname not in data.columns:
            env[pyname] = FUNCTIONS[rname]
    try:
        return eval(code, {"__builtins__": {}}, env)
    except NameError as exc:
        missing = str(exc).split("'")[1] if "'" in str(exc) else str(exc)
        back = {v: k for k, v in names.items()}
        raise FormulaError(
            f"no column {back.get(missing, missing)!r} in the data (needed by {_deparse(tokens)!r})"
        ) from None
    except FormulaError:
        raise
    except Exception as exc:
        raise FormulaError(f"could not evaluate {_deparse(tokens)!r}: {exc}") from exc


@dataclass
class _Var:
    """An evaluated variable: numeric columns, or a factor with its levels."""

    label: str
    kind: str  # "numeric" | "factor"
    values: np.ndarray  # numeric: (n, k) float; factor: (n,) integer codes, -1 for missing
    colnames: list[str]  # numeric: suffixes for the k columns; factor: level labels
    levels: list[Any] | None = None

    def missing(self) -> np.ndarray:
        if self.kind == "factor":
            return self.values < 0
        return np.isnan(self.values).any(axis=1)


def _level_label(level: Any) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"
    if isinstance(level, float) and level.is_integer():
        return str(int(level))
    return str(level)


def _classify(label: str, value: Any, n: int, index: pd.Index, levels: list[Any] | None) -> _Var:
    if np.isscalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = np.repeat(value, n)
    if isinstance(value, pd.DataFrame):
        arr = value.to_numpy(dtype=float)
        if arr.shape[0] != n:
            raise FormulaError(f"{label!r} has {arr.shape[0]} rows, the data {n}")
        return _Var(label, "numeric", arr, [str(c) for c in value.columns])
    s = value if isinstance(value, pd.Series) else pd.Series(np.asarray(value))
    if len(s) != n:
        raise FormulaError(f"{label!r} has {len(s)} values, the data {n}")
    is_factor = (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(s.dtype)
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
    )
    plain = not isinstance(s.dtype, pd.CategoricalDtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if levels is None and is_factor and plain:
        # text or object values: sorted levels and codes in one pass (pd.factorize; -1 for missing)
        codes, uniques = pd.factorize(s, sort=False)
        kinds = sorted(
            {
                "number"
                if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                else type(v).__name__
                for v in uniques
            }
        )
        if len(kinds) > 1:
            raise FormulaError(
                f"{label!r} mixes values of different types ({', '.join(kinds)}), which cannot be "
                f"ordered as the levels of a factor; make it one type, e.g. with .astype(str)"
            )
        order = np.argsort(np.asarray(uniques, dtype=object), kind="stable")
        levels = [uniques[k] for k in order]
        remap = np.empty(len(order), dtype=np.intp)
        remap[order] = np.arange(len(order))
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        return _Var(
            label,
            "factor",
            np.asarray(codes, dtype=np.intp),
            [_level_label(v) for v in levels],
            levels=levels,
        )
    if levels is not None or is_factor:
        if levels is None:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = list(s.cat.categories)
            elif pd.api.types.is_bool_dtype(s.dtype):
                levels = [False, True]
            else:
                uniq = pd.unique(s.dropna()).tolist()
                try:
                    levels = sorted(uniq)
                except TypeError:
                    kinds = sorted({type(v).__name__ for v in uniq})
                    raise FormulaError(
                        f"{label!r} mixes values of different types ({', '.join(kinds)}), which cannot be "
                        f"ordered as the levels of a factor; make it one type, e.g. with .astype(str)"
                    ) from None
        raw = s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s
        unknown = (s.notna() & ~raw.isin(levels)).to_numpy()
        if unknown.any():
            bad = sorted(set(map(str, s[unknown].unique())))
            raise FormulaError(f"{label!r} has levels not seen when the model was fitted: {bad}")
        cat = pd.Categorical(
            s.to_numpy() if not isinstance(s.dtype, pd.CategoricalDtype) else s.array, categories=levels
        )
        return _Var(
            label,
            "factor",
            np.asarray(cat.codes, dtype=np.intp),
            [_level_label(v) for v in levels],
            levels=list(levels),
        )
    arr = np.asarray(s, dtype=float).reshape(n, 1)
    return _Var(label, "numeric", arr, [""])


# --------------------------------------------------------------------------------------------
# design matrices
# --------------------------------------------------------------------------------------------


@dataclass
class Design:
    """A design matrix with R's column names and the term each column belongs to."""

    matrix: np.ndarray
    columns: list[str]
    assign: list[int]  # term index per column (0 = intercept when present)
    term_labels: list[str]  # including "(Intercept)" first when present

    def frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        return pd.DataFrame(self.matrix, columns=self.columns, index=index)


class ModelFrame:
    """A formula evaluated on data: response, variables, and the rows used.

    Parameters
    ----------
    formula : str
        A two- or one-sided R formula.
    data : DataFrame
    extra_vars : list of str, optional
        Further expressions (e.g. the grouping variable) whose missing values also drop a row.

    Attributes
    ----------
    keep : boolean ndarray
        Which rows of ``data`` are complete and used.
    n_dropped : int
        How many rows had a missing value in a model variable.
    """

    def __init__(
        self,
        formula: str,
        data: pd.DataFrame,
        extra_formulas: Iterable[str] = (),
        extra_vars: Iterable[str] = (),
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
        self.formula = formula
        self.parsed = parse_formula(formula)
        self.extra = [parse_formula(f) for f in extra_formulas]
        n = len(data)
        self.n_total = n
        self._levels: dict[str, list[Any] | None] = {}
        vars_: dict[str, _Var] = {}
        toks: dict[str, list[Tok]] = {}
        for pf in [self.parsed, *self.extra]:
            for label, vt in zip(pf.variables, pf.var_tokens):
                toks.setdefault(label, vt)
        for label in list(extra_vars):
            toks.setdefault(label, tokenize(label))
        for label, vt in toks.items():
            value = evaluate(vt, data)
            vars_[label] = _classify(label, value, n, data.index, None)
        self.response_values: np.ndarray | None = None
        if self.parsed.response is not None:
            lhs_toks = _split_formula(formula)[0]
            assert lhs_toks is not None
            y = evaluate(lhs_toks, data)
            ys = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).reshape(-1))
            if not pd.api.types.is_numeric_dtype(ys.dtype):
                raise FormulaError(
                    f"the response {self.parsed.response!r} is not numeric (it is {ys.dtype}); "
                    "a linear model "
                    "needs a numeric response (for a two-level factor, code it 0/1, e.g. "
                    f"I({self.parsed.response} == 'level'))"
                )
            yv = ys.to_numpy(dtype=float)
            if yv.ndim != 1 or len(yv) != n:
                raise FormulaError(f"the response {self.parsed.response!r} must be one numeric column")
            self.response_values = yv
        missing = np.zeros(n, dtype=bool)
        for v in vars_.values():
            missing |= v.missing()
        if self.response_values is not None:
            missing |= np.isnan(self.response_values)
        self.keep = ~missing
        self.n_dropped = int(missing.sum())
        for label, v in vars_.items():
            if v.kind == "numeric" and np.isinf(v.values[self.keep]).any():
                k = int(np.isinf(v.values[self.keep]).any(axis=1).sum())
                raise FormulaError(
                    f"the variable {label!r} has {k} infinite value(s); remove those rows or "
                    "set them to NaN (missing) before fitting"
                )
        if self.response_values is not None and np.isinf(self.response_values[self.keep]).any():
            k = int(np.isinf(self.response_values[self.keep]).sum())
            raise FormulaError(
                f"the response {self.parsed.response!r} has {k} infinite value(s); "
                "remove those "
                "rows or set them to NaN (missing) before fitting"
            )
        self.index = data.index[self.keep]
        # subset, dropping unused factor levels (as R's model.frame for lm and lme)
        self.vars: dict[str, _Var] = {}
        for label, v in vars_.items():
            vals = v.values[self.keep]
            if v.kind == "factor":
                used = np.unique(vals)
                levels = [v.levels[k] for k in used] if v.levels is not None else None
                remap = np.full(len(v.colnames), -1)
                remap[used] = np.arange(len(used))
                vals = remap[vals]
                self.vars[label] = _Var(label, "factor", vals, [v.colnames[k] for k in used], levels)
                self._levels[label] = levels
            else:
                self.vars[label] = _Var(label, "numeric", vals, v.colnames)
        self.nobs = int(self.keep.sum())

    # ----------------------------------------------------------------------------------
    @property
    def y(self) -> np.ndarray:
        if self.response_values is None:
            raise FormulaError(f"the formula {self.formula!r} has no response")
        return self.response_values[self.keep]

    def values(self, label: str) -> np.ndarray:
        """The (complete-case) values of one variable; factors as their level labels."""
        v = self.vars[label]
        if v.kind == "factor":
            assert v.levels is not None
            return np.asarray(v.levels, dtype=object)[v.values]
        return v.values[:, 0] if v.values.shape[1] == 1 else v.values

    def design(self, parsed: ParsedFormula | None = None) -> Design:
        """The design matrix of ``parsed`` (default: the main formula) on the rows used."""
        pf = parsed if parsed is not None else self.parsed
        return build_design(pf, self.vars, self.nobs)

    def new_design(self, parsed: ParsedFormula, newdata: pd.DataFrame) -> Design:
        """The design of ``parsed`` on new data, with the factor levels seen at fitting time."""
        n = len(newdata)
        vars_: dict[str, _Var] = {}
        for label, vt in zip(parsed.variables, parsed.var_tokens):
            value = evaluate(vt, newdata)
            levels = self._levels.get(label)
            known = self.vars.get(label)
            if known is not None and known.kind == "factor":
                vars_[label] = _classify(label, value, n, newdata.index, levels)
            else:
                vars_[label] = _classify(label, value, n, newdata.index, None)
                if vars_[label].kind == "factor":
                    raise FormulaError(f"{label!r} is a factor in the new data but was numeric when fitted")
        return build_design(parsed, vars_, n)


def build_design(pf: ParsedFormula, vars_: Mapping[str, _Var], n: int) -> Design:
    """Build the model matrix of a parsed formula from evaluated variables (R's coding rules)."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    assign: list[int] = []
    term_labels: list[str] = []
    present: set[frozenset[int]] = set(pf.terms) | ({frozenset()} if pf.intercept else set())
    if pf.intercept:
        cols.append(np.ones((n, 1)))
        names.append("(Intercept)")
        assign.append(0)
        term_labels.append("(Intercept)")
    for term in pf.terms:
        tindex = len(term_labels)
        term_labels.append(pf.term_label(term))
        block = np.ones((n, 1))
        block_names = [""]
        for vi in sorted(term):
            label = pf.variables[vi]
            v = vars_[label]
            if v.kind == "numeric":
                part = v.values
                part_names = [label + suf for suf in v.colnames]
            else:
                nlev = len(v.colnames)
                if nlev < 2:
                    raise FormulaError(
                        f"the factor {label!r} has only one level ({v.colnames}) in the data used; "
                        "it cannot be a term of the model"
                    )
                contrasts = (term - {vi}) in present
                onehot = np.zeros((n, nlev))
                ok = v.values >= 0
                onehot[np.flatnonzero(ok), v.values[ok]] = 1.0
                if contrasts:
                    part, part_names = onehot[:, 1:], [label + lv for lv in v.colnames[1:]]
                else:
                    part, part_names = onehot, [label + lv for lv in v.colnames]
            # first factor varies fastest: new columns are (old x new) with old fastest
            block = (block[:, :, None] * part[:, None, :]).reshape(n, -1, order="F")
            block_names = [(a + ":" + b) if a else b for b in part_names for a in block_names]
        cols.append(block)
        names.extend(block_names)
        assign.extend([tindex] * block.shape[1])
    matrix = np.hstack(cols) if cols else np.zeros((n, 0))
    return Design(matrix, names, assign, term_labels)


def parse_random(random: str) -> tuple[str, str]:
    """Split an nlme random formula ``"~ 1 + ses | school"`` into ``("~ 1 + ses", "school")``."""
    toks = tokenize(random)
    depth = 0
    bar = None
    for k, tok in enumerate(toks):
        if tok.kind == "op" and tok.text == "(":
            depth += 1
        elif tok.kind == "op" and tok.text == ")":
            depth -= 1
        elif tok.kind == "op" and tok.text == "|" and depth == 0:
            bar = k
    if bar is None:
        raise FormulaError(
            f"the random formula {random!r} needs a grouping variable after '|', e.g. '~ 1 | school'"
        )
    lhs = _deparse(toks[:bar])
    group = _deparse(toks[bar + 1 :])
    if not lhs.lstrip().startswith("~"):
        lhs = "~ " + lhs
    if "/" in group or ":" in group:
        raise FormulaError(f"only one grouping factor is supported, not {group!r}")
    return lhs, group
