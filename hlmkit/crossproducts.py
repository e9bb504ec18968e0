"""The numerical core of ``lme``: frozen cluster-level cross-products and the profiled deviance.

This is the middle of hlmkit's pipeline, which follows lme4's (Bates, Maechler, Bolker & Walker
2015): ``lme`` evaluates the formulas (lme4's ``lFormula``), :class:`CrossProducts` and
:class:`ProfiledDeviance` make the objective (``mkLmerDevfun``), :mod:`hlmkit.optimizer` finds its
minimum (``optimizeLmer``) and :meth:`ProfiledDeviance.solution` turns it into estimates
(``mkMerMod``).

The model is ``y = X beta + Z_j b_j + e`` with ``b_j = sigma * Lambda u_j``, ``u_j ~ N(0, I)``, so
``G = sigma^2 Lambda Lambda'``; ``Lambda`` is lower triangular and its free elements ``theta``
(column by column, lme4's order) are the only parameters the optimiser sees: ``beta`` and
``sigma`` are profiled out in closed form. The deviance needs only cluster-level sums
(``Z_j'Z_j``, ``Z_j'[X_j y_j]``, ``[X y]'[X y]``), so one evaluation costs ``O(J q^3)`` whatever
the number of rows.

**Standardised coordinates.** The sums are formed from a standardised copy of the data, so that
the objective does not depend on the units of ``y``, ``X`` or ``Z``:

* ``X = Xs A`` with ``Xs'Xs = n I`` (``A`` upper triangular, two rounds of Cholesky QR);
* ``y = X beta0 + s ys`` with ``ys`` the OLS residual scaled to unit root mean square;
* ``Zs = Z diag(d)`` with every column of unit root mean square.

A change of units of ``y`` or of a covariate leaves the standardised problem unchanged (up to
rounding), the deviance's largest cancellation (``y'y`` minus the fitted sum of squares) is gone
before the sums are taken, and the relative factor of the standardised problem,
``Lambda_s = diag(d)^-1 Lambda``, is of order one whenever the random effects are of the size of
the residuals. The deviance of the original problem is that of the standardised one plus a
constant (:meth:`CrossProducts.offset`); everything reported is transformed back exactly.

The cross-products are a frozen object with three constructors: :meth:`CrossProducts.from_design`,
:meth:`CrossProducts.with_response` (a simulated response: only ``y``'s sums change) and
:meth:`CrossProducts.without_rows` (influence diagnostics: the rows' contributions subtracted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

__all__ = ["CrossProducts", "ProfiledDeviance", "Solution"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _standardise_x(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Xs`` and upper-triangular ``A`` with ``X = Xs A`` and ``Xs'Xs = n I`` (Cholesky QR, twice)."""
    n, p = X.shape
    if p == 0:
        return X.astype(float), np.zeros((0, 0))
    A = np.eye(p)
    Xs = np.asarray(X, dtype=float)
    for _ in range(2):
        c = np.linalg.cholesky(Xs.T @ Xs / n)  # lower, c c' = Xs'Xs / n
        step = c.T  # upper: Xs = Xs_new step
        Xs = np.linalg.solve(step.T, Xs.T).T  # Xs step^-1
        A = step @ A
    return Xs, A


