"""Plots of the course: quantile plots of a whole data set (``xqplot``) and multilevel displays.

Every function draws with matplotlib and returns the Figure (or Axes) it drew on, so a page can
glue it with a numbered caption; none calls ``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["xqplot", "ppoints", "cluster_panels", "beta_space"]


def ppoints(n: int) -> np.ndarray:
    """R's ``ppoints``: plotting positions (i - a) / (n + 1 - 2a), a = 3/8 if n <= 10 else 1/2."""
    if n <= 0:
        return np.zeros(0)
    a = 3 / 8 if n <= 10 else 0.5
    return (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)


def _layout(k: int) -> tuple[int, int]:
    if k <= 1:
        return 1, 1
    if k == 2:
        return 1, 2
    if k <= 4:
        return 2, 2
    if k <= 6:
        return 2, 3
    if k <= 9:
        return 3, 3
    return math.ceil(k / 4), 4


def _kind(s: pd.Series) -> str:
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s.dtype) \
            or pd.api.types.is_string_dtype(s.dtype):
        return "factor"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "numeric"
    return "numeric"


def _type_label(s: pd.Series) -> str:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "logical"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(s.dtype):
        return "numeric"
    return "text"


def xqplot(
    df: pd.DataFrame,
    ptype: str = "uniform",
    columns: Sequence[str] | None = None,
    maxlab: int = 12,
    ncols: int | None = None,
    panel_size: tuple[float, float] = (2.6, 2.2),
) -> plt.Figure:
    """Extended quantile plots: one small panel per variable, a snapshot of a whole data set.

    Numeric columns: the sorted values against their plotting positions (``ptype="uniform"``:
    the fraction of observations; ``"normal"``: normal quantiles), with a solid line at the mean
    and dashed lines one standard deviation either side; missing and infinite values are counted
    in the label. Categorical or text columns: a horizontal bar chart of the counts, missing values
    as a ``<NA>`` bar, only the ``maxlab`` most frequent categories labelled.

    Parameters
    ----------
    df : DataFrame
    ptype : {"uniform", "normal"}
    columns : list of str, optional
        Which columns (default: all).
    maxlab : int
        Largest number of category labels shown.
    ncols : int, optional
        Panels per row (default as spida2: 1, 2, 2x2, 2x3, 3x3, then 4 per row).
    panel_size : (width, height)
        Size of one panel in inches.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> fig = hk.xqplot(hk.load_hs()[["mathach", "ses", "Sex"]])
    >>> len(fig.axes)
    3
    """
    if ptype not in ("uniform", "normal"):
        raise ValueError(f"xqplot: ptype must be 'uniform' or 'normal', not {ptype!r}")
    cols = list(df.columns if columns is None else columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"xqplot: no column(s) {missing} in the data")
    if not cols:
        raise ValueError("xqplot: no columns to plot")
    nrow, ncol = _layout(len(cols)) if ncols is None else (math.ceil(len(cols) / ncols), ncols)
    fig, axes = plt.subplots(nrow, ncol, figsize=(panel_size[0] * ncol, panel_size[1] * nrow),
                             squeeze=False, layout="constrained")
    flat = axes.ravel()
    for ax, col in zip(flat, cols):
        s = df[col]
        if _kind(s) == "factor":
            _bar_panel(ax, s, maxlab)
        else:
            _quantile_panel(ax, s, ptype)
        ax.set_title(f"{col}\n({_type_label(s)})", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in flat[len(cols):]:
        ax.set_visible(False)
    return fig


def _quantile_panel(ax: plt.Axes, s: pd.Series, ptype: str) -> None:
    x = s.to_numpy(dtype=float)
    n_na = int(np.isnan(x).sum())
    n_pinf = int(np.isposinf(x).sum())
    n_minf = int(np.isneginf(x).sum())
    v = np.sort(x[np.isfinite(x)])
    n = len(v)
    pos = ppoints(n)
    if ptype == "normal":
        pos = stats.norm.ppf(pos)
    ax.plot(pos, v, ".", ms=2, color="C0")
    if n:
        m, sd = float(v.mean()), float(v.std(ddof=1)) if n > 1 else 0.0
        ax.axhline(m, color="0.3", lw=0.8)
        for k in (-1, 1):
            ax.axhline(m + k * sd, color="0.3", lw=0.8, ls="--")
    label = "Fraction of N obs." if ptype == "uniform" else "Normal quantile"
    notes = []
    if n_na:
        notes.append(f"NA: {n_na}")
    if n_minf or n_pinf:
        notes.append(f"-Inf: {n_minf} +Inf: {n_pinf}")
    ax.set_xlabel(label + (f"\n{', '.join(notes)}" if notes else ""), fontsize=7)
    if ptype == "uniform":
        ax.set_xlim(0, 1)


def _bar_panel(ax: plt.Axes, s: pd.Series, maxlab: int) -> None:
    counts = s.value_counts(dropna=False, sort=False)
    if isinstance(s.dtype, pd.CategoricalDtype):
        order = [c for c in s.cat.categories]
        counts = counts.reindex(order + ([np.nan] if s.isna().any() else []), fill_value=0)
    else:
        counts = counts.sort_index(key=lambda i: i.astype(str))
    labels = ["<NA>" if (isinstance(k, float) and np.isnan(k)) or k is None else str(k) for k in counts.index]
    vals = counts.to_numpy()
    ypos = np.arange(len(vals))
    ax.barh(ypos, vals, color="0.6")
    show = set(np.argsort(-vals, kind="stable")[:maxlab])
    ax.set_yticks([y for y in ypos if y in show], [labels[y] for y in ypos if y in show])
    n_na = int(s.isna().sum())
    ax.set_xlabel(f"N = {len(s) - n_na}" + (f", Nmiss = {n_na}" if n_na else ""), fontsize=7)
    ax.invert_yaxis()


def _ols_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return None
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    return float(intercept), float(slope)


def cluster_panels(
    df: pd.DataFrame,
    x: str,
    y: str,
    by: str,
    *,
    order: Sequence[Any] | None = None,
    hue: str | None = None,
    ols: bool = True,
    lowess: bool = False,
    ellipse_radius: float | Sequence[float] | None = None,
    col_wrap: int = 8,
    panel_size: float = 1.5,
    sharex: bool = True,
    sharey: bool = True,
    title: Callable[[Any], str] | None = None,
    point_kw: dict[str, Any] | None = None,
) -> plt.Figure:
    """One small panel per cluster: the points, and optionally the OLS line, lowess and data ellipses.

    The trellis display of the notes (Figures 2 and 3): ``y`` against ``x`` in every school.

    Parameters
    ----------
    df : DataFrame
    x, y : str
        Columns on the horizontal and vertical axes.
    by : str
        The cluster column; one panel per cluster.
    order : sequence, optional
        Clusters in panel order (default: categories in order, or sorted values).
    hue : str, optional
        A column whose levels get their own colour (and their own OLS line).
    ols, lowess : bool
        Draw the least-squares line (per ``hue`` level if given) / a lowess curve.
    ellipse_radius : float or sequence, optional
        Draw the data ellipse(s) of (x, y) with these radii (e.g. ``(1, 2)``).
    col_wrap : int
        Panels per row.
    panel_size : float
        Panel width and height in inches.
    title : callable, optional
        Panel title from the cluster label (default: the label itself).
    point_kw : dict, optional
        Passed to ``Axes.scatter``.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fig = hk.cluster_panels(hs, "ses", "mathach", "school")
    >>> sum(ax.get_visible() for ax in fig.axes)
    40
    """
    from .ellipse import data_ellipse

    for col in [x, y, by] + ([hue] if hue else []):
        if col not in df.columns:
            raise KeyError(f"cluster_panels: no column {col!r} in the data")
    if order is None:
        if isinstance(df[by].dtype, pd.CategoricalDtype):
            order = [c for c in df[by].cat.categories if (df[by] == c).any()]
        else:
            order = sorted(pd.unique(df[by].dropna()))
    order = list(order)
    ncol = min(col_wrap, len(order))
    nrow = math.ceil(len(order) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(panel_size * ncol, panel_size * nrow),
                             sharex=sharex, sharey=sharey, squeeze=False, layout="constrained")
    kw = {"s": 4, "alpha": 0.6, "linewidths": 0}
    kw.update(point_kw or {})
    levels = list(df[hue].cat.categories) if hue and isinstance(df[hue].dtype, pd.CategoricalDtype) \
        else (sorted(pd.unique(df[hue].dropna())) if hue else [None])
    colors = {lev: f"C{k}" for k, lev in enumerate(levels)}
    xs_all = df[x].to_numpy(dtype=float)
    grid = np.linspace(np.nanmin(xs_all), np.nanmax(xs_all), 2)
    flat = axes.ravel()
    for ax, label in zip(flat, order):
        part = df[df[by] == label]
        for lev in levels:
            sub = part if lev is None else part[part[hue] == lev]
            if sub.empty:
                continue
            xv = sub[x].to_numpy(dtype=float)
            yv = sub[y].to_numpy(dtype=float)
            ax.scatter(xv, yv, color=colors[lev], **kw)
            if ols:
                line = _ols_line(xv, yv)
                if line is not None:
                    lo, hi = np.nanmin(xv), np.nanmax(xv)
                    xx = np.array([lo, hi]) if hue else grid
                    ax.plot(xx, line[0] + line[1] * xx, color=colors[lev] if hue else "C3", lw=1)
        xv = part[x].to_numpy(dtype=float)
        yv = part[y].to_numpy(dtype=float)
        if lowess and len(part) > 3:
            from statsmodels.nonparametric.smoothers_lowess import lowess as _lowess

            sm = _lowess(yv, xv, frac=2 / 3, return_sorted=True)
            ax.plot(sm[:, 0], sm[:, 1], color="C2", lw=1, ls="--")
        if ellipse_radius is not None and len(part) > 2:
            pts = data_ellipse(xv, yv, radius=ellipse_radius)
            ax.plot(pts[:, 0], pts[:, 1], color="0.4", lw=0.7)
        ax.set_title(title(label) if title else str(label), fontsize=7, pad=2)
        ax.tick_params(labelsize=6)
    for ax in flat[len(order):]:
        ax.set_visible(False)
    fig.supxlabel(x, fontsize=9)
    fig.supylabel(y, fontsize=9)
    if hue:
        handles = [plt.Line2D([], [], color=colors[lev], marker="o", ls="-", ms=4) for lev in levels]
        fig.legend(handles, [str(lev) for lev in levels], loc="outside upper center", ncol=len(levels),
                   fontsize=8, frameon=False)
    return fig


def beta_space(
    coefs: pd.DataFrame,
    x: str = "(Intercept)",
    y: str | None = None,
    hue: Any = None,
    ellipse_radius: float | Sequence[float] | None = 1.0,
    labels: bool | Sequence[str] = False,
    ax: plt.Axes | None = None,
    point_kw: dict[str, Any] | None = None,
) -> plt.Axes:
    """Per-cluster coefficients as points in "beta space", with a data ellipse per group.

    Each cluster's fitted line is one point (intercept, slope); ``coefs`` is typically
    ``hk.lmlist(...).coef`` or ``fit.coef``.

    Parameters
    ----------
    coefs : DataFrame
        One row per cluster.
    x, y : str
        Columns on the axes (default: the intercept and the next column).
    hue : str or array-like, optional
        Grouping of the clusters (a column of ``coefs`` or values aligned with its rows).
    ellipse_radius : float, sequence or None
        Radii of the data ellipse drawn for each group (None for none).
    labels : bool or sequence of str
        Label the points (True: with the index).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> cf = hk.lmlist("mathach ~ ses", hs, "school").coef
    >>> ax = hk.beta_space(cf, hue=hk.up(hs, "school")["Sector"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('(Intercept)', 'ses')
    """
    from .ellipse import data_ellipse

    if y is None:
        others = [c for c in coefs.columns if c != x]
        if not others:
            raise ValueError("beta_space: coefs needs at least two columns")
        y = others[0]
    for col in (x, y):
        if col not in coefs.columns:
            raise KeyError(f"beta_space: no column {col!r} in coefs")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    if hue is None:
        groups = pd.Series("all", index=coefs.index)
    elif isinstance(hue, str):
        groups = coefs[hue]
    else:
        groups = pd.Series(np.asarray(hue), index=coefs.index)
    levels = list(groups.cat.categories) if isinstance(groups.dtype, pd.CategoricalDtype) \
        else list(pd.unique(groups.dropna()))
    kw = {"s": 14}
    kw.update(point_kw or {})
    for k, lev in enumerate(levels):
        part = coefs[groups.to_numpy() == lev]
        xv = part[x].to_numpy(dtype=float)
        yv = part[y].to_numpy(dtype=float)
        ax.scatter(xv, yv, color=f"C{k}", label=None if hue is None else str(lev), **kw)
        ok = ~(np.isnan(xv) | np.isnan(yv))
        if ellipse_radius is not None and ok.sum() > 2:
            pts = data_ellipse(xv, yv, radius=ellipse_radius)
            ax.plot(pts[:, 0], pts[:, 1], color=f"C{k}", lw=1)
    if labels is not False:
        texts = [str(i) for i in coefs.index] if labels is True else list(labels)  # type: ignore[arg-type]
        for t, xv, yv in zip(texts, coefs[x], coefs[y]):
            ax.annotate(t, (xv, yv), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if hue is not None:
        ax.legend(fontsize=8, frameon=False)
    return ax
