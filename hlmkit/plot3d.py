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

__all__ = ["Interactive3D", "show3d", "scatter3d", "ellipsoid_mesh", "add_ellipsoid", "add_surface",
           "scatter3d_static"]


class Interactive3D:
    """A plotly figure with an offline HTML representation (see :func:`show3d`)."""

    def __init__(self, fig: Any, height: int = 520) -> None:
        self.fig = fig
        self.height = height

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        html = self.fig.to_html(
            include_plotlyjs=False, full_html=False, default_height=self.height,
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
    df: pd.DataFrame, x: str, y: str, z: str, color: str | None = None, title: str = "",
    size: float = 2.5,
) -> Any:
    """A plotly 3D scatter plot of three columns, one trace per level of ``color``."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = [(None, df)] if color is None else list(df.groupby(color, observed=True, sort=True))
    for level, part in groups:
        fig.add_trace(go.Scatter3d(
            x=part[x], y=part[y], z=part[z], mode="markers", marker={"size": size},
            name=str(level) if level is not None else z,
        ))
    fig.update_layout(
        title=title, scene={"xaxis_title": x, "yaxis_title": y, "zaxis_title": z},
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 0}, legend={"itemsizing": "constant"},
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
    sphere = np.stack([np.outer(np.cos(u), np.sin(t)), np.outer(np.sin(u), np.sin(t)),
                       np.outer(np.ones_like(u), np.cos(t))])
    pts = np.einsum("ij,jab->iab", F, sphere) * radius + c[:, None, None]
    return pts[0], pts[1], pts[2]


def add_ellipsoid(fig: Any, center: Any, shape: Any, radius: float = 1.0, name: str = "ellipsoid",
                  opacity: float = 0.25, color: str = "gray") -> Any:
    """Add the ellipsoid of :func:`ellipsoid_mesh` to a plotly figure as a translucent surface."""
    import plotly.graph_objects as go

    x, y, z = ellipsoid_mesh(center, shape, radius)
    fig.add_trace(go.Surface(x=x, y=y, z=z, opacity=opacity, showscale=False, name=name,
                             colorscale=[[0, color], [1, color]], hoverinfo="skip"))
    return fig


def add_surface(fig: Any, f: Any, xrange: tuple[float, float], yrange: tuple[float, float], n: int = 20,
                name: str = "fit", opacity: float = 0.35, color: str = "steelblue") -> Any:
    """Add the surface z = f(x, y) over a rectangle (e.g. a fitted regression plane)."""
    import plotly.graph_objects as go

    xs = np.linspace(*xrange, n)
    ys = np.linspace(*yrange, n)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(f(X, Y), dtype=float)
    fig.add_trace(go.Surface(x=X, y=Y, z=Z, opacity=opacity, showscale=False, name=name,
                             colorscale=[[0, color], [1, color]], hoverinfo="skip"))
    return fig


def scatter3d_static(
    df: pd.DataFrame,
    x: str,
    y: str,
    z: str,
    color: str | None = None,
    *,
    surface: Any = None,
    colors: dict[Any, str] | None = None,
    elev: float = 18.0,
    azim: float = -60.0,
    size: float = 3.0,
    figsize: tuple[float, float] = (6.5, 5.5),
    title: str = "",
) -> Any:
    """A static matplotlib version of a 3D scatter plot, for print beside an interactive view.

    Parameters
    ----------
    df : DataFrame
    x, y, z : str
        Columns on the three axes (``z`` vertical).
    color : str, optional
        A column whose levels get their own colour.
    surface : callable, optional
        ``f(X, Y) -> Z``: a fitted surface drawn as a wire frame over the range of the data.
    colors : dict, optional
        Colour of each level of ``color`` (default C0, C1, ...).
    elev, azim : float
        Viewing angles in degrees (matplotlib's ``view_init``).
    size : float
        Marker size.
    figsize : (width, height)
    title : str

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import hlmkit as hk
    >>> from hlmkit.plot3d import scatter3d_static
    >>> hs = hk.load_hs()
    >>> fig = scatter3d_static(hs, "ses", "Size", "mathach", color="Sector")
    >>> fig.axes[0].get_zlabel()
    'mathach'
    """
    import matplotlib.pyplot as plt

    for col in [x, y, z] + ([color] if color else []):
        if col not in df.columns:
            raise KeyError(f"scatter3d_static: no column {col!r} in the data")
    fig = plt.figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot(projection="3d")
    if color is None:
        groups = [(None, df)]
    else:
        groups = list(df.groupby(color, observed=True, sort=True))
    given = dict(colors or {})
    for k, (level, part) in enumerate(groups):
        ax.scatter(part[x], part[y], part[z], s=size, alpha=0.5, depthshade=False,
                   color=given.get(level, f"C{k}"), label=None if level is None else str(level))
    if surface is not None:
        xs = np.linspace(float(df[x].min()), float(df[x].max()), 12)
        ys = np.linspace(float(df[y].min()), float(df[y].max()), 12)
        X, Y = np.meshgrid(xs, ys)
        ax.plot_wireframe(X, Y, np.asarray(surface(X, Y), dtype=float), color="0.25", lw=0.5)
    from matplotlib.ticker import MaxNLocator

    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax.tick_params(labelsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_zlabel(z)
    ax.view_init(elev=elev, azim=azim)
    if title:
        ax.set_title(title)
    if color is not None:
        ax.legend(fontsize=8, frameon=False, markerscale=2, loc="upper left")
    return fig
