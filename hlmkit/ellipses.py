"""Ellipses: the geometry of beta space (spida2's ``ell``, ``dell`` and ``cell``).

An ellipse ``{c + r F'u : |u| = 1}`` with ``F'F = S`` is the picture of a 2x2 variance matrix ``S``
around a centre ``c``. The course draws three kinds:

* dispersion (or data) ellipses: ``S`` the covariance of points, radius 1 (the "standard"
  ellipse, whose shadows on each axis are mean +- 1 SD) or 2;
* confidence ellipses of two coefficients: ``S`` their estimated covariance, with a radius chosen
  either for 95 % *coverage* of the pair (``sqrt(2 F(.95; 2, df))``) or so that every 1-D *shadow*
  is a 95 % interval for the corresponding linear combination (``t(.975; df)``);
* the dispersion ellipses of random effects (``G``) and of estimates (``sigma^2 (X'X)^-1``).

``S`` may be singular (positive semi-definite): the ellipse is then a segment, as for a
random-effects covariance on the boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["conf_ellipse", "data_ellipse", "ellipse", "ellipse_radius", "line_L", "plot_ellipse"]


def _factor(shape: np.ndarray) -> np.ndarray:
    """F with F'F = shape, from the SVD (works for singular PSD matrices)."""
    S = np.asarray(shape, dtype=float)
    if S.shape != (2, 2):
        raise ValueError(f"ellipse: the shape matrix must be 2x2, not {S.shape}")
    if not np.allclose(S, S.T, rtol=1e-8, atol=1e-12 * max(1.0, float(np.abs(S).max()))):
        raise ValueError("ellipse: the shape matrix is not symmetric")
    _, d, vt = np.linalg.svd((S + S.T) / 2)
    if np.any(np.linalg.eigvalsh((S + S.T) / 2) < -1e-10 * max(1.0, float(d.max()))):
        raise ValueError("ellipse: the shape matrix is not positive semi-definite")
    return np.sqrt(np.clip(d, 0, None))[:, None] * vt


def ellipse(center: Any, shape: Any, radius: float | Sequence[float] = 1.0, n: int = 100) -> np.ndarray:
    """Points on the ellipse ``center + radius * F'u``, ``|u| = 1``, ``F'F = shape``.

    Parameters
    ----------
    center : length-2 array
    shape : 2x2 positive semi-definite matrix
    radius : float or sequence of floats
        Several radii give several closed curves separated by a row of NaN.
    n : int
        Number of segments per curve.

    Returns
    -------
    ndarray of shape (n + 1, 2) (closed: the last point repeats the first), or stacked curves.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.ellipses import ellipse
    >>> pts = ellipse([0, 0], np.diag([4.0, 1.0]))
    >>> np.round(pts.max(axis=0), 6).tolist()
    [2.0, 1.0]
    """
    c = np.asarray(center, dtype=float).reshape(2)
    F = _factor(np.asarray(shape, dtype=float))
    t = np.linspace(0, 2 * np.pi, n + 1)
    circle = np.column_stack([np.cos(t), np.sin(t)])
    radii = [float(radius)] if isinstance(radius, (int, float, np.number)) else [float(r) for r in radius]
    curves = []
    for k, r in enumerate(radii):
        if k:
            curves.append(np.full((1, 2), np.nan))
        curves.append(c + r * circle @ F)
    return np.vstack(curves)


