"""Ordinary least squares with R's formulas and names (R's ``lm``), and its ``summary`` printout.

:func:`ols` fits with statsmodels and returns an :class:`OlsResult`: statsmodels' numbers under
statsmodels' names (``params``, ``bse``, ``resid``, ``scale``, ...), plus what R's ``lm`` knows
and statsmodels does not: the formula, every column of the design, and which columns are
*aliased* (linear combinations of earlier columns, left out of the fit and printed as ``NA``).

:func:`pivot` is R's rule for aliased columns (``lm``'s pivoting, in column order); it is used
here, by :func:`hlmkit.lmlist` in every cluster and by :func:`hlmkit.lme` to name the columns of
a rank-deficient design.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._rprint import RPrinted, coef_table_r, format_r, table_r
from .formula import ModelFrame

__all__ = ["OlsResult", "lm_summary", "ols"]


def pivot(X: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Which columns of ``X`` R's ``lm`` keeps: those that are not linear combinations of earlier ones.

    Gram-Schmidt, column by column (twice, for numerical safety): a column whose part orthogonal
    to the columns kept so far is at most ``tol`` of its length (or that is zero) is aliased.

    Returns
    -------
    ndarray of bool, one per column: True where the column is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.leastsquares import pivot
    >>> pivot(np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 3.0]])).tolist()
    [True, True, False]
    """
    n, p = X.shape
    basis = np.empty((n, p))
    m = 0  # columns kept so far
    kept = np.zeros(p, dtype=bool)
    for k in range(p):
        v = np.asarray(X[:, k], dtype=float)
        norm0 = float(np.linalg.norm(v))
        if norm0 == 0:
            continue
        Q = basis[:, :m]
        r = v - Q @ (Q.T @ v)
        r = r - Q @ (Q.T @ r)
        norm = float(np.linalg.norm(r))
        if norm > tol * norm0:
            basis[:, m] = r / norm
            m += 1
            kept[k] = True
    return kept


def aliased_columns(X: np.ndarray, names: list[str], tol: float = 1e-7) -> list[str]:
    """The names of the columns :func:`pivot` leaves out (R's ``NA`` coefficients)."""
    return [name for name, keep in zip(names, pivot(X, tol)) if not keep]


def lstsq_pivot(X: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray, float, int]:
    """OLS with R's rule for aliased columns (:func:`pivot`): NaN for those coefficients.

    Returns the coefficients, their standard errors, sigma and the residual df.
    """
    n, p = X.shape
    kept = np.flatnonzero(pivot(X, tol))
    beta = np.full(p, np.nan)
    se = np.full(p, np.nan)
    if not len(kept):
        return beta, se, float("nan"), n
    Xk = X[:, kept]
    b, *_ = np.linalg.lstsq(Xk, y, rcond=None)
    resid = y - Xk @ b
    dfr = n - len(kept)
    sigma = float(np.sqrt(resid @ resid / dfr)) if dfr > 0 else float("nan")
    beta[kept] = b
    if dfr > 0:
        cov = sigma**2 * np.linalg.inv(Xk.T @ Xk)
        se[kept] = np.sqrt(np.diag(cov))
    return beta, se, sigma, dfr


