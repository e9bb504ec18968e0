"""Finite-difference derivatives of functions that evaluate a batch of points at once.

Every derivative in hlmkit's mixed-model engine comes from here: the gradient and Hessian the
optimiser steps with (:func:`gradient_hessian`, central differences on one stencil of
``1 + 2k + 2k(k-1)`` points, evaluated in one call), and the Hessian of the log-likelihood behind
the approximate covariance of the variance components (:func:`richardson_hessian`, central
differences with Richardson extrapolation, the method of numDeriv's ``hessian``).

A *batch function* takes an array of shape (B, k) and returns B values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["gradient_hessian", "richardson_hessian", "stencil_steps"]

BatchFunction = Callable[[np.ndarray], np.ndarray]


def _stencil(k: int, hessian: bool) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Offsets, in units of the step sizes, of a central-difference gradient (and Hessian)."""
    rows = [np.zeros(k)]
    for a in range(k):
        for s in (1.0, -1.0):
            e = np.zeros(k)
            e[a] = s
            rows.append(e)
    pairs = []
    if hessian:
        for a in range(k):
            for b in range(a):
                pairs.append((a, b))
                for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    e = np.zeros(k)
                    e[a], e[b] = sa, sb
                    rows.append(e)
    return np.array(rows), pairs


_STENCILS: dict[tuple[int, bool], tuple[np.ndarray, list[tuple[int, int]]]] = {}


def _cached_stencil(k: int, hessian: bool) -> tuple[np.ndarray, list[tuple[int, int]]]:
    key = (k, hessian)
    if key not in _STENCILS:
        _STENCILS[key] = _stencil(k, hessian)
    return _STENCILS[key]


def stencil_steps(x: np.ndarray, rel: float = 1e-4, floor: float = 1.0) -> np.ndarray:
    """Step sizes ``rel * max(|x|, floor)``: relative to each coordinate, absolute below ``floor``.

    The engine's coordinates (standardised theta) are of order one, so the absolute floor keeps the
    steps of coordinates near zero (covariances, small variances) large enough for the rounding
    error of second differences (``eps * |f| / h^2``) to stay small.
    """
    return rel * np.maximum(np.abs(x), floor)


def gradient_hessian(
    f: BatchFunction, x: np.ndarray, h: np.ndarray | None = None, hessian: bool = True
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Value, central-difference gradient and (optionally) Hessian of ``f`` at ``x``, in one batch.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.derivatives import gradient_hessian
    >>> f = lambda X: (X[:, 0] - 1) ** 2 + 3 * X[:, 0] * X[:, 1] + 2 * X[:, 1] ** 2
    >>> v, g, H = gradient_hessian(f, np.array([0.0, 1.0]))
    >>> np.round(g, 6).tolist(), np.round(H, 6).tolist()
    ([1.0, 4.0], [[2.0, 3.0], [3.0, 4.0]])
    """
    x = np.asarray(x, dtype=float)
    k = len(x)
    if h is None:
        h = stencil_steps(x)
    offsets, pairs = _cached_stencil(k, hessian)
    fv = np.asarray(f(x[None, :] + offsets * h[None, :]), dtype=float)
    f0, fp, fm = fv[0], fv[1 : 2 * k + 1 : 2], fv[2 : 2 * k + 1 : 2]
    g = (fp - fm) / (2 * h)
    if not hessian:
        return float(f0), g, None
    H = np.empty((k, k))
    H[np.arange(k), np.arange(k)] = (fp - 2 * f0 + fm) / h**2
    base = 2 * k + 1
    for j, (a, b) in enumerate(pairs):
        fpp, fpm, fmp, fmm = fv[base + 4 * j : base + 4 * j + 4]
        H[a, b] = H[b, a] = (fpp - fpm - fmp + fmm) / (4 * h[a] * h[b])
    return float(f0), g, H


def richardson_hessian(
    f: BatchFunction, x: np.ndarray, d: float = 0.1, zero_tol: float = 1e-4, eps: float = 1e-4, r: int = 4
) -> np.ndarray:
    """Hessian of ``f`` at ``x`` by central differences with Richardson extrapolation.

    The method of numDeriv's ``hessian`` (Gilbert and Varadhan): initial steps ``d * |x_i|``
    (``eps`` where ``|x_i| < zero_tol``), halved ``r - 1`` times; the second differences at the
    ``r`` step sizes have an error expansion in even powers of the step, which ``r - 1`` rounds of
    Richardson extrapolation remove term by term. All ``r (2k + 2k(k-1))`` points are
    evaluated in one call of ``f``.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.derivatives import richardson_hessian
    >>> f = lambda X: np.exp(X[:, 0]) * np.sin(X[:, 1])
    >>> H = richardson_hessian(f, np.array([0.3, 0.7]))
    >>> exact = np.exp(0.3) * np.array([[np.sin(0.7), np.cos(0.7)], [np.cos(0.7), -np.sin(0.7)]])
    >>> bool(np.allclose(H, exact, rtol=1e-10, atol=1e-12))
    True
    """
    x = np.asarray(x, dtype=float)
    k = len(x)
    h0 = np.where(np.abs(x) < zero_tol, eps, d * np.abs(x))
    offsets, pairs = _cached_stencil(k, True)
    npts = len(offsets)
    pts = np.concatenate([x[None, :] + offsets * (h0 / 2**m)[None, :] for m in range(r)])
    fv = np.asarray(f(pts), dtype=float).reshape(r, npts)
    est = np.empty((r, k, k))
    for m in range(r):
        h = h0 / 2**m
        v = fv[m]
        f0, fp, fm = v[0], v[1 : 2 * k + 1 : 2], v[2 : 2 * k + 1 : 2]
        est[m][np.arange(k), np.arange(k)] = (fp - 2 * f0 + fm) / h**2
        base = 2 * k + 1
        for j, (a, b) in enumerate(pairs):
            fpp, fpm, fmp, fmm = v[base + 4 * j : base + 4 * j + 4]
            est[m][a, b] = est[m][b, a] = (fpp - fpm - fmp + fmm) / (4 * h[a] * h[b])
    # Richardson: errors in h^2, h^4, ...; halving the step divides the m-th by 4^m
    for level in range(1, r):
        four = 4.0**level
        est = (four * est[1:] - est[:-1]) / (four - 1.0)
    H = est[0]
    return (H + H.T) / 2
