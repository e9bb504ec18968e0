"""Warm-started refits: many fits of problems that share a design, each started near its optimum.

Influence diagnostics (delete one cluster, refit) and simulated likelihood-ratio tests (a new
response, refit) fit the same model many times to problems that differ little from one already
fitted. :class:`WarmRefit` serves both. It starts every refit at the same point with the same
inverse-Hessian approximation, the (positive definite part of the) Hessian of the original
problem's deviance there, and runs BFGS with central-difference gradients whose points are
evaluated all at once by :func:`deviance_batch`, the profiled deviance vectorised over parameter
values. A refit that stops short is handed back to the caller, which falls back to the engine's
general optimiser (``_Problem.optimise``).
"""

from __future__ import annotations

import math

import numpy as np

from .lmm import GRADIENT_TOL, _Problem

__all__: list[str] = []


# --------------------------------------------------------------------------------------------


def deviance_batch(prob: _Problem, thetas: np.ndarray) -> np.ndarray:
    """The profiled deviance of ``prob`` at each row of ``thetas`` (inf where it is not defined).

    The computation of ``_Problem.pieces`` + ``deviance_from`` with a batch axis over theta. The
    q x q matrices of every cluster and every theta are held element by element, each element an
    array over (theta, cluster), so that the Cholesky factors and triangular solves are a few
    dozen vectorised operations instead of one LAPACK call per small matrix: the 13 points of a
    central-difference gradient in 6 parameters cost about three evaluations of one point.
    """
    B = thetas.shape[0]
    q, p = prob.q, prob.p
    lam = {(i, j): thetas[:, v][:, None] for v, (i, j) in enumerate(zip(*prob.tri))}
    S = prob.ztz
    # T = Z_j'Z_j Lambda, then the lower Cholesky factor L_j of M_j = Lambda' T + I, elementwise
    T = {}
    for k in range(q):
        for j in range(q):
            acc = S[None, :, k, j] * lam[j, j]
            for r in range(j + 1, q):
                acc = acc + S[None, :, k, r] * lam[r, j]
            T[k, j] = acc
    L = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(q):
            for j in range(i + 1):
                acc = lam[i, i] * T[i, j]
                for k in range(i + 1, q):
                    acc = acc + lam[k, i] * T[k, j]
                if i == j:
                    acc = acc + 1.0
                    for r in range(j):
                        acc = acc - L[j, r] ** 2
                    L[j, j] = np.sqrt(acc)
                else:
                    for r in range(j):
                        acc = acc - L[i, r] * L[j, r]
                    L[i, j] = acc / L[j, j]
        # W_j = L_j^-1 Lambda' Z_j'[X_j y_j] by forward substitution; layout (p+1, theta, cluster)
        Z = np.transpose(prob.ztxy, (1, 2, 0))[:, :, None, :]  # (q, p+1, 1, J)
        W = []
        for i in range(q):
            acc = lam[i, i][None] * Z[i]
            for k in range(i + 1, q):
                acc = acc + lam[k, i][None] * Z[k]
            for r in range(i):
                acc = acc - L[i, r][None] * W[r]
            W.append(acc / L[i, i][None])
        logdet_m = 2.0 * sum(np.log(L[j, j]).sum(axis=1) for j in range(q))
        Wf = np.transpose(np.stack(W, axis=2), (1, 0, 2, 3)).reshape(B, p + 1, -1)
        c = prob.xytxy[None] - np.matmul(Wf, np.transpose(Wf, (0, 2, 1)))
        # r2 = the last pivot of c's Cholesky factor, squared; log|R_X|^2 = log det of c's X block
        sign, logdet_c = np.linalg.slogdet(c)
        if p:
            sign_x, logdet_x = np.linalg.slogdet(c[:, :p, :p])
        else:
            sign_x, logdet_x = np.ones(B), np.zeros(B)
        r2 = np.exp(logdet_c - logdet_x)
        n = prob.n
        if prob.reml:
            nr = n - p
            dev = logdet_m + logdet_x + nr * (1.0 + np.log(2.0 * math.pi * r2 / nr))
        else:
            dev = logdet_m + n * (1.0 + np.log(2.0 * math.pi * r2 / n))
    ok = np.isfinite(dev) & (sign > 0) & (sign_x > 0)
    return np.where(ok, dev, np.inf)


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


