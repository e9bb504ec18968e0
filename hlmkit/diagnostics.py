"""Diagnostics of a mixed model: the Hausman test, influence (drop one cluster or row), and plots.

* :func:`hausman` is the classical contrast of a fixed-effects (within) fit and a random-effects
  fit of the same coefficients: if the random effects are independent of the covariates both are
  consistent and their difference is noise; if not, the difference is systematic. Its modern
  form, the Wald test of contextual (``cvar``) terms, is :func:`hlmkit.wald`.
* :func:`influence` deletes each cluster (or each row) in turn, refits, and reports how much each
  fixed effect moves and the Cook's distance of lme4's ``cooks.distance(influence(fit, groups=))``.
  The refits do not rebuild the model: the deleted rows' contributions are subtracted from the
  fit's cross-products, and each refit starts from the full fit's variance components.
* :func:`qq_plot`, :func:`xy_panels`, :func:`scatter_matrix` and :func:`influence_plot` draw the
  Lab's residual, random-effect and influence displays.
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
from .lmm import LmeResult
from .plots import MIN_TEXT_PT, fit_page
from .refit import WarmRefit
from .wald import get_fix

__all__ = [
    "HausmanResult",
    "HausmanWarning",
    "hausman",
    "influence",
    "influence_plot",
    "qq_plot",
    "scatter_matrix",
    "xy_panels",
]


# --------------------------------------------------------------------------------------------
# the Hausman test
# --------------------------------------------------------------------------------------------


class HausmanWarning(UserWarning):
    """The difference of the two covariance matrices is not positive definite."""


@dataclass
class HausmanResult:
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

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __str__(self) -> str:
        lines = ["Hausman test: fixed effects (within) vs random effects", ""]
        tab = self.coefficients
        w = max(len(str(i)) for i in tab.index)
        lines.append(" " * w + "        FE        RE  FE - RE  SE(FE - RE)")
        for name, row in tab.iterrows():
            lines.append(f"{str(name):<{w}} {row['fe']:9.5f} {row['re']:9.5f} {row['difference']:8.5f} "
                         f"{row['se_difference']:12.5f}")
        lines.append("")
        p = f"{self.pvalue:.4g}" if self.pvalue >= 2.2e-16 else "< 2.2e-16"
        lines.append(f"chisq = {self.statistic:.5g}, df = {self.df}, p-value = {p}")
        lines.append("alternative hypothesis: one model is inconsistent")
        if not self.positive_definite:
            lines.append("(V_fe - V_re is not positive definite: generalised inverse, df = its rank)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(str(self)) + "</pre>"


def _estimable(fit: Any, names: list[str]) -> list[str]:
    """Those of ``names`` that an OLS fit with a rank-deficient design actually estimates.

    A coefficient is estimable when its column is not part of any linear dependency among the
    design's columns (the null space of X has no weight on it). For a fit from :func:`hlmkit.ols`
    the whole design is used, aliased columns included: with school dummies in the model, R's
    ``lm`` (and ``hk.ols``) drops a dummy and reports a number for ``SectorPublic``, but that number
    is a contrast of school effects, not a sector effect.
    """
    model = getattr(fit, "model", None)
    design = getattr(model, "hlmkit_design", None)
    if design is not None:
        X = design.to_numpy(dtype=float)
        all_names = list(design.columns)
    else:
        exog = getattr(model, "exog", None)
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
    model = getattr(fe_fit, "model", None)
    endog = getattr(model, "endog", None)
    if endog is None:
        raise TypeError("hausman: fe_fit must be a statsmodels fit (e.g. from hlmkit.ols), "
                        f"not {type(fe_fit).__name__}")
    y_fe = np.asarray(endog, dtype=float).reshape(-1)
    y_re = re_fit.y
    if len(y_fe) != len(y_re):
        raise ValueError(f"hausman: the fits use different rows: {len(y_fe)} in the fixed-effects fit, "
                         f"{len(y_re)} in the random-effects fit; fit both to the same data")
    labels = getattr(getattr(model, "data", None), "row_labels", None)
    if labels is not None and not pd.Index(labels).equals(y_re.index):
        raise ValueError("hausman: the fits use different rows (their row labels differ); "
                         "fit both to the same data")
    if not np.allclose(y_fe, y_re.to_numpy(), rtol=1e-12, atol=0):
        raise ValueError("hausman: the fits have different responses on their rows; "
                         "fit both to the same response")


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
    fe_fit : statsmodels results (e.g. from :func:`hlmkit.ols`)
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
        raise TypeError(f"hausman: re_fit must be an LmeResult (from hlmkit.lme), "
                        f"not {type(re_fit).__name__}")
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
            raise ValueError(f"hausman: the fixed-effects fit does not estimate {not_est} (aliased with the "
                             "cluster dummies); compare only coefficients that vary within clusters")
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
        {"fe": fe.beta[chosen].to_numpy(float), "re": rf.beta[chosen].to_numpy(float), "difference": d,
         "se_fe": se_fe, "se_re": se_re, "se_difference": se_d},
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
    else:
        if by == fit.group:
            values = fit.group_values.to_numpy()
        else:
            if by not in fit.data.columns:
                raise KeyError(f"influence: no column {by!r} in the data of the fit")
            values = fit.data[by].to_numpy()
        if pd.isna(values).any():
            raise ValueError(f"influence: the column {by!r} has missing values in the rows of the fit")
        labels = fit.groups if by == fit.group else pd.Index(sorted(pd.unique(values)), name=by)
        codes = labels.get_indexer(values)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
        units = [order[bounds[k]:bounds[k + 1]] for k in range(len(labels))]
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


def _extremes(values: np.ndarray, k: int) -> np.ndarray:
    ok = np.flatnonzero(np.isfinite(values))
    if k <= 0 or not len(ok):
        return np.zeros(0, dtype=int)
    return ok[np.argsort(-np.abs(values[ok]))[:k]]


def qq_plot(
    values: Any,
    ax: plt.Axes | None = None,
    labels: Sequence[Any] | None = None,
    n_label: int = 0,
    line: str = "quartiles",
    **kw: Any,
) -> plt.Axes:
    """Normal quantile plot: sorted values against normal quantiles (nlme's ``qqnorm``).

    Parameters
    ----------
    values : array-like
        Missing values are left out.
    ax : matplotlib Axes, optional
    labels : sequence, optional
        Labels of the values (e.g. row or cluster names); the ``n_label`` most extreme are shown.
    line : {"quartiles", "identity", None}
        A reference line through the quartiles (R's ``qqline``), the line y = x (for
        standardised values), or none.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit import qq_plot
    >>> ax = qq_plot(np.random.default_rng(1).normal(size=50))
    >>> ax.get_xlabel()
    'Normal quantile'
    """
    from .plots import ppoints

    v = np.asarray(values, dtype=float)
    lab = np.asarray(list(labels), dtype=object) if labels is not None else None
    ok = np.isfinite(v)
    v = v[ok]
    lab = lab[ok] if lab is not None else None
    order = np.argsort(v, kind="stable")
    q = stats.norm.ppf(ppoints(len(v)))
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    style = {"s": 8, "color": "C0", "linewidths": 0}
    style.update(kw)
    ax.scatter(q, v[order], **style)
    if line == "quartiles" and len(v) > 3:
        y1, y2 = np.quantile(v, [0.25, 0.75])
        x1, x2 = stats.norm.ppf([0.25, 0.75])
        slope = (y2 - y1) / (x2 - x1)
        ax.axline((x1, y1), slope=slope, color="0.4", lw=0.8)
    elif line == "identity":
        ax.axline((0, 0), slope=1, color="0.4", lw=0.8)
    elif line not in (None, "none", "quartiles"):
        raise ValueError(f"qq_plot: line must be 'quartiles', 'identity' or None, not {line!r}")
    if lab is not None and n_label:
        vs = v[order]
        for k in _extremes(vs - np.median(vs), n_label):
            ax.annotate(str(lab[order][k]), (q[k], vs[k]), fontsize=MIN_TEXT_PT, xytext=(3, 0),
                        textcoords="offset points")
    ax.set_xlabel("Normal quantile")
    return ax


def _is_categorical(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s.dtype) \
        or pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)


def _levels_of(s: pd.Series) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    return sorted(pd.unique(s.dropna()))


def xy_panels(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    col: str | None = None,
    row: str | None = None,
    hue: str | None = None,
    smooth: str | None = "lowess",
    hline: float | None = None,
    labels: str | None = None,
    n_label: int = 0,
    panel_size: tuple[float, float] = (2.8, 2.4),
    sharex: bool = True,
    sharey: bool = True,
    point_kw: dict[str, Any] | None = None,
) -> plt.Figure:
    """Scatter plots of ``y`` against ``x`` in panels (lattice's ``xyplot(y ~ x | row * col)``).

    The residual displays of the Lab: residuals against fitted values by sector, a
    scale-location plot, residuals against a covariate. A categorical ``y`` (e.g. ``Sex`` or the
    cluster) gives horizontal box plots of ``x`` for each of its levels present in the panel instead.

    Parameters
    ----------
    df : DataFrame
    x, y : str
        Columns on the axes.
    col, row : str, optional
        Columns whose levels make the panel columns and rows.
    hue : str, optional
        A column whose levels get their own colour.
    smooth : {"lowess", "ols", None}
        A smooth of y on x in each panel (over all its points); lowess is left out where x takes
        fewer than 5 distinct values.
    hline : float, optional
        A horizontal reference line (e.g. 0 for residuals).
    labels, n_label : str, int
        Label the ``n_label`` points with the largest |y - median| in each panel with this column.
    panel_size : (width, height) in inches
    sharex, sharey : bool
    point_kw : dict, optional
        Passed to ``Axes.scatter``.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fig = hk.xy_panels(hs, "ses", "mathach", col="Sector")
    >>> len(fig.axes)
    2
    """
    for c in [x, y, col, row, hue, labels]:
        if c is not None and c not in df.columns:
            raise KeyError(f"xy_panels: no column {c!r} in the data")
    cols = _levels_of(df[col]) if col else [None]
    rows = _levels_of(df[row]) if row else [None]
    categorical_y = _is_categorical(df[y])
    fig, axes = plt.subplots(len(rows), len(cols),
                             figsize=fit_page(panel_size[0] * len(cols), panel_size[1] * len(rows)),
                             sharex=sharex, sharey=sharey and not categorical_y, squeeze=False,
                             layout="constrained")
    kw = {"s": 5, "alpha": 0.5, "linewidths": 0}
    kw.update(point_kw or {})
    hues = _levels_of(df[hue]) if hue else [None]
    for i, rlev in enumerate(rows):
        for k, clev in enumerate(cols):
            ax = axes[i, k]
            part = df
            if row:
                part = part[part[row] == rlev]
            if col:
                part = part[part[col] == clev]
            title = " | ".join(str(v) for v in (rlev, clev) if v is not None)
            if title:
                ax.set_title(title, fontsize=8, pad=2)
            ax.tick_params(labelsize=MIN_TEXT_PT)
            if categorical_y:
                levels = _levels_of(part[y])  # the levels present in this panel
                data = [part.loc[part[y] == lev, x].dropna().to_numpy(float) for lev in levels]
                ax.boxplot(data, orientation="horizontal", tick_labels=[str(v) for v in levels], widths=0.6,
                           flierprops={"markersize": 2}, medianprops={"color": "C3"})
                ax.tick_params(axis="y", labelsize=MIN_TEXT_PT)
                if hline is not None:
                    ax.axvline(hline, color="0.5", lw=0.8)
                continue
            for h, lev in enumerate(hues):
                sub = part if lev is None else part[part[hue] == lev]
                ax.scatter(sub[x], sub[y], color=f"C{h}", label=None if lev is None else str(lev), **kw)
            xv = part[x].to_numpy(float)
            yv = part[y].to_numpy(float)
            okp = np.isfinite(xv) & np.isfinite(yv)
            if smooth == "lowess" and len(np.unique(xv[okp])) >= 5:  # lowess needs spread-out x
                from statsmodels.nonparametric.smoothers_lowess import lowess

                sm = lowess(yv[okp], xv[okp], frac=2 / 3, return_sorted=True)
                ax.plot(sm[:, 0], sm[:, 1], color="C3", lw=1.2)
            elif smooth == "ols" and okp.sum() > 2 and np.ptp(xv[okp]) > 0:
                b, a = np.polyfit(xv[okp], yv[okp], 1)
                xx = np.array([xv[okp].min(), xv[okp].max()])
                ax.plot(xx, a + b * xx, color="C3", lw=1.2)
            elif smooth not in (None, "lowess", "ols"):
                raise ValueError(f"xy_panels: smooth must be 'lowess', 'ols' or None, not {smooth!r}")
            if hline is not None:
                ax.axhline(hline, color="0.5", lw=0.8)
            if labels and n_label:
                lab = part[labels].to_numpy()
                for j in _extremes(np.where(okp, yv - np.nanmedian(yv[okp]), np.nan), n_label):
                    ax.annotate(str(lab[j]), (xv[j], yv[j]), fontsize=MIN_TEXT_PT, xytext=(3, 0),
                                textcoords="offset points")
    fig.supxlabel(x, fontsize=9)
    if not categorical_y:
        fig.supylabel(y, fontsize=9)
    if hue:
        handles = [plt.Line2D([], [], color=f"C{h}", marker="o", ls="", ms=4) for h in range(len(hues))]
        fig.legend(handles, [str(v) for v in hues], loc="outside upper center", ncol=len(hues), fontsize=8,
                   frameon=False)
    return fig


def scatter_matrix(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    hue: str | None = None,
    ellipse_radius: float | Sequence[float] | None = (1.0, 2.0),
    labels: Sequence[Any] | None = None,
    n_label: int = 0,
    panel_size: float = 1.6,
) -> plt.Figure:
    """Scatterplot matrix with data ellipses and labelled extreme points (car's ``spm``).

    Off the diagonal: every pair of columns, with the data ellipse(s) of each ``hue`` group and,
    if ``labels`` is given, the ``n_label`` points farthest from the centre (in Mahalanobis
    distance) labelled. On the diagonal: a histogram of the column.

    Parameters
    ----------
    df : DataFrame
    columns : list of str, optional
        Numeric columns to show (default: all numeric columns).
    hue : str, optional
        A column whose levels get their own colour and ellipses.
    ellipse_radius : float, sequence or None
    labels : sequence, optional
        One label per row of ``df`` (e.g. its index).
    n_label : int
    panel_size : float
        Inches per panel.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> sch = hk.up(hk.load_hs(), "school", all=True)
    >>> fig = hk.scatter_matrix(sch, ["mathach", "ses", "Size"])
    >>> len(fig.axes)
    9
    """
    from .ellipse import data_ellipse

    cols = list(columns) if columns is not None else [
        c for c in df.columns if pd.api.types.is_numeric_dtype(df[c].dtype) and not _is_categorical(df[c])
    ]
    bad = [c for c in cols if c not in df.columns]
    if bad:
        raise KeyError(f"scatter_matrix: no column(s) {bad} in the data")
    if len(cols) < 2:
        raise ValueError("scatter_matrix: need at least two numeric columns")
    k = len(cols)
    fig, axes = plt.subplots(k, k, figsize=fit_page(panel_size * k, panel_size * k), squeeze=False,
                             layout="constrained")
    groups = [(None, np.ones(len(df), dtype=bool))] if hue is None else [
        (lev, (df[hue] == lev).to_numpy()) for lev in _levels_of(df[hue])
    ]
    lab = np.asarray(list(labels), dtype=object) if labels is not None else None
    for i, yc in enumerate(cols):
        for j, xc in enumerate(cols):
            ax = axes[i, j]
            ax.tick_params(labelsize=MIN_TEXT_PT)
            if i == j:
                v = df[xc].to_numpy(float)
                ax.hist(v[np.isfinite(v)], bins=15, color="0.7")
                ax.set_yticks([])
                ax.set_title(xc, fontsize=8, pad=2)
                continue
            xv = df[xc].to_numpy(float)
            yv = df[yc].to_numpy(float)
            for g, (lev, mask) in enumerate(groups):
                ax.scatter(xv[mask], yv[mask], s=6, color=f"C{g}", linewidths=0, alpha=0.7)
                ok = mask & np.isfinite(xv) & np.isfinite(yv)
                if ellipse_radius is not None and ok.sum() > 2 and np.ptp(xv[ok]) > 0 and np.ptp(yv[ok]) > 0:
                    pts = data_ellipse(xv[ok], yv[ok], radius=ellipse_radius)
                    ax.plot(pts[:, 0], pts[:, 1], color=f"C{g}", lw=0.8)
            if lab is not None and n_label:
                ok = np.isfinite(xv) & np.isfinite(yv)
                xy = np.column_stack([xv[ok], yv[ok]])
                S = np.cov(xy, rowvar=False)
                dev = xy - xy.mean(axis=0)
                d2 = np.einsum("ij,jk,ik->i", dev, np.linalg.pinv(S), dev)
                idx = np.flatnonzero(ok)[np.argsort(-d2)[:n_label]]
                for r in idx:
                    ax.annotate(str(lab[r]), (xv[r], yv[r]), fontsize=MIN_TEXT_PT, xytext=(2, 1),
                                textcoords="offset points")
            if j == 0:
                ax.set_ylabel(yc, fontsize=MIN_TEXT_PT)
            if i == k - 1:
                ax.set_xlabel(xc, fontsize=MIN_TEXT_PT)
    if hue is not None:
        handles = [plt.Line2D([], [], color=f"C{g}", marker="o", ls="", ms=4) for g in range(len(groups))]
        fig.legend(handles, [str(lev) for lev, _ in groups], loc="outside upper center", ncol=len(groups),
                   fontsize=8, frameon=False)
    return fig


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
    for k in _extremes(v, n_label):
        ax.annotate(str(infl.index[k]), (pos[k], v[k]), fontsize=MIN_TEXT_PT, xytext=(2, 2),
                    textcoords="offset points")
    ax.set_xlim(-1, len(v))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"{infl.index.name or 'unit'} deleted (in order)")
    ax.set_ylabel("Cook's distance" if column == "cooks_distance" else column)
    return ax
