"""Interactive 3D views (plotly) that work offline in the HTML book and in JupyterLab.

:func:`show3d` wraps a plotly figure so that the book shows it as a rotatable figure without any
network access: the HTML output holds only the figure's div and data; the book's build copies
``plotly.min.js`` from the installed plotly package into its ``_static`` folder and loads it on the
pages that need it (``_ext/offline_assets.py``). JupyterLab renders the same output through
plotly's own MIME type.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .plots import MIN_TEXT_PT

__all__ = [
    "Interactive3D",
    "add_ellipsoid",
    "add_surface",
    "ellipsoid_mesh",
    "scatter3d",
    "show3d",
    "view3d_static",
]


class Interactive3D:
    """A plotly figure with an offline HTML representation (see :func:`show3d`)."""

    def __init__(self, fig: Any, height: int = 520) -> None:
        self.fig = fig
        self.height = height

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        html = self.fig.to_html(
            include_plotlyjs=False,
            full_html=False,
            default_height=self.height,
            config={"displaylogo": False, "responsive": True},
        )
        return {
            "text/html": html,
            "application/vnd.plotly.v1+json": json.loads(self.fig.to_json()),
            "text/plain": f"<interactive 3D figure: {self.fig.layout.title.text or ''}>",
        }


def show3d(fig: Any, height: int = 520) -> Interactive3D:
    """Display a plotly figure offline (the book loads plotly.js from its own files)."""
    return Interactive3D(fig, height=height)


def scatter3d(
    df: pd.DataFrame,
    x: str,
    y: str,
    z: str,
    color: str | None = None,
    title: str = "",
    size: float = 2.5,
) -> Any:
    """A plotly 3D scatter plot of three columns, one trace per level of ``color``."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = [(None, df)] if color is None else list(df.groupby(color, observed=True, sort=True))
    for level, part in groups:
        fig.add_trace(
            go.Scatter3d(
                x=part[x],
                y=part[y],
                z=part[z],
                mode="markers",
                marker={"size": size},
                name=str(level) if level is not None else z,
            )
        )
    fig.update_layout(
        title=title,
        scene={"xaxis_title": x, "yaxis_title": y, "zaxis_title": z},
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 0},
        legend={"itemsizing": "constant"},
    )
    return fig


def ellipsoid_mesh(center: Any, shape: Any, radius: float = 1.0, n: int = 24) -> tuple[np.ndarray, ...]:
    """Surface points of the ellipsoid {center + radius * F'u : |u| = 1}, F'F = shape (PSD allowed).

    Returns x, y, z arrays of shape (n, n) for ``plotly.graph_objects.Surface`` or matplotlib's
    ``plot_surface``. A singular ``shape`` gives a flat ellipsoid: the "pancake" of a nearly
    singular random-effects covariance.
    """
    c = np.asarray(center, dtype=float).reshape(3)
    S = np.asarray(shape, dtype=float).reshape(3, 3)
    w, v = np.linalg.eigh((S + S.T) / 2)
    F = v * np.sqrt(np.clip(w, 0, None))
    u = np.linspace(0, 2 * np.pi, n)
    t = np.linspace(0, np.pi, n)
    sphere = np.stack(
        [np.outer(np.cos(u), np.sin(t)), np.outer(np.sin(u), np.sin(t)), np.outer(np.ones_like(u), np.cos(t))]
    )
    pts = np.einsum("ij,jab->iab", F, sphere) * radius + c[:, None, None]
    return pts[0], pts[1], pts[2]


def add_ellipsoid(
    fig: Any,
    center: Any,
    shape: Any,
    radius: float = 1.0,
    name: str = "ellipsoid",
    opacity: float = 0.25,
    color: str = "gray",
) -> Any:
    """Add the ellipsoid of :func:`ellipsoid_mesh` to a plotly figure as a translucent surface.

    Examples
    --------
    >>> import numpy as np
    >>> import plotly.graph_objects as go
    >>> from hlmkit.plot3d import add_ellipsoid
    >>> fig = add_ellipsoid(go.Figure(), np.zeros(3), np.eye(3), radius=2)
    >>> fig.data[0].type, round(float(np.max(fig.data[0].z)), 6)
    ('surface', 2.0)
    """
    x, y, z = ellipsoid_mesh(center, shape, radius)
    fig.add_trace(_plain_surface(x, y, z, name, opacity, color))
    return fig


