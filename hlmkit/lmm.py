"""Linear mixed models with one grouping factor: ``lme``, its results, ``lmlist`` and ``anova``.

Estimation follows the profiled-deviance formulation of lme4 (Bates, Maechler, Bolker & Walker
2015). The random effects of cluster j are ``b_j = sigma * Lambda u_j`` with ``u_j ~ N(0, I)``, so
``G = sigma^2 Lambda Lambda'``; ``Lambda`` is lower triangular, and its free elements ``theta`` are
the only parameters the optimiser sees: the fixed effects and ``sigma`` are profiled out in closed
form. The deviance depends on ``Lambda`` only through ``Lambda Lambda'``, so ``theta`` is searched
without bounds (L-BFGS-B, or Brent's method for a single variance), polished by a Newton step, and
reported with a non-negative diagonal. A variance at zero or a correlation at +-1 is an ordinary
point of that search, not a place where the optimiser loses its way, so boundary fits are reached
and reported instead of failing (nlme works on log-variances, which run off to minus infinity
there). Where the search stops at a zero variance, it is restarted from positive values, since the
deviance is flat (a saddle or a maximum) there as well as at a minimum.

Everything the optimiser needs is a handful of cluster-level cross-products computed once
(``Z_j'Z_j``, ``Z_j'[X_j y_j]``, ``[X y]'[X y]``), so one evaluation of the deviance costs
O(J q^3) whatever the number of rows, and the result reports the same quantities as nlme's
``lme``: the GLS covariance of the fixed effects, nlme's between/within degrees of freedom,
REML or ML log-likelihood, AIC and BIC, BLUPs, and approximate intervals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ._rprint import AnovaTable, abbreviate, format_r, table_r
from .formula import FormulaError, ModelFrame, parse_formula, parse_random, update_formula

__all__ = [
    "BoundaryFitWarning",
    "ConvergenceWarning",
    "LmeResult",
    "LmListResult",
    "anova",
    "lme",
    "lmlist",
]


#: Largest projected gradient of the deviance (per unit of theta) accepted at an optimum.
GRADIENT_TOL = 1e-2


class ConvergenceWarning(UserWarning):
    """The optimiser stopped before it reached an optimum."""


class BoundaryFitWarning(UserWarning):
    """The fit is on the boundary: a variance at zero or a correlation at +-1."""


# --------------------------------------------------------------------------------------------
# the numerical problem
# --------------------------------------------------------------------------------------------


@dataclass
class _Pieces:
    """Everything the deviance is made of, at one value of theta."""

    logdet_m: float  # log |Lambda' Z_j' Z_j Lambda + I| summed over clusters
    logdet_rx: float  # log |R_X|^2
    r2: float  # penalised residual sum of squares
    beta: np.ndarray
    rx: np.ndarray  # lower Cholesky factor of X'V^-1 X * sigma^2
    lam: np.ndarray
    chol_m: np.ndarray  # (J, q, q)
    w: np.ndarray  # (J, q, p+1): L_j^-1 Lambda' Z_j' [X_j y_j]


def _batched_chol_solve(m: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factors L_j of many small SPD matrices m_j and the solutions of L_j w_j = a_j.

    Loops over the (few) rows and vectorises over the clusters: for q <= 4 and thousands of
    clusters this is several times faster than LAPACK's batched routines.
    """
    J, q, _ = m.shape
    L = np.zeros_like(m)
    w = np.empty_like(a)
    for i in range(q):
        s = m[:, i, i] - np.einsum("jk,jk->j", L[:, i, :i], L[:, i, :i]) if i else m[:, i, i]
        if np.any(s <= 0):
            raise np.linalg.LinAlgError("a cluster's matrix is not positive definite")
        lii = np.sqrt(s)
        L[:, i, i] = lii
        for r in range(i + 1, q):
            t = m[:, r, i] - np.einsum("jk,jk->j", L[:, r, :i], L[:, i, :i]) if i else m[:, r, i]
            L[:, r, i] = t / lii
        rhs = a[:, i, :] - np.einsum("jk,jkc->jc", L[:, i, :i], w[:, :i, :]) if i else a[:, i, :]
        w[:, i, :] = rhs / lii[:, None]
    return L, w


