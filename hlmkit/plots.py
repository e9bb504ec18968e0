"""Plots of the course: quantile plots of a whole data set (``xqplot``) and multilevel displays.

Every function draws with matplotlib and returns the Figure (or Axes) it drew on, so a page can
glue it with a numbered caption; none calls ``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from .frames import levels_of

__all__ = [
    "MIN_TEXT_PT",
    "PAGE_WIDTH_IN",
    "beta_space",
    "cluster_panels",
    "coef_lines",
    "conf_ellipses",
    "data_space",
    "fit_page",
    "group_colors",
    "mark_origin",
    "ppoints",
    "qq_plot",
    "scatter_matrix",
    "smallest_text_pt",
    "xqplot",
    "xy_panels",
]

#: The smallest text, in points, a figure of the book may show at the width it is displayed at.
MIN_TEXT_PT = 8.0

#: The width of the book's text column in inches of figure: 660 CSS pixels on a laptop screen
#: 1280 pixels wide, where the book shows a figure at 100 CSS pixels per inch
#: (:func:`hlmkit.book.hires_figures`). A wider figure is shrunk to fit, and its text with it.
PAGE_WIDTH_IN = 6.6


def fit_page(width: float, height: float) -> tuple[float, float]:
    """A figure size (inches) scaled down, keeping its shape, to at most :data:`PAGE_WIDTH_IN` wide.

    Figures of many panels use it so that the book does not shrink them, and their text, to fit.

    Examples
    --------
    >>> from hlmkit.plots import fit_page
    >>> fit_page(8.0, 4.0)
    (6.6, 3.3)
    >>> fit_page(5.0, 4.0)
    (5.0, 4.0)
    """
    scale = min(1.0, PAGE_WIDTH_IN / width)
    return round(width * scale, 3), round(height * scale, 3)


def smallest_text_pt(fig: Any, draw: bool = True) -> float | None:
    """The size in points of the smallest visible text of a matplotlib figure (None if it has none).

    Tick labels, axis labels, titles, legends and annotations all count; hidden and empty texts
    do not. The book records it in every figure's PNG, and its browser suite checks that this
    text, scaled to the width the figure is shown at, is at least :data:`MIN_TEXT_PT`. With
    ``draw=False`` the figure must have been drawn already (saving it draws it).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from hlmkit.plots import smallest_text_pt
    >>> fig, ax = plt.subplots()
    >>> ax.tick_params(labelsize=9); _ = ax.set_title("t", fontsize=12)
    >>> smallest_text_pt(fig)
    9.0
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    if draw:
        fig.canvas.draw()  # tick labels get their text (and their number) when the figure is drawn
    stale: set[int] = set()  # labels of pooled ticks that the axis does not show now
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is None:
                continue
            now = {id(t) for t in axis.get_major_ticks() + axis.get_minor_ticks()}
            stale.update(
                id(lab)
                for t in axis.majorTicks + axis.minorTicks
                if id(t) not in now
                for lab in (t.label1, t.label2)
            )
    sizes = [
        float(t.get_fontsize())
        for t in fig.findobj(Text)
        if id(t) not in stale
        and t.get_text().strip()
        and t.get_visible()
        and (t.axes is None or t.axes.get_visible())
    ]
    return min(sizes) if sizes else None


def ppoints(n: int) -> np.ndarray:
    """R's ``ppoints``: plotting positions (i - a) / (n + 1 - 2a), a = 3/8 if n <= 10 else 1/2."""
    if n <= 0:
        return np.zeros(0)
    a = 3 / 8 if n <= 10 else 0.5
    return (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)


def _layout(k: int) -> tuple[int, int]:
    """Rows and columns for ``k`` panels: spida2's 1, 1x2, 2x2, 2x3, 3x3; beyond nine, rows of four.

    (spida2 puts twelve panels, 3x4, on each page and starts a new page; one figure with rows of
    four keeps the same panel shape and fits the book's width.)
    """
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
    """How a column is drawn: ``"factor"`` (bars), ``"numeric"`` or ``"datetime"`` (quantile plot)."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "numeric"  # as R: a logical is plotted as 0/1
    if _is_categorical(s):
        return "factor"
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(
            f"xqplot: column {s.name!r} holds complex numbers ({dtype}); "
            "plot their real and imaginary parts as two columns"
        )
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    raise TypeError(
        f"xqplot: column {s.name!r} has dtype {dtype}, which xqplot cannot draw; "
        "convert it to numbers or to a categorical first"
    )


def _type_label(s: pd.Series) -> str:
    """The kind of variable shown under its name (R's ``class``, in pandas' terms)."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordered categorical" if dtype.ordered else "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "logical"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "text"


