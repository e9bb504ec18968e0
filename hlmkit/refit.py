"""Warm-started refits: many fits of problems that share a design, each started near its optimum.

Influence diagnostics (delete one cluster, refit: :meth:`CrossProducts.without_rows`) and simulated
likelihood-ratio tests (a new response, refit: :meth:`CrossProducts.with_response`) fit the same
model many times to problems that differ little from one already fitted. :class:`WarmRefit`
serves both. It starts every refit at the same point with the same inverse-Hessian
approximation, the (positive definite part of the) Hessian of the original problem's deviance
there, and runs BFGS with central-difference gradients whose points are evaluated in one batch
(:meth:`ProfiledDeviance.batch`, :mod:`hlmkit.derivatives`). It stops when the Newton decrement
of its quasi-Newton model is 1e-5 times :data:`hlmkit.optimizer.DECREMENT_TOL`; a refit that does
not get there is handed to the engine's full search (:func:`hlmkit.optimizer.minimise`), whose
convergence test is the exact one.

All work is on the standardised theta of :mod:`hlmkit.crossproducts`.
"""

from __future__ import annotations

import numpy as np

from .crossproducts import ProfiledDeviance
from .derivatives import gradient_hessian, stencil_steps
from .optimizer import DECREMENT_TOL, minimise

__all__: list[str] = []


class WarmRefit:
    """BFGS on the profiled deviance of problems that share a design, started near the optimum.

    Parameters
    ----------
    dev : ProfiledDeviance
        The original problem, whose Hessian at ``start`` seeds every refit.
    start : ndarray
        Standardised theta where every refit starts by default.
    """

    def __init__(self, dev: ProfiledDeviance, start: np.ndarray, maxit: int = 60) -> None:
        start = np.asarray(start, dtype=float)
        self.start = start
        self.k = k = len(start)
        self.maxit = maxit
        _, _, H = gradient_hessian(dev.batch, start, stencil_steps(start))
        assert H is not None
        if not np.all(np.isfinite(H)):
            H = np.eye(k) * (
                max(1.0, float(np.nanmax(np.abs(np.diag(H))))) if np.any(np.isfinite(H)) else 1.0
            )
        ev, vec = np.linalg.eigh((H + H.T) / 2)
        floor = 1e-4 * max(1.0, float(np.abs(ev).max()))
        ev = np.where(ev < floor, np.maximum(np.abs(ev), floor), ev)
        self.hinv0 = (vec / ev) @ vec.T
        self.alphas = np.array([0.5, 0.25, 0.1, 0.03, 0.01, 0.001])

    def _value_gradient(self, dev: ProfiledDeviance, theta: np.ndarray) -> tuple[float, np.ndarray]:
        f, g, _ = gradient_hessian(dev.batch, theta, stencil_steps(theta, 1e-5), hessian=False)
        return f, g

    def quasi_newton(
        self, dev: ProfiledDeviance, theta0: np.ndarray | None = None
    ) -> tuple[np.ndarray, float, bool]:
        """(theta, deviance, reached the optimum) of BFGS from ``theta0`` (default: the start)."""
        theta = np.asarray(self.start if theta0 is None else theta0, dtype=float).copy()
        f, g = self._value_gradient(dev, theta)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            return theta, f, False
        hinv = self.hinv0
        fresh = True
        tol = DECREMENT_TOL * 1e-5  # far below: a refit's estimates to ~1e-7 of the optimum's
        for _ in range(self.maxit):
            if float(g @ hinv @ g) < tol:
                return theta, f, True
            d = -hinv @ g
            slope = float(g @ d)
            if not slope < 0:
                hinv, fresh = self.hinv0, True
                d = -hinv @ g
                slope = float(g @ d)
            new = theta + d
            fn, gn = self._value_gradient(dev, new)
            if not (fn <= f + 1e-4 * slope and np.all(np.isfinite(gn))):
                trial = theta[None, :] + self.alphas[:, None] * d[None, :]
                ft = dev.batch(trial)
                best = int(np.argmin(ft))
                if not ft[best] < f:
                    if not fresh:
                        hinv, fresh = self.hinv0, True
                        continue
                    return theta, f, False
                new = trial[best]
                fn, gn = self._value_gradient(dev, new)
                if not np.all(np.isfinite(gn)):
                    return theta, f, False
            s, yv = new - theta, gn - g
            sy = float(s @ yv)
            if sy > 1e-10 * float(np.linalg.norm(s) * np.linalg.norm(yv)):
                rho = 1.0 / sy
                V = np.eye(self.k) - rho * np.outer(s, yv)
                hinv = V @ hinv @ V.T + rho * np.outer(s, s)
                fresh = False
            theta, f, g = new, fn, gn
        return theta, f, bool(float(g @ hinv @ g) < tol)

    def minimise(
        self, dev: ProfiledDeviance, theta0: np.ndarray | None = None, maxiter: int = 100
    ) -> tuple[np.ndarray, float, bool, bool]:
        """(theta, deviance, converged, used the full search) of one refit.

        The quasi-Newton refit first; if it stops short, the engine's full search from the same
        start, whose convergence flag is the exact test. The deviance is the original problem's
        (-2 log-likelihood), comparable between models.
        """
        offset = dev.cp.offset(dev.reml)
        theta, f, ok = self.quasi_newton(dev, theta0)
        if ok:
            return theta, f + offset, True, False
        res = minimise(dev, np.asarray(self.start if theta0 is None else theta0, dtype=float), maxiter)
        return res.theta, res.fun + offset, res.converged, True
