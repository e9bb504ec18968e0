"""Pictures of fitted effects: lines with confidence bands, per-cluster lines, marked effects, 3D views.

The Lab draws a fitted model by hand: it predicts on a grid of covariate values
(:func:`hlmkit.pred_grid`), gets estimates and standard errors with :func:`hlmkit.wald`
(``wald(fit, pred=grid).to_frame(se=2)`` has ``coef``, ``U2``, ``L2`` and the grid's columns), and
plots ``coef`` against a covariate with one line per group and a band between ``L2`` and ``U2``
(spida2's ``panel.fit``). :func:`effect_plot` does that in one call; :func:`plot_band` draws one
line with its band on given axes.

:func:`cluster_lines` draws each cluster's least-squares line (the within-cluster relationships
the mixed model summarises), :func:`mark_effect` labels an arrow between two points of a plot (a
contextual or compositional effect). The static versions of the interactive 3D views, for print,
are :func:`hlmkit.plot3d.view3d_static`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure, SubFigure

from .frames import levels_of
from .plots import MIN_TEXT_PT, _legend_above, fit_page

__all__ = ["cluster_lines", "effect_plot", "mark_effect", "plot_band"]

_STYLES = ["-", "--", ":", "-."]


def plot_band(
    ax: plt.Axes,
    x: Any,
    fit: Any,
    lower: Any = None,
    upper: Any = None,
    *,
    color: Any = None,
    alpha: float = 0.25,
    label: str | None = None,
    **line_kw: Any,
) -> Any:
    """Draw a line and, if ``lower`` and ``upper`` are given, a translucent band between them.

    The points are sorted by ``x`` first (spida2's ``panel.fit``).

    Parameters
    ----------
    ax : matplotlib Axes
    x, fit : array-like
        The covariate and the fitted values.
    lower, upper : array-like, optional
        The band's limits (e.g. ``L2`` and ``U2``: estimate -+ 2 SE).
    color : colour, optional
        Of the line and the band (default: the next colour of the axes' cycle).
    alpha : float
        Opacity of the band.
    label : str, optional
        Legend label of the line.
    **line_kw
        Passed to ``Axes.plot`` (``ls``, ``lw``, ...).

    Returns
    -------
    matplotlib Line2D

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from hlmkit import plot_band
    >>> fig, ax = plt.subplots()
    >>> line = plot_band(ax, [2, 0, 1], [4, 0, 2], [3, -1, 1], [5, 1, 3])
    >>> line.get_xdata().tolist()
    [0.0, 1.0, 2.0]
    """
    xv = np.asarray(x, dtype=float)
    fv = np.asarray(fit, dtype=float)
    if xv.shape != fv.shape:
        raise ValueError(f"plot_band: x has {xv.shape} values but fit has {fv.shape}")
    order = np.argsort(xv, kind="stable")
    (line,) = ax.plot(xv[order], fv[order], color=color, label=label, **line_kw)
    if (lower is None) != (upper is None):
        raise ValueError("plot_band: give both lower and upper, or neither")
    if lower is not None:
        lo = np.asarray(lower, dtype=float)
        hi = np.asarray(upper, dtype=float)
        if lo.shape != xv.shape or hi.shape != xv.shape:
            raise ValueError("plot_band: lower and upper must have one value per x")
        ax.fill_between(xv[order], lo[order], hi[order], color=line.get_color(), alpha=alpha, linewidth=0)
    return line


def _levels(s: pd.Series, grid: bool = True) -> list[Any]:
    """The levels of a column (:func:`hlmkit.frames.levels_of`): of a prediction grid (``grid``) in
    the order the grid gives them (R's ``expand.grid``), of data in R's order; categories in their
    order either way."""
    return levels_of(s, in_order_given=grid, what=f"the column {s.name!r}")


def _panels(
    frame: pd.DataFrame,
    col: str | None,
    row: str | None,
    panel_size: tuple[float, float],
    sharex: bool,
    sharey: bool,
    grid: bool = True,
) -> tuple[plt.Figure, np.ndarray, list[Any], list[Any]]:
    cols = _levels(frame[col], grid) if col else [None]
    rows = _levels(frame[row], grid) if row else [None]
    fig, axes = plt.subplots(
        len(rows),
        len(cols),
        figsize=fit_page(panel_size[0] * len(cols), panel_size[1] * len(rows)),
        sharex=sharex,
        sharey=sharey,
        squeeze=False,
        layout="constrained",
    )
    return fig, axes, rows, cols


def _subset(frame: pd.DataFrame, col: str | None, clev: Any, row: str | None, rlev: Any) -> pd.DataFrame:
    part = frame
    if row:
        part = part[part[row] == rlev]
    if col:
        part = part[part[col] == clev]
    return part


def _title(ax: plt.Axes, col: str | None, clev: Any, row: str | None, rlev: Any) -> None:
    bits = [f"{row} = {rlev}" if row else None, f"{col} = {clev}" if col else None]
    text = ", ".join(b for b in bits if b)
    if text:
        ax.set_title(text, fontsize=8, pad=2)


def effect_plot(
    frame: pd.DataFrame,
    x: str,
    y: str = "coef",
    *,
    group: str | None = None,
    hue: str | None = None,
    style: str | None = None,
    col: str | None = None,
    row: str | None = None,
    lower: str | None = "L2",
    upper: str | None = "U2",
    band: bool = True,
    ax: plt.Axes | None = None,
    panel_size: tuple[float, float] = (3.6, 3.0),
    sharex: bool = True,
    sharey: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    hline: float | None = None,
    legend: bool = True,
    alpha: float = 0.2,
) -> Figure | SubFigure:
    """Fitted values against a covariate, one line (with its band) per group, in panels.

    Typically ``frame = hk.wald(fit, pred=grid).to_frame(se=2)``: ``coef`` is the estimate at each
    grid point and ``L2``/``U2`` the estimate -+ 2 SE (pointwise approximate 95 % limits).

    Parameters
    ----------
    frame : DataFrame
    x, y : str
        The covariate on the horizontal axis and the fitted values.
    group : str, optional
        One line per level of this column (default: one line per panel).
    hue, style : str, optional
        Columns that set the colour and the line style of each line (default: the colour follows
        ``group``, all lines solid). Each line must have one value of them. The legend names the
        levels of ``hue`` (or of ``style``) when only one of them is given, else the groups.
    col, row : str, optional
        Panels by the levels of these columns.
    lower, upper : str or None
        Columns of the band's limits; no band if either is None or missing, or ``band=False``.
    ax : matplotlib Axes, optional
        Draw into these axes (only without ``col``/``row``).
    panel_size : (width, height) in inches
    sharex, sharey : bool
    xlabel, ylabel : str, optional
    hline : float, optional
        A horizontal reference line (e.g. 0 for a difference).
    legend : bool
    alpha : float
        Opacity of the bands.

    Returns
    -------
    matplotlib Figure (the SubFigure of ``ax`` when ``ax`` is in one)

    Examples
    --------
    >>> import numpy as np, hlmkit as hk
    >>> hs = hk.load_hs()
    >>> fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 | school")
    >>> grid = hk.pred_grid(ses=np.linspace(-2, 2, 5), Sector=hs["Sector"])
    >>> ww = hk.wald(fit, pred=grid).to_frame(se=2)
    >>> fig = hk.effect_plot(ww, "ses", group="Sector")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Catholic', 'Public']
    """
    for c in [x, y, group, hue, style, col, row]:
        if c is not None and c not in frame.columns:
            raise KeyError(f"effect_plot: no column {c!r}; the columns are {list(frame.columns)}")
    show_band = (
        band and lower is not None and upper is not None and lower in frame.columns and upper in frame.columns
    )
    if ax is not None:
        if col or row:
            raise ValueError("effect_plot: give ax only without col/row panels")
        fig = ax.figure
        axes = np.array([[ax]])
        rows, cols = [None], [None]
    else:
        fig, axes, rows, cols = _panels(frame, col, row, panel_size, sharex, sharey)
    groups = _levels(frame[group]) if group else [None]
    hues = _levels(frame[hue]) if hue else None
    styles = _levels(frame[style]) if style else None
    handles: dict[str, Any] = {}
    for i, rlev in enumerate(rows):
        for k, clev in enumerate(cols):
            a = axes[i, k]
            part = _subset(frame, col, clev, row, rlev)
            for g, glev in enumerate(groups):
                sub = part if glev is None else part[part[group] == glev]
                if sub.empty:
                    continue
                if hues is not None:
                    hv = _levels(sub[hue])
                    if len(hv) != 1:
                        raise ValueError(
                            f"effect_plot: the line of {group} = {glev!r} has several {hue} values {hv}"
                        )
                    color = f"C{hues.index(hv[0]) % 10}"
                else:
                    color = f"C{g % 10}"
                ls = "-"
                if styles is not None:
                    sv = _levels(sub[style])
                    if len(sv) != 1:
                        raise ValueError(
                            f"effect_plot: the line of {group} = {glev!r} has several {style} values {sv}"
                        )
                    ls = _STYLES[styles.index(sv[0]) % len(_STYLES)]
                line = plot_band(
                    a,
                    sub[x],
                    sub[y],
                    sub[lower] if show_band else None,
                    sub[upper] if show_band else None,
                    color=color,
                    ls=ls,
                    lw=1.5,
                    alpha=alpha,
                )
                # the legend names what tells the lines apart: the colour, the style, or the group
                key: str | None
                if hue and not style:
                    key = str(_levels(sub[hue])[0])
                elif style and not hue:
                    key = str(_levels(sub[style])[0])
                else:
                    key = None if glev is None else str(glev)
                if key is not None:
                    handles.setdefault(key, line)
            if hline is not None:
                a.axhline(hline, color="0.3", lw=0.8)
            _title(a, col, clev, row, rlev)
            a.tick_params(labelsize=MIN_TEXT_PT)
            a.grid(True, lw=0.3, alpha=0.5)
    if ax is not None:
        ax.set_xlabel(xlabel or x)
        ax.set_ylabel(ylabel or y)
    else:
        fig.supxlabel(xlabel or x, fontsize=9)
        fig.supylabel(ylabel or y, fontsize=9)
    if legend and handles:
        target = axes[0, -1]
        title = hue if (hue and not style) else style if (style and not hue) else group
        target.legend(
            list(handles.values()),
            list(handles.keys()),
            fontsize=MIN_TEXT_PT,
            frameon=False,
            title=title,
            title_fontsize=MIN_TEXT_PT,
        )
    return fig


def cluster_lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    by: str,
    *,
    col: str | None = None,
    row: str | None = None,
    hue: str | None = None,
    points: bool = False,
    centroids: bool = False,
    panel_size: tuple[float, float] = (3.2, 2.8),
    sharex: bool = True,
    sharey: bool = True,
    lw: float = 0.8,
) -> plt.Figure:
    """Each cluster's least-squares line of ``y`` on ``x``, superposed, in panels.

    The Lab's ``xyplot(y ~ x | Sector, groups = id, panel.groups = ...)`` displays: every line
    spans its cluster's range of ``x``; ``centroids=True`` adds each cluster's point of means
    (through which its line passes), ``points=True`` the data.

    Parameters
    ----------
    df : DataFrame
    x, y : str
    by : str
        The cluster column.
    col, row : str, optional
        Panels by the levels of these columns (which must be constant within clusters).
    hue : str, optional
        Colour by a cluster-level column (e.g. ``Sector``).
    points, centroids : bool
    panel_size : (width, height) in inches
    sharex, sharey : bool
    lw : float
        Line width.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> fig = hk.cluster_lines(hk.load_hs(), "ses", "mathach", "school", col="Sector")
    >>> [len(ax.get_lines()) for ax in fig.axes]
    [21, 19]
    """
    for c in [x, y, by, col, row, hue]:
        if c is not None and c not in df.columns:
            raise KeyError(f"cluster_lines: no column {c!r} in the data")
    fig, axes, rows, cols = _panels(df, col, row, panel_size, sharex, sharey, grid=False)
    hues = _levels(df[hue], grid=False) if hue else [None]
    for i, rlev in enumerate(rows):
        for k, clev in enumerate(cols):
            a = axes[i, k]
            part = _subset(df, col, clev, row, rlev)
            for _, sub in part.groupby(by, sort=True, observed=True):
                xv = sub[x].to_numpy(float)
                yv = sub[y].to_numpy(float)
                ok = np.isfinite(xv) & np.isfinite(yv)
                if not ok.any():
                    continue
                color = f"C{hues.index(sub[hue].iloc[0]) % 10}" if hue else "C0"
                if points:
                    a.scatter(xv[ok], yv[ok], s=3, color=color, alpha=0.3, linewidths=0)
                if ok.sum() >= 2 and np.ptp(xv[ok]) > 0:
                    b, c0 = np.polyfit(xv[ok], yv[ok], 1)
                    xx = np.array([xv[ok].min(), xv[ok].max()])
                    a.plot(xx, c0 + b * xx, color=color, lw=lw, alpha=0.8)
                if centroids:
                    a.plot(xv[ok].mean(), yv[ok].mean(), "o", color=color, ms=3)
            _title(a, col, clev, row, rlev)
            a.tick_params(labelsize=MIN_TEXT_PT)
    fig.supxlabel(x, fontsize=9)
    fig.supylabel(y, fontsize=9)
    if hue:
        _legend_above(fig, [str(v) for v in hues])
    return fig


def mark_effect(
    ax: plt.Axes,
    start: Sequence[float],
    end: Sequence[float],
    label: str,
    *,
    color: Any = "k",
    offset: tuple[float, float] = (4, 0),
    fontsize: float = 8,
) -> Any:
    """An arrow from ``start`` to ``end`` with a label at its middle: an effect read off a plot.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from hlmkit import mark_effect
    >>> fig, ax = plt.subplots()
    >>> ann = mark_effect(ax, (0, 0), (0, 1), "contextual")
    >>> ann.get_text()
    'contextual'
    """
    ax.annotate(
        "",
        xy=(end[0], end[1]),
        xytext=(start[0], start[1]),
        arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
    )
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    return ax.annotate(
        label, mid, xytext=offset, textcoords="offset points", color=color, fontsize=fontsize, va="center"
    )