def xqplot(
    df: pd.DataFrame,
    ptype: str = "uniform",
    columns: Sequence[str] | None = None,
    maxlab: int = 12,
    ncols: int | None = None,
    panel_size: tuple[float, float] = (2.0, 1.75),
    counts: bool = True,
    maxvarnamelength: int = 20,
) -> plt.Figure:
    """Extended quantile plots: one small panel per variable, a snapshot of a whole data set.

    spida2's ``xqplot``. Think of lining up the values of each variable from shortest to tallest:

    * **numeric and logical columns**: the sorted values against their plotting positions
      (R's ``ppoints``) on the horizontal axis: the fraction of the observations at or below
      (``ptype="uniform"``) or the corresponding normal quantile (``"normal"``, a normal
      quantile-quantile plot). A solid line marks the mean, dashed lines the mean plus and minus
      one standard deviation. Missing and infinite values are left out and counted under the axis
      ("NA: 3", "-Inf: 0 +Inf: 2"). A variable that takes one value per cluster shows as steps.
    * **categorical and text columns**: horizontal bars of the counts, in category order (text:
      alphabetical), missing values as a last ``<NA>`` bar; with more than ``maxlab``
      categories only the ``maxlab`` most frequent are labelled.

    Each panel is titled with the variable's name, and its kind (integer, numeric, logical,
    categorical, text, datetime) on the right.

    Parameters
    ----------
    df : DataFrame
    ptype : {"uniform", "normal"}
        Plotting positions of numeric columns: uniform (the default; spida2's ``"quantile"``) or
        normal quantiles.
    columns : list of str, optional
        Which columns, in which order (default: all).
    maxlab : int, default 12
        Largest number of category labels shown in a bar panel.
    ncols : int, optional
        Panels per row (default as spida2: 1, 1x2, 2x2, 2x3, 3x3, then rows of 4).
    panel_size : (width, height), default (2.0, 1.75)
        Size of one panel in inches; the default puts four panels across the book's width.
    counts : bool, default True
        Write the count at the end of each bar (when there are at most ``maxlab`` bars).
    maxvarnamelength : int, default 20
        Longer variable names are broken over two lines.

    Returns
    -------
    matplotlib Figure

    Raises
    ------
    ValueError
        For an unknown ``ptype`` or no columns; ``KeyError`` for a column not in ``df``;
        ``TypeError`` for a column it cannot draw (complex numbers, time spans, ...).

    Examples
    --------
    >>> import hlmkit as hk
    >>> fig = hk.xqplot(hk.load_hs()[["mathach", "ses", "Sex"]])
    >>> [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    ['mathach', 'ses', 'Sex']
    >>> fig.axes[0].get_xlabel()
    'Fraction of 1977 obs.'
    """
    if ptype not in ("uniform", "normal"):
        raise ValueError(f"xqplot: ptype must be 'uniform' or 'normal', not {ptype!r}")
    if isinstance(columns, str):
        columns = [columns]
    cols = list(df.columns if columns is None else columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"xqplot: no column(s) {missing} in the data")
    if not cols:
        raise ValueError("xqplot: no columns to plot")
    if len(set(map(str, cols))) != len(cols):
        raise ValueError("xqplot: the data has repeated column names; make them unique first")
    kinds = [_kind(df[c]) for c in cols]  # raises before drawing anything
    if ncols is None:
        nrow, ncol = _layout(len(cols))
    else:
        if ncols < 1:
            raise ValueError(f"xqplot: ncols must be at least 1, not {ncols}")
        ncol = min(ncols, len(cols))
        nrow = math.ceil(len(cols) / ncol)
    fig, axes = plt.subplots(
        nrow,
        ncol,
        figsize=fit_page(panel_size[0] * ncol, panel_size[1] * nrow),
        squeeze=False,
        layout="constrained",
    )
    flat = axes.ravel()
    for ax, col, kind in zip(flat, cols, kinds):
        s = df[col]
        if kind == "factor":
            _bar_panel(ax, s, maxlab, counts)
        else:
            _quantile_panel(ax, s, ptype)
        name = str(col)
        if len(name) > maxvarnamelength:
            name = name[:maxvarnamelength] + "\n" + name[maxvarnamelength:]
        ax.set_title(name, fontsize=9, loc="left", pad=3)
        ax.set_title(_type_label(s), fontsize=MIN_TEXT_PT, loc="right", color="0.35", pad=3)
        ax.tick_params(labelsize=MIN_TEXT_PT)
    for ax in flat[len(cols) :]:
        ax.set_visible(False)
    return fig