def _steps(theta: np.ndarray, rel: float) -> np.ndarray:
    return rel * np.maximum(np.abs(theta), 0.1)


class WarmRefit:
    """BFGS on the profiled deviance of problems that share a design, started near the optimum.

    Every refit starts from the same point with the same inverse-Hessian approximation, the
    (positive definite part of the) Hessian of the original data's deviance at that point; each
    iteration evaluates the full step and its central-difference gradient in one batch, and
    backtracks only when the full step does not decrease the deviance enough.
    """

    def __init__(self, prob: _Problem, start: np.ndarray, tol: float = GRADIENT_TOL / 10,
                 maxit: int = 60) -> None:
        self.k = k = len(start)
        self.tol, self.maxit = tol, maxit
        self.grad_offsets, _ = _stencil(k, hessian=False)
        offsets, pairs = _stencil(k, hessian=True)
        h = _steps(start, 1e-4)
        f = deviance_batch(prob, start[None, :] + offsets * h[None, :])
        H = np.empty((k, k))
        f0, fp, fm = f[0], f[1 : 2 * k + 1 : 2], f[2 : 2 * k + 1 : 2]
        H[np.arange(k), np.arange(k)] = (fp - 2 * f0 + fm) / h**2
        for j, (a, b) in enumerate(pairs):
            fpp, fpm, fmp, fmm = f[2 * k + 1 + 4 * j : 2 * k + 5 + 4 * j]
            H[a, b] = H[b, a] = (fpp - fpm - fmp + fmm) / (4 * h[a] * h[b])
        if not np.all(np.isfinite(H)):
            H = np.eye(k) * max(1.0, float(np.nanmax(np.abs(np.diag(H)))) if np.any(np.isfinite(H)) else 1.0)
        ev, vec = np.linalg.eigh((H + H.T) / 2)
        floor = 1e-4 * max(1.0, float(np.abs(ev).max()))
        ev = np.where(ev < floor, np.maximum(np.abs(ev), floor), ev)
        self.hinv0 = (vec / ev) @ vec.T
        self.alphas = np.array([0.5, 0.25, 0.1, 0.03, 0.01, 0.001])

    def value_gradient(self, prob: _Problem, theta: np.ndarray) -> tuple[float, np.ndarray]:
        k = self.k
        h = _steps(theta, 1e-5)
        f = deviance_batch(prob, theta[None, :] + self.grad_offsets * h[None, :])
        return float(f[0]), (f[1 : 2 * k + 1 : 2] - f[2 : 2 * k + 1 : 2]) / (2 * h)

    def minimise(self, prob: _Problem, theta0: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """(theta, deviance, converged)."""
        theta = np.asarray(theta0, dtype=float).copy()
        f, g = self.value_gradient(prob, theta)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            return theta, f, False
        hinv = self.hinv0
        fresh = True
        for _ in range(self.maxit):
            if np.max(np.abs(g)) < self.tol:
                return theta, f, True
            d = -hinv @ g
            slope = float(g @ d)
            if not slope < 0:
                hinv, fresh = self.hinv0, True
                d = -hinv @ g
                slope = float(g @ d)
            new = theta + d
            fn, gn = self.value_gradient(prob, new)
            if not (fn <= f + 1e-4 * slope and np.all(np.isfinite(gn))):
                trial = theta[None, :] + self.alphas[:, None] * d[None, :]
                ft = deviance_batch(prob, trial)
                best = int(np.argmin(ft))
                if not ft[best] < f:
                    if not fresh:
                        hinv, fresh = self.hinv0, True
                        continue
                    return theta, f, bool(np.max(np.abs(g)) < GRADIENT_TOL)
                new = trial[best]
                fn, gn = self.value_gradient(prob, new)
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
        return theta, f, bool(np.max(np.abs(g)) < GRADIENT_TOL)