@dataclass(repr=False, eq=False)
class OlsResult(RPrinted):
    """An OLS fit from :func:`ols`; prints as R's ``summary(lm(...))``.

    Attributes
    ----------
    formula : str
    columns : list of str
        Every column of the design, aliased ones included, in R's order and with R's names.
    aliased : list of str
        The columns left out because they are linear combinations of earlier ones (R's ``NA``).
    design : DataFrame
        The design matrix of the rows used, every column (aliased ones included).
    y : Series
        The response on the rows used.
    n_dropped : int
        Rows left out because a model variable was missing.
    results : statsmodels RegressionResults
        statsmodels' fit of the estimable columns; the properties below are its numbers.
    """

    formula: str
    columns: list[str]
    aliased: list[str]
    design: pd.DataFrame
    y: pd.Series
    n_dropped: int
    results: Any = field(repr=False)
    _frame: ModelFrame = field(repr=False)

    # statsmodels' numbers, under statsmodels' names and of statsmodels' types
    @property
    def params(self) -> pd.Series:
        """The estimated coefficients (the estimable ones), named as R names them."""
        return self.results.params

    @property
    def bse(self) -> pd.Series:
        """Standard errors of :attr:`params`."""
        return self.results.bse

    @property
    def tvalues(self) -> pd.Series:
        return self.results.tvalues

    @property
    def pvalues(self) -> pd.Series:
        return self.results.pvalues

    @property
    def resid(self) -> pd.Series:
        return self.results.resid

    @property
    def fittedvalues(self) -> pd.Series:
        return self.results.fittedvalues

    @property
    def scale(self) -> float:
        """The residual variance ``RSS / df_resid`` (sigma squared)."""
        return self.results.scale

    @property
    def df_resid(self) -> float:
        return self.results.df_resid

    @property
    def df_model(self) -> float:
        return self.results.df_model

    @property
    def nobs(self) -> float:
        return self.results.nobs

    @property
    def rank(self) -> int:
        """The rank of the design (the number of estimable coefficients)."""
        return int(self.results.model.rank)

    @property
    def rsquared(self) -> float:
        return self.results.rsquared

    @property
    def rsquared_adj(self) -> float:
        return self.results.rsquared_adj

    @property
    def fvalue(self) -> float:
        return self.results.fvalue

    @property
    def f_pvalue(self) -> float:
        return self.results.f_pvalue

    @property
    def use_t(self) -> bool:
        return True

    def cov_params(self) -> pd.DataFrame:
        """The covariance matrix of :attr:`params`."""
        return self.results.cov_params()

    def compare_f_test(self, restricted: Any) -> tuple[float, float, float]:
        """The F test of this model against a ``restricted`` one nested in it: ``(F, p, df_diff)``."""
        other = restricted.results if isinstance(restricted, OlsResult) else restricted
        return self.results.compare_f_test(other)

    def get_influence(self) -> Any:
        """statsmodels' ``OLSInfluence`` (hat values, studentised residuals, Cook's distances)."""
        return self.results.get_influence()

    def model_matrix(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """The design of the estimable columns on new data (for :func:`hlmkit.wald` with ``pred=``)."""
        kept = [c for c in self.columns if c not in self.aliased]
        return self._frame.new_design(self._frame.parsed, newdata).frame(newdata.index)[kept]

    def summary(self) -> str:
        """R's ``summary(lm(...))`` printout (:func:`lm_summary`)."""
        return lm_summary(self)

    def __str__(self) -> str:
        return lm_summary(self)


def ols(formula: str, data: pd.DataFrame) -> OlsResult:
    """Ordinary least squares with R's model formulas and coefficient names (R's ``lm``).

    Returns an :class:`OlsResult` whose parameters are named as R names them (``(Intercept)``,
    ``SectorPublic``, ``ses:SectorPublic``), so that :func:`hlmkit.wald` patterns written for R
    work unchanged; printing it (or :func:`lm_summary`) shows R's ``summary(lm(...))``.

    As R's ``lm`` does, a column that is a linear combination of earlier columns is *aliased*: it
    is left out of the fit (its coefficient is not estimable), and its name is listed in
    ``fit.aliased``; ``lm_summary`` shows it as ``NA``, and :func:`hlmkit.wald` tests only
    estimable coefficients. (statsmodels on its own would return a minimum-norm solution in
    which aliased columns share out what only their combination can estimate.)

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.ols("mathach ~ ses * Sector", hk.load_hs())
    >>> round(float(fit.params["ses:SectorPublic"]), 4)
    1.6051
    """
    import statsmodels.api as sm

    mf = ModelFrame(formula, data)
    d = mf.design()
    X = d.frame(mf.index)
    aliased = aliased_columns(d.matrix, d.columns)
    kept = [c for c in d.columns if c not in aliased]
    y = pd.Series(mf.y, index=mf.index, name=mf.parsed.response)
    res = sm.OLS(y, X[kept]).fit()
    return OlsResult(
        formula=formula,
        columns=list(d.columns),
        aliased=aliased,
        design=X,
        y=y,
        n_dropped=mf.n_dropped,
        results=res,
        _frame=mf,
    )


def lm_summary(res: Any) -> str:
    """R's ``summary(lm(...))`` printout of an :func:`ols` fit (or of a statsmodels OLS result)."""
    formula = getattr(res, "formula", None)
    resid = np.asarray(res.resid)
    lines = []
    if formula:
        lines += ["Call:", f"lm(formula = {formula})", ""]
    lines.append("Residuals:")
    qs = np.quantile(resid, [0, 0.25, 0.5, 0.75, 1])
    mx = float(np.max(np.abs(qs)))
    zz = np.round(qs, int(np.floor(5 - np.log10(mx) + 0.5))) if mx > 0 else qs  # R's zapsmall(q, digits + 1)
    heads = ["Min", "1Q", "Median", "3Q", "Max"]
    lines.append(
        table_r(
            pd.DataFrame([zz], columns=heads, index=[""]),
            formatted={c: [v] for c, v in zip(heads, format_r(zz, 4))},
        )
    )
    lines.append("")
    aliased = list(getattr(res, "aliased", []))
    columns = list(getattr(res, "columns", res.params.index))
    if aliased:
        lines.append(f"Coefficients: ({len(aliased)} not defined because of singularities)")
    else:
        lines.append("Coefficients:")
    table = pd.DataFrame({"e": res.params, "s": res.bse, "t": res.tvalues, "p": res.pvalues}).reindex(columns)
    lines.append(coef_table_r(table["e"], table["s"], table["t"], table["p"], "t value", "Pr(>|t|)"))
    lines.append("")
    s = float(np.sqrt(res.scale))
    lines.append(f"Residual standard error: {s:.4g} on {int(res.df_resid)} degrees of freedom")
    lines.append(f"Multiple R-squared:  {res.rsquared:.4g},\tAdjusted R-squared:  {res.rsquared_adj:.4g} ")
    if res.df_model > 0:
        lines.append(
            f"F-statistic: {res.fvalue:.4g} on {int(res.df_model)} and {int(res.df_resid)} DF,  "
            f"p-value: {'< 2.2e-16' if res.f_pvalue < 2.2e-16 else f'{res.f_pvalue:.4g}'}"
        )
    return "\n".join(lines)