def add_surface(
    fig: Any,
    f: Any,
    xrange: tuple[float, float],
    yrange: tuple[float, float],
    n: int = 20,
    name: str = "fit",
    opacity: float = 0.35,
    color: str = "steelblue",
) -> Any:
    """Add the surface z = f(x, y) over a rectangle (e.g. a fitted regression plane).

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> from hlmkit.plot3d import add_surface
    >>> fig = add_surface(go.Figure(), lambda x, y: 1 + 2 * x - y, (0, 1), (0, 1), n=5)
    >>> fig.data[0].z.shape, float(fig.data[0].z.max())
    ((5, 5), 3.0)
    """
    xs = np.linspace(*xrange, n)
    ys = np.linspace(*yrange, n)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(f(X, Y), dtype=float)
    fig.add_trace(_plain_surface(X, Y, Z, name, opacity, color))
    return fig


def _plain_surface(x: Any, y: Any, z: Any, name: str, opacity: float, color: str) -> Any:
    """A translucent one-colour plotly surface with no colour bar and no hover labels."""
    import plotly.graph_objects as go

    return go.Surface(
        x=x,
        y=y,
        z=z,
        opacity=opacity,
        showscale=False,
        name=name,
        colorscale=[[0, color], [1, color]],
        hoverinfo="skip",
    )


def view3d_static(
    df: pd.DataFrame,
    x: str,
    y: str,
    z: str,
    *,
    hue: str | None = None,
    colors: dict[Any, str] | None = None,
    surfaces: Any = None,
    ellipsoids: Any = None,
    size: float = 6.0,
    alpha: float = 0.6,
    ax: Any = None,
    elev: float = 20.0,
    azim: float = -60.0,
    figsize: tuple[float, float] = (6.5, 5.5),
    title: str = "",
) -> Any:
    """A static 3D scatter plot (matplotlib), with fitted surfaces and ellipsoids, for print.

    The counterpart, at one fixed angle, of an interactive :func:`scatter3d` view shown with
    :func:`show3d`.

    Parameters
    ----------
    df : DataFrame
    x, y, z : str
        Columns on the three axes (``z`` vertical).
    hue : str, optional
        A column whose levels get their own colour.
    colors : dict, optional
        Colour of each level of ``hue`` (default C0, C1, ...).
    surfaces : list of (f, colour), optional
        Surfaces ``z = f(X, Y)`` drawn as wire frames over the range of the data (e.g. a fitted
        regression plane).
    ellipsoids : list of (center, shape, radius, colour), optional
        Wire-frame ellipsoids (e.g. the dispersion ellipsoid of the random effects).
    size, alpha : float
        Marker size and opacity (small markers keep a surface visible among many points).
    ax : a 3D matplotlib Axes, optional
    elev, azim : float
        Viewing angles in degrees (matplotlib's ``view_init``).
    figsize : (width, height)
    title : str

    Returns
    -------
    the 3D matplotlib Axes

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> ax = hk.view3d_static(hs, "ses", "Size", "mathach", hue="Sector", surfaces=[(lambda x, y: 12 + 2 * x, "0.3")])
    >>> ax.get_zlabel()
    'mathach'
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    for col in [x, y, z] + ([hue] if hue else []):
        if col not in df.columns:
            raise KeyError(f"view3d_static: no column {col!r} in the data")
    if ax is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot(projection="3d")
    groups = [(None, df)] if hue is None else list(df.groupby(hue, observed=True, sort=True))
    given = dict(colors or {})
    for k, (level, part) in enumerate(groups):
        ax.scatter(
            part[x],
            part[y],
            part[z],
            s=size,
            alpha=alpha,
            depthshade=False,
            color=given.get(level, f"C{k}"),
            label=None if level is None else str(level),
        )
    xs = df[x].to_numpy(dtype=float)
    ys = df[y].to_numpy(dtype=float)
    gx, gy = np.meshgrid(
        np.linspace(np.nanmin(xs), np.nanmax(xs), 12), np.linspace(np.nanmin(ys), np.nanmax(ys), 12)
    )
    for f, color in surfaces or []:
        ax.plot_wireframe(gx, gy, np.asarray(f(gx, gy), dtype=float), color=color, lw=0.5)
    for center, shape, radius, color in ellipsoids or []:
        ex, ey, ez = ellipsoid_mesh(center, shape, radius, n=18)
        ax.plot_wireframe(ex, ey, ez, color=color, lw=0.4, alpha=0.5)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax.tick_params(labelsize=MIN_TEXT_PT)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylabel(y, fontsize=8)
    ax.set_zlabel(z, fontsize=8)
    ax.view_init(elev=elev, azim=azim)
    if title:
        ax.set_title(title)
    if hue is not None:
        ax.legend(fontsize=8, frameon=False, markerscale=2, loc="upper left")
    return ax