def _quantile_panel(ax: plt.Axes, s: pd.Series, ptype: str) -> None:
    """Sorted values against plotting positions, with the mean and mean +/- SD lines."""
    n_minf = n_pinf = 0
    if _kind(s) == "datetime":
        ok = s.dropna()
        n_na = len(s) - len(ok)
        v = np.sort(ok.to_numpy())
    else:
        x = s.to_numpy(dtype=float, na_value=np.nan)
        n_na = int(np.isnan(x).sum())
        n_pinf = int(np.isposinf(x).sum())
        n_minf = int(np.isneginf(x).sum())
        v = np.sort(x[np.isfinite(x)])
    n = len(v)
    pos = ppoints(n)
    if ptype == "normal":
        pos = stats.norm.ppf(pos)
    notes = []
    if n_minf or n_pinf:
        notes.append(f"-Inf: {n_minf} +Inf: {n_pinf}")
    if n_na:
        notes.append(f"NA: {n_na}")
    label = f"Fraction of {n} obs." if ptype == "uniform" else f"Normal quantile\n({n} obs.)"
    ax.set_xlabel(label + (f"\n{'  '.join(notes)}" if notes else ""), fontsize=MIN_TEXT_PT)
    if n == 0:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", fontsize=8, transform=ax.transAxes)
        ax.set_yticks([])
        ax.set_xticks([])
        return
    ax.plot(pos, v, ".", ms=2.5, color="C0", mec="none")
    if n > 1:
        mean = pd.Series(v).mean()
        sd = pd.Series(v).std(ddof=1)
        ax.axhline(mean, color="0.25", lw=0.8)
        for k in (-1, 1):
            ax.axhline(mean + k * sd, color="0.25", lw=0.8, ls="--")
    if _kind(s) == "datetime":
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(maxticks=5)
        ax.yaxis.set_major_locator(locator)
        ax.yaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if ptype == "uniform":
        ax.set_xlim(0, 1)  # as R's xaxs = "i"
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", ".25", ".5", ".75", "1"])