@dataclass(frozen=True, eq=False)
class CrossProducts:
    """Cluster-level cross-products of a one-grouping-factor mixed model (frozen).

    Build it with :meth:`from_design`; derive variants with :meth:`with_response` and
    :meth:`without_rows`. All sums are of the standardised data (see the module docstring).

    Attributes
    ----------
    X, Z, y, codes : ndarray
        The design, random-effects design, response and cluster code (0..ngroups-1) of each row
        used (read-only).
    ngroups : int
        Number of cluster slots (codes); clusters emptied by :meth:`without_rows` keep their slot.
    A, d, beta0, s :
        The standardisation ``X = Xs A``, ``Zs = Z diag(d)``, ``y = X beta0 + s ys``.
    ztz : ndarray (ngroups, q, q)
        ``Zs_j'Zs_j``.
    ztxy : ndarray (ngroups, q, p + 1)
        ``Zs_j'[Xs_j ys_j]``.
    xytxy : ndarray (p + 1, p + 1)
        ``[Xs ys]'[Xs ys]``.
    n : int
        Number of rows.
    counts, yty : ndarray (ngroups,)
        Rows in each cluster, and ``ys_j'ys_j`` (for moment start values).

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.crossproducts import CrossProducts
    >>> X = np.column_stack([np.ones(6), np.arange(6.0)])
    >>> cp = CrossProducts.from_design(X, X[:, :1], np.array([1., 3, 2, 5, 4, 7]), np.repeat([0, 1, 2], 2), 3)
    >>> cp.ztz.shape, cp.n, cp.nclusters
    ((3, 1, 1), 6, 3)
    >>> cp.without_rows(np.array([0, 1])).nclusters
    2
    """

    X: np.ndarray
    Z: np.ndarray
    y: np.ndarray
    codes: np.ndarray
    ngroups: int
    A: np.ndarray
    d: np.ndarray
    beta0: np.ndarray
    s: float
    ztz: np.ndarray
    ztxy: np.ndarray
    xytxy: np.ndarray
    n: int
    counts: np.ndarray
    yty: np.ndarray

    # ---------------------------------------------------------------------------------------
    @classmethod
    def from_design(
        cls, X: np.ndarray, Z: np.ndarray, y: np.ndarray, codes: np.ndarray, ngroups: int
    ) -> CrossProducts:
        """The cross-products of a design: fixed effects ``X`` (n, p), random effects ``Z`` (n, q),
        response ``y`` and cluster codes ``0 <= codes < ngroups``."""
        X = np.asarray(X, dtype=float)
        Z = np.asarray(Z, dtype=float)
        y = np.asarray(y, dtype=float)
        codes = np.asarray(codes, dtype=np.intp)
        n, p = X.shape
        Xs, A = _standardise_x(X)
        # y = Xs b + s ys, with ys orthogonal to Xs (two rounds for exactness) and of unit rms
        b = Xs.T @ y / n if p else np.zeros(0)
        r = y - Xs @ b if p else y.copy()
        if p:
            b2 = Xs.T @ r / n
            r -= Xs @ b2
            b = b + b2
        rms = math.sqrt(float(r @ r) / n) if n else 0.0
        s = rms if rms > 0 else 1.0
        beta0 = np.linalg.solve(A, b) if p else np.zeros(0)
        zr = np.sqrt(np.mean(Z * Z, axis=0)) if n else np.ones(Z.shape[1])
        d = np.where(zr > 0, 1.0 / np.where(zr > 0, zr, 1.0), 1.0)
        Zs = Z * d
        xys = np.column_stack([Xs, r / s])
        ztz, ztxy = _cluster_sums(Zs, xys, codes, ngroups)
        counts = np.bincount(codes, minlength=ngroups)
        yty = np.bincount(codes, weights=xys[:, p] ** 2, minlength=ngroups)
        return cls(
            _readonly(X),
            _readonly(Z),
            _readonly(y),
            _readonly(codes),
            int(ngroups),
            A,
            d,
            beta0,
            float(s),
            ztz,
            ztxy,
            xys.T @ xys,
            int(n),
            counts,
            yty,
        )

    def with_response(self, y: np.ndarray) -> CrossProducts:
        """The same design with another response (e.g. simulated): only ``y``'s sums change.

        The standardisation (``beta0``, ``s``) is kept, so the new standardised response is not
        exactly orthogonal to ``Xs``; the deviance does not depend on that.
        """
        y = np.asarray(y, dtype=float)
        if y.shape != (self.n,):
            raise ValueError(f"with_response: y must have {self.n} values, not {y.shape}")
        ys = (y - self.X @ self.beta0) / self.s if self.p else y / self.s
        p = self.p
        ztxy = self.ztxy.copy()
        for a in range(self.q):
            ztxy[:, a, p] = np.bincount(
                self.codes, weights=self.Z[:, a] * self.d[a] * ys, minlength=self.ngroups
            )
        xytxy = self.xytxy.copy()
        if p:
            xty = np.linalg.solve(self.A.T, self.X.T @ ys)  # Xs'ys = A^-T X'ys
            xytxy[:p, p] = xty
            xytxy[p, :p] = xty
        xytxy[p, p] = float(ys @ ys)
        yty = np.bincount(self.codes, weights=ys**2, minlength=self.ngroups)
        return replace(self, y=_readonly(y), ztxy=ztxy, xytxy=xytxy, yty=yty)

    def without_rows(self, rows: np.ndarray) -> CrossProducts:
        """The same problem without some rows: their contributions are subtracted from the sums.

        The arrays ``X``, ``Z``, ``y`` and ``codes`` are left as they are (they describe the full
        data); ``n``, ``counts`` and the sums describe the rows that remain. A cluster left with
        no rows contributes nothing.
        """
        rows = np.asarray(rows, dtype=np.intp)
        g = self.codes[rows]
        Zs = self.Z[rows] * self.d
        xys = self._standardised_rows(rows)
        ztz = self.ztz.copy()
        ztxy = self.ztxy.copy()
        np.subtract.at(ztz, g, Zs[:, :, None] * Zs[:, None, :])
        np.subtract.at(ztxy, g, Zs[:, :, None] * xys[:, None, :])
        counts = self.counts - np.bincount(g, minlength=self.ngroups)
        yty = self.yty - np.bincount(g, weights=xys[:, -1] ** 2, minlength=self.ngroups)
        emptied = counts == 0
        ztz[emptied] = 0.0
        ztxy[emptied] = 0.0
        yty[emptied] = 0.0
        return replace(
            self,
            ztz=ztz,
            ztxy=ztxy,
            xytxy=self.xytxy - xys.T @ xys,
            n=self.n - len(rows),
            counts=counts,
            yty=yty,
        )

    def _standardised_rows(self, rows: np.ndarray) -> np.ndarray:
        X = self.X[rows]
        Xs = np.linalg.solve(self.A.T, X.T).T if self.p else X
        ys = (self.y[rows] - (X @ self.beta0 if self.p else 0.0)) / self.s
        return np.column_stack([Xs, ys])

    # ---------------------------------------------------------------------------------------
    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def q(self) -> int:
        return self.Z.shape[1]

    @property
    def nclusters(self) -> int:
        """Clusters with at least one row."""
        return int(np.count_nonzero(self.counts))

    @property
    def tri(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of theta's elements in Lambda (the lower triangle, column by column)."""
        return _tri(self.q)

    @property
    def ntheta(self) -> int:
        return self.q * (self.q + 1) // 2

    @property
    def diagonal(self) -> np.ndarray:
        """Which elements of theta are on the diagonal of Lambda."""
        r, c = self.tri
        return r == c

    def lam(self, theta: np.ndarray) -> np.ndarray:
        """Lambda (q x q, lower triangular) from theta, in the same coordinates."""
        L = np.zeros((self.q, self.q))
        L[self.tri] = theta
        return L

    def to_std(self, theta: np.ndarray) -> np.ndarray:
        """theta of the original problem -> theta of the standardised one (``Lambda_s = D^-1 Lambda``)."""
        return (self.lam(np.asarray(theta, dtype=float)) / self.d[:, None])[self.tri]

    def from_std(self, theta_s: np.ndarray) -> np.ndarray:
        """theta of the standardised problem -> theta of the original one (lme4's theta)."""
        return (self.lam(np.asarray(theta_s, dtype=float)) * self.d[:, None])[self.tri]

    def offset(self, reml: bool) -> float:
        """Deviance of the original problem minus that of the standardised one (a constant)."""
        logdet_a = float(np.sum(np.log(np.abs(np.diagonal(self.A))))) if self.p else 0.0
        if reml:
            return (self.n - self.p) * math.log(self.s**2) + 2.0 * logdet_a
        return self.n * math.log(self.s**2)


def _tri(q: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = [], []
    for j in range(q):
        for i in range(j, q):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)


def _cluster_sums(
    Zs: np.ndarray, xys: np.ndarray, codes: np.ndarray, J: int
) -> tuple[np.ndarray, np.ndarray]:
    q, m = Zs.shape[1], xys.shape[1]
    ztz = np.empty((J, q, q))
    for a in range(q):
        for b in range(a, q):
            s = np.bincount(codes, weights=Zs[:, a] * Zs[:, b], minlength=J)
            ztz[:, a, b] = s
            ztz[:, b, a] = s
    ztxy = np.empty((J, q, m))
    for a in range(q):
        for c in range(m):
            ztxy[:, a, c] = np.bincount(codes, weights=Zs[:, a] * xys[:, c], minlength=J)
    return ztz, ztxy


# --------------------------------------------------------------------------------------------
# the profiled deviance
# --------------------------------------------------------------------------------------------


def deviance_formula(logdet_m: Any, logdet_rx: Any, r2: Any, n: int, p: int, reml: bool) -> Any:
    """The profiled deviance from its three ingredients (lme4's eq. 34 and 41); works on arrays.

    ``logdet_m = sum_j log|Lambda'Z_j'Z_j Lambda + I|``, ``logdet_rx = log|R_X|^2`` and ``r2`` the
    penalised residual sum of squares.
    """
    if reml:
        nr = n - p
        return logdet_m + logdet_rx + nr * (1.0 + np.log(2.0 * math.pi * r2 / nr))
    return logdet_m + n * (1.0 + np.log(2.0 * math.pi * r2 / n))


@dataclass
class _Factors:
    """The per-cluster factorisation at a batch of thetas (standardised coordinates)."""

    L: dict[tuple[int, int], np.ndarray]  # lower Cholesky factor of M_j, element by element, (B, J)
    W: np.ndarray  # (B, q, p+1, J): L_j^-1 Lambda' Zs_j'[Xs_j ys_j]
    logdet_m: np.ndarray  # (B,)


def _factor_batch(cp: CrossProducts, thetas: np.ndarray) -> _Factors:
    """Cholesky factors of ``M_j = Lambda'Zs_j'Zs_j Lambda + I`` and ``W_j = L_j^-1 Lambda'Zs_j'[Xs ys]``.

    The q x q matrices of every cluster and every theta are held element by element, each element
    an array over (theta, cluster), so the factorisation is a few dozen vectorised operations
    whatever the number of clusters or thetas (no per-cluster LAPACK call, no BLAS threads).
    """
    q = cp.q
    lam = {(i, j): thetas[:, v][:, None] for v, (i, j) in enumerate(zip(*cp.tri, strict=True))}
    S = cp.ztz
    # T = Zs_j'Zs_j Lambda, element (k, j)
    T = {}
    for k in range(q):
        for j in range(q):
            acc = S[None, :, k, j] * lam[j, j]
            for r in range(j + 1, q):
                acc = acc + S[None, :, k, r] * lam[r, j]
            T[k, j] = acc
    L: dict[tuple[int, int], np.ndarray] = {}
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
    E = np.transpose(cp.ztxy, (1, 2, 0))[:, :, None, :]  # (q, p+1, 1, J)
    W: list[np.ndarray] = []
    for i in range(q):
        acc = lam[i, i][None] * E[i]
        for k in range(i + 1, q):
            acc = acc + lam[k, i][None] * E[k]
        for r in range(i):
            acc = acc - L[i, r][None] * W[r]
        W.append(acc / L[i, i][None])
    logdet_m = 2.0 * sum(np.log(L[j, j]).sum(axis=1) for j in range(q))
    return _Factors(L, np.stack(W, axis=0).transpose(2, 0, 1, 3), logdet_m)


def _schur(cp: CrossProducts, W: np.ndarray) -> np.ndarray:
    """``[Xs ys]'V^-1[Xs ys]`` (relative to sigma^2) for each theta: ``xytxy - sum_j W_j'W_j``."""
    B, q, m, J = W.shape
    Wf = np.transpose(W, (0, 2, 1, 3)).reshape(B, m, q * J)
    return cp.xytxy[None] - np.matmul(Wf, np.transpose(Wf, (0, 2, 1)))


def _terms_from_schur(c: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log|R_X|^2, r^2, lower Cholesky factor) of each ``c``; inf/nan where c is not positive definite."""
    B = c.shape[0]
    try:
        rc = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        rc = np.full_like(c, np.nan)
        for b in range(B):
            try:
                rc[b] = np.linalg.cholesky(c[b])
            except np.linalg.LinAlgError:
                pass
    diag = np.diagonal(rc, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        logdet_rx = 2.0 * np.log(diag[:, :p]).sum(axis=1)
    r2 = diag[:, p] ** 2
    return logdet_rx, r2, rc


@dataclass
class Solution:
    """Estimates at one theta, in the units of the original data (lme4's ``mkMerMod``)."""

    theta: np.ndarray  # lme4's theta (original units)
    beta: np.ndarray
    vcov: np.ndarray  # (X'V^-1X)^-1, nlme's varFix
    sigma: float
    G: np.ndarray
    ranef: np.ndarray  # (ngroups, q) BLUPs
    deviance: float
    lam: np.ndarray  # Lambda (original units)


class ProfiledDeviance:
    """The REML or ML deviance of a :class:`CrossProducts` as a function of (standardised) theta.

    One formula (:func:`deviance_formula`) for every number of random effects; evaluation is
    vectorised over a batch of thetas (:meth:`batch`), which is how the optimiser gets its
    finite-difference derivatives at the cost of a few evaluations.

    Examples
    --------
    >>> import numpy as np
    >>> from hlmkit.crossproducts import CrossProducts, ProfiledDeviance
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(20), 5)
    >>> y = rng.normal(size=20)[g] + rng.normal(size=100)
    >>> one = np.ones((100, 1))
    >>> dev = ProfiledDeviance(CrossProducts.from_design(one, one, y, g, 20), reml=True)
    >>> bool(dev(np.array([0.5])) < dev(np.array([0.0])))   # some variance between clusters
    True
    """

    def __init__(self, cp: CrossProducts, reml: bool) -> None:
        self.cp = cp
        self.reml = bool(reml)

    @property
    def ntheta(self) -> int:
        return self.cp.ntheta

    def with_crossproducts(self, cp: CrossProducts) -> ProfiledDeviance:
        return ProfiledDeviance(cp, self.reml)

    def terms(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log|M|, log|R_X|^2, r^2) of the standardised problem at each row of ``thetas``."""
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            f = _factor_batch(self.cp, thetas)
            logdet_rx, r2, _ = _terms_from_schur(_schur(self.cp, f.W), self.cp.p)
        return f.logdet_m, logdet_rx, r2

    def batch(self, thetas: np.ndarray) -> np.ndarray:
        """The deviance of the standardised problem at each row of ``thetas`` (inf where undefined).

        Differs from the original problem's deviance by the constant :meth:`CrossProducts.offset`.
        """
        logdet_m, logdet_rx, r2 = self.terms(thetas)
        with np.errstate(invalid="ignore", divide="ignore"):
            dev = deviance_formula(logdet_m, logdet_rx, r2, self.cp.n, self.cp.p, self.reml)
        return np.where(np.isfinite(dev) & (r2 > 0), dev, np.inf)

    def __call__(self, theta: np.ndarray) -> float:
        return float(self.batch(np.asarray(theta, dtype=float)[None, :])[0])

    def deviance(self, theta: np.ndarray) -> float:
        """The deviance of the original problem at standardised ``theta`` (-2 log-likelihood)."""
        return self(theta) + self.cp.offset(self.reml)

    # ---------------------------------------------------------------------------------------
    def loglik_natural(self, pars: np.ndarray) -> np.ndarray:
        """Log-likelihood (not profiled over sigma) at rows of nlme's natural parameters.

        ``pars``: log standard deviations of the random effects, ``log((1+r)/(1-r))`` of their
        correlations (pairs (1,2), (1,3), ..., (2,3), ...), ``log(sigma)``, all in original units;
        the fixed effects are profiled out. This is the function whose Hessian is nlme's apVar.
        Rows where G is not positive definite give -inf.
        """
        pars = np.atleast_2d(np.asarray(pars, dtype=float))
        cp = self.cp
        q = cp.q
        B = pars.shape[0]
        thetas = np.zeros((B, cp.ntheta))
        ok = np.ones(B, dtype=bool)
        sigma = np.exp(pars[:, -1])
        for b in range(B):
            sd = np.exp(pars[b, :q])
            R = np.eye(q)
            k = q
            for j in range(q):
                for i in range(j + 1, q):
                    R[i, j] = R[j, i] = math.tanh(pars[b, k] / 2.0)
                    k += 1
            # G / sigma^2 in standardised Z units: D^-1 (G / sigma^2) D^-1
            rel = R * np.outer(sd, sd) / sigma[b] ** 2 / np.outer(cp.d, cp.d)
            try:
                Ls = np.linalg.cholesky(rel)
            except np.linalg.LinAlgError:
                ok[b] = False
                continue
            thetas[b] = Ls[cp.tri]
        logdet_m, logdet_rx, r2 = self.terms(thetas)
        # back to the original units: r2 * s^2, log|R_X|^2 + 2 log|det A|
        s2 = cp.s**2
        logdet_a = float(np.sum(np.log(np.abs(np.diagonal(cp.A))))) if cp.p else 0.0
        r2o = r2 * s2
        lrx = logdet_rx + 2.0 * logdet_a
        sig2 = sigma**2
        n, p = cp.n, cp.p
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.reml:
                ll = -0.5 * ((n - p) * np.log(2 * math.pi * sig2) + logdet_m + lrx + r2o / sig2)
            else:
                ll = -0.5 * (n * np.log(2 * math.pi * sig2) + logdet_m + r2o / sig2)
        return np.where(ok & np.isfinite(ll), ll, -np.inf)

    # ---------------------------------------------------------------------------------------
    def solution(self, theta_s: np.ndarray) -> Solution:
        """Estimates at standardised ``theta_s``, transformed back to the original units."""
        cp = self.cp
        p, q = cp.p, cp.q
        theta_s = np.asarray(theta_s, dtype=float)
        f = _factor_batch(cp, theta_s[None, :])
        c = _schur(cp, f.W)
        logdet_rx, r2, rc = _terms_from_schur(c, p)
        if not (np.isfinite(r2[0]) and r2[0] > 0 and np.all(np.isfinite(rc))):
            raise FloatingPointError("the fixed-effects cross-product matrix is not positive definite")
        rc = rc[0]
        rx = rc[:p, :p]  # lower: rx rx' = Xs'V^-1 Xs * sigma^2 (standardised)
        dev_s = float(deviance_formula(f.logdet_m[0], logdet_rx[0], r2[0], cp.n, p, self.reml))
        nres = cp.n - p if self.reml else cp.n
        sigma_s2 = float(r2[0]) / nres
        beta_s = np.linalg.solve(rx.T, rc[p, :p]) if p else np.zeros(0)
        # BLUPs (standardised): u_j = L_j^-T (W_j[:, y] - W_j[:, X] beta_s); b_s = Lambda_s u_j
        W = f.W[0]  # (q, p+1, J)
        rhs = W[:, p, :] - np.einsum("qcj,c->qj", W[:, :p, :], beta_s)  # (q, J)
        u = np.empty_like(rhs)
        for i in reversed(range(q)):  # back substitution with L_j' (upper), elementwise over clusters
            acc = rhs[i].copy()
            for k in range(i + 1, q):
                acc -= f.L[k, i][0] * u[k]
            u[i] = acc / f.L[i, i][0]
        lam_s = cp.lam(theta_s)
        b_s = (lam_s @ u).T  # (J, q)
        # back to original units
        s = cp.s
        Ainv = np.linalg.inv(cp.A) if p else np.zeros((0, 0))
        beta = cp.beta0 + s * (Ainv @ beta_s) if p else np.zeros(0)
        rxinv = np.linalg.inv(rx) if p else np.zeros((0, 0))
        vcov_s = sigma_s2 * (rxinv.T @ rxinv)
        vcov = s * s * (Ainv @ vcov_s @ Ainv.T)
        sigma = s * math.sqrt(sigma_s2)
        lam = lam_s * cp.d[:, None]
        G = sigma**2 * (lam @ lam.T)
        ranef = s * b_s * cp.d[None, :]
        ranef[cp.counts == 0] = 0.0
        return Solution(
            theta=cp.from_std(theta_s),
            beta=beta,
            vcov=vcov,
            sigma=sigma,
            G=G,
            ranef=ranef,
            deviance=dev_s + cp.offset(self.reml),
            lam=lam,
        )
