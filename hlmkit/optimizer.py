"""Minimising the profiled deviance: start values, a trust-region Newton search, restarts, and an
honest convergence test.

* **Start values** (:func:`moment_start`): a moment estimate from per-cluster least squares, as
  nlme starts its EM iterations from per-cluster fits rather than from an arbitrary matrix: each
  cluster with more rows than random effects gives ``b_j``, the OLS coefficients of the
  (OLS-residual) response on ``Z_j``; their spread, less the part that is sampling noise, estimates
  G. It is taken to a positive definite matrix before the search starts (a zero variance is a
  stationary point the search could not leave).
* **The search** (:func:`newton`) is a trust-region Newton method on theta of the standardised
  problem (:mod:`hlmkit.crossproducts`), so its steps do not depend on the units of the data. The
  gradient and Hessian are central differences from one batch evaluation of the deviance
  (:mod:`hlmkit.derivatives`). Negative curvature (a saddle, such as a zero variance that should
  be positive) is followed, not stepped over.
* **Restarts** (:func:`minimise`): when the search ends on the boundary (a zero variance or a
  singular G) or short of a stationary point, it is run again from other starts and the best
  optimum is kept.
* **Convergence** (:func:`convergence`): the Newton decrement ``g' H^-1 g``, twice the predicted
  decrease of the deviance to the optimum, is invariant to the parametrisation and to the units
  of the data and does not grow with the number of rows. A fit is converged when the Hessian is
  positive semi-definite and the decrement is below :data:`DECREMENT_TOL`: then the log-likelihood
  is within ``DECREMENT_TOL / 4`` of the optimum's (to second order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .crossproducts import CrossProducts, ProfiledDeviance
from .derivatives import gradient_hessian, stencil_steps

__all__ = ["DECREMENT_TOL", "OptimResult", "convergence", "minimise", "moment_start", "newton"]

#: Largest Newton decrement (deviance units) of a converged fit: its log-likelihood is then within
#: about DECREMENT_TOL / 4 of the optimum's.
DECREMENT_TOL = 1e-6


@dataclass
class OptimResult:
    """Where a search ended, on the standardised problem."""

    theta: np.ndarray
    fun: float
    gradient: np.ndarray
    hessian: np.ndarray
    decrement: float
    min_curvature: float
    converged: bool
    iterations: int
    nfev: int
    message: str
    starts: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# start values
# --------------------------------------------------------------------------------------------


def moment_start(cp: CrossProducts) -> np.ndarray:
    """Standardised theta from a moment estimate of G over per-cluster least-squares fits.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.crossproducts import CrossProducts
    >>> from hlmkit.optimizer import moment_start
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(50), 8)
    >>> y = 10 * rng.normal(size=50)[g] + rng.normal(size=400)
    >>> cp = CrossProducts.from_design(np.ones((400, 1)), np.ones((400, 1)), y, g, 50)
    >>> 8 < float(cp.from_std(moment_start(cp))[0]) < 12   # lme4's theta, sd(b) / sigma: about 10
    True
    """
    q, p = cp.q, cp.p
    default = np.where(cp.diagonal, 1.0, 0.0)
    S = cp.ztz
    ok = cp.counts > q
    if ok.sum() < q + 2:
        return default
    S_ok = S[ok]
    ev = np.linalg.eigvalsh(S_ok)
    good = ev[:, 0] > 1e-8 * np.maximum(ev[:, -1], 1e-300)
    if good.sum() < q + 2:
        return default
    idx = np.flatnonzero(ok)[good]
    Sinv = np.linalg.inv(S[idx])
    zy = cp.ztxy[idx, :, p]
    b = np.einsum("jab,jb->ja", Sinv, zy)
    fit_ss = np.einsum("ja,ja->j", zy, b)
    df_within = float(np.sum(cp.counts[idx]) - q * len(idx))
    if df_within <= 0:
        return default
    s2w = float(np.sum(cp.yty[idx]) - np.sum(fit_ss)) / df_within
    if not s2w > 0:
        return default
    noise = Sinv.mean(axis=0)  # mean sampling covariance of b_j, per unit of sigma^2
    spread = np.cov(b, rowvar=False).reshape(q, q)
    rel = spread / s2w - noise
    rel = (rel + rel.T) / 2
    w, v = np.linalg.eigh(rel)
    floor = 0.1 * float(np.mean(np.diag(noise)))
    w = np.maximum(w, max(floor, 1e-8 * max(float(w.max()), 0.0)))
    rel = (v * w) @ v.T
    try:
        L = np.linalg.cholesky(rel)
    except np.linalg.LinAlgError:
        return default
    theta = L[cp.tri]
    return theta if np.all(np.isfinite(theta)) else default


# --------------------------------------------------------------------------------------------
# convergence
# --------------------------------------------------------------------------------------------


def _decrement(g: np.ndarray, H: np.ndarray) -> tuple[float, float]:
    """(Newton decrement g'H^+g, smallest eigenvalue of H relative to the largest)."""
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return math.inf, -math.inf
    lam, V = np.linalg.eigh((H + H.T) / 2)
    scale = max(float(np.max(np.abs(lam))), 1e-300)
    gv = V.T @ g
    pos = lam > 1e-10 * scale
    dec = float(np.sum(gv[pos] ** 2 / lam[pos]))
    # flat or negative directions: the gradient there must vanish too (to the noise of the gradient)
    flat = ~pos
    if flat.any():
        dec += float(np.sum(gv[flat] ** 2)) / (1e-10 * scale)
    return dec, float(lam.min() / scale)


def convergence(dev: ProfiledDeviance, theta_s: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(Newton decrement, smallest relative curvature, gradient, Hessian) of ``dev`` at ``theta_s``."""
    theta_s = np.asarray(theta_s, dtype=float)
    _, g, H = gradient_hessian(dev.batch, theta_s, stencil_steps(theta_s))
    assert H is not None
    dec, curv = _decrement(g, H)
    return dec, curv, g, H


def _is_converged(dec: float, curv: float) -> bool:
    return bool(dec <= DECREMENT_TOL and curv >= -1e-6)


# --------------------------------------------------------------------------------------------
# the trust-region Newton search
# --------------------------------------------------------------------------------------------


def _trust_step(g: np.ndarray, H: np.ndarray, radius: float) -> np.ndarray:
    """Minimise ``g'p + p'Hp/2`` subject to ``|p| <= radius`` (Moré and Sorensen, by eigenvalues)."""
    lam, V = np.linalg.eigh((H + H.T) / 2)
    gv = V.T @ g
    lmin = float(lam[0])
    if lmin > 0:
        p = -gv / lam
        if np.linalg.norm(p) <= radius:
            return V @ p

    def norm_at(mu: float) -> float:
        return float(np.linalg.norm(gv / (lam + mu)))

    lo = max(0.0, -lmin)
    # the hard case: the gradient has (almost) no component along the lowest eigenvector
    lo_eff = lo + 1e-12 * max(1.0, abs(lmin))
    if norm_at(lo_eff) <= radius:
        p = -gv / (lam + lo_eff)
        if lmin < 0 or not np.all(lam + lo_eff > 0):
            rest = radius**2 - float(p @ p)
            p = p.copy()
            p[0] += math.sqrt(max(rest, 0.0)) * (1.0 if gv[0] <= 0 else -1.0)
        return V @ p
    hi = lo_eff + float(np.linalg.norm(g)) / radius + float(np.max(np.abs(lam)))
    while norm_at(hi) > radius:
        hi *= 2
    for _ in range(100):
        mid = 0.5 * (lo_eff + hi)
        if norm_at(mid) > radius:
            lo_eff = mid
        else:
            hi = mid
        if hi - lo_eff <= 1e-12 * hi:
            break
    return V @ (-gv / (lam + hi))


def newton(dev: ProfiledDeviance, x0: np.ndarray, maxiter: int = 100) -> OptimResult:
    """Trust-region Newton from ``x0`` (standardised theta) with finite-difference derivatives."""
    x = np.asarray(x0, dtype=float).copy()
    f, g, H = gradient_hessian(dev.batch, x, stencil_steps(x))
    assert H is not None
    nfev = 1 + 2 * len(x) + 2 * len(x) * (len(x) - 1)
    if not np.isfinite(f):
        return OptimResult(
            x, f, g, H, math.inf, -math.inf, False, 0, nfev, "the deviance is not defined at the start"
        )
    radius = max(1.0, float(np.linalg.norm(x)))
    message = "iteration limit reached"
    npts = 1 + 2 * len(x) + 2 * len(x) * (len(x) - 1)
    polish = 0
    it = 0
    for it in range(1, maxiter + 1):
        if not np.all(np.isfinite(g)) or not np.all(np.isfinite(H)):
            message = "the derivatives are not finite"
            break
        p = _trust_step(g, H, radius)
        pred = -(float(g @ p) + 0.5 * float(p @ H @ p))
        pnorm = float(np.linalg.norm(p))
        noise = 1e-13 * max(1.0, abs(f))
        if pred <= noise:
            # the model predicts less decrease than the deviance's rounding can show: comparisons of
            # deviance values no longer mean anything, but the derivatives still point to the optimum.
            # Take a few pure Newton steps (when the Hessian is positive definite) to place theta to
            # full precision, then stop.
            _, curv = _decrement(g, H)
            if (
                curv > 0
                and pnorm < radius
                and polish < 2
                and pnorm > 1e-8 * max(1.0, float(np.linalg.norm(x)))
            ):
                fn, gn, Hn = gradient_hessian(dev.batch, x + p, stencil_steps(x + p))
                nfev += npts
                if np.isfinite(fn) and fn <= f + 10 * noise and Hn is not None:
                    x, f, g, H = x + p, fn, gn, Hn
                    polish += 1
                    continue
            message = "converged to the precision of the deviance"
            it -= 1
            break
        xn = x + p
        fn = dev(xn)
        nfev += 1
        rho = (f - fn) / pred if np.isfinite(fn) else -math.inf
        if rho < 0.25:
            radius = 0.25 * pnorm
        elif rho > 0.75 and pnorm >= 0.99 * radius:
            radius = 2.0 * radius
        if rho > 1e-4:
            x = xn
            f, g, H = gradient_hessian(dev.batch, x, stencil_steps(x))
            nfev += npts
            assert H is not None
        elif radius < 1e-12 * max(1.0, float(np.linalg.norm(x))):
            message = "the trust region collapsed"
            break
    dec, curv = _decrement(g, H)
    return OptimResult(x, f, g, H, dec, curv, _is_converged(dec, curv), it, nfev, message)


# --------------------------------------------------------------------------------------------
# the whole search: start, restarts, boundary
# --------------------------------------------------------------------------------------------


def _canonical(cp: CrossProducts, theta: np.ndarray) -> np.ndarray:
    """The same G with a non-negative diagonal of Lambda (columns' signs flipped)."""
    lam = cp.lam(theta)
    signs = np.where(np.diagonal(lam) < 0, -1.0, 1.0)
    return (lam * signs[None, :])[cp.tri]


def _on_boundary(cp: CrossProducts, theta: np.ndarray) -> bool:
    diag = np.abs(theta[cp.diagonal])
    return bool(np.any(diag < 1e-4 * max(1.0, float(np.max(np.abs(theta))))))


def _snap_zeros(dev: ProfiledDeviance, res: OptimResult) -> OptimResult:
    """A diagonal element of Lambda that is zero to optimiser precision is set to zero exactly."""
    cp = dev.cp
    theta = res.theta.copy()
    f0 = res.fun
    scale = max(1.0, float(np.max(np.abs(theta))))
    changed = False
    for k in np.flatnonzero(cp.diagonal & (np.abs(theta) < 1e-5 * scale) & (theta != 0)):
        trial = theta.copy()
        trial[k] = 0.0
        ft = dev(trial)
        if ft <= f0 + 1e-10 * max(1.0, abs(f0)):
            theta, f0, changed = trial, min(ft, f0), True
    if not changed:
        return res
    dec, curv, g, H = convergence(dev, theta)
    return OptimResult(
        theta,
        f0,
        g,
        H,
        dec,
        curv,
        _is_converged(dec, curv) or (res.converged and dec <= DECREMENT_TOL),
        res.iterations,
        res.nfev,
        res.message,
        res.starts,
    )


def minimise(dev: ProfiledDeviance, start: np.ndarray | None = None, maxiter: int = 100) -> OptimResult:
    """Minimise the profiled deviance (standardised theta): moment start, Newton, restarts.

    ``start`` (standardised theta) replaces the moment start. When the search ends on the boundary
    or not converged, it is restarted from the identity and from the start with its variances
    scaled by 4 and by 1/4 (until a second start confirms a converged optimum), and the lowest
    deviance wins.
    """
    cp = dev.cp
    x0 = moment_start(cp) if start is None else np.asarray(start, dtype=float)
    res = newton(dev, x0, maxiter)
    res.starts = ["moment" if start is None else "given"]
    if maxiter > 1 and (not res.converged or _on_boundary(cp, res.theta)):
        ident = np.where(cp.diagonal, 1.0, 0.0)
        alternatives = {"identity": ident}
        for factor in (4.0, 0.25):
            alt = x0.copy()
            alt[cp.diagonal] = np.where(np.abs(alt[cp.diagonal]) > 1e-3, alt[cp.diagonal], 0.3) * factor
            alternatives[f"start x {factor:g}"] = alt
        for label, xs in alternatives.items():
            other = newton(dev, xs, maxiter)
            res.starts.append(label)
            tol = 1e-9 * max(1.0, abs(res.fun))
            better = other.fun < res.fun - tol
            if better or (other.converged and not res.converged and other.fun <= res.fun + tol):
                other.starts = res.starts
                res = other
            elif res.converged and other.converged and abs(other.fun - res.fun) <= tol:
                break  # a second start confirms the boundary optimum
    res.theta = _canonical(cp, res.theta)
    return _snap_zeros(dev, res)
