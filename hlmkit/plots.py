"""Plots of the course: quantile plots of a whole data set (``xqplot``) and multilevel displays.

Every function draws with matplotlib and returns the Figure (or Axes) it drew on, so a page can
glue it with a numbered caption; none calls ``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["xqplot", "ppoints"]


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
