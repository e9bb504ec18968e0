"""Multivariate linear models (R's ``lm`` with a matrix response) and their MANOVA tests.

The notes' Method 3, the two-stage or "derived variables" approach, fits a line in each school
(:func:`hlmkit.lmlist`) and then regresses the schools' intercepts and slopes, jointly, on school
characteristics::

    lcoefs <- coef(lmList(mathach ~ ses | factor(school), hs))
    lm.mult <- lm(as.matrix(lcoefs) ~ Sector, up(hs, ~ factor(school)))
    summary(lm.mult); anova(lm.mult)

:func:`mlm` is that multivariate regression. Each response gets the same OLS coefficients and
standard errors as a separate regression (``summary`` prints one table per response, as R does);
what the joint fit adds is the covariance between the equations, ``Sigma`` (x) ``(X'X)^-1``, which
gives confidence ellipses for pairs of coefficients from different equations (an intercept and
a slope), and the multivariate tests of each term (Pillai, Wilks, Hotelling-Lawley, Roy).

A result works with :func:`hlmkit.wald` and :func:`hlmkit.conf_ellipse`; its coefficients are named
``response:coefficient`` as R's ``vcov(lm.mult)`` names them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._rprint import RPrinted, coef_table_r
from .formula import ModelFrame

__all__ = ["MlmResult", "manova_stats", "mlm"]

_TESTS = ("Pillai", "Wilks", "Hotelling-Lawley", "Roy")


@dataclass(repr=False)
class MlmResult(RPrinted):
    """A multivariate linear model fitted by :func:`mlm`.

    Attributes
    ----------
    coef, se, t, p : DataFrame
        One row per coefficient, one column per response (R's ``coef(lm.mult)`` layout).
    sigma : DataFrame
        Residual covariance of the responses, ``E / df_resid`` with ``E`` the residual SSCP.
    df_resid : int
    resid, fitted : DataFrame
        One row per observation used, one column per response.
    params : Series
        The coefficients stacked response by response, named ``response:coefficient``.
    formula : str
        The right-hand side of the model.
    n_dropped : int
        Rows left out because a response or a model variable was missing.
    design : ndarray
        The design matrix ``X`` of the rows used.
    assign, terms : list
        The term of each column of ``design`` (positions in ``terms``, from 0) and the terms' labels.
    """

    coef: pd.DataFrame
    se: pd.DataFrame
    t: pd.DataFrame
    p: pd.DataFrame
    sigma: pd.DataFrame
    df_resid: int
    resid: pd.DataFrame
    fitted: pd.DataFrame
    params: pd.Series
    formula: str
    n_dropped: int
    design: np.ndarray = field(repr=False)
    assign: list[int] = field(repr=False)
    terms: list[str] = field(repr=False)

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return int(self.design.shape[0])

    def cov_params(self) -> pd.DataFrame:
        """Covariance of :attr:`params`: ``Sigma`` (x) ``(X'X)^-1`` (R's ``vcov`` of an mlm)."""
        xtx_inv = np.linalg.inv(self.design.T @ self.design)
        V = np.kron(self.sigma.to_numpy(), xtx_inv)
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)

    @property
    def vcov(self) -> pd.DataFrame:
        """Same as :meth:`cov_params`."""
        return self.cov_params()

    def coef_L(self, coefficient: str) -> pd.DataFrame:
        """The L matrix that picks ``coefficient`` in every response (one row per response).

        With responses ``(Intercept)`` and ``ses``, ``coef_L("SectorPublic")`` is the Public minus
        Catholic difference in intercept and in slope, as a pair: give it to :func:`hlmkit.wald`
        or :func:`hlmkit.conf_ellipse`.
        """
        if coefficient not in self.coef.index:
            raise KeyError(
                f"mlm: {coefficient!r} is not a coefficient; the coefficients are {list(self.coef.index)}"
            )
        names = list(self.params.index)
        L = pd.DataFrame(0.0, index=list(self.coef.columns), columns=names)
        for resp in self.coef.columns:
            L.loc[resp, f"{resp}:{coefficient}"] = 1.0
        return L

    def manova(self, test: str = "Pillai") -> pd.DataFrame:
        """Sequential multivariate tests of the terms (R's ``anova(lm.mult, test = ...)``).

        Each term, the intercept included, is tested after the terms before it, against the
        residual SSCP of the full model.

        Parameters
        ----------
        test : {"Pillai", "Wilks", "Hotelling-Lawley", "Roy"}

        Returns
        -------
        DataFrame with one row per term: ``Df``, the statistic, ``approx F``, ``num Df``,
        ``den Df``, ``Pr(>F)``.
        """
        if test not in _TESTS:
            raise ValueError(f"mlm.manova: test must be one of {_TESTS}, not {test!r}")
        X = self.design
        Y = (self.fitted + self.resid).to_numpy()
        E = self.resid.to_numpy().T @ self.resid.to_numpy()
        rows = {}
        assign = np.asarray(self.assign)
        prev_resid = Y
        for k, term in enumerate(self.terms):
            cols = np.flatnonzero(assign <= k)
            B, *_ = np.linalg.lstsq(X[:, cols], Y, rcond=None)
            res = Y - X[:, cols] @ B
            H = prev_resid.T @ prev_resid - res.T @ res
            q = int(np.sum(assign == k))
            stat, F, df1, df2 = manova_stats(H, E, q, self.df_resid, test)
            rows[term] = {
                "Df": q,
                test: stat,
                "approx F": F,
                "num Df": df1,
                "den Df": df2,
                "Pr(>F)": float(stats.f.sf(F, df1, df2)),
            }
            prev_resid = res
        return pd.DataFrame.from_dict(rows, orient="index")

    def summary(self) -> str:
        """One coefficient table per response, as R's ``summary(lm.mult)`` prints them."""
        out = []
        variances = np.diag(self.sigma.loc[self.coef.columns, self.coef.columns].to_numpy(dtype=float))
        for resp, var in zip(self.coef.columns, variances):
            body = coef_table_r(self.coef[resp], self.se[resp], self.t[resp], self.p[resp]).splitlines()
            s = math.sqrt(float(var))
            out += [
                f"Response {resp} :",
                "",
                "Coefficients:",
                *body,
                "",
                f"Residual standard error: {s:.4g} on {self.df_resid} degrees of freedom",
                "",
            ]
        return "\n".join(out).rstrip()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:  # a console shows the short form; a notebook the summary (its HTML)
        return f"mlm: cbind({', '.join(self.coef.columns)}) ~ {self.formula}  ({self.nobs} rows)\n" + repr(
            self.coef
        )


def manova_stats(
    H: Any, E: Any, q: int, df_resid: int, test: str = "Pillai"
) -> tuple[float, float, float, float]:
    """A multivariate test statistic and its F approximation (R's ``summary.manova`` formulas).

    Parameters
    ----------
    H, E : (p, p) arrays
        Hypothesis and error SSCP matrices.
    q : int
        Degrees of freedom of the hypothesis.
    df_resid : int
        Error degrees of freedom.
    test : {"Pillai", "Wilks", "Hotelling-Lawley", "Roy"}

    Returns
    -------
    (statistic, approx F, numerator df, denominator df)

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.multivariate import manova_stats
    >>> stat, F, df1, df2 = manova_stats(np.eye(2), 4 * np.eye(2), 1, 20, "Wilks")
    >>> round(stat, 4), round(F, 4), df1, df2     # exact here: F = (1 - stat) / stat * 19 / 2
    (0.64, 5.3437, 2.0, 19.0)
    """
    H = np.asarray(H, dtype=float)
    E = np.asarray(E, dtype=float)
    eig = np.sort(np.real(np.linalg.eigvals(np.linalg.solve(E, H))))[::-1]
    eig = np.clip(eig, 0, None)
    p = len(eig)
    if test == "Pillai":
        stat = float(np.sum(eig / (1 + eig)))
        s = min(p, q)
        n = 0.5 * (df_resid - p - 1)
        m = 0.5 * (abs(p - q) - 1)
        t1, t2 = 2 * m + s + 1, 2 * n + s + 1
        return stat, (t2 / t1 * stat) / (s - stat), s * t1, s * t2
    if test == "Wilks":
        stat = float(np.prod(1 / (1 + eig)))
        t1 = df_resid - 0.5 * (p - q + 1)
        t2 = (p * q - 2) / 4
        t3sq = p**2 + q**2 - 5
        t3 = math.sqrt(((p * q) ** 2 - 4) / t3sq) if t3sq > 0 else 1.0
        return stat, ((stat ** (-1 / t3) - 1) * (t1 * t3 - 2 * t2)) / p / q, float(p * q), t1 * t3 - 2 * t2
    if test == "Hotelling-Lawley":
        stat = float(np.sum(eig))
        m = 0.5 * (abs(p - q) - 1)
        n = 0.5 * (df_resid - p - 1)
        s = min(p, q)
        t1, t2 = 2 * m + s + 1, 2 * (s * n + 1)
        return stat, (t2 * stat) / s / s / t1, s * t1, t2
    if test == "Roy":
        stat = float(np.max(eig))
        t1 = max(p, q)
        t2 = df_resid - t1 + q
        return stat, (t2 * stat) / t1, float(t1), float(t2)
    raise ValueError(f"manova_stats: test must be one of {_TESTS}, not {test!r}")


def mlm(responses: pd.DataFrame, formula: str, data: pd.DataFrame) -> MlmResult:
    """Regress several responses jointly on the same predictors (R's ``lm(as.matrix(Y) ~ ...)``).

    Parameters
    ----------
    responses : DataFrame
        One column per response, rows matched to ``data`` by index (e.g. the per-school
        coefficients ``hk.lmlist(...).coef`` and the school table ``hk.up(hs, "school")``,
        both indexed by school).
    formula : str
        The right-hand side, e.g. ``"~ Sector"`` (R's formulas and coefficient names).
    data : DataFrame
        The predictors, one row per row of ``responses``.

    Returns
    -------
    MlmResult

    Examples
    --------
    >>> import hlmkit as hk
    >>> from hlmkit.multivariate import mlm
    >>> hs = hk.load_hs()
    >>> lcoefs = hk.lmlist("mathach ~ ses", hs, "school").coef
    >>> fit = mlm(lcoefs, "~ Sector", hk.up(hs, "school"))
    >>> fit.coef.round(4)
                  (Intercept)     ses
    (Intercept)       13.3405  1.6672
    SectorPublic      -2.0273  1.1100
    >>> round(float(fit.se.loc["SectorPublic", "ses"]), 4)
    0.5086
    """
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(
            f"mlm: responses must be a DataFrame with one column per response, not {type(responses).__name__}"
        )
    if responses.shape[1] < 1:
        raise ValueError("mlm: responses has no columns")
    bad = [c for c in responses.columns if not pd.api.types.is_numeric_dtype(responses[c])]
    if bad:
        raise TypeError(f"mlm: the responses {bad} are not numeric")
    missing_rows = responses.index.difference(data.index)
    if len(missing_rows):
        raise KeyError(
            f"mlm: rows {list(missing_rows[:5])} of responses are not in data (rows are matched by index)"
        )
    if not responses.index.is_unique or not data.index.is_unique:
        raise ValueError("mlm: responses and data need unique indexes to match their rows")
    rhs = formula.strip()
    if "~" in rhs:
        lhs, rhs = rhs.split("~", 1)
        if lhs.strip():
            raise ValueError(
                f"mlm: give only the right-hand side of the formula (e.g. '~ Sector'), not {formula!r}"
            )
    d = data.loc[responses.index].copy()
    names = [str(c) for c in responses.columns]
    safe = [f"mlm_response_{k}" for k in range(len(names))]
    for s, c in zip(safe, responses.columns):
        d[s] = responses[c].to_numpy(dtype=float)
    mf = ModelFrame("~ " + rhs, d, extra_vars=safe)
    des = mf.design()
    X = des.matrix
    Y = d.loc[mf.keep, safe].to_numpy(dtype=float)
    n, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise ValueError(f"mlm: the design of '~ {rhs}' is rank deficient; columns {des.columns}")
    df_resid = n - p
    if df_resid < 1:
        raise ValueError(f"mlm: {n} rows for {p} coefficients leave no residual degrees of freedom")
    B, *_ = np.linalg.lstsq(X, Y, rcond=None)
    fitted = X @ B
    resid = Y - fitted
    Sigma = resid.T @ resid / df_resid
    xtx_inv = np.linalg.inv(X.T @ X)
    se = np.sqrt(np.outer(np.diag(xtx_inv), np.diag(Sigma)))
    tv = B / se
    pv = 2 * stats.t.sf(np.abs(tv), df_resid)
    cols = des.columns
    frame = lambda a: pd.DataFrame(a, index=cols, columns=names)  # noqa: E731
    idx = mf.index
    params = pd.Series(B.T.reshape(-1), index=[f"{r}:{c}" for r in names for c in cols])
    term_of = des.assign
    return MlmResult(
        coef=frame(B),
        se=frame(se),
        t=frame(tv),
        p=frame(pv),
        sigma=pd.DataFrame(Sigma, index=names, columns=names),
        df_resid=int(df_resid),
        resid=pd.DataFrame(resid, index=idx, columns=names),
        fitted=pd.DataFrame(fitted, index=idx, columns=names),
        params=params,
        formula="~ " + rhs.strip(),
        n_dropped=mf.n_dropped,
        design=X,
        assign=list(term_of),
        terms=list(des.term_labels),
    )
