"""Wald tests of linear hypotheses ``L beta = 0`` (spida2's ``wald``), and the L-matrix helpers.

``L`` can be given the ways the course writes it:

* a regular expression on coefficient names: every matching coefficient is 0
  (``wald(fit, "ses")``, ``wald(fit, ":")``, ``wald(fit, r":cvar\\(ses")``); R's ``"\\\\("`` is
  Python's ``r"\\("``; the empty pattern (``L=None``) tests all coefficients;
* a list of coefficient names, or of integer positions (0-based; negative ones drop
  coefficients, ``-1`` the first, as R's ``wald(fit, -1)`` tests all but the intercept): integers
  are always positions, whatever their number;
* a matrix (2-D numpy array or DataFrame whose columns are coefficient names), a Series indexed
  by coefficient names (one row), or a dict (below). A single row of numbers must be given as a
  2-D array (``[[0, 1, 0]]``) or a dict: a flat list of numbers is refused, because a flat list
  of integers means positions;
* a dict: ``{"Within": row, "Contextual": row, ...}`` where each row is a vector of length p or
  a ``{coefficient: weight}`` dict, gives one hypothesis with named rows; a dict whose values are
  themselves hypotheses (patterns, name lists, matrices) gives several tests.

A rank-deficient ``L`` is reduced with the SVD: the F test has numDF = rank(L), so three rows of
which one is the sum of the others give numDF = 2. The denominator df is the smallest df of the
coefficients the hypothesis involves (nlme's df for a mixed model, the residual df for OLS).

For an ML fit of :func:`hlmkit.lme` the covariance of the fixed effects is ``vcov * N / (N - p)``,
nlme's ``adjustSigma = TRUE`` (as in ``summary`` and ``anova(fit, L = ...)``), so F, t and p are
nlme's; for REML fits and OLS the covariance is used as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._rprint import RPrinted, format_p, table_r

__all__ = ["FixInfo", "WaldResult", "get_fix", "lform", "pred_grid", "wald"]


# --------------------------------------------------------------------------------------------
# extracting beta, V and df from a fit
# --------------------------------------------------------------------------------------------


@dataclass
class FixInfo:
    """Estimates, their covariance and the df of each (spida2's ``getFix``)."""

    beta: pd.Series
    vcov: pd.DataFrame
    df: pd.Series


def get_fix(fit: Any) -> FixInfo:
    """``beta``, ``vcov`` and per-coefficient ``df`` of an ``LmeResult`` or a statsmodels fit."""
    from .lmm import LmeResult

    if isinstance(fit, LmeResult):
        # nlme's adjustSigma: an ML fit's covariance scaled by N / (N - p), as in summary and anova
        return FixInfo(fit.fixef, fit.vcov * fit.sigma_adjustment, fit.df.astype(float))
    if isinstance(fit, FixInfo):
        return fit
    params = getattr(fit, "params", None)
    cov = getattr(fit, "cov_params", None)
    if params is None or cov is None:
        raise TypeError(
            f"wald: cannot get coefficients from a {type(fit).__name__}; "
            "give an LmeResult or a statsmodels results object"
        )
    names = _param_names(fit)
    beta = pd.Series(np.asarray(params, dtype=float), index=names)
    V = pd.DataFrame(np.asarray(cov(), dtype=float), index=names, columns=names)
    dfr = getattr(fit, "df_resid", np.inf)
    if getattr(fit, "use_t", True) is False:
        dfr = np.inf
    return FixInfo(beta, V, pd.Series(float(dfr), index=names))


def _param_names(fit: Any) -> list[str]:
    params = fit.params
    if isinstance(params, pd.Series):
        return [str(k) for k in params.index]
    model = getattr(fit, "model", None)
    names = getattr(model, "exog_names", None)
    if names is None:
        names = [f"x{k}" for k in range(len(params))]
    return list(names)


# --------------------------------------------------------------------------------------------
# building L
# --------------------------------------------------------------------------------------------


def _row_from(spec: Any, names: list[str]) -> np.ndarray:
    p = len(names)
    if isinstance(spec, Mapping):
        row = np.zeros(p)
        for key, w in spec.items():
            if key not in names:
                raise KeyError(f"wald: {key!r} is not a coefficient; the coefficients are {names}")
            row[names.index(key)] = float(w)
        return row
    arr = np.asarray(spec, dtype=float).reshape(-1)
    if arr.shape[0] != p:
        raise ValueError(
            f"wald: a row of L has {arr.shape[0]} entries but the fit has {p} coefficients {names}"
        )
    return arr


def _is_row(spec: Any, p: int) -> bool:
    if isinstance(spec, Mapping):
        return all(not isinstance(v, (Mapping, str, list, tuple, np.ndarray)) for v in spec.values())
    if isinstance(spec, (str, pd.DataFrame)):
        return False
    arr = (
        np.asarray(spec)
        if not isinstance(spec, (list, tuple)) or not any(isinstance(x, str) for x in spec)
        else None
    )
    return arr is not None and arr.ndim == 1 and arr.shape[0] == p and np.issubdtype(arr.dtype, np.number)


def _make_L(spec: Any, names: list[str]) -> tuple[pd.DataFrame, str]:
    """One hypothesis: an L DataFrame (rows named) and its label."""
    p = len(names)
    if spec is None:
        spec = ""
    if isinstance(spec, str):
        try:
            pat = re.compile(spec)
        except re.error as exc:
            raise ValueError(f"wald: {spec!r} is not a valid regular expression ({exc})") from None
        hit = [k for k, n in enumerate(names) if pat.search(n)]
        if not hit:
            raise ValueError(
                f"wald: the pattern {spec!r} matches no coefficient; the coefficients are {names}"
            )
        L = np.zeros((len(hit), p))
        L[np.arange(len(hit)), hit] = 1.0
        return pd.DataFrame(L, index=[names[k] for k in hit], columns=names), spec or "all coefficients"
    if isinstance(spec, pd.DataFrame):
        missing = [c for c in spec.columns if c not in names]
        if missing:
            raise ValueError(f"wald: L has columns {missing} that are not coefficients of the fit {names}")
        return spec.reindex(columns=names, fill_value=0.0).astype(float), "L"
    if isinstance(spec, Mapping):
        rows = {str(k): _row_from(v, names) for k, v in spec.items()}
        return pd.DataFrame(rows, index=names).T, "L"
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
        bad = [s for s in spec if s not in names]
        if bad:
            raise KeyError(f"wald: {bad} are not coefficients; the coefficients are {names}")
        L = np.zeros((len(spec), p))
        for r, s in enumerate(spec):
            L[r, names.index(s)] = 1.0
        return pd.DataFrame(L, index=list(spec), columns=names), ", ".join(spec)
    if isinstance(spec, pd.Series):
        missing = [c for c in spec.index if c not in names]
        if missing:
            raise ValueError(
                f"wald: the row has entries {missing} that are not coefficients of the fit {names}"
            )
        row = spec.reindex(names, fill_value=0.0).astype(float)
        return pd.DataFrame(
            [row.to_numpy()], index=[str(spec.name) if spec.name is not None else "row1"], columns=names
        ), "L"
    arr = np.asarray(spec)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1 and (np.issubdtype(arr.dtype, np.integer) and not np.issubdtype(arr.dtype, np.bool_)):
        idx = arr.astype(int)
        if (idx < 0).all():
            drop = {(-i) - 1 for i in idx}
            if any(d >= p for d in drop):
                raise IndexError(f"wald: position out of range for {p} coefficients {names}")
            keep = [k for k in range(p) if k not in drop]
        elif (idx >= 0).all():
            if any(i >= p for i in idx):
                raise IndexError(f"wald: position out of range for {p} coefficients {names}")
            keep = list(idx)
        else:
            raise ValueError(
                "wald: positions must be all non-negative (coefficients to test) or all "
                "negative "
                "(coefficients to leave out)"
            )
        if len(set(keep)) != len(keep):
            raise ValueError(f"wald: a position is repeated in {list(idx)}")
        L = np.zeros((len(keep), p))
        L[np.arange(len(keep)), keep] = 1.0
        return pd.DataFrame(L, index=[names[k] for k in keep], columns=names), "indices"
    if arr.ndim == 1:
        raise ValueError(
            f"wald: {list(arr)} is a flat list of numbers. Integers are read as positions of coefficients; "
            "a row of L must be 2-D ([[...]]), a Series indexed by coefficient names, or a dict "
            "{coefficient: weight}"
        )
    try:
        arr = np.asarray(spec, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"wald: cannot read {spec!r} as an L matrix") from None
    if arr.ndim != 2 or arr.shape[1] != p:
        raise ValueError(f"wald: L has {arr.shape[-1]} columns but the fit has {p} coefficients {names}")
    return pd.DataFrame(arr, index=[f"row{k + 1}" for k in range(arr.shape[0])], columns=names), "L"


# --------------------------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class WaldResult(RPrinted):
    """Result of :func:`wald`.

    Attributes
    ----------
    test : DataFrame
        One row per hypothesis: ``numDF``, ``denDF``, ``F``, ``p``.
    estimates : DataFrame
        One row per row of L: ``estimate``, ``se``, ``df``, ``t``, ``p``, ``lower``, ``upper``
        (with a ``hypothesis`` level in the index when there are several hypotheses).
    L : dict of DataFrame
        The L matrix of each hypothesis.
    level : float
        Confidence level of ``lower``/``upper``.
    """

    test: pd.DataFrame
    estimates: pd.DataFrame
    L: dict[str, pd.DataFrame]
    level: float
    vcov: dict[str, pd.DataFrame]
    data: pd.DataFrame | None = None

    def __getitem__(self, key: str) -> Any:
        if len(self.test) == 1 and key in ("numDF", "denDF", "F", "p"):
            return self.test[key].iloc[0]
        return super().__getitem__(key)

    @property
    def F(self) -> float:
        """The F statistic (of the first hypothesis)."""
        return float(self.test["F"].iloc[0])

    @property
    def pvalue(self) -> float:
        """The p-value (of the first hypothesis)."""
        return float(self.test["p"].iloc[0])

    def to_frame(self, se: float | Sequence[float] = 2) -> pd.DataFrame:
        """Estimates with bands ``U<k>``/``L<k>`` = estimate +- k se, and the grid data if any.

        spida2's ``as.data.frame(wald(...), se = 2)``: ``coef``, ``se``, ``U2``, ``L2``, ...
        """
        ks = [float(se)] if isinstance(se, (int, float, np.number)) else [float(k) for k in se]
        est = self.estimates
        out = pd.DataFrame({"coef": est["estimate"].to_numpy(), "se": est["se"].to_numpy()}, index=est.index)
        for k in ks:
            lab = f"{k:g}"
            out[f"U{lab}"] = out["coef"] + k * out["se"]
            out[f"L{lab}"] = out["coef"] - k * out["se"]
        out["p"] = est["p"].to_numpy()
        out["t"] = est["t"].to_numpy()
        out["df"] = est["df"].to_numpy()
        if self.data is not None and len(self.data) == len(out):
            d = self.data.reset_index(drop=True)
            d.index = out.index
            out = pd.concat([out, d], axis=1)
        return out

    def __str__(self) -> str:
        lines = []
        multi = isinstance(self.estimates.index, pd.MultiIndex)
        for name, row in self.test.iterrows():
            t = pd.DataFrame(
                {"numDF": [int(row["numDF"])], "denDF": [row["denDF"]], "F.value": [row["F"]]}, index=[name]
            )
            denfmt = [f"{row['denDF']:g}"]
            lines.append(
                table_r(t, digits=6, formatted={"denDF": denfmt, "p.value": []}).rstrip()
                + "  p-value "
                + format_p([row["p"]])[0]
            )
            est = self.estimates.loc[[name]].droplevel(0) if multi else self.estimates
            disp = pd.DataFrame(
                {
                    "Estimate": est["estimate"],
                    "Std.Error": est["se"],
                    "DF": est["df"],
                    "t-value": est["t"],
                    f"Lower {self.level:g}": est["lower"],
                    f"Upper {self.level:g}": est["upper"],
                }
            )
            lines.append(table_r(disp, digits=6, formatted={"DF": [f"{v:g}" for v in est["df"]]}))
            ptxt = format_p(est["p"].to_numpy())
            lines[-1] = "\n".join(
                line + ("  p-value" if k == 0 else "  " + ptxt[k - 1].rjust(7))
                for k, line in enumerate(lines[-1].splitlines())
            )
            lines.append("")
        return "\n".join(lines).rstrip()


def _one_test(
    fix: FixInfo, L: pd.DataFrame, level: float
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    beta = fix.beta.to_numpy()
    V = fix.vcov.to_numpy()
    dfs = fix.df.to_numpy()
    Lm = L.to_numpy(dtype=float)
    if not np.all(np.isfinite(Lm)):
        raise ValueError("wald: L has missing or infinite entries")
    # full-rank version of L by SVD (spida2): rows of V' for the non-negligible singular values
    _, d, vt = np.linalg.svd(Lm, full_matrices=False)
    tol = max(Lm.shape) * (d.max() if d.size else 0.0) * np.finfo(float).eps
    r = int(np.sum(d > tol))
    if r == 0:
        raise ValueError("wald: L is zero; there is nothing to test")
    Lf = vt[:r]
    eta = Lf @ beta
    VL = Lf @ V @ Lf.T
    F = float(eta @ np.linalg.solve(VL, eta) / r)
    involved = np.any(np.abs(Lm) > 0, axis=0)
    den = float(np.min(dfs[involved]))
    p = float(stats.f.sf(F, r, den)) if np.isfinite(den) else float(stats.chi2.sf(F * r, r))
    test = {"numDF": r, "denDF": den, "F": F, "p": p}
    est = Lm @ beta
    cov = Lm @ V @ Lm.T
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    row_df = np.array([np.min(dfs[np.abs(row) > 0]) if np.any(row != 0) else np.nan for row in Lm])
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
    pv = np.where(
        np.isfinite(row_df),
        2 * stats.t.sf(np.abs(t), np.where(np.isfinite(row_df), row_df, 1)),
        2 * stats.norm.sf(np.abs(t)),
    )
    q = np.where(
        np.isfinite(row_df),
        stats.t.ppf(1 - (1 - level) / 2, np.where(np.isfinite(row_df), row_df, 1)),
        stats.norm.ppf(1 - (1 - level) / 2),
    )
    table = pd.DataFrame(
        {
            "estimate": est,
            "se": se,
            "df": row_df,
            "t": t,
            "p": pv,
            "lower": est - q * se,
            "upper": est + q * se,
        },
        index=L.index,
    )
    return test, table, pd.DataFrame(cov, index=L.index, columns=L.index)


def wald(fit: Any, L: Any = None, *, pred: pd.DataFrame | None = None, level: float = 0.95) -> WaldResult:
    """Wald F test (and per-row t tests) of linear hypotheses on the fixed effects.

    Parameters
    ----------
    fit : LmeResult or statsmodels results
    L : str, list, array, DataFrame or dict, optional
        The hypothesis (see the module docstring); None tests that all coefficients are zero.
    pred : DataFrame, optional
        A grid of covariate values: ``L`` becomes the model matrix on the grid (estimated means),
        and :meth:`WaldResult.to_frame` carries the grid's columns along.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    WaldResult

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fit = hk.lme("mathach ~ 1", hs, random="~ 1 | school")
    >>> round(hk.wald(fit).F, 3)
    715.589
    """
    if not isinstance(level, (int, float, np.floating)) or not 0 < float(level) < 1:
        raise ValueError(f"wald: level must be strictly between 0 and 1 (e.g. 0.95), not {level!r}")
    fix = get_fix(fit)
    names = list(fix.beta.index)
    data = None
    if pred is not None:
        if L is not None:
            raise ValueError("wald: give L or pred, not both")
        L = model_matrix_of(fit, pred)
        data = pred
    if data is None and isinstance(L, pd.DataFrame) and isinstance(L.attrs.get("data"), pd.DataFrame):
        data = L.attrs["data"]
    hyps: dict[str, Any]
    if isinstance(L, Mapping) and L and not all(_is_row(v, len(names)) for v in L.values()):
        hyps = {str(k): v for k, v in L.items()}
    else:
        Lf, label = _make_L(L, names)
        hyps = {label: Lf}
    tests, tables, Ls, covs = {}, {}, {}, {}
    for name, spec in hyps.items():
        Lmat = (
            spec
            if isinstance(spec, pd.DataFrame) and list(spec.columns) == names
            else _make_L(spec, names)[0]
        )
        t, tab, cov = _one_test(fix, Lmat, level)
        tests[name] = t
        tables[name] = tab
        Ls[name] = Lmat
        covs[name] = cov
    test = pd.DataFrame.from_dict(tests, orient="index")
    test["numDF"] = test["numDF"].astype(int)
    if len(tables) == 1:
        estimates = next(iter(tables.values()))
    else:
        estimates = pd.concat(tables, names=["hypothesis", "row"])
    return WaldResult(test=test, estimates=estimates, L=Ls, level=level, vcov=covs, data=data)


def model_matrix_of(fit: Any, newdata: pd.DataFrame) -> pd.DataFrame:
    mm = getattr(fit, "model_matrix", None)
    if mm is None:
        raise TypeError("wald(pred=...) needs a fit from hlmkit.lme or hlmkit.ols")
    return mm(newdata)


def lform(fit: Any, rows: Sequence[Any] | Mapping[str, Any], data: pd.DataFrame) -> pd.DataFrame:
    """An L matrix with one row per row of ``data`` (spida2's ``Lform``).

    ``rows`` gives each coefficient's entry: a list of length p, or a dict coefficient -> entry
    (others 0). An entry is a number, a column name or expression evaluated in ``data``
    (``"ses"``, ``"2 * ses"``), or a function of ``data``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 | school")
    >>> grid = pd.DataFrame({"ses": [-1.0, 0.0, 1.0]})
    >>> gap = hk.lform(fit, [0, 0, 1, "ses"], grid)   # Public - Catholic at each ses
    >>> gap.to_numpy()[:, 3].tolist()
    [-1.0, 0.0, 1.0]
    """
    names = list(get_fix(fit).beta.index)
    n = len(data)
    if isinstance(rows, Mapping):
        bad = [k for k in rows if k not in names]
        if bad:
            raise KeyError(f"lform: {bad} are not coefficients; the coefficients are {names}")
        entries = [rows.get(nm, 0) for nm in names]
    else:
        entries = list(rows)
        if len(entries) != len(names):
            raise ValueError(f"lform: {len(entries)} entries for {len(names)} coefficients {names}")
    cols = []
    for e in entries:
        if callable(e):
            v = np.asarray(e(data), dtype=float)
        elif isinstance(e, str):
            from .formula import evaluate, tokenize

            v = np.asarray(evaluate(tokenize(e), data), dtype=float)
        else:
            v = np.asarray(e, dtype=float)
        cols.append(np.broadcast_to(v, (n,)).astype(float) if v.ndim == 0 or v.size == 1 else v.reshape(n))
    L = pd.DataFrame(np.column_stack(cols), index=data.index, columns=names)
    L.attrs["data"] = data  # wald(fit, L).to_frame() carries the grid along
    return L


def pred_grid(**values: Any) -> pd.DataFrame:
    """All combinations of the given values, the first variable varying fastest (spida2's ``pred.grid``).

    Categorical values keep their categories, so model matrices built on the grid have the same
    columns as the fit.

    Examples
    --------
    >>> from hlmkit import pred_grid
    >>> pred_grid(ses=[-1, 1], Sector=["Catholic", "Public"])
       ses    Sector
    0   -1  Catholic
    1    1  Catholic
    2   -1    Public
    3    1    Public
    """
    names = list(values)
    arrays: list[pd.Categorical | list[Any]] = []
    for v in values.values():
        if isinstance(v, pd.Categorical):
            arrays.append(v)
        elif isinstance(v, pd.Series) and isinstance(v.dtype, pd.CategoricalDtype):
            arrays.append(pd.Categorical(v.cat.categories, categories=v.cat.categories))
        else:
            arrays.append(list(pd.unique(pd.Series(list(v)))))
    sizes = [len(a) for a in arrays]
    total = int(np.prod(sizes))
    out: dict[str, Any] = {}
    rep = 1
    for name, arr, size in zip(names, arrays, sizes):
        idx = np.tile(np.repeat(np.arange(size), rep), total // (size * rep))
        if isinstance(arr, pd.Categorical):
            out[name] = pd.Categorical.from_codes(np.asarray(arr.codes)[idx], categories=arr.categories)
        else:
            out[name] = np.asarray(arr, dtype=object)[idx]
            try:
                out[name] = pd.to_numeric(out[name])
            except (ValueError, TypeError):
                pass
        rep *= size
    return pd.DataFrame(out)
