"""Pooling and shrinkage: how cluster estimates combine with the population (BLUEs and BLUPs).

A cluster's own least-squares estimate (its BLUE, from its data alone) and the population value
predicted from the model are two independent sources of information about the cluster's true
coefficients; the BLUP weights them by their inverse variances. The same inverse-variance idea
gives the mixed model's estimate of the population mean as a weighted mean of cluster means.

* :func:`pooled_weights` / :func:`pooled_means`: weighted means of cluster means (equal weights,
  sample-size weights, weights of a cluster-level size, and the mixed model's inverse-variance
  weights ``1 / (g00 + sigma^2 / n_j)``) with their conditional and unconditional variances;
* :func:`weighted_coding`: a coding of the cluster factor whose intercept estimates a chosen
  weighted mean of the cluster means;
* :func:`shrinkage_table`: for a random-intercept fit, each cluster's least-squares deviation,
  shrinkage factor ``1 / (1 + sigma^2 / (n_j g00))`` and BLUP;
* :func:`blup_from_blue`: the matrix formula ``(G^-1 + [sigma^2 (X_j'X_j)^-1]^-1)^-1
  (G^-1 gamma_j + [sigma^2 (X_j'X_j)^-1]^-1 beta-hat_j)``;
* :func:`blue_blup`: BLUEs, population values and BLUPs of every cluster of a fit (random slopes
  too), from that formula;
* :func:`plot_shrinkage` and :func:`plot_blue_blup`: the pictures of shrinkage, against the
  cluster size and in beta space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .frames import _split_indices, levels_of

__all__ = [
    "BlueBlup",
    "Blup",
    "blue_blup",
    "blup_from_blue",
    "plot_blue_blup",
    "plot_shrinkage",
    "pooled_means",
    "pooled_weights",
    "shrinkage_table",
    "weighted_coding",
]


# --------------------------------------------------------------------------------------------
# weighted means of cluster means
# --------------------------------------------------------------------------------------------


def pooled_weights(
    data: pd.DataFrame, y: str, by: str, g00: float, sigma2: float, size: str | None = None
) -> pd.DataFrame:
    """Per-cluster sample size, mean, and the normalised weights of four ways to pool the means.

    Parameters
    ----------
    data : DataFrame
    y, by : str
        The response and the cluster column.
    g00, sigma2 : float
        Between-cluster variance of the true means and within-cluster error variance (e.g. from
        a one-way random-effects fit: ``fit.G.iloc[0, 0]`` and ``fit.sigma**2``).
    size : str, optional
        A cluster-level column (constant within clusters), e.g. the school's enrolment ``Size``.

    Returns
    -------
    DataFrame
        One row per cluster (sorted as the clusters sort, categories in their order): ``n``,
        ``mean``, and weights summing to 1: ``w_schools`` (equal), ``w_students`` (proportional to
        ``n``), ``w_size`` (proportional to ``size``, if given) and ``w_mixed`` (proportional to
        ``1 / (g00 + sigma2 / n)``).

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit import pooled_weights
    >>> d = pd.DataFrame({"g": [1, 1, 1, 2], "y": [1.0, 2.0, 3.0, 6.0]})
    >>> pooled_weights(d, "y", "g", g00=1.0, sigma2=3.0).round(3)
       n  mean  w_schools  w_students  w_mixed
    g
    1  3   2.0        0.5        0.75    0.667
    2  1   6.0        0.5        0.25    0.333
    """
    for col in [y, by] + ([size] if size else []):
        if col not in data.columns:
            raise KeyError(f"pooled_weights: no column {col!r} in the data")
    if not (g00 >= 0 and sigma2 >= 0) or g00 + sigma2 == 0:
        raise ValueError(f"pooled_weights: need g00 >= 0 and sigma2 >= 0, not both 0 (got {g00}, {sigma2})")
    d = data[[by, y] + ([size] if size else [])].dropna()
    grp = d.groupby(by, observed=True, sort=True)
    out = pd.DataFrame({"n": grp[y].size(), "mean": grp[y].mean()})
    out["w_schools"] = 1.0 / len(out)
    out["w_students"] = out["n"] / out["n"].sum()
    if size:
        if (grp[size].nunique() > 1).any():
            bad = list(out.index[(grp[size].nunique() > 1).to_numpy()][:3])
            raise ValueError(
                f"pooled_weights: {size!r} varies within cluster(s) {bad}; it must be a cluster-level value"
            )
        s = grp[size].first().astype(float)
        if (s <= 0).any():
            raise ValueError(f"pooled_weights: {size!r} must be positive")
        out["w_size"] = s / s.sum()
    inv = 1.0 / (g00 + sigma2 / out["n"])
    out["w_mixed"] = inv / inv.sum()
    return out


def pooled_means(
    data: pd.DataFrame, y: str, by: str, g00: float, sigma2: float, size: str | None = None
) -> pd.DataFrame:
    """Weighted means of cluster means and their variances (the one-way model's estimators).

    Each estimator is ``sum_j w_j ybar_j`` with weights from :func:`pooled_weights`. Its variance
    *given the clusters' true means* is ``sum_j w_j^2 sigma2 / n_j`` (smallest for the student
    weights); as an estimator of the population mean ``gamma_00``, with the true means random, it
    is ``sum_j w_j^2 (g00 + sigma2 / n_j)`` (smallest for the mixed model's weights, which give the
    GLS estimate).

    Returns
    -------
    DataFrame
        Rows ``schools``, ``students``, (``size``), ``mixed``; columns ``estimate``, ``cond_var``,
        ``uncond_var``, ``cond_se``, ``uncond_se``.

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit import pooled_means
    >>> d = pd.DataFrame({"g": [1, 1, 1, 2], "y": [1.0, 2.0, 3.0, 6.0]})
    >>> pooled_means(d, "y", "g", g00=1.0, sigma2=3.0)["estimate"].round(3).tolist()
    [4.0, 3.0, 3.333]
    """
    w = pooled_weights(data, y, by, g00, sigma2, size)
    rows = {}
    for col in [c for c in w.columns if c.startswith("w_")]:
        wj = w[col].to_numpy()
        n = w["n"].to_numpy(dtype=float)
        rows[col[2:]] = {
            "estimate": float(wj @ w["mean"].to_numpy()),
            "cond_var": float(np.sum(wj**2 * sigma2 / n)),
            "uncond_var": float(np.sum(wj**2 * (g00 + sigma2 / n))),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["cond_se"] = np.sqrt(out["cond_var"])
    out["uncond_se"] = np.sqrt(out["uncond_var"])
    return out


def weighted_coding(weights: Any) -> np.ndarray:
    """A coding matrix for a J-level factor whose intercept estimates the ``weights``-weighted mean.

    Row ``j`` codes cluster ``j``; column ``k`` has ``w_J`` in row ``k``, ``-w_k`` in the last row
    and 0 elsewhere, so ``sum_j w_j C[j, k] = 0``: with this coding, the intercept of a regression
    on the factor is ``sum_j w_j mu_j / sum_j w_j``, the weighted mean of the cluster means. Equal
    weights give R's ``contr.sum`` up to scale; sample sizes give the overall (student) mean.

    Parameters
    ----------
    weights : 1-D array of J positive numbers

    Returns
    -------
    ndarray of shape (J, J - 1)

    Examples
    --------
    >>> from hlmkit import weighted_coding
    >>> weighted_coding([2.0, 3.0, 5.0]).tolist()
    [[5.0, 0.0], [0.0, 5.0], [-2.0, -3.0]]
    """
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(w) < 2:
        raise ValueError("weighted_coding: a factor needs at least two levels")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("weighted_coding: the weights must be finite and positive")
    J = len(w)
    return np.vstack([np.diag(np.full(J - 1, w[-1])), -w[:-1][None, :]])


# --------------------------------------------------------------------------------------------
# BLUEs and BLUPs
# --------------------------------------------------------------------------------------------


def _cluster_rows(fit: Any) -> tuple[pd.Index, np.ndarray]:
    groups = fit.group_values.to_numpy()
    codes = fit.groups.get_indexer(groups)
    return fit.groups, codes


def shrinkage_table(fit: Any) -> pd.DataFrame:
    """BLUE, shrinkage factor and BLUP of each cluster of a random-intercept fit.

    For a model with random intercepts only (``random="~ 1 | g"``), the BLUP of cluster ``j``'s
    random effect is its least-squares estimate ``u_hat_j = mean_j(y - X beta)`` shrunk towards 0
    by the factor ``1 / (1 + sigma^2 / (n_j g00))``: an inverse-variance weighted mean of
    ``u_hat_j`` (variance ``sigma^2 / n_j``) and 0 (the mean of ``u_j``, variance ``g00``).

    Parameters
    ----------
    fit : LmeResult
        A fit whose only random effect is the intercept.

    Returns
    -------
    DataFrame
        One row per cluster (in the fit's order): ``n``; ``blue``, the cluster's mean response
        ``ybar_j``; ``fixed``, the mean of its population fitted values ``X_j beta`` (the fixed
        intercept, for ``y ~ 1``); ``u_hat = blue - fixed``; ``shrinkage``; ``u_blup =
        shrinkage * u_hat`` (equal to ``fit.ranef``); ``blup = fixed + u_blup`` (for ``y ~ 1``,
        equal to ``fit.coef``).

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.lme("mathach ~ 1", hk.load_hs(), random="~ 1 | school")
    >>> tab = hk.shrinkage_table(fit)
    >>> bool(abs(tab["u_blup"] - fit.ranef["(Intercept)"]).max() < 1e-10)
    True
    """
    G = fit.G
    if G.shape != (1, 1) or G.index[0] != "(Intercept)":
        raise ValueError(
            "shrinkage_table needs a random-intercept model (random = '~ 1 | g'); this fit has random "
            f"effects {list(G.index)}: use blue_blup for random slopes"
        )
    g00 = float(G.iloc[0, 0])
    s2 = float(fit.sigma) ** 2
    labels, codes = _cluster_rows(fit)
    y = fit.y.to_numpy()
    xb = fit.fitted(0).to_numpy()
    n = np.bincount(codes, minlength=len(labels)).astype(float)
    blue = np.bincount(codes, weights=y, minlength=len(labels)) / n
    fixed = np.bincount(codes, weights=xb, minlength=len(labels)) / n
    u_hat = blue - fixed
    with np.errstate(divide="ignore"):
        lam = 1.0 / (1.0 + s2 / (n * g00)) if g00 > 0 else np.zeros_like(n)
    out = pd.DataFrame(
        {
            "n": n.astype(int),
            "blue": blue,
            "fixed": fixed,
            "u_hat": u_hat,
            "shrinkage": lam,
            "u_blup": lam * u_hat,
            "blup": fixed + lam * u_hat,
        },
        index=labels,
    )
    return out


class Blup(NamedTuple):
    """Result of :func:`blup_from_blue`."""

    estimate: np.ndarray
    """The BLUP ``beta-tilde_j``."""
    variance: np.ndarray
    """Its prediction-error variance ``Var(beta_j - beta-tilde_j) = (G^-1 + [sigma^2 (X'X)^-1]^-1)^-1``."""
    weight: np.ndarray
    """The matrix weight ``K`` on the BLUE: ``beta-tilde = gamma + K (beta-hat - gamma)``, ``K = G V^-1``."""


def blup_from_blue(gamma: Any, G: Any, sigma2: float, xtx: Any, beta_hat: Any) -> Blup:
    """The BLUP of a cluster's coefficients from its BLUE, by inverse-variance weighting.

    With ``S = sigma2 (X_j'X_j)^-1`` the variance of the BLUE ``beta_hat`` around the true
    ``beta_j``, and ``G`` the variance of ``beta_j`` around the population value ``gamma``::

        beta_tilde = (G^-1 + S^-1)^-1 (G^-1 gamma + S^-1 beta_hat)
                   = gamma + G (G + S)^-1 (beta_hat - gamma)

    The second form is used: it also holds when ``G`` is singular (a boundary fit).

    Parameters
    ----------
    gamma : length-q array
        The cluster's population value (its fixed-effects line).
    G : q x q array
    sigma2 : float
    xtx : q x q array
        ``X_j'X_j`` of the cluster's random-effects design (e.g. ``[1, ses]``); must be invertible.
    beta_hat : length-q array
        The cluster's least-squares estimate.

    Returns
    -------
    Blup
        ``estimate``, ``variance`` (prediction-error variance) and ``weight`` (the matrix ``K``).

    Examples
    --------
    >>> from hlmkit import blup_from_blue
    >>> b = blup_from_blue([10.0], [[4.0]], sigma2=36.0, xtx=[[9.0]], beta_hat=[14.0])
    >>> b.estimate.tolist(), b.weight.tolist(), b.variance.tolist()
    ([12.0], [[0.5]], [[2.0]])
    """
    g = np.asarray(gamma, dtype=float).reshape(-1)
    q = len(g)
    Gm = np.atleast_2d(np.asarray(G, dtype=float))
    XtX = np.atleast_2d(np.asarray(xtx, dtype=float))
    bh = np.asarray(beta_hat, dtype=float).reshape(-1)
    if Gm.shape != (q, q) or XtX.shape != (q, q) or bh.shape != (q,):
        raise ValueError(
            f"blup_from_blue: gamma has {q} values, so G and xtx must be {q} x {q} and beta_hat of length {q} "
            f"(got G {Gm.shape}, xtx {XtX.shape}, beta_hat {bh.shape})"
        )
    if np.linalg.matrix_rank(XtX) < q:
        raise ValueError(
            "blup_from_blue: X'X is singular, so the cluster has no least-squares estimate (BLUE)"
        )
    S = float(sigma2) * np.linalg.inv(XtX)
    K = Gm @ np.linalg.inv(Gm + S)
    est = g + K @ (bh - g)
    var = (np.eye(q) - K) @ Gm
    return Blup(estimate=est, variance=(var + var.T) / 2, weight=K)


@dataclass
class BlueBlup:
    """BLUEs, population values and BLUPs of every cluster of a fit (:func:`blue_blup`).

    Attributes
    ----------
    n : Series
        Cluster sizes.
    blue : DataFrame
        Each cluster's least-squares coefficients on the random-effects design (e.g. intercept and
        ses slope); NaN where they are not estimable.
    population : DataFrame
        The cluster's population value ``gamma_j``: its fixed-effects fit expressed in the same
        coordinates (for ``ses * Sector`` with random ``1 + ses``, the line of the school's sector).
    blup : DataFrame
        ``gamma_j + K_j (beta-hat_j - gamma_j)``, from :func:`blup_from_blue`.
    pe_var : dict
        Each cluster's prediction-error variance matrix.
    """

    n: pd.Series
    blue: pd.DataFrame
    population: pd.DataFrame
    blup: pd.DataFrame
    pe_var: dict[Any, np.ndarray]

    @property
    def ranef(self) -> pd.DataFrame:
        """``blup - population``: the predicted random effects (equal to the fit's ``ranef``)."""
        return self.blup - self.population

    def table(self) -> pd.DataFrame:
        """One row per cluster: n, then the BLUE, population and BLUP columns side by side."""
        parts = {"blue": self.blue, "population": self.population, "blup": self.blup}
        wide = pd.concat(parts, axis=1)
        wide.insert(0, ("n", ""), self.n)
        return wide


def blue_blup(fit: Any) -> BlueBlup:
    """BLUEs and BLUPs of each cluster's coefficients on the random-effects design of a fit.

    For each cluster ``j`` with random-effects design ``Z_j`` (e.g. ``[1, ses]``): the BLUE
    ``beta-hat_j`` is the least-squares fit of ``y_j`` on ``Z_j``; the population value
    ``gamma_j = (Z_j'Z_j)^-1 Z_j' X_j beta`` is the cluster's fixed-effects fit in the same
    coordinates; and the BLUP is :func:`blup_from_blue` with the fit's ``G`` and ``sigma^2``.
    ``blup - population`` reproduces the fit's ``ranef`` exactly (up to rounding) whenever
    ``Z_j'Z_j`` is invertible: the matrix formula of the notes is what the mixed model computes.

    Parameters
    ----------
    fit : LmeResult

    Returns
    -------
    BlueBlup

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.lme("mathach ~ ses * Sector", hk.load_hs(), random="~ 1 + ses | school")
    >>> bb = hk.blue_blup(fit)
    >>> bool((bb.ranef - fit.ranef).abs().max().max() < 1e-8)
    True
    """
    labels, codes = _cluster_rows(fit)
    Z = fit.Z.to_numpy(dtype=float)
    y = fit.y.to_numpy(dtype=float)
    xb = fit.fitted(0).to_numpy(dtype=float)
    names = list(fit.G.columns)
    q = len(names)
    G = fit.G.to_numpy(dtype=float)
    s2 = float(fit.sigma) ** 2
    J = len(labels)
    blue = np.full((J, q), np.nan)
    pop = np.full((J, q), np.nan)
    blup = np.full((J, q), np.nan)
    n = np.zeros(J, dtype=int)
    pe: dict[Any, np.ndarray] = {}
    for j, idx in enumerate(_split_indices(codes, J)):
        n[j] = len(idx)
        Zj = Z[idx]
        ztz = Zj.T @ Zj
        if len(idx) < q or np.linalg.matrix_rank(ztz) < q:
            continue
        bh = np.linalg.solve(ztz, Zj.T @ y[idx])
        gj = np.linalg.solve(ztz, Zj.T @ xb[idx])
        res = blup_from_blue(gj, G, s2, ztz, bh)
        blue[j], pop[j], blup[j] = bh, gj, res.estimate
        pe[labels[j]] = res.variance
    mk = lambda a: pd.DataFrame(a, index=labels, columns=names)  # noqa: E731
    return BlueBlup(
        n=pd.Series(n, index=labels, name="n"), blue=mk(blue), population=mk(pop), blup=mk(blup), pe_var=pe
    )


# --------------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------------


def plot_shrinkage(table: pd.DataFrame, center: float, x: str = "n", ax: plt.Axes | None = None) -> plt.Axes:
    """BLUEs, BLUPs and the arrows from one to the other, against the cluster size (or another column).

    Parameters
    ----------
    table : DataFrame
        From :func:`shrinkage_table` (columns ``blue``, ``blup`` and ``x``).
    center : float
        The value the BLUEs are shrunk towards, drawn as a horizontal line (the GLS estimate
        ``gamma_00`` for a one-way model).
    x : str
        Column for the horizontal axis.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.lme("mathach ~ 1", hk.load_hs(), random="~ 1 | school")
    >>> ax = hk.plot_shrinkage(hk.shrinkage_table(fit), fit.fixef["(Intercept)"])
    >>> len(ax.patches) > 0 or len(ax.texts) > 0
    True
    """
    for col in ("blue", "blup", x):
        if col not in table.columns:
            raise KeyError(f"plot_shrinkage: no column {col!r} in the table (use hk.shrinkage_table)")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    xs = table[x].to_numpy(dtype=float)
    ax.axhline(center, color="tab:green", lw=2, label=r"$\hat\gamma_{00}$ (GLS)")
    ax.scatter(xs, table["blue"], s=36, color="tab:blue", label="BLUE", zorder=3)
    ax.scatter(xs, table["blup"], s=16, color="tab:red", label="BLUP", zorder=4)
    for xj, b, p in zip(xs, table["blue"], table["blup"]):
        ax.annotate(
            "",
            xy=(xj, p),
            xytext=(xj, b),
            arrowprops={"arrowstyle": "->", "lw": 0.8, "color": "black", "shrinkA": 0, "shrinkB": 0},
        )
    ax.plot([], [], color="black", lw=0.8, label="shrinkage")
    ax.set_xlabel("sample size $n_j$" if x == "n" else x)
    ax.legend(frameon=False, fontsize=8, ncol=2, loc="upper left")
    return ax


def plot_blue_blup(
    bb: BlueBlup,
    groups: Any,
    G: Any = None,
    coefs: tuple[str, str] | None = None,
    panel_size: tuple[float, float] = (4.0, 4.4),
) -> plt.Figure:
    """BLUEs and BLUPs in beta space, one panel per group of clusters (e.g. per sector).

    Each panel shows the clusters' BLUEs (blue) and BLUPs (red), joined by grey segments (the
    shrinkage), each set with its data ellipse (radius 1); the group's population value (the mean
    of its clusters' population values, green point) and, if ``G`` is given, the dispersion ellipse
    of ``G`` around it (green): the spread the true coefficients are estimated to have.

    Parameters
    ----------
    bb : BlueBlup
        From :func:`blue_blup`.
    groups : Series or array
        The group of each cluster, aligned with ``bb.blue`` (e.g. ``hk.up(data, "school")["Sector"]``).
    G : 2 x 2 array, optional
        The random-effects covariance (``fit.G``).
    coefs : two column names, optional
        The coordinates (default: the first two random effects).
    panel_size : (width, height) of one panel, in inches

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")
    >>> fig = hk.plot_blue_blup(hk.blue_blup(fit), hk.up(hs, "school")["Sector"], G=fit.G)
    >>> len(fig.axes)
    2
    """
    from .ellipses import data_ellipse, ellipse
    from .plots import fit_page

    cols = list(coefs) if coefs is not None else list(bb.blue.columns[:2])
    if len(cols) != 2 or any(c not in bb.blue.columns for c in cols):
        raise ValueError(f"plot_blue_blup: need two coefficients among {list(bb.blue.columns)}, got {cols}")
    g = (
        pd.Series(np.asarray(groups), index=bb.blue.index)
        if not isinstance(groups, pd.Series)
        else groups.reindex(bb.blue.index)
    )
    if g.isna().any():
        raise ValueError(
            f"plot_blue_blup: groups has no value for some clusters: {list(g.index[g.isna()][:3])}"
        )
    levels = levels_of(g, what="plot_blue_blup: groups")
    if G is None:
        Gm = None
    elif isinstance(G, pd.DataFrame):
        Gm = G.loc[cols, cols].to_numpy(dtype=float)
    else:
        Gm = np.asarray(G, dtype=float)
        if Gm.shape != (2, 2):
            raise ValueError(
                f"plot_blue_blup: G must be 2 x 2 (or a DataFrame with the coefficients), not {Gm.shape}"
            )
    fig, axes = plt.subplots(
        1,
        len(levels),
        figsize=fit_page(panel_size[0] * len(levels), panel_size[1]),
        sharex=True,
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    for ax, lev in zip(axes[0], levels):
        keep = (g == lev).to_numpy()
        blue, blup = bb.blue.loc[keep, cols].dropna(), bb.blup.loc[keep, cols].dropna()
        center = bb.population.loc[keep, cols].mean().to_numpy()
        for (x0, y0), (x1, y1) in zip(bb.blue.loc[keep, cols].to_numpy(), bb.blup.loc[keep, cols].to_numpy()):
            ax.plot([x0, x1], [y0, y1], color="0.75", lw=0.6)
        ax.scatter(blue[cols[0]], blue[cols[1]], s=18, color="tab:blue", label="BLUE")
        ax.scatter(blup[cols[0]], blup[cols[1]], s=18, color="tab:red", label="BLUP")
        if len(blue) > 2:
            ax.plot(*data_ellipse(blue[cols[0]], blue[cols[1]]).T, color="tab:blue", lw=1)
        if len(blup) > 2:
            ax.plot(*data_ellipse(blup[cols[0]], blup[cols[1]]).T, color="tab:red", lw=1)
        if Gm is not None:
            ax.plot(*ellipse(center, Gm).T, color="tab:green", lw=1.5, label=r"$\hat{\mathbf{G}}$")
        ax.plot(*center, "o", color="tab:green", ms=8, label="population value")
        ax.set_title(str(lev), fontsize=10)
        ax.set_xlabel(cols[0])
    axes[0, 0].set_ylabel(cols[1])
    axes[0, 0].legend(frameon=False, fontsize=8, loc="upper left")
    return fig