class _Problem:
    """Cluster-level cross-products of a mixed model, and its profiled deviance."""

    def __init__(self, X: np.ndarray, Z: np.ndarray, y: np.ndarray, codes: np.ndarray, ngroups: int,
                 reml: bool) -> None:
        self.X, self.Z, self.y = X, Z, y
        self.codes, self.ngroups = codes, ngroups
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.reml = reml
        # lower-triangular positions of theta, column by column (lme4's order)
        rows, cols = [], []
        for j in range(self.q):
            for i in range(j, self.q):
                rows.append(i)
                cols.append(j)
        self.tri = (np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp))
        self.ntheta = len(rows)
        self.lower = np.array([0.0 if i == j else -np.inf for i, j in zip(rows, cols)])
        self._crossproducts()

    def _crossproducts(self) -> None:
        X, Z, y, g, J = self.X, self.Z, self.y, self.codes, self.ngroups
        q, p = self.q, self.p
        xy = np.column_stack([X, y])
        ztz = np.empty((J, q, q))
        for a in range(q):
            for b in range(a, q):
                s = np.bincount(g, weights=Z[:, a] * Z[:, b], minlength=J)
                ztz[:, a, b] = s
                ztz[:, b, a] = s
        ztxy = np.empty((J, q, p + 1))
        for a in range(q):
            for c in range(p + 1):
                ztxy[:, a, c] = np.bincount(g, weights=Z[:, a] * xy[:, c], minlength=J)
        self.ztz, self.ztxy = ztz, ztxy
        self.xytxy = xy.T @ xy

    def with_response(self, y: np.ndarray) -> _Problem:
        """The same design with a new response (for simulation): only y's cross-products change."""
        new = object.__new__(_Problem)
        new.__dict__.update(self.__dict__)
        new.y = y
        g, J = self.codes, self.ngroups
        ztxy = self.ztxy.copy()
        for a in range(self.q):
            ztxy[:, a, self.p] = np.bincount(g, weights=self.Z[:, a] * y, minlength=J)
        new.ztxy = ztxy
        xy = self.X.T @ y
        xytxy = self.xytxy.copy()
        xytxy[: self.p, self.p] = xy
        xytxy[self.p, : self.p] = xy
        xytxy[self.p, self.p] = y @ y
        new.xytxy = xytxy
        return new

    def lam(self, theta: np.ndarray) -> np.ndarray:
        L = np.zeros((self.q, self.q))
        L[self.tri] = theta
        return L

    def pieces(self, theta: np.ndarray) -> _Pieces:
        lam = self.lam(theta)
        p = self.p
        if self.q == 1:
            l0 = lam[0, 0]
            m = l0 * l0 * self.ztz[:, 0, 0] + 1.0
            sm = np.sqrt(m)
            chol_m = sm.reshape(-1, 1, 1)
            w = (l0 * self.ztxy[:, 0, :] / sm[:, None])[:, None, :]
            logdet_m = float(np.log(m).sum())
        else:
            a = np.matmul(lam.T, self.ztxy)
            m = np.matmul(np.matmul(lam.T, self.ztz), lam)
            m[:, np.arange(self.q), np.arange(self.q)] += 1.0
            chol_m, w = _batched_chol_solve(m, a)
            logdet_m = float(2.0 * np.log(np.diagonal(chol_m, axis1=1, axis2=2)).sum())
        flat = w.reshape(-1, p + 1)
        c = self.xytxy - flat.T @ flat
        try:
            rc = np.linalg.cholesky(c)
        except np.linalg.LinAlgError:
            raise FloatingPointError("the fixed-effects cross-product matrix is not positive definite") from None
        rx = rc[:p, :p]
        r2 = float(rc[p, p] ** 2)
        diag = np.diagonal(rx)
        logdet_rx = float(2.0 * np.log(diag).sum())
        beta = np.linalg.solve(rx.T, rc[p, :p]) if p else np.zeros(0)
        return _Pieces(logdet_m, logdet_rx, r2, beta, rx, lam, chol_m, w)

    def deviance_from(self, pc: _Pieces) -> float:
        n, p = self.n, self.p
        if pc.r2 <= 0:
            return np.inf
        if self.reml:
            nr = n - p
            return pc.logdet_m + pc.logdet_rx + nr * (1.0 + math.log(2.0 * math.pi * pc.r2 / nr))
        return pc.logdet_m + n * (1.0 + math.log(2.0 * math.pi * pc.r2 / n))

    def _terms(self, theta: np.ndarray) -> tuple[float, float, float]:
        """(log|M|, log|R_X|^2, r^2) at theta: the deviance's ingredients, and nothing else.

        The optimiser calls this hundreds of times, so the common cases (one or two random effects)
        are written out element by element over the clusters; other cases use :meth:`pieces`.
        """
        q, p = self.q, self.p
        if q == 1:
            a = theta[0]
            m = a * a * self.ztz[:, 0, 0] + 1.0
            w = self.ztxy[:, 0, :] * (a / np.sqrt(m))[:, None]
            logdet_m = float(np.log(m).sum())
            s = w.T @ w
        elif q == 2:
            a, b, c = theta
            ztz, ztxy = self.ztz, self.ztxy  # read each time: refits replace them (influence)
            b11, b12, b22 = ztz[:, 0, 0], ztz[:, 0, 1], ztz[:, 1, 1]
            e1, e2 = ztxy[:, 0, :], ztxy[:, 1, :]
            m11 = a * a * b11 + 2.0 * a * b * b12 + b * b * b22 + 1.0
            m12 = c * (a * b12 + b * b22)
            m22 = c * c * b22 + 1.0
            l11 = np.sqrt(m11)
            l21 = m12 / l11
            d22 = m22 - l21 * l21
            if np.any(d22 <= 0):
                raise np.linalg.LinAlgError("not positive definite")
            l22 = np.sqrt(d22)
            w1 = (a * e1 + b * e2) / l11[:, None]
            w2 = (c * e2 - l21[:, None] * w1) / l22[:, None]
            logdet_m = float(np.log(m11).sum() + np.log(d22).sum())
            s = w1.T @ w1 + w2.T @ w2
        else:
            pc = self.pieces(theta)
            return pc.logdet_m, pc.logdet_rx, pc.r2
        rc = np.linalg.cholesky(self.xytxy - s)
        diag = np.diagonal(rc)
        return logdet_m, float(2.0 * np.log(diag[:p]).sum()), float(diag[p] ** 2)

    def deviance(self, theta: np.ndarray) -> float:
        try:
            logdet_m, logdet_rx, r2 = self._terms(np.asarray(theta, dtype=float))
        except (FloatingPointError, np.linalg.LinAlgError):
            return np.inf
        n, p = self.n, self.p
        if not r2 > 0:
            return np.inf
        if self.reml:
            nr = n - p
            return logdet_m + logdet_rx + nr * (1.0 + math.log(2.0 * math.pi * r2 / nr))
        return logdet_m + n * (1.0 + math.log(2.0 * math.pi * r2 / n))

    def sigma2(self, pc: _Pieces) -> float:
        return pc.r2 / (self.n - self.p if self.reml else self.n)

    def loglik_full(self, theta_rel: np.ndarray, sigma: float) -> float:
        """Log-likelihood (REML or ML) at relative factor theta and a given sigma (beta profiled)."""
        pc = self.pieces(theta_rel)
        s2 = sigma * sigma
        if self.reml:
            nr = self.n - self.p
            return -0.5 * (nr * math.log(2 * math.pi * s2) + pc.logdet_m + pc.logdet_rx + pc.r2 / s2)
        return -0.5 * (self.n * math.log(2 * math.pi * s2) + pc.logdet_m + pc.r2 / s2)

    # ------------------------------------------------------------------------------------
    def canonical(self, theta: np.ndarray) -> np.ndarray:
        """The same G with a non-negative diagonal of Lambda (flip the sign of columns)."""
        lam = self.lam(theta)
        signs = np.where(np.diagonal(lam) < 0, -1.0, 1.0)
        return (lam * signs[None, :])[self.tri]

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Central-difference gradient of the deviance."""
        g = np.empty(self.ntheta)
        h = 1e-5 * np.maximum(np.abs(theta), 0.1)
        for k in range(self.ntheta):
            e = np.zeros(self.ntheta)
            e[k] = h[k]
            g[k] = (self.deviance(theta + e) - self.deviance(theta - e)) / (2 * h[k])
        return g

    def _newton_polish(self, theta: np.ndarray, steps: int = 2) -> np.ndarray:
        """A few Newton steps with finite-difference derivatives, each kept only if it helps.

        L-BFGS-B with finite-difference gradients stops where the deviance is flat to about 1e-9
        of its value, which can leave theta off in its 6th or 7th digit; Newton steps from there
        reach the optimum to the precision R prints.
        """
        f0 = self.deviance(theta)
        k = self.ntheta
        for _ in range(steps):
            h = 1e-4 * np.maximum(np.abs(theta), 0.05)
            g = np.empty(k)
            H = np.empty((k, k))
            for a in range(k):
                e = np.zeros(k)
                e[a] = h[a]
                fp, fm = self.deviance(theta + e), self.deviance(theta - e)
                g[a] = (fp - fm) / (2 * h[a])
                H[a, a] = (fp - 2 * f0 + fm) / h[a] ** 2
            for a in range(k):
                for b in range(a):
                    ea = np.zeros(k)
                    eb = np.zeros(k)
                    ea[a] = h[a]
                    eb[b] = h[b]
                    H[a, b] = H[b, a] = (
                        self.deviance(theta + ea + eb) - self.deviance(theta + ea - eb)
                        - self.deviance(theta - ea + eb) + self.deviance(theta - ea - eb)
                    ) / (4 * h[a] * h[b])
            if not np.all(np.isfinite(H)) or np.any(np.linalg.eigvalsh(H) <= 0):
                break
            step = np.linalg.solve(H, g)
            new = theta - step
            f1 = self.deviance(new)
            if not f1 <= f0:
                break
            theta, f0 = new, f1
            if np.max(np.abs(step)) < 1e-8 * max(1.0, float(np.max(np.abs(theta)))):
                break  # a step this small changes nothing R prints
        return theta

    def _optimise_scalar(self, start: float, maxiter: int) -> tuple[np.ndarray, dict[str, Any]]:
        """One variance parameter (a random intercept): Brent's method on [0, upper].

        The upper end is doubled until the deviance rises, so the minimum is bracketed; Brent's
        method then needs no derivatives and stops at a relative 1e-10 of theta.
        """
        dev = lambda t: self.deviance(np.array([t]))  # noqa: E731
        upper = max(2.0 * abs(start), 1.0)
        f_up = dev(upper)
        for _ in range(60):
            if dev(upper / 2) <= f_up:
                break
            upper *= 2.0
            f_up = dev(upper)
        res = optimize.minimize_scalar(dev, bounds=(0.0, upper), method="bounded",
                                       options={"xatol": 1e-10 * max(1.0, upper), "maxiter": maxiter})
        theta = np.array([float(res.x)])
        f0 = float(res.fun)
        if dev(0.0) <= f0:  # the optimum is on the boundary: a zero variance
            theta, f0 = np.zeros(1), dev(0.0)
        else:
            theta = self._newton_polish(theta)
        grad = self.gradient(theta) if theta[0] > 0 else np.array([0.0])
        if theta[0] == 0.0:  # at the bound only an increase of theta is feasible
            h = 1e-6
            grad = np.array([min(0.0, (dev(h) - f0) / h)])
        info = {
            "success": bool(res.success) and bool(np.isfinite(f0)),
            "message": str(res.message),
            "nfev": int(res.nfev),
            "nit": int(getattr(res, "nit", res.nfev)),
            "gradient": grad,
            "max_projected_gradient": float(np.max(np.abs(grad))),
        }
        return theta, info

    def optimise(self, start: np.ndarray, maxiter: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Minimise the profiled deviance over theta.

        The deviance depends on Lambda only through Lambda Lambda', which does not change when a
        column of Lambda changes sign, so theta can be searched without bounds (L-BFGS-B,
        finite-difference gradients) and a zero variance is an ordinary point of the search rather
        than a corner to get stuck in; the result is then given a non-negative diagonal.
        """
        if self.ntheta == 1:
            return self._optimise_scalar(float(np.asarray(start, dtype=float)[0]), maxiter)
        options = {"maxiter": maxiter, "ftol": 1e-12, "gtol": 1e-8, "maxfun": 50 * maxiter}
        res = optimize.minimize(self.deviance, np.asarray(start, dtype=float), method="L-BFGS-B",
                                options=options)
        diag = self.lower == 0
        near_zero = diag & (np.abs(res.x) < 1e-3)
        if near_zero.any():
            # The deviance is flat (gradient zero) where a column of Lambda vanishes, so a search
            # can stop there at a saddle or a maximum. Restart from points where those variances
            # are positive and keep the best optimum.
            for value in (0.1, 0.5, 1.0):
                x0 = np.asarray(res.x, dtype=float).copy()
                x0[near_zero] = value
                alt = optimize.minimize(self.deviance, x0, method="L-BFGS-B", options=options)
                if alt.fun < res.fun - 1e-9 * max(1.0, abs(res.fun)):
                    res = alt
        theta = self.canonical(np.asarray(res.x, dtype=float))
        theta = self.canonical(self._newton_polish(theta))
        # a variance that is zero to optimiser precision is zero
        f0 = self.deviance(theta)
        diag = self.lower == 0
        scale = max(1.0, float(np.max(np.abs(theta))))
        for k in np.flatnonzero(diag & (np.abs(theta) < 1e-5 * scale) & (theta != 0)):
            trial = theta.copy()
            trial[k] = 0.0
            ft = self.deviance(trial)
            if ft <= f0 + 1e-9 * max(1.0, abs(f0)):
                theta, f0 = trial, min(ft, f0)
        grad = self.gradient(theta)
        # L-BFGS-B stops "ABNORMAL" when its line search cannot lower the deviance, as happens when
        # it starts at the optimum (a refit from a fit's own theta); whether the point is an
        # optimum is then decided by the gradient (LmeResult.converged)
        stopped = bool(res.success) or str(res.message).startswith("ABNORMAL")
        info = {
            "success": stopped and bool(np.isfinite(f0)),
            "message": str(res.message),
            "nfev": int(res.nfev),
            "nit": int(res.nit),
            "gradient": grad,
            "max_projected_gradient": float(np.max(np.abs(grad))) if len(grad) else 0.0,
        }
        return theta, info