def _bar_panel(ax: plt.Axes, s: pd.Series, maxlab: int, counts: bool = True) -> None:
    """Horizontal bars of the counts, first category on top, ``<NA>`` last."""
    present = s.dropna()
    if isinstance(s.dtype, pd.CategoricalDtype):
        tally = present.value_counts(sort=False).reindex(list(s.cat.categories), fill_value=0)
    else:
        tally = present.astype(str).value_counts(sort=False)
        tally = tally.reindex(sorted(tally.index))
    labels = [str(k) for k in tally.index]
    vals = tally.to_numpy(dtype=int)
    n_na = len(s) - len(present)
    if n_na:
        labels.append("<NA>")
        vals = np.append(vals, n_na)
    ypos = np.arange(len(vals))
    colors = ["0.6"] * len(vals)
    if n_na:
        colors[-1] = "C3"
    ax.barh(ypos, vals, color=colors, height=0.75)
    show = set(np.argsort(-vals, kind="stable")[:maxlab].tolist())
    ax.set_yticks([y for y in ypos if y in show], [labels[y] for y in ypos if y in show])
    ax.set_ylim(len(vals) - 0.5, -0.5)  # first category on top
    top = max(int(vals.max()), 1) if len(vals) else 1
    if counts and 0 < len(vals) <= maxlab:
        for y, v in zip(ypos, vals):
            ax.text(v + 0.02 * top, float(y), str(v), va="center", ha="left", fontsize=MIN_TEXT_PT)
        ax.set_xlim(0, 1.3 * top)
    ax.set_xlabel(f"N = {len(present)}" + (f"   Nmiss = {n_na}" if n_na else ""), fontsize=MIN_TEXT_PT)


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
    colors: Mapping[Any, str] | None = None,
    line_color: str = "C3",
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
    colors : mapping, optional
        Colour of each ``hue`` level (default: see :func:`group_colors`).
    line_color : str
        Colour of the OLS line when there is no ``hue``.

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
    from .ellipses import data_ellipse

    for col in [x, y, by] + ([hue] if hue else []):
        if col not in df.columns:
            raise KeyError(f"cluster_panels: no column {col!r} in the data")
    if order is None:
        order = levels_of(df[by], what=f"cluster_panels: {by!r}")
    order = list(order)
    ncol = min(col_wrap, len(order))
    nrow = math.ceil(len(order) / ncol)
    # many panels: a fixed grid (matplotlib's constrained layout takes seconds for 40 panels)
    manual = nrow * ncol > 12
    panel_size = min(panel_size, PAGE_WIDTH_IN / ncol)  # as wide as the page at most
    width = panel_size * ncol
    height = panel_size * nrow + (0.3 if manual and hue else 0.0)
    fig, axes = plt.subplots(
        nrow,
        ncol,
        figsize=(width, height),
        sharex=sharex,
        sharey=sharey,
        squeeze=False,
        layout=None if manual else "constrained",
    )
    if manual:
        top = 0.25 + (0.3 if hue else 0.0)
        fig.subplots_adjust(
            left=0.55 / width,
            right=1 - 0.08 / width,
            bottom=0.5 / height,
            top=1 - top / height,
            wspace=0.08,
            hspace=0.28 if panel_size < 2.5 else 0.2,
        )
    kw: dict[str, Any] = {"s": 4, "alpha": 0.6, "linewidths": 0}
    kw.update(point_kw or {})
    if ellipse_radius is None:
        # shared limits set once: autoscaling 40 shared axes after every artist is quadratic and slow
        for share, col, setter, auto in (
            (sharex, x, "set_xlim", "set_autoscalex_on"),
            (sharey, y, "set_ylim", "set_autoscaley_on"),
        ):
            vals = df[col].to_numpy(dtype=float)
            if share and np.isfinite(vals).any():
                lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
                pad = 0.05 * (hi - lo) if hi > lo else 0.5
                for a in axes.ravel():
                    getattr(a, auto)(False)
                getattr(axes[0, 0], setter)(lo - pad, hi + pad)
    levels = levels_of(df[hue]) if hue else [None]
    colors = group_colors(levels, colors) if hue else {None: "C0"}
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
                    ax.plot(xx, line[0] + line[1] * xx, color=colors[lev] if hue else line_color, lw=1)
        xv = part[x].to_numpy(dtype=float)
        yv = part[y].to_numpy(dtype=float)
        if lowess and len(part) > 3:
            from statsmodels.nonparametric.smoothers_lowess import lowess as _lowess

            sm = _lowess(yv, xv, frac=2 / 3, return_sorted=True)
            ax.plot(sm[:, 0], sm[:, 1], color="C2", lw=1, ls="--")
        if ellipse_radius is not None and len(part) > 2:
            pts = data_ellipse(xv, yv, radius=ellipse_radius)
            ax.plot(pts[:, 0], pts[:, 1], color="0.4", lw=0.7)
        big = panel_size >= 2.5
        ax.set_title(title(label) if title else str(label), fontsize=9 if big else MIN_TEXT_PT, pad=2)
        ax.tick_params(labelsize=MIN_TEXT_PT)
    for ax in flat[len(order) :]:
        ax.set_visible(False)
    if manual:
        fig.supxlabel(x, fontsize=9, y=0.1 / height, va="bottom")
        fig.supylabel(y, fontsize=9, x=0.05 / width, ha="left")
    else:
        fig.supxlabel(x, fontsize=9)
        fig.supylabel(y, fontsize=9)
    if hue:
        handles = [plt.Line2D([], [], color=colors[lev], marker="o", ls="-", ms=4) for lev in levels]
        where = (
            {"loc": "upper center", "bbox_to_anchor": (0.5, 1 - 0.02 / height)}
            if manual
            else {"loc": "outside upper center"}
        )
        fig.legend(
            handles, [str(lev) for lev in levels], ncol=len(levels), fontsize=8, frameon=False, **where
        )
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
    colors: Mapping[Any, str] | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
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
        Grouping of the clusters: a column of ``coefs``, a Series (matched to ``coefs`` by index)
        or values in the order of its rows.
    ellipse_radius : float, sequence or None
        Radii of the data ellipse drawn for each group (None for none).
    labels : bool or sequence of str
        Label the points (True: with the index).
    ax : matplotlib Axes, optional
    point_kw : dict, optional
        Passed to ``Axes.scatter``.
    colors : mapping, optional
        Colour of each group (default: see :func:`group_colors`).
    xlabel, ylabel : str, optional
        Axis labels (default: the column names).

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
    from .ellipses import data_ellipse

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
    groups = _groups_for(coefs, hue, "beta_space")
    levels = levels_of(groups)
    palette = group_colors(levels, colors) if hue is not None else {"all": "C0"}
    kw: dict[str, Any] = {"s": 14}
    kw.update(point_kw or {})
    for lev in levels:
        part = coefs[groups.to_numpy() == lev]
        xv = part[x].to_numpy(dtype=float)
        yv = part[y].to_numpy(dtype=float)
        ax.scatter(xv, yv, color=palette[lev], label=None if hue is None else str(lev), **kw)
        ok = ~(np.isnan(xv) | np.isnan(yv))
        if ellipse_radius is not None and ok.sum() > 2:
            pts = data_ellipse(xv, yv, radius=ellipse_radius)
            ax.plot(pts[:, 0], pts[:, 1], color=palette[lev], lw=1)
    if labels is not False:
        texts = [str(i) for i in coefs.index] if labels is True else list(labels)
        for t, xv, yv in zip(texts, coefs[x], coefs[y]):
            ax.annotate(t, (xv, yv), fontsize=MIN_TEXT_PT, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(x if xlabel is None else xlabel)
    ax.set_ylabel(y if ylabel is None else ylabel)
    if hue is not None:
        ax.legend(fontsize=8, frameon=False)
    return ax


# --------------------------------------------------------------------------------------------
# data space and beta space: the pieces of the notes' figures for Methods 1-4
# --------------------------------------------------------------------------------------------


def _groups_for(frame: pd.DataFrame, hue: Any, who: str) -> pd.Series:
    """A grouping aligned with the rows of ``frame`` from a column name, a Series or values."""
    if hue is None:
        return pd.Series("all", index=frame.index)
    if isinstance(hue, str):
        if hue not in frame.columns:
            raise KeyError(f"{who}: no column {hue!r}")
        return frame[hue]
    if isinstance(hue, pd.Series):
        missing = frame.index.difference(hue.index)
        if len(missing):
            raise KeyError(f"{who}: the grouping has no value for rows {list(missing[:5])}")
        return hue.loc[frame.index]
    values = np.asarray(hue)
    if len(values) != len(frame):
        raise ValueError(f"{who}: the grouping has {len(values)} values for {len(frame)} rows")
    return pd.Series(values, index=frame.index)


def group_colors(levels: Sequence[Any], colors: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """A colour for each level: the ones given in ``colors``, else matplotlib's cycle C0, C1, ...

    Examples
    --------
    >>> from hlmkit.plots import group_colors
    >>> group_colors(["Catholic", "Public"], {"Public": "red"})
    {'Catholic': 'C0', 'Public': 'red'}
    """
    given = dict(colors or {})
    return {lev: given.get(lev, f"C{k}") for k, lev in enumerate(levels)}


def data_space(
    df: pd.DataFrame,
    x: str,
    y: str,
    hue: Any = None,
    *,
    ax: plt.Axes | None = None,
    colors: Mapping[Any, str] | None = None,
    point_kw: dict[str, Any] | None = None,
    legend: bool = True,
) -> plt.Axes:
    """A scatter plot of ``y`` against ``x``, one colour per group: the "data space" of the notes.

    Lines drawn on it with :func:`coef_lines` are the points of beta space (:func:`beta_space`).

    Parameters
    ----------
    df : DataFrame
    x, y : str
        Columns on the horizontal and vertical axes.
    hue : str, Series or array-like, optional
        The grouping (a column, a Series matched by index, or values in row order).
    ax : matplotlib Axes, optional
    colors : mapping, optional
        Colour of each group (see :func:`group_colors`).
    point_kw : dict, optional
        Passed to ``Axes.scatter`` (default: small, translucent points).
    legend : bool
        Label the groups and show a legend (False: no labels, so that a legend drawn later shows
        only the lines added on top).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import hlmkit as hk
    >>> from hlmkit.plots import data_space
    >>> ax = data_space(hk.load_hs(), "ses", "mathach", "Sector")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Catholic', 'Public']
    """
    for col in (x, y):
        if col not in df.columns:
            raise KeyError(f"data_space: no column {col!r} in the data")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    groups = _groups_for(df, hue, "data_space")
    levels = levels_of(groups)
    palette = group_colors(levels, colors) if hue is not None else {"all": "0.5"}
    kw: dict[str, Any] = {"s": 5, "alpha": 0.35, "linewidths": 0}
    kw.update(point_kw or {})
    for lev in levels:
        part = df[groups.to_numpy() == lev]
        ax.scatter(
            part[x], part[y], color=palette[lev], label=str(lev) if hue is not None and legend else None, **kw
        )
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if legend and hue is not None:
        ax.legend(fontsize=8, frameon=False, markerscale=2)
    return ax


def coef_lines(
    ax: plt.Axes,
    coefs: pd.DataFrame | np.ndarray,
    *,
    x_range: tuple[float, float] | pd.DataFrame | None = None,
    hue: Any = None,
    colors: Mapping[Any, str] | None = None,
    intercept: str = "(Intercept)",
    slope: str | None = None,
    labels: bool = False,
    **line_kw: Any,
) -> list[Any]:
    """Draw the line ``y = a + b x`` of each row of ``coefs`` in data space.

    The dual of :func:`beta_space`: a point (a, b) of beta space is a line of data space.

    Parameters
    ----------
    ax : matplotlib Axes
    coefs : DataFrame or (n, 2) array
        Intercepts and slopes, one line per row (e.g. ``hk.lmlist(...).coef``).
    x_range : (lo, hi) or DataFrame, optional
        Where to draw: one range for all lines, or a DataFrame with two columns (lo, hi)
        matched to ``coefs`` by index (e.g. each school's range of ses). Default: the axes'
        current x limits.
    hue : str, Series or array-like, optional
        Grouping of the rows, for colours (a column of ``coefs``, a Series matched by index, or
        values in row order).
    colors : mapping, optional
        Colour of each group (see :func:`group_colors`).
    intercept, slope : str
        Columns of ``coefs`` (default slope: the first other numeric column).
    labels : bool
        Give each group's first line a legend label.
    **line_kw
        Passed to ``Axes.plot`` (e.g. ``lw``, ``alpha``, ``ls``, ``color``).

    Returns
    -------
    list of the Line2D objects drawn

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from hlmkit.plots import coef_lines
    >>> fig, ax = plt.subplots()
    >>> lines = coef_lines(ax, pd.DataFrame({"(Intercept)": [1.0, 2.0], "x": [0.5, -1.0]}), x_range=(0, 2))
    >>> [ln.get_ydata().tolist() for ln in lines]
    [[1.0, 2.0], [2.0, 0.0]]
    >>> plt.close(fig)
    """
    frame = (
        coefs
        if isinstance(coefs, pd.DataFrame)
        else pd.DataFrame(np.asarray(coefs, dtype=float).reshape(-1, 2), columns=[intercept, "slope"])
    )
    if intercept not in frame.columns:
        raise KeyError(f"coef_lines: no column {intercept!r} in coefs")
    if slope is None:
        others = [c for c in frame.columns if c != intercept and pd.api.types.is_numeric_dtype(frame[c])]
        if not others:
            raise ValueError("coef_lines: coefs needs a slope column")
        slope = others[0]
    elif slope not in frame.columns:
        raise KeyError(f"coef_lines: no column {slope!r} in coefs")
    if x_range is None:
        lo_hi = pd.DataFrame({"lo": ax.get_xlim()[0], "hi": ax.get_xlim()[1]}, index=frame.index)
    elif isinstance(x_range, pd.DataFrame):
        if x_range.shape[1] != 2:
            raise ValueError("coef_lines: x_range as a DataFrame needs exactly two columns (lo, hi)")
        missing = frame.index.difference(x_range.index)
        if len(missing):
            raise KeyError(f"coef_lines: x_range has no range for rows {list(missing[:5])}")
        lo_hi = x_range.loc[frame.index].set_axis(["lo", "hi"], axis=1)
    else:
        x_lo, x_hi = (float(v) for v in x_range)
        lo_hi = pd.DataFrame({"lo": x_lo, "hi": x_hi}, index=frame.index)
    groups = _groups_for(frame, hue, "coef_lines")
    levels = levels_of(groups)
    palette = group_colors(levels, colors) if hue is not None else {}
    drawn = []
    seen: set[Any] = set()
    a = frame[intercept].to_numpy(dtype=float)
    b = frame[slope].to_numpy(dtype=float)
    lo = lo_hi["lo"].to_numpy(dtype=float)
    hi = lo_hi["hi"].to_numpy(dtype=float)
    for k, g in enumerate(groups.to_numpy()):
        if np.isnan(a[k]) or np.isnan(b[k]):
            continue
        kw = dict(line_kw)
        if hue is not None:
            kw.setdefault("color", palette.get(g, "0.5"))
            if labels and g not in seen:
                kw.setdefault("label", str(g))
                seen.add(g)
        xx = np.array([lo[k], hi[k]])
        (line,) = ax.plot(xx, a[k] + b[k] * xx, **kw)
        drawn.append(line)
    return drawn


def conf_ellipses(
    ax: plt.Axes,
    fit: Any,
    Ls: Mapping[str, Any],
    *,
    level: float = 0.95,
    kind: str = "coverage",
    colors: Mapping[str, str] | None = None,
    center: bool = True,
    labels: bool = True,
    **line_kw: Any,
) -> dict[str, Any]:
    """Draw the confidence ellipse of each 2-row ``L @ beta`` of a fit, with its centre.

    For beta space: ``Ls = {"Catholic": line_L(fit, "ses", Sector="Catholic"), ...}`` draws each
    sector's (intercept, slope) with its 95 % confidence ellipse; the difference of two such L
    matrices draws the ellipse of a difference (to be compared with the origin, see
    :func:`mark_origin`).

    Parameters
    ----------
    ax : matplotlib Axes
    fit : a fit :func:`hlmkit.conf_ellipse` accepts
    Ls : mapping label -> 2 x p L matrix
    level : float
    kind : {"coverage", "shadow"}
        ``"coverage"``: the ellipse covers the pair with probability ``level``; ``"shadow"``:
        its shadow on each axis (on any direction) is a ``level`` interval.
    colors : mapping, optional
        Colour of each label (see :func:`group_colors`).
    center : bool
        Mark the estimate with a cross.
    labels : bool
        Use the keys of ``Ls`` as legend labels.
    **line_kw
        Passed to ``Axes.plot`` (e.g. ``ls="--"``, ``lw``).

    Returns
    -------
    dict label -> the Line2D of the ellipse

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import hlmkit as hk
    >>> from hlmkit.ellipses import line_L
    >>> from hlmkit.plots import conf_ellipses
    >>> fit = hk.ols("mathach ~ ses * Sector", hk.load_hs())
    >>> fig, ax = plt.subplots()
    >>> drawn = conf_ellipses(ax, fit, {s: line_L(fit, "ses", Sector=s) for s in ["Catholic", "Public"]})
    >>> sorted(drawn)
    ['Catholic', 'Public']
    >>> plt.close(fig)
    """
    from .ellipses import conf_ellipse

    palette = group_colors(list(Ls), colors)
    drawn = {}
    for label, L in Ls.items():
        pts = conf_ellipse(fit, L=L, level=level, kind=kind)
        kw: dict[str, Any] = {"color": palette[label], "lw": 1.2}
        kw.update(line_kw)
        if labels:
            kw.setdefault("label", str(label))
        (line,) = ax.plot(pts[:, 0], pts[:, 1], **kw)
        if center:
            ok = ~np.isnan(pts[:, 0])
            c = pts[ok][:-1].mean(axis=0)
            ax.plot(c[0], c[1], "+", color=line.get_color(), ms=10, mew=2)
        drawn[label] = line
    return drawn


def mark_origin(ax: plt.Axes, label: str | None = "no difference", **kw: Any) -> None:
    """Mark the origin of a "difference" beta space: thin axes through (0, 0) and a cross at it.

    An ellipse of a difference that misses the origin rejects "no difference" in both
    coefficients jointly (coverage ellipse) or in some linear combination (shadow ellipse).
    """
    style: dict[str, Any] = {"color": "0.3", "lw": 0.6, "zorder": 0}
    ax.axhline(0, **style)
    ax.axvline(0, **style)
    mk: dict[str, Any] = {"marker": "x", "color": "k", "ms": 7, "ls": "none"}
    mk.update(kw)
    ax.plot(0, 0, label=label, **mk)


# --------------------------------------------------------------------------------------------
# general plots: quantiles, panels of scatter plots, scatterplot matrices
# --------------------------------------------------------------------------------------------


def _legend_above(fig: Any, labels: list[str], marker: str | None = None) -> None:
    """One row of legend keys above a figure of panels (lattice's ``auto.key`` on top): the
    colours C0, C1, ... of the levels ``labels``, as points (``marker``) or as lines."""
    style: dict[str, Any] = {"marker": marker, "ls": "", "ms": 4} if marker else {}
    handles = [plt.Line2D([], [], color=f"C{k}", **style) for k in range(len(labels))]
    fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize=8, frameon=False)


def _extreme_points(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` values largest in absolute value (NaN left out), largest first."""
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
    v = np.asarray(values, dtype=float)
    lab = np.asarray(list(labels), dtype=object) if labels is not None else None
    ok = np.isfinite(v)
    v = v[ok]
    lab = lab[ok] if lab is not None else None
    order = np.argsort(v, kind="stable")
    q = stats.norm.ppf(ppoints(len(v)))
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    style: dict[str, Any] = {"s": 8, "color": "C0", "linewidths": 0}
    style.update(kw)
    ax.scatter(q, v[order], **style)
    if line == "quartiles" and len(v) > 3:
        quartiles = np.asarray(np.quantile(v, [0.25, 0.75]))
        y1, y2 = float(quartiles[0]), float(quartiles[1])
        x1, x2 = (float(z) for z in np.asarray(stats.norm.ppf([0.25, 0.75])))
        slope = (y2 - y1) / (x2 - x1)
        ax.axline((x1, y1), slope=slope, color="0.4", lw=0.8)
    elif line == "identity":
        ax.axline((0, 0), slope=1, color="0.4", lw=0.8)
    elif line not in (None, "none", "quartiles"):
        raise ValueError(f"qq_plot: line must be 'quartiles', 'identity' or None, not {line!r}")
    if lab is not None and n_label:
        vs = v[order]
        for k in _extreme_points(vs - np.median(vs), n_label):
            ax.annotate(
                str(lab[order][k]),
                (q[k], vs[k]),
                fontsize=MIN_TEXT_PT,
                xytext=(3, 0),
                textcoords="offset points",
            )
    ax.set_xlabel("Normal quantile")
    return ax


def _is_categorical(s: pd.Series) -> bool:
    """A column of categories: categorical, text or logical (:func:`xqplot` draws logicals as 0/1)."""
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
    )


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
    cols = levels_of(df[col]) if col else [None]
    rows = levels_of(df[row]) if row else [None]
    categorical_y = _is_categorical(df[y])
    fig, axes = plt.subplots(
        len(rows),
        len(cols),
        figsize=fit_page(panel_size[0] * len(cols), panel_size[1] * len(rows)),
        sharex=sharex,
        sharey=sharey and not categorical_y,
        squeeze=False,
        layout="constrained",
    )
    kw: dict[str, Any] = {"s": 5, "alpha": 0.5, "linewidths": 0}
    kw.update(point_kw or {})
    hues = levels_of(df[hue]) if hue else [None]
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
                levels = levels_of(part[y])  # the levels present in this panel
                data = [part.loc[part[y] == lev, x].dropna().to_numpy(float) for lev in levels]
                ax.boxplot(
                    data,
                    orientation="horizontal",
                    tick_labels=[str(v) for v in levels],
                    widths=0.6,
                    flierprops={"markersize": 2},
                    medianprops={"color": "C3"},
                )
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
                for j in _extreme_points(np.where(okp, yv - np.nanmedian(yv[okp]), np.nan), n_label):
                    ax.annotate(
                        str(lab[j]),
                        (xv[j], yv[j]),
                        fontsize=MIN_TEXT_PT,
                        xytext=(3, 0),
                        textcoords="offset points",
                    )
    fig.supxlabel(x, fontsize=9)
    if not categorical_y:
        fig.supylabel(y, fontsize=9)
    if hue:
        _legend_above(fig, [str(v) for v in hues], marker="o")
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
    from .ellipses import data_ellipse

    cols = (
        list(columns)
        if columns is not None
        else [
            c for c in df.columns if pd.api.types.is_numeric_dtype(df[c].dtype) and not _is_categorical(df[c])
        ]
    )
    bad = [c for c in cols if c not in df.columns]
    if bad:
        raise KeyError(f"scatter_matrix: no column(s) {bad} in the data")
    if len(cols) < 2:
        raise ValueError("scatter_matrix: need at least two numeric columns")
    k = len(cols)
    fig, axes = plt.subplots(
        k, k, figsize=fit_page(panel_size * k, panel_size * k), squeeze=False, layout="constrained"
    )
    groups = (
        [(None, np.ones(len(df), dtype=bool))]
        if hue is None
        else [(lev, (df[hue] == lev).to_numpy()) for lev in levels_of(df[hue])]
    )
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
            for g, (_lev, mask) in enumerate(groups):
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
                    ax.annotate(
                        str(lab[r]),
                        (xv[r], yv[r]),
                        fontsize=MIN_TEXT_PT,
                        xytext=(2, 1),
                        textcoords="offset points",
                    )
            if j == 0:
                ax.set_ylabel(yc, fontsize=MIN_TEXT_PT)
            if i == k - 1:
                ax.set_xlabel(xc, fontsize=MIN_TEXT_PT)
    if hue is not None:
        _legend_above(fig, [str(lev) for lev, _ in groups], marker="o")
    return fig