def ellipse_radius(level: float = 0.95, kind: str = "coverage", df: float = np.inf) -> float:
    """Radius of a confidence ellipse for two parameters.

    ``kind="coverage"``: the ellipse covers the pair with probability ``level``
    (``sqrt(2 F(level; 2, df))``, or ``sqrt(chi2(level; 2))`` for infinite df).
    ``kind="shadow"``: each 1-D shadow is a ``level`` interval (``t(1 - (1-level)/2; df)``).

    Examples
    --------
    >>> from hlmkit import ellipse_radius
    >>> round(ellipse_radius(0.95, "shadow"), 4), round(ellipse_radius(0.95, "coverage"), 4)
    (1.96, 2.4477)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    if kind == "coverage":
        if np.isinf(df):
            return float(np.sqrt(stats.chi2.ppf(level, 2)))
        return float(np.sqrt(2 * stats.f.ppf(level, 2, df)))
    if kind == "shadow":
        if np.isinf(df):
            return float(stats.norm.ppf(1 - (1 - level) / 2))
        return float(stats.t.ppf(1 - (1 - level) / 2, df))
    raise ValueError(f"kind must be 'coverage' or 'shadow', not {kind!r}")


def data_ellipse(x: Any, y: Any, radius: float | Sequence[float] = 1.0, n: int = 100) -> np.ndarray:
    """The data (dispersion) ellipse of points: centre the means, shape the covariance (n - 1).

    Rows where x or y is missing are left out. With ``radius=1`` the ellipse's shadows on the axes
    are the means +- 1 standard deviation.

    Examples
    --------
    >>> from hlmkit import data_ellipse
    >>> data_ellipse([0, 1, 2, 3], [1, 3, 2, 5]).shape
    (101, 2)
    """
    xv = np.asarray(x, dtype=float)
    yv = np.asarray(y, dtype=float)
    ok = ~(np.isnan(xv) | np.isnan(yv))
    if ok.sum() < 2:
        raise ValueError("data_ellipse: need at least two complete points")
    xy = np.column_stack([xv[ok], yv[ok]])
    return ellipse(xy.mean(axis=0), np.cov(xy, rowvar=False), radius=radius, n=n)


def conf_ellipse(
    fit: Any,
    coefs: Sequence[str] | Sequence[int] | None = None,
    level: float = 0.95,
    kind: str = "coverage",
    L: Any = None,
    n: int = 100,
) -> np.ndarray:
    """Confidence ellipse for two coefficients of a fit (or two linear combinations ``L beta``).

    Parameters
    ----------
    fit : LmeResult, statsmodels results, or anything :func:`hlmkit.get_fix` accepts
    coefs : two coefficient names or positions (default: the first two after the intercept)
    level : float
    kind : {"coverage", "shadow"}
        See :func:`ellipse_radius`. The df is the smaller df of the two coefficients.
    L : 2 x p matrix, optional
        Draw the ellipse of ``L beta`` instead (e.g. the intercept and slope in one sector).

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.ols("mathach ~ ses", hk.load_hs())
    >>> hk.conf_ellipse(fit, ["(Intercept)", "ses"]).shape
    (101, 2)
    """
    from .hypotheses import get_fix

    fix = get_fix(fit)
    names = list(fix.beta.index)
    p = len(names)
    if L is None:
        if coefs is None:
            start = 1 if names and names[0] == "(Intercept)" else 0
            coefs = names[start : start + 2]
        idx = [names.index(c) if isinstance(c, str) else int(c) for c in coefs]
        if len(idx) != 2:
            raise ValueError("conf_ellipse: give exactly two coefficients")
        Lm = np.zeros((2, p))
        Lm[0, idx[0]] = Lm[1, idx[1]] = 1.0
    else:
        Lm = (
            L.reindex(columns=names, fill_value=0.0).to_numpy(float)
            if isinstance(L, pd.DataFrame)
            else np.asarray(L, dtype=float)
        )
        if Lm.shape != (2, p):
            raise ValueError(f"conf_ellipse: L must be 2 x {p}, not {Lm.shape}")
    beta = fix.beta.to_numpy()
    V = fix.vcov.to_numpy()
    involved = np.any(Lm != 0, axis=0)
    df = float(np.min(fix.df.to_numpy()[involved]))
    r = ellipse_radius(level, kind, df)
    return ellipse(Lm @ beta, Lm @ V @ Lm.T, radius=r, n=n)


def plot_ellipse(ax: Any, points: np.ndarray, center: bool = False, **kw: Any) -> Any:
    """Draw an ellipse (from :func:`ellipse` and friends) on matplotlib axes; returns the line."""
    (line,) = ax.plot(points[:, 0], points[:, 1], **kw)
    if center:
        ok = ~np.isnan(points[:, 0])
        seg = points[ok][:-1]
        ax.plot(*seg.mean(axis=0), marker="+", color=line.get_color(), ms=8)
    return line


def line_L(fit: Any, x: str, **at: Any) -> pd.DataFrame:
    """The 2 x p L matrix of a fitted line's intercept and slope in ``x``, other variables held at ``at``.

    A fitted line in data space is a point in beta space. For ``mathach ~ ses * Sector`` the
    line of the Public sector has intercept ``b0 + b2`` and slope ``b1 + b3``:
    ``line_L(fit, "ses", Sector="Public")`` is the L whose rows give them. ``L @ beta`` is the
    point, ``L V L'`` its covariance: give L to :func:`conf_ellipse` or :func:`hlmkit.wald`. The
    difference of two such matrices compares two lines (e.g. Public minus Catholic).

    The rows are the model matrix at ``x = 0`` and its change from ``x = 0`` to ``x = 1``; the
    model must be linear in ``x`` given ``at`` (an error says so otherwise). Variables of the
    model not named in ``at`` must not be needed (a model with ``cvar(ses, school)`` needs a
    stored contextual column instead).

    Parameters
    ----------
    fit : LmeResult or a fit from :func:`hlmkit.ols`
    x : str
        The variable on the horizontal axis of data space.
    **at
        Values of the other variables, e.g. ``Sector="Public"``.

    Returns
    -------
    DataFrame with rows ``"(Intercept)"`` and ``x``, columns the coefficients of the fit.

    Examples
    --------
    >>> import hlmkit as hk
    >>> from hlmkit.ellipses import line_L
    >>> fit = hk.ols("mathach ~ ses * Sector", hk.load_hs())
    >>> L = line_L(fit, "ses", Sector="Public")
    >>> L.to_numpy().tolist()
    [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    >>> (L.to_numpy() @ fit.params.to_numpy()).round(4).tolist()
    [12.0913, 3.9049]
    """
    from .hypotheses import get_fix, model_matrix_of

    names = list(get_fix(fit).beta.index)
    cols = {x: [0.0, 1.0, 2.0]}
    for k, v in at.items():
        if k == x:
            raise ValueError(f"line_L: {x!r} is the horizontal variable; do not fix it in 'at'")
        cols[k] = [v] * 3
    grid = pd.DataFrame(cols)
    try:
        M = model_matrix_of(fit, grid)
    except (KeyError, NameError) as exc:
        raise KeyError(
            f"line_L: the model needs a variable that is neither {x!r} nor given in 'at' ({exc})"
        ) from exc
    Mx = M.reindex(columns=names).to_numpy(dtype=float)
    if np.isnan(Mx).any():
        raise ValueError("line_L: the model matrix at the given values has missing entries")
    d1, d2 = Mx[1] - Mx[0], Mx[2] - Mx[1]
    if not np.allclose(d1, d2, atol=1e-12):
        raise ValueError(f"line_L: the model is not linear in {x!r}; a line has no single slope")
    return pd.DataFrame([Mx[0], d1], index=["(Intercept)", x], columns=names)