# --------------------------------------------------------------------------------------------
# degrees of freedom as nlme computes them
# --------------------------------------------------------------------------------------------


def _nlme_df(X: np.ndarray, codes: np.ndarray, ngroups: int) -> np.ndarray:
    """nlme's between/within denominator df (``getFixDF``) for one level of grouping."""
    n, p = X.shape
    tol = math.sqrt(np.finfo(float).eps)

    def const(x: np.ndarray) -> bool:
        if x[0] == 0:
            return bool(np.all(np.abs(x) < tol))
        return bool(np.all(np.abs(x / x[0] - 1) < tol))

    is_int = np.array([const(X[:, k]) for k in range(p)], dtype=bool)
    inner = np.zeros(p, dtype=bool)  # varies within at least one cluster
    if n:
        order = np.argsort(codes, kind="stable")
        xs = X[order]
        starts = np.searchsorted(codes[order], np.arange(ngroups))
        mins = np.minimum.reduceat(xs, starts, axis=0)
        maxs = np.maximum.reduceat(xs, starts, axis=0)
        inner = np.any(maxs - mins > 0, axis=0)
    df_strata = np.array([ngroups, n - ngroups], dtype=float)  # [between, within]
    stratum = np.where(inner, 1, 0)
    df = np.zeros(p)
    notint = ~is_int
    if notint.any():
        for s in (0, 1):
            df_strata[s] -= np.sum(stratum[notint] == s)
        if is_int.any():
            df_strata[0] -= 1
        else:
            df_strata[1:] += 1
        df[notint] = df_strata[stratum[notint]]
    if is_int.any():
        df[is_int] = df_strata.max()
    return df


# --------------------------------------------------------------------------------------------
# the user-facing function
# --------------------------------------------------------------------------------------------


