"""Diagnostics of a mixed model: the Hausman test, influence (drop one cluster or row), and plots.

* :func:`hausman` is the classical contrast of a fixed-effects (within) fit and a random-effects
  fit of the same coefficients: if the random effects are independent of the covariates both are
  consistent and their difference is noise; if not, the difference is systematic. Its modern
  form, the Wald test of contextual (``cvar``) terms, is :func:`hlmkit.wald`.
* :func:`influence` deletes each cluster (or each row) in turn, refits, and reports how much each
  fixed effect moves and the Cook's distance of lme4's ``cooks.distance(influence(fit, groups=))``.
  The refits do not rebuild the model: the deleted rows' contributions are subtracted from the
  fit's cross-products, and each refit starts from the full fit's variance components.
* :func:`influence_plot` draws the Lab's index plot of Cook's distances; the Lab's residual and
  random-effect displays are general plots, in :mod:`hlmkit.plots` (``qq_plot``, ``xy_panels``,
  ``scatter_matrix``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from ._blas import single_threaded_blas
from ._rprint import RPrinted
from .frames import _split_indices
from .hypotheses import get_fix
from .leastsquares import OlsResult
from .lmm import LmeResult, _group_values
from .plots import MIN_TEXT_PT, _extreme_points
from .refit import WarmRefit

__all__ = [
    "HausmanResult",
    "HausmanWarning",
    "hausman",
    "influence",
    "influence_plot",
]


# --------------------------------------------------------------------------------------------
# the Hausman test
# --------------------------------------------------------------------------------------------


class HausmanWarning(UserWarning):
    """The difference of the two covariance matrices is not positive definite."""


@dataclass(repr=False)
class HausmanResult(RPrinted):
    """Result of :func:`hausman`.

    Attributes
    ----------
    statistic : float
        ``H = d' (V_fe - V_re)^- d`` with ``d = b_fe - b_re``.
    df : int
        The number of coefficients compared (the rank of ``V_fe - V_re``).
    pvalue : float
        Upper chi-square tail of ``H`` on ``df``.
    coefficients : DataFrame
        One row per coefficient compared: ``fe``, ``re``, ``difference``, ``se_fe``, ``se_re`` and
        ``se_difference`` (the square root of the diagonal of ``V_fe - V_re``; NaN if negative).
    positive_definite : bool
        Whether ``V_fe - V_re`` is positive definite, as the theory says it should be.
    eigenvalues : ndarray
        Eigenvalues of ``V_fe - V_re``.
    """

    statistic: float
    df: int
    pvalue: float
    coefficients: pd.DataFrame
    positive_definite: bool
    eigenvalues: np.ndarray = field(repr=False)

    def __str__(self) -> str:
        lines = ["Hausman test: fixed effects (within) vs random effects", ""]
        tab = self.coefficients
        w = max(len(str(i)) for i in tab.index)
        lines.append(" " * w + "        FE        RE  FE - RE  SE(FE - RE)")
        for name, row in tab.iterrows():
            lines.append(
                f"{name!s:<{w}} {row['fe']:9.5f} {row['re']:9.5f} {row['difference']:8.5f} "
                f"{row['se_difference']:12.5f}"
            )
        lines.append("")
        p = f"{self.pvalue:.4g}" if self.pvalue >= 2.2e-16 else "< 2.2e-16"
        lines.append(f"chisq = {self.statistic:.5g}, df = {self.df}, p-value = {p}")
        lines.append("alternative hypothesis: one model is inconsistent")
        if not self.positive_definite:
            lines.append("(V_fe - V_re is not positive definite: generalised inverse, df = its rank)")
        return "\n".join(lines)


def _estimable(fit: Any, names: list[str]) -> list[str]:
    """Those of ``names`` that an OLS fit with a rank-deficient design actually estimates.

    A coefficient is estimable when its column is not part of any linear dependency among the
    design's columns (the null space of X has no weight on it). For a fit from :func:`hlmkit.ols`
    the whole design is used, aliased columns included: with school dummies in the model, R's
    ``lm`` (and ``hk.ols``) drops a dummy and reports a number for ``SectorPublic``, but that number
    is a contrast of school effects, not a sector effect.
    """
    if isinstance(fit, OlsResult):
        X = fit.design.to_numpy(dtype=float)
        all_names = list(fit.design.columns)
    else:
        exog = getattr(getattr(fit, "model", None), "exog", None)
        if exog is None:
            return names
        X = np.asarray(exog, dtype=float)
        all_names = list(get_fix(fit).beta.index)
    if np.linalg.matrix_rank(X) == X.shape[1]:
        return names
    _, d, vt = np.linalg.svd(X, full_matrices=False)
    null = vt[d <= d.max() * max(X.shape) * np.finfo(float).eps]
    return [n for n in names if n in all_names and np.all(np.abs(null[:, all_names.index(n)]) < 1e-8)]


def _check_same_rows(fe_fit: Any, re_fit: LmeResult) -> None:
    """The two fits must be of the same response on the same rows: the test compares their estimates."""
    if isinstance(fe_fit, OlsResult):
        endog: Any = fe_fit.y
        labels: Any = fe_fit.y.index
    else:
        model = getattr(fe_fit, "model", None)
        endog = getattr(model, "endog", None)
        labels = getattr(getattr(model, "data", None), "row_labels", None)
    if endog is None:
        raise TypeError(
            f"hausman: fe_fit must be a fit from hlmkit.ols (or statsmodels), not {type(fe_fit).__name__}"
        )
    y_fe = np.asarray(endog, dtype=float).reshape(-1)
    y_re = re_fit.y
    if len(y_fe) != len(y_re):
        raise ValueError(
            f"hausman: the fits use different rows: {len(y_fe)} in the fixed-effects fit, "
            f"{len(y_re)} in the random-effects fit; fit both to the same data"
        )
    if labels is not None and not pd.Index(labels).equals(y_re.index):
        raise ValueError(
            "hausman: the fits use different rows (their row labels differ); fit both to the same data"
        )
    if not np.allclose(y_fe, y_re.to_numpy(), rtol=1e-12, atol=0):
        raise ValueError(
            "hausman: the fits have different responses on their rows; fit both to the same response"
        )


def hausman(fe_fit: Any, re_fit: Any, terms: Sequence[str] | str | None = None) -> HausmanResult:
    """The classical Hausman test of a fixed-effects fit against a random-effects fit.

    Under the random-effects assumption (cluster effects independent of the covariates) both
    fits estimate the within-cluster coefficients consistently and the random-effects fit is
    efficient, so ``Var(b_fe - b_re) = V_fe - V_re`` and ``H = d' (V_fe - V_re)^-1 d`` is
    approximately chi-square on ``df`` = the number of coefficients compared. A large ``H`` says
    the between-cluster and within-cluster relationships differ: the random-effects estimates
    mix the two. When ``V_fe - V_re`` is not positive definite (it can happen in samples, and with
    random slopes) a generalised inverse is used, ``df`` is its rank, and a
    :class:`HausmanWarning` says so.

    Parameters
    ----------
    fe_fit : OlsResult (from :func:`hlmkit.ols`) or statsmodels results
        The fixed-effects fit, e.g. ``hk.ols("mathach ~ ses + ses:Sector + factor(id)", hs1)``
        (cluster dummies absorb everything that is constant within clusters).
    re_fit : LmeResult
        The random-effects fit of the same response, e.g. ``hk.lme("mathach ~ ses * Sector", hs1,
        random="~ 1 | id")``.
    terms : list of str or a regular expression, optional
        The coefficients to compare. Default: every coefficient the two fits share, except the
        intercept and any the fixed-effects fit cannot estimate (aliased with the dummies).

    Returns
    -------
    HausmanResult

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fe = hk.ols("mathach ~ ses + factor(school)", hs)
    >>> re = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    >>> h = hk.hausman(fe, re)
    >>> h.df, round(h.statistic, 2) > 0
    (1, True)
    """
    import re as _re

    if not isinstance(re_fit, LmeResult):
        raise TypeError(
            f"hausman: re_fit must be an LmeResult (from hlmkit.lme), not {type(re_fit).__name__}"
        )
    _check_same_rows(fe_fit, re_fit)
    fe = get_fix(fe_fit)
    rf = get_fix(re_fit)
    common = [n for n in fe.beta.index if n in rf.beta.index]
    if terms is None:
        chosen = [n for n in common if n != "(Intercept)"]
        chosen = _estimable(fe_fit, chosen)
    elif isinstance(terms, str):
        pat = _re.compile(terms)
        chosen = [n for n in common if pat.search(n)]
        if not chosen:
            raise ValueError(
                f"hausman: the pattern {terms!r} matches no coefficient of both fits; they share {common}"
            )
    else:
        chosen = list(terms)
        bad = [t for t in chosen if t not in common]
        if bad:
            raise KeyError(f"hausman: {bad} are not coefficients of both fits; they share {common}")
    if terms is not None:
        not_est = [n for n in chosen if n not in _estimable(fe_fit, chosen)]
        if not_est:
            raise ValueError(
                f"hausman: the fixed-effects fit does not estimate {not_est} (aliased with the "
                "cluster dummies); compare only coefficients that vary within clusters"
            )
    if not chosen:
        raise ValueError(
            "hausman: the two fits have no coefficient in common to compare (besides the intercept)"
        )
    d = (fe.beta[chosen] - rf.beta[chosen]).to_numpy(float)
    Vd = fe.vcov.loc[chosen, chosen].to_numpy(float) - rf.vcov.loc[chosen, chosen].to_numpy(float)
    Vd = (Vd + Vd.T) / 2
    ev = np.linalg.eigvalsh(Vd)
    tol = max(len(ev), 1) * np.finfo(float).eps * max(float(np.abs(ev).max()), 1e-300) * 100
    positive = bool(ev.min() > tol)
    if positive:
        stat = float(d @ np.linalg.solve(Vd, d))
        df = len(chosen)
    else:
        stat = float(d @ np.linalg.pinv(Vd, rcond=1e-10, hermitian=True) @ d)
        df = int(np.sum(np.abs(ev) > tol))
        warnings.warn(
            "hausman: V_fe - V_re is not positive definite (eigenvalues "
            + ", ".join(f"{v:.3g}" for v in ev)
            + "), so the random-effects fit is not the efficient one the test assumes and the "
            f"statistic ({stat:.4g}, generalised inverse, df = {df}) is not chi-square",
            HausmanWarning,
            stacklevel=2,
        )
    pvalue = float(stats.chi2.sf(stat, df)) if df > 0 else float("nan")
    se_fe = np.sqrt(np.diag(fe.vcov.loc[chosen, chosen].to_numpy(float)))
    se_re = np.sqrt(np.diag(rf.vcov.loc[chosen, chosen].to_numpy(float)))
    with np.errstate(invalid="ignore"):
        se_d = np.sqrt(np.diag(Vd))
    coefs = pd.DataFrame(
        {
            "fe": fe.beta[chosen].to_numpy(float),
            "re": rf.beta[chosen].to_numpy(float),
            "difference": d,
            "se_fe": se_fe,
            "se_re": se_re,
            "se_difference": se_d,
        },
        index=chosen,
    )
    return HausmanResult(stat, df, pvalue, coefs, positive, ev)


# --------------------------------------------------------------------------------------------
# influence: drop one cluster (or row) at a time
# --------------------------------------------------------------------------------------------


def influence(fit: LmeResult, by: str | None = None, *, maxiter: int = 100) -> pd.DataFrame:
    """Delete each cluster (or each row) in turn, refit, and measure how the fixed effects move.

    The counterpart of lme4's ``influence(fit, groups = by)`` with ``cooks.distance`` and
    ``dfbeta`` (and of spida2's ``dropone``). Each refit keeps the model and the rows of the
    other units; the deleted rows' contributions are subtracted from the fit's cross-products
    (nothing is re-evaluated: a ``cvar`` term keeps the values it had in the full data, as in
    lme4's refits with ``subset``), and the search starts from the full fit's variance
    parameters.

    Cook's distance is lme4's: ``D_j = (m - p) / (m p) * d_j' V^-1 d_j`` with
    ``d_j = b_(-j) - b`` the change in the fixed effects when unit j is deleted, ``V`` the full
    fit's ``vcov``, ``m`` the number of units deleted in turn and ``p`` the number of fixed effects.

    Parameters
    ----------
    fit : LmeResult
    by : str, optional
        A column of the fitted data; every row sharing a value is deleted together (the
        grouping column deletes whole clusters). None deletes one row at a time.
    maxiter : int
        Iteration limit of the fallback optimiser (used when a warm-started refit stops short).

    Returns
    -------
    DataFrame
        Indexed by the deleted unit (cluster label, or row label): one column per fixed effect
        holding ``b_(-j) - b``, then ``cooks_distance``, ``converged`` (whether the refit
        reached an optimum) and ``boundary`` (whether that optimum has a zero random-effect
        variance or a correlation of +-1).

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fit = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    >>> infl = hk.influence(fit, by="school")
    >>> infl.shape, bool(infl["converged"].all())
    ((40, 5), True)
    """
    if not isinstance(fit, LmeResult):
        raise TypeError(f"influence: needs an LmeResult (from hlmkit.lme), not a {type(fit).__name__}")
    cp = fit.crossproducts
    dev = fit.deviance_function
    n = cp.n
    if by is None:
        labels = pd.Index(fit.y.index, name="row")
        units = [np.array([k]) for k in range(n)]
    elif by == fit.group:
        labels = fit.groups
        units = _split_indices(cp.codes, len(labels))
    else:
        if by not in fit.data.columns:
            raise KeyError(f"influence: no column {by!r} in the data of the fit")
        column = fit.data[by]
        if column.isna().any():
            raise ValueError(f"influence: the column {by!r} has missing values in the rows of the fit")
        codes, labels = _group_values(column.to_numpy(), column)  # the units in lme's order of clusters
        units = _split_indices(codes, len(labels))
    m = len(units)
    names = list(fit.fixef.index)
    p = len(names)
    if m <= p:
        raise ValueError(
            f"influence: {m} units to delete but {p} fixed effects; Cook's distance needs more units"
        )
    beta = fit.fixef.to_numpy()
    theta0 = np.asarray(fit.theta_std, dtype=float)
    changes = np.full((m, p), np.nan)
    converged = np.zeros(m, dtype=bool)
    boundary = np.zeros(m, dtype=bool)
    with single_threaded_blas():
        warm = WarmRefit(dev, theta0)  # BFGS from the full fit's optimum and curvature
        for j, rows in enumerate(units):
            sub = cp.without_rows(rows)
            if np.linalg.matrix_rank(sub.xytxy[:p, :p]) < p:
                raise ValueError(
                    f"influence: without {labels.name} {labels[j]!r} the fixed effects are not all estimable "
                    f"(a column of {names} is constant or aliased in the remaining data)"
                )
            dsub = dev.with_crossproducts(sub)
            theta, _, ok, _ = warm.minimise(dsub, theta0, maxiter)
            sol = dsub.solution(theta)
            changes[j] = sol.beta - beta
            converged[j] = ok
            boundary[j] = _on_boundary(sol.lam)
    Vinv = np.linalg.inv(fit.vcov.to_numpy())
    cooks = (m - p) / (m * p) * np.einsum("ij,jk,ik->i", changes, Vinv, changes)
    out = pd.DataFrame(changes, index=labels, columns=names)
    out["cooks_distance"] = cooks
    out["converged"] = converged
    out["boundary"] = boundary
    return out


def _on_boundary(lam: np.ndarray) -> bool:
    """A random-effects covariance (relative to sigma^2: Lambda Lambda') with a zero variance or a
    correlation of +-1 (the thresholds of :class:`hlmkit.LmeResult`)."""
    G = lam @ lam.T
    d = np.diag(G)
    if np.any(d <= 1e-10):
        return True
    corr = G / np.sqrt(np.outer(d, d))
    off = corr[~np.eye(len(d), dtype=bool)]
    return bool(np.any(np.abs(off) > 1 - 1e-6))


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def influence_plot(
    infl: pd.DataFrame,
    ax: plt.Axes | None = None,
    n_label: int = 5,
    column: str = "cooks_distance",
) -> plt.Axes:
    """Index plot of Cook's distances (or another column of :func:`influence`), largest labelled.

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.lme("mathach ~ ses", hk.load_hs(), random="~ 1 | school")
    >>> ax = hk.influence_plot(hk.influence(fit, by="school"))
    >>> ax.get_ylabel()
    "Cook's distance"
    """
    if column not in infl.columns:
        raise KeyError(f"influence_plot: no column {column!r}; the columns are {list(infl.columns)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3), layout="constrained")
    v = infl[column].to_numpy(float)
    pos = np.arange(len(v))
    ax.vlines(pos, 0, v, color="C0", lw=1)
    ax.scatter(pos, v, s=8, color="C0", zorder=3)
    for k in _extreme_points(v, n_label):
        # labels of the last points go to their left, so that they stay inside the axes
        right = pos[k] > 0.85 * len(v)
        ax.annotate(
            str(infl.index[k]),
            (pos[k], v[k]),
            fontsize=MIN_TEXT_PT,
            xytext=(-2 if right else 2, 2),
            textcoords="offset points",
            ha="right" if right else "left",
        )
    ax.set_xlim(-1, len(v))
    top = np.nanmax(v) if np.isfinite(v).any() else 0.0
    ax.set_ylim(0, 1.12 * top if top > 0 else None)  # room for the labels above the largest
    ax.set_xlabel(f"{infl.index.name or 'unit'} deleted (in order)")
    ax.set_ylabel("Cook's distance" if column == "cooks_distance" else column)
    return ax
