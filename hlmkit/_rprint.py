"""Printing numbers and tables the way R does, so that output can be compared with the notes.

Everything that formats like R lives here: numbers (:func:`format_r`, :func:`format_p`,
:func:`format_pval_r`), tables (:func:`table_r`, :func:`coef_table_r`, :class:`AnovaTable`), nlme's
correlation and random-effects blocks, R's ``abbreviate``, and :class:`RPrinted`, the one base
of hlmkit's result objects (``print``, ``repr``, notebook HTML and ``result["name"]``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


class RPrinted:
    """Base of hlmkit's small result objects: they print as the R output the notes show.

    A subclass defines ``__str__``; ``repr``, the notebook's HTML (the same text in ``<pre>``)
    and ``result["name"]`` (R's ``result$name``, the attribute of that name) come from here.
    """

    def __str__(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(str(self)) + "</pre>"

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or key.startswith("_") or not hasattr(self, key):
            raise KeyError(f"{type(self).__name__} has no entry {key!r}")
        return getattr(self, key)


def _sig_needed(x: float, digits: int) -> tuple[int, int]:
    """(number of significant digits needed, decimal exponent) of x shown with ``digits`` digits."""
    if x == 0 or not math.isfinite(x):
        return 1, 0
    r = float(f"{abs(x):.{digits - 1}e}")
    e = math.floor(math.log10(r))
    mant = f"{r:.{digits - 1}e}".split("e")[0].replace(".", "").rstrip("0")
    return max(len(mant), 1), e


def format_r(values: Sequence[float] | np.ndarray, digits: int = 7) -> list[str]:
    """Format a numeric vector like R's ``format``: common decimals, ``digits`` significant digits.

    As R does, it switches to scientific notation when that is narrower than fixed notation.

    Examples
    --------
    >>> from hlmkit._rprint import format_r
    >>> format_r([12.604679, 0.47119414])
    ['12.6046790', ' 0.4711941']
    >>> format_r([0.0, 0.0003, 0.0])
    ['0e+00', '3e-04', '0e+00']
    """
    vals = np.asarray(values, dtype=float)
    finite = vals[np.isfinite(vals)]
    if finite.size == 0:
        return ["NA" if np.isnan(v) else ("Inf" if v > 0 else "-Inf") for v in vals]
    rgt, left, max_sig, emax, emin = 0, 1, 1, 0, 0
    for v in finite:
        nsig, e = _sig_needed(float(v), digits)
        rgt = max(rgt, nsig - e - 1)
        left = max(left, e + 1 if e >= 0 else 1)
        max_sig = max(max_sig, nsig)
        emax, emin = max(emax, e), min(emin, e)
    rgt = min(rgt, 15)
    neg = int(bool(np.any(finite < 0)))
    fixed_width = neg + left + rgt + (1 if rgt else 0)
    exp_digits = max(len(str(abs(emax))), len(str(abs(emin))), 2)
    sci_width = neg + max_sig + (1 if max_sig > 1 else 0) + 2 + exp_digits
    if fixed_width > sci_width:
        out = []
        for v in vals:
            if not np.isfinite(v):
                out.append("NA")
                continue
            mant, exp = f"{v:.{max_sig - 1}e}".split("e")
            out.append(f"{mant}e{exp[0]}{abs(int(exp)):0{exp_digits}d}")
    else:
        out = [f"{v:.{rgt}f}" if np.isfinite(v) else "NA" for v in vals]
    width = max(len(s) for s in out)
    return [s.rjust(width) for s in out]


def format_p(p: Sequence[float] | np.ndarray, digits: int = 5) -> list[str]:
    """p-values rounded to ``digits`` decimals, shown as ``<.00001`` when they round to 0 (spida2)."""
    out = []
    for v in np.asarray(p, dtype=float):
        if np.isnan(v):
            out.append("NA")
        elif round(v, digits) == 0:
            out.append("<." + "0" * (digits - 1) + "1")
        else:
            out.append(f"{round(v, digits):.{digits}f}".rstrip("0").rstrip(".") or "0")
    return out


def table_r(frame: pd.DataFrame, digits: int = 7, formatted: dict[str, list[str]] | None = None) -> str:
    """Print a DataFrame as R prints a numeric matrix: each column formatted on its own."""
    formatted = dict(formatted or {})
    cols: dict[str, list[str]] = {}
    for c in frame.columns:
        if c in formatted:
            cols[str(c)] = formatted[c]
        else:
            s = frame[c]
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                if pd.api.types.is_integer_dtype(s.dtype):
                    cols[str(c)] = [str(v) for v in s]
                else:
                    cols[str(c)] = format_r(s.to_numpy(dtype=float), digits)
            else:
                cols[str(c)] = [str(v) for v in s]
    index = [str(i) for i in frame.index]
    iw = max([len(i) for i in index] + [0])
    header = " " * iw
    lines = []
    widths = {c: max(len(c), *(len(v) for v in vals)) if vals else len(c) for c, vals in cols.items()}
    for c in cols:
        header += " " + c.rjust(widths[c])
    lines.append(header)
    for k, name in enumerate(index):
        row = name.ljust(iw)
        for c, vals in cols.items():
            row += " " + vals[k].rjust(widths[c])
        lines.append(row)
    return "\n".join(lines)


def abbreviate(name: str, minlength: int = 6) -> str:
    """R's ``abbreviate``: drop spaces, then lower-case vowels, then lower-case letters, from the right.

    The first character of every word is kept.

    Examples
    --------
    >>> from hlmkit._rprint import abbreviate
    >>> abbreviate("(Intercept)"), abbreviate("SectorPublic"), abbreviate("cvar(ses, id)")
    ('(Intr)', 'SctrPb', 'cv(,i)')
    """
    name = name.strip()
    if len(name) <= minlength:
        return name
    chars = list(name)
    keep = [i == 0 or name[i - 1] == " " for i in range(len(name))]
    # spaces first
    pairs = [(c, k) for c, k in zip(chars, keep) if c != " "]
    for pool in ("aeiou", "abcdefghijklmnopqrstuvwxyz"):
        i = len(pairs) - 1
        while len(pairs) > minlength and i >= 0:
            c, k = pairs[i]
            if not k and c in pool:
                del pairs[i]
            i -= 1
    out = "".join(c for c, _ in pairs)
    return out[:minlength] if len(out) > minlength else out


class AnovaTable(pd.DataFrame):
    """The table of :func:`hlmkit.anova`, a DataFrame that prints as nlme's ``anova.lme`` does.

    The numbers are kept as they are (``p-value`` and ``L.Ratio`` are NaN where there is no
    test); only the printing follows ``print.anova.lme``: p-values rounded to 4 decimals and
    ``<.0001`` when they round to 0; no test label, likelihood ratio or p-value for the first
    model and for a pair of models with the same number of parameters (there is no test between
    them); and no test columns at all when no pair is tested. Selecting columns other than the
    usual ones gives a table that prints as a plain DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit._rprint import AnovaTable
    >>> t = AnovaTable({"Model": [1, 2], "df": [4, 6], "AIC": [100.0, 98.5], "BIC": [110.0, 112.25],
    ...                 "logLik": [-46.0, -43.25], "Test": ["", "1 vs 2"], "L.Ratio": [np.nan, 5.5],
    ...                 "p-value": [np.nan, 0.0639]}, index=["f0", "f1"])
    >>> print(t)
       Model df   AIC    BIC logLik   Test L.Ratio p-value
    f0     1  4 100.0 110.00 -46.00
    f1     2  6  98.5 112.25 -43.25 1 vs 2     5.5  0.0639
    """

    _COLUMNS = ("Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value")

    @property
    def _constructor(self):  # operations that keep the table's columns keep its printing
        return AnovaTable

    def _nlme_columns(self) -> dict[str, list[str]] | None:
        """Each column as nlme prints it, or None when the table is not a whole anova table."""
        if tuple(self.columns) != self._COLUMNS:
            return None
        df = self["df"].to_numpy(dtype=float)
        tested = np.r_[False, np.diff(df) != 0] & self["p-value"].notna().to_numpy()
        cols: dict[str, list[str]] = {
            "Model": [str(int(v)) for v in self["Model"]],
            "df": [str(int(v)) for v in self["df"]],
        }
        for c in ("AIC", "BIC", "logLik"):
            cols[c] = format_r(self[c].to_numpy(dtype=float))
        if tested.any():
            cols["Test"] = [str(t) if k else "" for t, k in zip(self["Test"], tested)]
            lr = self["L.Ratio"].to_numpy(dtype=float)
            shown = format_r(lr[tested])
            it = iter(shown)
            cols["L.Ratio"] = [next(it) if k else "" for k in tested]
            p = np.round(self["p-value"].to_numpy(dtype=float)[tested], 4)
            it = iter("<.0001" if float(s) == 0 else s for s in format_r(p))
            cols["p-value"] = [next(it) if k else "" for k in tested]
        return cols

    def __repr__(self) -> str:
        cols = self._nlme_columns()
        if cols is None:
            return super().__repr__()
        frame = pd.DataFrame({c: v for c, v in cols.items()}, index=self.index)
        return "\n".join(line.rstrip() for line in table_r(frame, formatted=cols).splitlines())

    def _repr_html_(self) -> str | None:
        cols = self._nlme_columns()
        if cols is None:
            return super()._repr_html_()  # type: ignore[misc]  # pandas-stubs omit DataFrame._repr_html_
        shown = pd.DataFrame({c: [v.strip() for v in vals] for c, vals in cols.items()}, index=self.index)
        return shown.to_html()


def format_pval_r(p: Any, digits: int = 3) -> list[str]:
    """R's ``format.pval(p, digits)`` as ``printCoefmat`` uses it: values from 0.001 up are formatted
    together, smaller ones together (in scientific notation), those below machine epsilon as ``< 2e-16``."""
    pv = np.asarray(p, dtype=float)
    out = ["NA" if np.isnan(v) else "< 2e-16" for v in pv]
    ok = ~np.isnan(pv) & (pv >= np.finfo(float).eps)
    with np.errstate(divide="ignore"):
        fixp = ok & (np.floor(np.log10(np.where(pv > 0, pv, 1e-50))) >= -3)
    for group, fixed in ((fixp, True), (ok & ~fixp, False)):
        idx = np.flatnonzero(group)
        if not idx.size:
            continue
        if fixed:
            texts = [t.strip() for t in format_r(pv[idx], digits)]
        else:
            nsig = max(
                len(f"{v:.{digits - 1}e}".split("e")[0].replace(".", "").rstrip("0")) or 1 for v in pv[idx]
            )
            texts = [f"{v:.{max(nsig, 1) - 1}e}" for v in pv[idx]]
        for k, t in zip(idx, texts):
            out[k] = t
    return out


def coef_table_r(
    est: Any,
    se: Any,
    stat: Any,
    pvalues: Any,
    stat_name: str = "t value",
    p_name: str = "Pr(>|t|)",
    digits: int = 4,
) -> str:
    """A coefficient table printed as R's ``printCoefmat`` prints it (without significance stars).

    Estimates and standard errors are rounded and formatted together, the test statistics to
    ``digits - 1`` decimals, the p-values as :func:`format_pval_r`.

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit._rprint import coef_table_r
    >>> est = pd.Series([13.5579028, 2.2998872], index=["(Intercept)", "ses"])
    >>> print(coef_table_r(est, [0.18813, 0.25817], [72.0672, 8.9084], [0.0, 5.6e-7]))
                Estimate Std. Error t value Pr(>|t|)
    (Intercept)  13.5579     0.1881  72.067  < 2e-16
    ses           2.2999     0.2582   8.908  5.6e-07
    """
    est_v = np.asarray(est, dtype=float)
    se_v = np.asarray(se, dtype=float)
    both = np.concatenate([est_v, se_v])
    acs = np.abs(both[np.isfinite(both) & (both != 0)])
    digmin = 1 + np.floor(np.log10([acs.min(), acs.max()])) if acs.size else np.zeros(2)
    cs = format_r(np.round(both, int(max(1, digits - digmin.min()))), digits)
    n = len(est_v)
    names = list(est.index) if isinstance(est, pd.Series) else [str(k) for k in range(n)]
    dig_tst = max(1, min(5, digits - 1))
    tab = pd.DataFrame(
        {
            "Estimate": est_v,
            "Std. Error": se_v,
            stat_name: np.asarray(stat, dtype=float),
            p_name: np.asarray(pvalues, dtype=float),
        },
        index=names,
    )
    return table_r(
        tab,
        formatted={
            "Estimate": cs[:n],
            "Std. Error": cs[n:],
            stat_name: format_r(np.round(np.asarray(stat, dtype=float), dig_tst), digits),
            p_name: format_pval_r(pvalues, dig_tst),
        },
    )


# --------------------------------------------------------------------------------------------
# nlme's blocks of correlations
# --------------------------------------------------------------------------------------------


def corr_cells(values: np.ndarray) -> list[str]:
    """R's format(round(x, 3)) of correlations: a common width."""
    return format_r(np.round(values, 3), digits=7)


def lower_triangle(names: list[str], cor: np.ndarray) -> list[str]:
    """nlme's print.correlation: full row names, abbreviated column names, lower triangle."""
    p = len(names)
    low = [cor[i, j] for i in range(1, p) for j in range(i)]
    cells = iter(corr_cells(np.array(low)))
    grid = [[next(cells) if j < i else "" for j in range(p - 1)] for i in range(1, p)]
    heads = [abbreviate(n, 6) for n in names[:-1]]
    widths = [max(len(h), *(len(row[j]) for row in grid)) for j, h in enumerate(heads)]
    w0 = max(len(n) for n in names[1:])
    out = [" " * w0 + " " + " ".join(h.ljust(w) for h, w in zip(heads, widths))]
    for name, row in zip(names[1:], grid):
        out.append(name.ljust(w0) + " " + " ".join(c.ljust(w) for c, w in zip(row, widths)))
    return out


def re_block(names: list[str], sd: np.ndarray, corr: np.ndarray, sigma: float) -> list[str]:
    """nlme's StdDev / Corr table of a general positive-definite random-effects covariance."""
    q = len(names)
    sds = format_r(np.append(sd, sigma), digits=7)
    low = [corr[i, j] for i in range(1, q) for j in range(i)]
    cells = iter(corr_cells(np.array(low)))
    heads = [abbreviate(n, 6) for n in names[:-1]]
    grid = [heads] + [[next(cells) if j < i else "" for j in range(q - 1)] for i in range(1, q)]
    widths = [max(len(row[j]) for row in grid) for j in range(q - 1)]
    labels = names + ["Residual"]
    w0 = max(len(n) for n in labels)
    ws = max(len(x) for x in sds + ["StdDev"])
    out = [" " * w0 + " " + "StdDev".ljust(ws) + " Corr"]
    for k, label in enumerate(labels):
        row = label.ljust(w0) + " " + sds[k].ljust(ws)
        if k < q:
            row += " " + " ".join(c.ljust(w) for c, w in zip(grid[k], widths))
        out.append(row.rstrip())
    return out


def indent(text: str, k: int) -> str:
    """Every line of ``text`` indented by ``k`` spaces."""
    return "\n".join(" " * k + line for line in text.splitlines())