def _group_values(values: np.ndarray, raw: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and the (sorted) labels of the clusters, as nlme orders them."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        cats = [c for c in raw.cat.categories if c in set(values)]
        labels = pd.Index(cats, name=raw.name)
    else:
        labels = pd.Index(sorted(pd.unique(values)), name=raw.name)
    codes = labels.get_indexer(values)
    return codes.astype(np.intp), labels


def lme(
    fixed: str,
    data: pd.DataFrame,
    random: str = "~ 1 | school",
    method: str = "REML",
    *,
    start: Sequence[float] | None = None,
    maxiter: int = 500,
    data_name: str | None = None,
) -> LmeResult:
    """Fit a linear mixed model with one grouping factor, as R's ``nlme::lme``.

    Parameters
    ----------
    fixed : str
        The fixed-effects formula, e.g. ``"mathach ~ ses * Sector + cvar(ses, school)"``.
    data : DataFrame
        Long data. Rows with a missing value in any model variable (fixed, random or group) are
        dropped; ``LmeResult.n_dropped`` says how many.
    random : str, default ``"~ 1 | school"``
        The random-effects formula and the grouping variable: ``"~ 1 + ses | school"``,
        ``"~ 1 + dvar(ses, school) | school"``. As in R, the intercept is included unless removed.
    method : {"REML", "ML"}
    start : sequence of float, optional
        Starting values for theta (the lower triangle of the relative covariance factor,
        column by column). The default is the identity.
    maxiter : int
        Iteration limit of the optimiser.
    data_name : str, optional
        The name printed as ``Data:`` in the summary.

    Returns
    -------
    LmeResult

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.lme("mathach ~ 1", hk.load_hs(), random="~ 1 | school")
    >>> round(float(fit.fixef["(Intercept)"]), 5), round(fit.loglik, 3)
    (12.60468, -6489.969)
    """
    method = method.upper()
    if method not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML', not {method!r}")
    re_lhs, group = parse_random(random)
    mf = ModelFrame(fixed, data, extra_formulas=[re_lhs], extra_vars=[group])
    if mf.parsed.response is None:
        raise FormulaError(f"the fixed formula {fixed!r} needs a response on the left of '~'")
    if mf.nobs == 0:
        raise ValueError("no complete rows: every row has a missing value in a model variable")
    Xd = mf.design()
    Zd = mf.design(parse_formula(re_lhs))
    if Zd.matrix.shape[1] == 0:
        raise FormulaError(f"the random formula {random!r} has no random effects")
    raw_group = data[group] if group in data.columns else pd.Series(mf.values(group), name=group)
    gvals = raw_group.to_numpy()[mf.keep] if group in data.columns else raw_group.to_numpy()
    codes, labels = _group_values(gvals, raw_group)
    X = Xd.matrix
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        aliased = _aliased_columns(X, Xd.columns)
        raise FormulaError(
            f"the fixed effects are not all estimable: {aliased} "
            "depend linearly on the other columns (rank-deficient design); remove them from the formula"
        )
    prob = _Problem(X, Zd.matrix, mf.y, codes, len(labels), reml=(method == "REML"))
    if prob.n - prob.p <= 0:
        raise ValueError(f"{prob.n} observations cannot estimate {prob.p} fixed effects and sigma")
    if start is None:
        theta0 = np.where(prob.lower == 0, 1.0, 0.0)
    else:
        theta0 = np.asarray(start, dtype=float)
        if theta0.shape != (prob.ntheta,):
            raise ValueError(f"start must have {prob.ntheta} values (theta), got {theta0.shape}")
    theta, info = prob.optimise(theta0, maxiter)
    return LmeResult._from_fit(
        prob=prob, theta=theta, info=info, mf=mf, xdesign=Xd, zdesign=Zd, group=group,
        labels=labels, fixed=fixed, random=random, method=method, data=data,
        data_name=data_name, re_lhs=re_lhs,
    )


def _aliased_columns(X: np.ndarray, names: list[str], tol: float = 1e-7) -> list[str]:
    """Columns that are linear combinations of earlier columns (R's order of pivoting in ``lm``).

    Gram-Schmidt, column by column (twice, for numerical safety): a column whose part orthogonal
    to the columns kept so far is below ``tol`` of its length is aliased.
    """
    n, p = X.shape
    basis = np.empty((n, p))
    m = 0  # columns kept so far
    bad = []
    for k in range(p):
        v = np.asarray(X[:, k], dtype=float)
        norm0 = float(np.linalg.norm(v))
        if norm0 == 0:
            bad.append(names[k])
            continue
        Q = basis[:, :m]
        r = v - Q @ (Q.T @ v)
        r = r - Q @ (Q.T @ r)
        norm = float(np.linalg.norm(r))
        if norm <= tol * norm0:
            bad.append(names[k])
        else:
            basis[:, m] = r / norm
            m += 1
    return bad


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


class LmeResult:
    """The fit of :func:`lme`: estimates, tests, predictions and an nlme-style summary.

    Attributes
    ----------
    fixef : Series
        Fixed-effect estimates (the GLS estimates at the estimated variance components).
    vcov : DataFrame
        Their covariance ``(X'V^-1 X)^-1``, as nlme reports it.
    df : Series
        nlme's denominator degrees of freedom of each fixed effect.
    se, tvalues, pvalues : Series
    G : DataFrame
        Covariance matrix of the random effects.
    sigma : float
        Residual standard deviation.
    ranef : DataFrame
        Predicted random effects (BLUPs), one row per cluster.
    coef : DataFrame
        Cluster-specific coefficients: fixed effects plus random effects.
    loglik, aic, bic : float
        As nlme computes them (REML or ML).
    nobs, ngroups, n_dropped : int
    converged : bool
    boundary : list of str
        Why the fit is on the boundary (empty if it is not).
    theta : ndarray
        The optimiser's parameters (lower triangle of the relative covariance factor).
    """

    # attributes are set in _from_fit
    @classmethod
    def _from_fit(cls, **kw: Any) -> LmeResult:
        self = cls.__new__(cls)
        prob: _Problem = kw["prob"]
        theta: np.ndarray = kw["theta"]
        info = kw["info"]
        self._prob = prob
        self._mf: ModelFrame = kw["mf"]
        self._xdesign = kw["xdesign"]
        self._zdesign = kw["zdesign"]
        self._re_lhs: str = kw["re_lhs"]
        self.fixed_formula: str = kw["fixed"]
        self.random_formula: str = kw["random"]
        self.group: str = kw["group"]
        self.method: str = kw["method"]
        self._data: pd.DataFrame = kw["data"]
        self.data_name: str | None = kw["data_name"]
        self.theta = theta
        self.optimizer_info = info
        labels: pd.Index = kw["labels"]
        self.groups = labels

        pc = prob.pieces(theta)
        self._pieces = pc
        dev = prob.deviance_from(pc)
        s2 = prob.sigma2(pc)
        self.sigma = math.sqrt(s2)
        names = pd.Index(self._xdesign.columns)  # one Index object shared by every result
        re_names = pd.Index(self._zdesign.columns)
        beta = pc.beta
        rxinv = np.linalg.inv(pc.rx)
        vcov = s2 * (rxinv.T @ rxinv)
        se = np.sqrt(np.diag(vcov))
        df = _nlme_df(prob.X, prob.codes, prob.ngroups).astype(int)
        tvals = beta / se
        self.fixef = pd.Series(beta, index=names, name="Estimate")
        self.vcov = pd.DataFrame(vcov, index=names, columns=names)
        self.df = pd.Series(df, index=names, name="DF")
        self.se = pd.Series(se, index=names, name="Std.Error")
        self.tvalues = pd.Series(tvals, index=names, name="t-value")
        self.pvalues = pd.Series(2 * stats.t.sf(np.abs(tvals), df), index=names, name="p-value")
        lam = pc.lam
        G = s2 * lam @ lam.T
        self.G = pd.DataFrame(G, index=re_names, columns=re_names)
        # BLUPs: b_j = sigma Lambda u_j, u_j = M_j^-1 Lambda' Z_j'(y_j - X_j beta); w = L^-1 Lambda' Z'[X y]
        rhs = pc.w[:, :, prob.p] - pc.w[:, :, : prob.p] @ beta
        u = np.linalg.solve(np.transpose(pc.chol_m, (0, 2, 1)), rhs[:, :, None])[:, :, 0]
        b = u @ lam.T
        self.ranef = pd.DataFrame(b, index=labels, columns=re_names)
        coef = np.tile(beta, (len(labels), 1))
        for k, name in enumerate(re_names):
            if name in names:
                coef[:, names.get_loc(name)] += b[:, k]
        self.coef = pd.DataFrame(coef, index=labels, columns=names)
        self.nobs = prob.n
        self.ngroups = prob.ngroups
        self.n_dropped = self._mf.n_dropped
        self.loglik = -0.5 * dev
        k = prob.p + prob.ntheta + 1
        self.n_params = k
        self.aic = -2 * self.loglik + 2 * k
        self.bic = -2 * self.loglik + k * math.log(prob.n - prob.p if prob.reml else prob.n)
        self.deviance = dev
        self.boundary = self._boundary_reasons()
        # converged: the optimiser stopped normally and no feasible direction lowers the deviance
        self.converged = bool(info["success"]) and info["max_projected_gradient"] < GRADIENT_TOL
        if not self.converged:
            warnings.warn(
                f"lme did not converge ({info['message']}; largest projected gradient "
                f"{info['max_projected_gradient']:.2g}). The estimates are not an optimum; "
                "simplify the random-effects model or rescale the variables.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if self.boundary:
            warnings.warn(
                "boundary fit: " + "; ".join(self.boundary)
                + ". The model is at the edge of the parameter space; consider a simpler random part.",
                BoundaryFitWarning,
                stacklevel=3,
            )
        return self

    # ------------------------------------------------------------------------------------
    def _boundary_reasons(self) -> list[str]:
        G = self.G.to_numpy()
        names = list(self.G.columns)
        out = []
        scale = max(self.sigma**2, 1e-300)
        for k, nm in enumerate(names):
            if G[k, k] <= 1e-10 * scale:
                out.append(f"the variance of the random effect {nm!r} is zero")
        sd = np.sqrt(np.clip(np.diag(G), 0, None))
        for i in range(len(names)):
            for j in range(i):
                if sd[i] > 0 and sd[j] > 0:
                    r = G[i, j] / (sd[i] * sd[j])
                    if abs(r) > 1 - 1e-6:
                        out.append(f"the correlation of {names[j]!r} and {names[i]!r} is {r:+.0f}")
        if not out and len(names) > 1:
            ev = np.linalg.eigvalsh(G)
            if ev[0] <= 1e-10 * ev[-1]:
                out.append("the random-effects covariance matrix G is singular")
        return out

    @property
    def corr_re(self) -> pd.DataFrame:
        """Correlation matrix of the random effects."""
        G = self.G.to_numpy()
        sd = np.sqrt(np.diag(G))
        with np.errstate(invalid="ignore", divide="ignore"):
            C = G / np.outer(sd, sd)
        return pd.DataFrame(C, index=self.G.index, columns=self.G.columns)

    @property
    def G_eigen(self) -> pd.DataFrame:
        """Eigenvalues of G with the share of the total variance and the eigenvectors (the axes of G's ellipsoid)."""
        w, v = np.linalg.eigh(self.G.to_numpy())
        order = np.argsort(w)[::-1]
        w, v = w[order], v[:, order]
        out = pd.DataFrame(v.T, columns=self.G.columns, index=[f"axis{k + 1}" for k in range(len(w))])
        out.insert(0, "share", w / w.sum() if w.sum() > 0 else np.nan)
        out.insert(0, "eigenvalue", w)
        return out

    @property
    def G_condition(self) -> float:
        """Condition number of G: largest over smallest singular value (inf if G is singular).

        The Lab's ``cond(getVarCov(fit))``: a large value means the random effects' ellipsoid is a
        flat "pancake", a nearly singular G.
        """
        d = np.linalg.svd(self.G.to_numpy(), compute_uv=False)
        return float(d[0] / d[-1]) if d[-1] > 0 else float("inf")

    @property
    def sd_re(self) -> pd.Series:
        """Standard deviations of the random effects."""
        return pd.Series(np.sqrt(np.diag(self.G.to_numpy())), index=self.G.index, name="StdDev")

    @property
    def varcorr(self) -> pd.DataFrame:
        """nlme's ``VarCorr``: variance and standard deviation of each random effect and the residual."""
        v = np.append(np.diag(self.G.to_numpy()), self.sigma**2)
        idx = list(self.G.index) + ["Residual"]
        return pd.DataFrame({"Variance": v, "StdDev": np.sqrt(v)}, index=idx)

    @property
    def design_columns(self) -> list[str]:
        return list(self._xdesign.columns)

    @property
    def X(self) -> pd.DataFrame:
        """The fixed-effects design matrix of the rows used."""
        return self._xdesign.frame(self._mf.index)

    @property
    def Z(self) -> pd.DataFrame:
        """The random-effects design matrix of the rows used."""
        return self._zdesign.frame(self._mf.index)

    @property
    def y(self) -> pd.Series:
        return pd.Series(self._prob.y, index=self._mf.index, name=self._mf.parsed.response)

    @property
    def group_values(self) -> pd.Series:
        """The cluster of each row used."""
        return pd.Series(np.asarray(self.groups)[self._prob.codes], index=self._mf.index, name=self.group)

    @property
    def data(self) -> pd.DataFrame:
        """The rows of the data the model was fitted on."""
        return self._data.loc[self._mf.index]

    # ------------------------------------------------------------------------------------
    def fitted(self, level: int = 1) -> pd.Series:
        """Fitted values: population (``level=0``, X beta) or within-cluster (``level=1``, + Z b)."""
        xb = self._prob.X @ self.fixef.to_numpy()
        if level == 0:
            return pd.Series(xb, index=self._mf.index, name="fitted")
        if level != 1:
            raise ValueError("level must be 0 (population) or 1 (cluster)")
        b = self.ranef.to_numpy()[self._prob.codes]
        zb = np.einsum("nq,nq->n", self._prob.Z, b)
        return pd.Series(xb + zb, index=self._mf.index, name="fitted")

    def resid(self, level: int = 1, type: str = "response") -> pd.Series:  # noqa: A002 - nlme's name
        """Residuals ``y - fitted(level)``; ``type="pearson"`` divides by sigma (level 1) as nlme does."""
        r = self.y - self.fitted(level)
        if type == "response":
            return r.rename("resid")
        if type in ("pearson", "normalized"):
            return (r / self.sigma).rename("resid")
        raise ValueError("type must be 'response' or 'pearson'")

    def model_matrix(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """The fixed-effects design matrix on new data (spida2's ``getX``).

        Functions such as ``cvar`` are evaluated *within* ``newdata``, as in R; store a
        contextual variable as a column before fitting if you want to predict at chosen values.
        """
        d = self._mf.new_design(self._mf.parsed, newdata)
        if d.columns != self.design_columns:
            raise FormulaError(f"the new data give columns {d.columns}, the fit has {self.design_columns}")
        return d.frame(newdata.index)

    def predict(self, newdata: pd.DataFrame | None = None, level: int = 0) -> pd.Series:
        """Predictions for new data: population (``level=0``) or for the clusters named in it (``level=1``).

        At level 1, rows whose cluster was not in the fitted data get NaN.
        """
        if newdata is None:
            return self.fitted(level)
        X = self.model_matrix(newdata).to_numpy()
        pred = X @ self.fixef.to_numpy()
        if level == 0:
            return pd.Series(pred, index=newdata.index, name="predict")
        if level != 1:
            raise ValueError("level must be 0 or 1")
        if self.group not in newdata.columns:
            raise KeyError(f"level=1 predictions need the cluster column {self.group!r} in newdata")
        Z = self._mf.new_design(parse_formula(self._re_lhs), newdata).matrix
        pos = self.groups.get_indexer(newdata[self.group].to_numpy())
        b = np.full((len(newdata), Z.shape[1]), np.nan)
        ok = pos >= 0
        b[ok] = self.ranef.to_numpy()[pos[ok]]
        return pd.Series(pred + np.einsum("nq,nq->n", Z, b), index=newdata.index, name="predict")

    # ------------------------------------------------------------------------------------
    def _natural_pars(self) -> tuple[np.ndarray, list[str]]:
        G = self.G.to_numpy()
        sd = np.sqrt(np.diag(G))
        names = list(self.G.columns)
        pars = list(np.log(sd))
        labels = [f"sd({n})" for n in names]
        for j in range(len(names)):
            for i in range(j + 1, len(names)):
                r = G[i, j] / (sd[i] * sd[j])
                pars.append(math.log((1 + r) / (1 - r)))
                labels.append(f"cor({names[j]},{names[i]})")
        pars.append(math.log(self.sigma))
        labels.append("sigma")
        return np.array(pars), labels

    def _loglik_natural(self, pars: np.ndarray) -> float:
        q = self._prob.q
        sd = np.exp(pars[:q])
        R = np.eye(q)
        k = q
        for j in range(q):
            for i in range(j + 1, q):
                z = pars[k]
                R[i, j] = R[j, i] = (math.exp(z) - 1) / (math.exp(z) + 1)
                k += 1
        sigma = math.exp(pars[-1])
        G = R * np.outer(sd, sd)
        try:
            L = np.linalg.cholesky(G / sigma**2)
        except np.linalg.LinAlgError:
            return -np.inf
        theta = L[self._prob.tri]
        return self._prob.loglik_full(theta, sigma)

    def apvar(self) -> pd.DataFrame:
        """Approximate covariance of the variance parameters on nlme's natural scale.

        log standard deviations, log((1+r)/(1-r)) of the correlations and log sigma, from a
        finite-difference Hessian of the log-likelihood (nlme's ``apVar``).
        """
        if self.boundary:
            raise ValueError("no approximate covariance of the variance parameters at a boundary fit: "
                             + "; ".join(self.boundary))
        pars, labels = self._natural_pars()
        H = _fd_hessian(self._loglik_natural, pars)
        if np.any(np.linalg.eigvalsh(H) >= 0):
            raise ValueError("the approximate covariance of the variance parameters is not positive definite")
        return pd.DataFrame(np.linalg.inv(-H), index=labels, columns=labels)

    def intervals(self, level: float = 0.95) -> dict[str, pd.DataFrame]:
        """nlme's approximate confidence intervals.

        Fixed effects on the t distribution with nlme's df; standard deviations, correlations and
        sigma from a normal approximation on the log / Fisher-z scale (``apvar``), back-transformed.

        Returns
        -------
        dict with DataFrames ``"fixed"``, ``"random"`` and ``"sigma"``, columns lower, est., upper.
        """
        tq = stats.t.ppf(1 - (1 - level) / 2, self.df.to_numpy())
        fixed = pd.DataFrame(
            {"lower": self.fixef - tq * self.se, "est.": self.fixef, "upper": self.fixef + tq * self.se}
        )
        out = {"fixed": fixed}
        av = self.apvar()
        pars, labels = self._natural_pars()
        z = stats.norm.ppf(1 - (1 - level) / 2)
        half = z * np.sqrt(np.diag(av.to_numpy()))
        lo, hi = pars - half, pars + half
        q = self._prob.q
        rows = {}
        for k, lab in enumerate(labels[:-1]):
            if k < q:
                f = np.exp
            else:
                def f(x: float) -> float:
                    return (math.exp(x) - 1) / (math.exp(x) + 1)
            rows[lab] = (f(lo[k]), f(pars[k]), f(hi[k]))
        out["random"] = pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "est.", "upper"])
        out["sigma"] = pd.DataFrame(
            [(math.exp(lo[-1]), math.exp(pars[-1]), math.exp(hi[-1]))],
            index=["sigma"], columns=["lower", "est.", "upper"],
        )
        return out

    # ------------------------------------------------------------------------------------
    def summary_table(self) -> pd.DataFrame:
        """The fixed-effects table of ``summary``: Value, Std.Error, DF, t-value, p-value."""
        return pd.DataFrame(
            {"Value": self.fixef, "Std.Error": self.se, "DF": self.df, "t-value": self.tvalues,
             "p-value": self.pvalues}
        )

    def summary(self) -> LmeSummary:
        """An nlme-style summary; ``print(fit.summary())`` shows it."""
        return LmeSummary(self)

    def __repr__(self) -> str:
        return str(LmeSummary(self, short=True))

    # ------------------------------------------------------------------------------------
    def update(
        self,
        fixed: str | None = None,
        random: str | None = None,
        data: pd.DataFrame | None = None,
        method: str | None = None,
        **kw: Any,
    ) -> LmeResult:
        """Refit with some parts changed; ``.`` in a new fixed formula stands for the old one.

        Examples
        --------
        >>> import hlmkit as hk
        >>> hs = hk.load_hs()
        >>> fit = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
        >>> fit.update(". ~ . + cvar(ses, school)").design_columns
        ['(Intercept)', 'ses', 'cvar(ses, school)']
        """
        new_fixed = self.fixed_formula if fixed is None else update_formula(self.fixed_formula, fixed)
        new_random = self.random_formula if random is None else random
        if random is not None and "." in random and "|" in random:
            pass
        start = self.theta if (random is None) else None
        return lme(
            new_fixed,
            self._data if data is None else data,
            random=new_random,
            method=self.method if method is None else method,
            start=kw.pop("start", start),
            data_name=kw.pop("data_name", self.data_name),
            **kw,
        )

    def refit(self, data: pd.DataFrame, **kw: Any) -> LmeResult:
        """The same model on other data, starting from this fit's estimates."""
        return self.update(data=data, **kw)


def _fd_hessian(f: Any, x: np.ndarray, rel: float = 1e-4) -> np.ndarray:
    n = len(x)
    h = np.maximum(np.abs(x), 1.0) * rel
    H = np.empty((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h[i] * h[j])
    return H


class LmeSummary:
    """nlme's ``summary.lme`` printout of an :class:`LmeResult`."""

    def __init__(self, fit: LmeResult, short: bool = False) -> None:
        self.fit = fit
        self.short = short

    @property
    def table(self) -> pd.DataFrame:
        return self.fit.summary_table()

    def __str__(self) -> str:
        fit = self.fit
        lines = [f"Linear mixed-effects model fit by {fit.method}"]
        if fit.data_name:
            lines.append(f"  Data: {fit.data_name}")
        crit = pd.DataFrame({"AIC": [fit.aic], "BIC": [fit.bic], "logLik": [fit.loglik]}, index=[""])
        lines.append(_indent(table_r(crit, digits=7), 1))
        lines.append("")
        lines.append("Random effects:")
        re_lhs, group = parse_random(fit.random_formula)
        lines.append(f" Formula: {re_lhs} | {group}")
        sd = fit.sd_re
        q = len(sd)
        if q == 1:
            t = pd.DataFrame([[sd.iloc[0], fit.sigma]], columns=[sd.index[0], "Residual"], index=["StdDev:"])
            lines.append(table_r(t, digits=7))
        else:
            lines.append(" Structure: General positive-definite, Log-Cholesky parametrization")
            lines.extend(_re_block(list(sd.index), sd.to_numpy(), fit.corr_re.to_numpy(), fit.sigma))
        lines.append("")
        lines.append(f"Fixed effects:  {fit.fixed_formula.strip()}")
        tab = fit.summary_table()
        pv = format_r(np.round(tab["p-value"].to_numpy(), 4), digits=7)
        lines.append(table_r(tab, digits=7, formatted={"p-value": pv}))
        if not self.short and len(tab) > 1:
            cor = fit.vcov.to_numpy() / np.outer(fit.se, fit.se)
            lines.append(" Correlation: ")
            lines.extend(_lower_triangle(list(tab.index), cor))
        if not self.short:
            lines.append("")
            lines.append("Standardized Within-Group Residuals:")
            r = fit.resid(1, "pearson").to_numpy()
            qs = format_r(np.quantile(r, [0, 0.25, 0.5, 0.75, 1]), digits=7)  # one vector, as R
            w = max(len(x) for x in qs)
            lines.append(" ".join(h.rjust(w) for h in ["Min", "Q1", "Med", "Q3", "Max"]))
            lines.append(" ".join(x.rjust(w) for x in qs))
        lines.append("")
        lines.append(f"Number of Observations: {fit.nobs}")
        lines.append(f"Number of Groups: {fit.ngroups} ")
        if fit.n_dropped:
            lines.append(f"({fit.n_dropped} rows with missing values were dropped)")
        if not fit.converged:
            lines.append("WARNING: the optimiser did NOT converge; these are not estimates.")
        if fit.boundary:
            lines.append("Boundary fit: " + "; ".join(fit.boundary))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(str(self)) + "</pre>"


def _corr_cells(values: np.ndarray) -> list[str]:
    """R's format(round(x, 3)) of correlations: a common width."""
    return format_r(np.round(values, 3), digits=7)


def _lower_triangle(names: list[str], cor: np.ndarray) -> list[str]:
    """nlme's print.correlation: full row names, abbreviated column names, lower triangle."""
    p = len(names)
    low = [cor[i, j] for i in range(1, p) for j in range(i)]
    cells = iter(_corr_cells(np.array(low)))
    grid = [[next(cells) if j < i else "" for j in range(p - 1)] for i in range(1, p)]
    heads = [abbreviate(n, 6) for n in names[:-1]]
    widths = [max(len(h), *(len(row[j]) for row in grid)) for j, h in enumerate(heads)]
    w0 = max(len(n) for n in names[1:])
    out = [" " * w0 + " " + " ".join(h.ljust(w) for h, w in zip(heads, widths))]
    for name, row in zip(names[1:], grid):
        out.append(name.ljust(w0) + " " + " ".join(c.ljust(w) for c, w in zip(row, widths)))
    return out


def _re_block(names: list[str], sd: np.ndarray, corr: np.ndarray, sigma: float) -> list[str]:
    """nlme's StdDev / Corr table of a general positive-definite random-effects covariance."""
    q = len(names)
    sds = format_r(np.append(sd, sigma), digits=7)
    low = [corr[i, j] for i in range(1, q) for j in range(i)]
    cells = iter(_corr_cells(np.array(low)))
    heads = [abbreviate(n, 6) for n in names[:-1]]
    grid = [heads] + [[next(cells) if j < i else "" for j in range(q - 1)] for i in range(1, q)]
    widths = [max(len(row[j]) for row in grid) for j in range(q - 1)]
    labels = names + ["Residual"]
    w0 = max(len(n) for n in labels)
    ws = max(len(x) for x in sds + ["StdDev"])
    out = [" " * w0 + " " + "StdDev".ljust(ws) + " Corr"]
    for k, label in enumerate(labels):
        row = label.ljust(w0) + " " + sds[k].ljust(ws)
        if k < q:
            row += " " + " ".join(c.ljust(w) for c, w in zip(grid[k], widths))
        out.append(row.rstrip())
    return out


def _indent(text: str, k: int) -> str:
    return "\n".join(" " * k + line for line in text.splitlines())


# --------------------------------------------------------------------------------------------
# lmlist
# --------------------------------------------------------------------------------------------


@dataclass
class LmListResult:
    """Per-cluster OLS fits of :func:`lmlist`.

    Attributes
    ----------
    coef, se : DataFrame
        One row per cluster; NaN where a coefficient is not estimable in that cluster.
    sigma : Series
        Residual standard deviation in each cluster (NaN with no residual df).
    df_resid, nobs : Series
    """

    coef: pd.DataFrame
    se: pd.DataFrame
    sigma: pd.Series
    df_resid: pd.Series
    nobs: pd.Series
    formula: str

    def __repr__(self) -> str:
        n_na = int(self.coef.isna().any(axis=1).sum())
        return (f"lmlist: {self.formula}  ({len(self.coef)} clusters, {n_na} with a coefficient not estimable)\n"
                + repr(self.coef))

    def pooled_sigma(self) -> float:
        """Pooled within-cluster residual standard deviation."""
        ok = self.df_resid > 0
        rss = (self.sigma[ok] ** 2 * self.df_resid[ok]).sum()
        return float(math.sqrt(rss / self.df_resid[ok].sum()))


def _ols_pivot(X: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray, float, int]:
    """OLS with R's rule for aliased columns (dropped in order); NaN for those coefficients."""
    n, p = X.shape
    kept: list[int] = []
    Q = np.zeros((n, 0))
    for k in range(p):
        v = X[:, k].astype(float)
        norm0 = np.linalg.norm(v)
        if norm0 == 0:
            continue
        r = v - Q @ (Q.T @ v) if Q.shape[1] else v
        r = r - Q @ (Q.T @ r) if Q.shape[1] else r
        if np.linalg.norm(r) > tol * norm0:
            kept.append(k)
            Q = np.column_stack([Q, r / np.linalg.norm(r)])
    beta = np.full(p, np.nan)
    se = np.full(p, np.nan)
    if not kept:
        return beta, se, float("nan"), n
    Xk = X[:, kept]
    b, *_ = np.linalg.lstsq(Xk, y, rcond=None)
    resid = y - Xk @ b
    dfr = n - len(kept)
    sigma = float(np.sqrt(resid @ resid / dfr)) if dfr > 0 else float("nan")
    beta[kept] = b
    if dfr > 0:
        cov = sigma**2 * np.linalg.inv(Xk.T @ Xk)
        se[kept] = np.sqrt(np.diag(cov))
    return beta, se, sigma, dfr


def lmlist(formula: str, data: pd.DataFrame, by: str) -> LmListResult:
    """Fit the same OLS model in every cluster (nlme's ``lmList``).

    The design is built once on the whole data (so a factor keeps all its levels and the columns
    are the same in every cluster); in a cluster where a coefficient cannot be estimated (e.g.
    no minority student, or fewer rows than coefficients) it is NaN, and the other
    coefficients are still estimated, as R does.

    Examples
    --------
    >>> import hlmkit as hk
    >>> fits = hk.lmlist("mathach ~ ses", hk.load_hs(), by="school")
    >>> fits.coef.shape
    (40, 2)
    """
    if by not in data.columns:
        raise KeyError(f"lmlist: no column {by!r} in the data")
    mf = ModelFrame(formula, data, extra_vars=[by])
    d = mf.design()
    g = data[by].to_numpy()[mf.keep]
    codes, labels = _group_values(g, data[by])
    y = mf.y
    coefs, ses, sig, dfs, ns = [], [], [], [], []
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    for k in range(len(labels)):
        idx = order[bounds[k] : bounds[k + 1]]
        b, s, sg, dfr = _ols_pivot(d.matrix[idx], y[idx])
        coefs.append(b)
        ses.append(s)
        sig.append(sg)
        dfs.append(dfr)
        ns.append(len(idx))
    return LmListResult(
        coef=pd.DataFrame(coefs, index=labels, columns=d.columns),
        se=pd.DataFrame(ses, index=labels, columns=d.columns),
        sigma=pd.Series(sig, index=labels, name="sigma"),
        df_resid=pd.Series(dfs, index=labels, name="df_resid"),
        nobs=pd.Series(ns, index=labels, name="n"),
        formula=formula,
    )


# --------------------------------------------------------------------------------------------
# anova
# --------------------------------------------------------------------------------------------


def anova(*fits: LmeResult, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Likelihood-ratio comparison of nested mixed models (nlme's ``anova.lme``).

    REML log-likelihoods are comparable only between models with the same fixed effects:
    comparing REML fits whose fixed effects differ raises an error (refit them with
    ``method="ML"``). Fits must use the same response and the same rows.

    Returns
    -------
    AnovaTable
        A DataFrame with columns Model, df, AIC, BIC, logLik, Test, L.Ratio, p-value, printed
        as nlme prints it (p-values to 4 decimals, blank where there is no test).

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> f0 = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    >>> f1 = f0.update(random="~ 1 + ses | school")
    >>> list(hk.anova(f0, f1)["df"])
    [4, 6]
    """
    if len(fits) < 2:
        raise ValueError("anova needs at least two fits to compare")
    if any(not isinstance(f, LmeResult) for f in fits):
        raise TypeError("anova compares LmeResult fits")
    methods = {f.method for f in fits}
    if len(methods) > 1:
        raise ValueError("anova: some fits are REML and some ML; their likelihoods are not comparable")
    base = fits[0]
    for f in fits[1:]:
        if f.nobs != base.nobs or not np.array_equal(f._prob.y, base._prob.y):
            raise ValueError("anova: the fits do not use the same response and rows")
        if base.method == "REML":
            same = f.design_columns == base.design_columns and np.allclose(f._prob.X, base._prob.X)
            if not same:
                raise ValueError(
                    "anova: these REML fits have different fixed effects. A REML likelihood is the "
                    "likelihood of residual contrasts that depend on the fixed-effects design, so REML "
                    "fits with different fixed effects are not comparable; refit them with method='ML'."
                )
    labels = list(names) if names is not None else [f"fit{k + 1}" for k in range(len(fits))]
    rows = []
    for k, f in enumerate(fits):
        row = {"Model": k + 1, "df": f.n_params, "AIC": f.aic, "BIC": f.bic, "logLik": f.loglik,
               "Test": "", "L.Ratio": np.nan, "p-value": np.nan}
        if k > 0:
            prev = fits[k - 1]
            lr = 2 * abs(f.loglik - prev.loglik)
            ddf = abs(f.n_params - prev.n_params)
            row["Test"] = f"{k} vs {k + 1}"
            row["L.Ratio"] = lr
            row["p-value"] = float(stats.chi2.sf(lr, ddf)) if ddf > 0 else np.nan
        rows.append(row)
    return AnovaTable(rows, index=labels)
