"""Linear mixed models with one grouping factor: ``lme``, its results, ``lmlist`` and ``anova``.

Estimation follows the profiled-deviance formulation of lme4 (Bates, Maechler, Bolker & Walker
2015), and the pipeline is lme4's:

1. ``lme`` evaluates the formulas on the data: design matrices, clusters, rows used (``lFormula``);
2. :class:`hlmkit.crossproducts.CrossProducts` freezes the cluster-level cross-products of the
   standardised data, and :class:`hlmkit.crossproducts.ProfiledDeviance` is the REML or ML
   deviance as a function of ``theta``, the lower triangle of the relative covariance factor
   ``Lambda`` (``G = sigma^2 Lambda Lambda'``); the fixed effects and sigma are profiled out
   (``mkLmerDevfun``);
3. :func:`hlmkit.optimizer.minimise` finds the minimum: moment start values from per-cluster
   fits, a trust-region Newton search in units-free coordinates, restarts where a search ends on
   the boundary, and a scale-free convergence test (``optimizeLmer``);
4. :meth:`ProfiledDeviance.solution` and :class:`LmeResult` turn the optimum into nlme's
   quantities (``mkMerMod``): the GLS covariance of the fixed effects, nlme's between/within
   degrees of freedom, REML or ML log-likelihood, AIC and BIC, BLUPs, approximate intervals.

``theta`` is searched without bounds: the deviance depends on ``Lambda`` only through
``Lambda Lambda'``, so a variance at zero or a correlation at +-1 is an ordinary point of the
search, not a place where the optimiser loses its way (nlme works on log-variances, which run off
to minus infinity there), and boundary fits are reached and reported instead of failing.

nlme's conventions, kept here: ``vcov`` is nlme's ``vcov`` (``varFix``, with the ML estimate of
sigma for ML fits); ``summary``, ``anova(fit)`` and :func:`hlmkit.wald` of an ML fit scale it by
``N / (N - p)`` (nlme's ``adjustSigma = TRUE``); ``intervals`` for the fixed effects does not.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._blas import single_threaded_blas as _single_threaded_blas
from ._rprint import AnovaTable, RPrinted, format_r, indent, lower_triangle, re_block, table_r
from .crossproducts import CrossProducts, ProfiledDeviance
from .derivatives import richardson_hessian
from .formula import Design, FormulaError, ModelFrame, parse_formula, parse_random, update_formula
from .frames import _split_indices, levels_of
from .leastsquares import aliased_columns, lstsq_pivot
from .optimizer import OptimResult, minimise

__all__ = [
    "BoundaryFitWarning",
    "ConvergenceWarning",
    "IdentifiabilityWarning",
    "LmListResult",
    "LmeResult",
    "anova",
    "lme",
    "lmlist",
]


class ConvergenceWarning(UserWarning):
    """The optimiser stopped before it reached an optimum."""


class BoundaryFitWarning(UserWarning):
    """The fit is on the boundary: a variance at zero or a correlation at +-1."""


class IdentifiabilityWarning(UserWarning):
    """The data cannot separate the random-effects variances from the residual variance."""


# --------------------------------------------------------------------------------------------
# degrees of freedom as nlme computes them
# --------------------------------------------------------------------------------------------


def _nlme_df(
    X: np.ndarray, codes: np.ndarray, ngroups: int, assign: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """nlme's between/within denominator df (``getFixDF``) for one level of grouping.

    Returns the df of each column of ``X`` and of each term (``assign`` gives each column's term,
    numbered from 0 in order of appearance).
    """
    n, p = X.shape
    assign = list(range(p)) if assign is None else list(assign)
    terms = sorted(set(assign), key=assign.index)
    tol = math.sqrt(np.finfo(float).eps)

    def const(x: np.ndarray) -> bool:
        if x[0] == 0:
            return bool(np.all(np.abs(x) < tol))
        return bool(np.all(np.abs(x / x[0] - 1) < tol))

    is_int = np.array([const(X[:, k]) for k in range(p)], dtype=bool) if n else np.ones(p, dtype=bool)
    inner = np.zeros(p, dtype=bool)  # varies within at least one cluster
    if n:
        order = np.argsort(codes, kind="stable")
        xs = X[order]
        present = np.unique(codes)
        starts = np.searchsorted(codes[order], present)
        mins = np.minimum.reduceat(xs, starts, axis=0)
        maxs = np.maximum.reduceat(xs, starts, axis=0)
        inner = np.any(maxs - mins > 0, axis=0)
    ng = len(np.unique(codes)) if n else ngroups
    stratum = np.where(inner, 1, 0)  # 0 = between clusters, 1 = within (Residual)
    # columns
    df_x = np.array([ng, n - ng], dtype=float)
    df = np.zeros(p)
    notint = ~is_int
    if notint.any():
        for s in (0, 1):
            df_x[s] -= np.sum(stratum[notint] == s)
        if is_int.any():
            df_x[0] -= 1
        else:
            df_x[1:] += 1
        df[notint] = df_x[stratum[notint]]
    if is_int.any():
        df[is_int] = df_x.max()
    # terms: a term's stratum is the highest of its columns'; it is an "intercept" term when all
    # its columns are constant
    cols = {t: [k for k in range(p) if assign[k] == t] for t in terms}
    t_notint = np.array([bool(notint[cols[t]].any()) for t in terms])
    t_stratum = np.array([int(stratum[cols[t]].max()) for t in terms])
    t_size = np.array([len(cols[t]) for t in terms])
    df_t = np.array([ng, n - ng], dtype=float)
    dft = np.zeros(len(terms))
    if t_notint.any():
        for s in (0, 1):
            df_t[s] -= t_size[t_notint & (t_stratum == s)].sum()
        if not t_notint.all():
            df_t[0] -= 1
        else:
            df_t[1:] += 1
        dft[t_notint] = df_t[t_stratum[t_notint]]
    if not t_notint.all():
        dft[~t_notint] = df_t.max()
    return df, dft


# --------------------------------------------------------------------------------------------
# the user-facing function
# --------------------------------------------------------------------------------------------


def _group_values(values: np.ndarray, raw: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and the labels of the clusters, in hlmkit's order (:func:`hlmkit.frames.levels_of`)."""
    grouping = (
        pd.Categorical(values, categories=raw.cat.categories)
        if isinstance(raw.dtype, pd.CategoricalDtype)
        else values
    )
    labels = pd.Index(levels_of(grouping, what=f"the grouping variable {raw.name!r}"), name=raw.name)
    codes = labels.get_indexer(pd.Index(values))
    if (codes < 0).any():  # pragma: no cover - rows with a missing cluster are dropped before
        raise ValueError(f"the grouping variable {raw.name!r} has missing values")
    return codes.astype(np.intp), labels


def _check_data(data: pd.DataFrame) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if not data.index.is_unique:
        dup = data.index[data.index.duplicated()].unique()[:5].tolist()
        raise ValueError(
            f"the data's index has duplicated labels (e.g. {dup}); lme refers to rows by their labels "
            "(fitted values, residuals, influence). Give each row its own label, e.g. "
            "data.reset_index(drop=True)"
        )


def _check_method(method: Any) -> str:
    if not isinstance(method, str) or method.upper() not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML', not {method!r}")
    return method.upper()


def lme(
    fixed: str,
    data: pd.DataFrame,
    random: str = "~ 1 | school",
    method: str = "REML",
    *,
    start: Sequence[float] | None = None,
    maxiter: int = 100,
    data_name: str | None = None,
) -> LmeResult:
    """Fit a linear mixed model with one grouping factor, as R's ``nlme::lme``.

    The pipeline, like lme4's: the formulas are evaluated on the data (design matrices and
    clusters), the cluster-level cross-products and the profiled deviance are built
    (:mod:`hlmkit.crossproducts`), the deviance is minimised over the relative covariance factor
    (:mod:`hlmkit.optimizer`: moment start values, trust-region Newton, restarts), and the
    estimates are computed at the optimum.

    Parameters
    ----------
    fixed : str
        The fixed-effects formula, e.g. ``"mathach ~ ses * Sector + cvar(ses, school)"``.
    data : DataFrame
        Long data, with a unique index. Rows with a missing value in any model variable (fixed,
        random or group) are dropped; ``LmeResult.n_dropped`` says how many. Infinite values
        are an error.
    random : str, default ``"~ 1 | school"``
        The random-effects formula and the grouping variable: ``"~ 1 + ses | school"``,
        ``"~ 1 + dvar(ses, school) | school"``. As in R, the intercept is included unless removed.
    method : {"REML", "ML"}
    start : sequence of float, optional
        Starting values for theta (lme4's theta: the lower triangle of the relative covariance
        factor, column by column). The default is a moment estimate from per-cluster fits.
    maxiter : int
        Iteration limit of the Newton search (each restart has its own).
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
    method = _check_method(method)
    _check_data(data)
    if not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter must be a positive integer, not {maxiter!r}")
    with _single_threaded_blas():
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
        aliased = aliased_columns(X, Xd.columns)  # R's rule (lm's QR tolerance 1e-7), as ols uses
        if aliased:
            raise FormulaError(
                f"the fixed effects are not all estimable: {aliased} "
                "depend linearly on the other columns (rank-deficient design); remove them from the formula"
            )
        n, p = X.shape
        if n - p <= 0:
            raise ValueError(f"{n} observations cannot estimate {p} fixed effects and sigma")
        q = Zd.matrix.shape[1]
        J = len(labels)
        if n <= J * q:
            warnings.warn(
                f"{n} observations in {J} clusters cannot separate {q} random effect(s) per cluster from the "
                f"residual: there are no more observations than random effects ({J} x {q}"
                + (", every cluster has a single row" if n == J else "")
                + "), so the split of the variance between the random effects and the residual is not "
                "identified (lme4 refuses such a model). The estimates of G and sigma are arbitrary.",
                IdentifiabilityWarning,
                stacklevel=2,
            )
        cp = CrossProducts.from_design(X, Zd.matrix, mf.y, codes, J)
        dev = ProfiledDeviance(cp, reml=(method == "REML"))
        start_s = None
        if start is not None:
            theta0 = np.asarray(start, dtype=float)
            if theta0.shape != (cp.ntheta,):
                raise ValueError(f"start must have {cp.ntheta} values (theta), got {theta0.shape}")
            start_s = cp.to_std(theta0)
        res = minimise(dev, start_s, int(maxiter))
        return LmeResult(
            dev=dev,
            opt=res,
            mf=mf,
            xdesign=Xd,
            zdesign=Zd,
            group=group,
            labels=labels,
            fixed=fixed,
            random=random,
            method=method,
            data=data,
            data_name=data_name,
            re_lhs=re_lhs,
        )


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


class LmeResult(RPrinted):
    """The fit of :func:`lme`: estimates, tests, predictions and an nlme-style summary.

    Attributes
    ----------
    fixef : Series
        Fixed-effect estimates (the GLS estimates at the estimated variance components).
    vcov : DataFrame
        Their covariance ``(X'V^-1 X)^-1`` at the estimated variance components: nlme's ``vcov``
        (``varFix``), for ML fits too (with the ML estimate of sigma).
    df : Series
        nlme's denominator degrees of freedom of each fixed effect.
    se, tvalues, pvalues : Series
        The columns of nlme's ``summary`` table. For an ML fit nlme's ``summary`` (and ``anova``)
        use ``adjustSigma = TRUE``: the standard errors are ``sqrt(diag(vcov))`` times
        ``sqrt(N / (N - p))``, as if sigma were estimated with REML's divisor; so do these, and
        so do :func:`hlmkit.wald` and :func:`anova` on one ML fit. For REML fits the factor is 1.
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
        The search ended at a minimum of the deviance: the Hessian is positive semi-definite and
        the Newton decrement is below :data:`hlmkit.optimizer.DECREMENT_TOL` (the log-likelihood is
        within about 2.5e-7 of the optimum's). A scale-free test: it does not depend on the units
        of the data or on the number of rows.
    boundary : list of str
        Why the fit is on the boundary (empty if it is not).
    theta : ndarray
        lme4's theta: the lower triangle of the relative covariance factor, column by column.
    crossproducts : CrossProducts
        The frozen cluster-level cross-products the fit was computed from.
    deviance_function : ProfiledDeviance
        The profiled deviance of this model (on standardised theta: ``crossproducts.to_std``).
    """

    crossproducts: CrossProducts
    deviance_function: ProfiledDeviance
    fixed_formula: str
    random_formula: str
    group: str
    method: str
    data_name: str | None
    groups: pd.Index
    theta: np.ndarray
    theta_std: np.ndarray
    sigma: float
    fixef: pd.Series
    vcov: pd.DataFrame
    df: pd.Series
    df_terms: pd.Series
    se: pd.Series
    tvalues: pd.Series
    pvalues: pd.Series
    G: pd.DataFrame
    ranef: pd.DataFrame
    coef: pd.DataFrame
    nobs: int
    ngroups: int
    n_dropped: int
    deviance: float
    loglik: float
    n_params: int
    aic: float
    bic: float
    boundary: list[str]
    converged: bool
    optimizer_info: dict[str, Any]
    # what the fit was computed from (for predictions on new data, update and refit)
    _mf: ModelFrame
    _xdesign: Design
    _zdesign: Design
    _re_lhs: str
    _data: pd.DataFrame

    def __init__(
        self,
        *,
        dev: ProfiledDeviance,
        opt: OptimResult,
        mf: ModelFrame,
        xdesign: Design,
        zdesign: Design,
        re_lhs: str,
        group: str,
        labels: pd.Index,
        fixed: str,
        random: str,
        method: str,
        data: pd.DataFrame,
        data_name: str | None,
    ) -> None:
        """The estimates at the optimum ``opt`` of ``dev``; made by :func:`lme`, not by users."""
        cp = dev.cp
        self.crossproducts = cp
        self.deviance_function = dev
        self._mf = mf
        self._xdesign = xdesign
        self._zdesign = zdesign
        self._re_lhs = re_lhs
        self._data = data
        self.fixed_formula = fixed
        self.random_formula = random
        self.group = group
        self.method = method
        self.data_name = data_name
        self.theta_std = opt.theta
        self.groups = labels

        sol = dev.solution(opt.theta)
        self.theta = sol.theta
        self.sigma = sol.sigma
        names = pd.Index(xdesign.columns)  # one Index object shared by every result
        re_names = pd.Index(zdesign.columns)
        df, df_terms = _nlme_df(cp.X, cp.codes, cp.ngroups, xdesign.assign)
        self.fixef = pd.Series(sol.beta, index=names, name="Estimate")
        self.vcov = pd.DataFrame(sol.vcov, index=names, columns=names)
        self.df = pd.Series(df.astype(int), index=names, name="DF")
        self.df_terms = pd.Series(df_terms.astype(int), index=pd.Index(xdesign.term_labels), name="denDF")
        se = np.sqrt(np.diag(sol.vcov)) * math.sqrt(self.sigma_adjustment)
        tvals = sol.beta / se
        self.se = pd.Series(se, index=names, name="Std.Error")
        self.tvalues = pd.Series(tvals, index=names, name="t-value")
        pvals = 2 * stats.t.sf(np.abs(tvals), self.df.to_numpy())
        self.pvalues = pd.Series(pvals, index=names, name="p-value")
        self.G = pd.DataFrame(sol.G, index=re_names, columns=re_names)
        self.ranef = pd.DataFrame(sol.ranef, index=labels, columns=re_names)
        coef = np.tile(sol.beta, (len(labels), 1))
        for k, name in enumerate(re_names):
            if name in names:
                coef[:, names.get_loc(name)] += sol.ranef[:, k]
        self.coef = pd.DataFrame(coef, index=labels, columns=names)
        self.nobs = cp.n
        self.ngroups = cp.nclusters
        self.n_dropped = mf.n_dropped
        self.deviance = sol.deviance
        self.loglik = -0.5 * sol.deviance
        k = cp.p + cp.ntheta + 1
        self.n_params = k
        self.aic = -2 * self.loglik + 2 * k
        self.bic = -2 * self.loglik + k * math.log(cp.n - cp.p if dev.reml else cp.n)
        self.boundary = self._boundary_reasons()
        self.converged = bool(opt.converged)
        self.optimizer_info = {
            "message": opt.message,
            "iterations": opt.iterations,
            "nit": opt.iterations,
            "nfev": opt.nfev,
            "starts": list(opt.starts),
            "newton_decrement": opt.decrement,
            "min_relative_curvature": opt.min_curvature,
            "gradient": opt.gradient,
            "max_projected_gradient": float(np.max(np.abs(opt.gradient))) if len(opt.gradient) else 0.0,
        }
        if not self.converged:
            warnings.warn(
                f"lme did not converge ({opt.message}; Newton decrement {opt.decrement:.2g}, "
                f"smallest relative curvature {opt.min_curvature:.2g}). The estimates are not an optimum; "
                "raise maxiter, or simplify the random-effects model.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if self.boundary:
            warnings.warn(
                "boundary fit: "
                + "; ".join(self.boundary)
                + ". The model is at the edge of the parameter space; consider a simpler random part.",
                BoundaryFitWarning,
                stacklevel=3,
            )

    @property
    def sigma_adjustment(self) -> float:
        """nlme's ``adjustSigma`` factor for the variances of the fixed effects: ``N / (N - p)``
        for an ML fit, 1 for REML (the factor ``summary``, ``anova`` and ``wald`` apply to ``vcov``)."""
        if self.method == "ML":
            n, p = self.crossproducts.n, self.crossproducts.p
            return n / (n - p)
        return 1.0

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
        """The names of the fixed-effects columns (R's names)."""
        return list(self._xdesign.columns)

    @property
    def term_labels(self) -> list[str]:
        """The terms of the fixed-effects formula, in order (the rows of ``anova(fit)``)."""
        return list(self._xdesign.term_labels)

    @property
    def assign(self) -> np.ndarray:
        """The term of each fixed-effects column: positions in :attr:`term_labels` (R's ``assign``, from 0)."""
        return np.asarray(self._xdesign.assign)

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
        return pd.Series(self.crossproducts.y, index=self._mf.index, name=self._mf.parsed.response)

    @property
    def group_values(self) -> pd.Series:
        """The cluster of each row used."""
        values = np.asarray(self.groups)[self.crossproducts.codes]
        return pd.Series(values, index=self._mf.index, name=self.group)

    @property
    def data(self) -> pd.DataFrame:
        """The rows of the data the model was fitted on."""
        return self._data.loc[self._mf.index]

    # ------------------------------------------------------------------------------------
    def fitted(self, level: int = 1) -> pd.Series:
        """Fitted values: population (``level=0``, X beta) or within-cluster (``level=1``, + Z b)."""
        xb = self.crossproducts.X @ self.fixef.to_numpy()
        if level == 0:
            return pd.Series(xb, index=self._mf.index, name="fitted")
        if level != 1:
            raise ValueError("level must be 0 (population) or 1 (cluster)")
        b = self.ranef.to_numpy()[self.crossproducts.codes]
        zb = np.einsum("nq,nq->n", self.crossproducts.Z, b)
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
        pos = self.groups.get_indexer(pd.Index(newdata[self.group].to_numpy()))
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

    def apvar_hessian(self, pars: np.ndarray | None = None) -> np.ndarray:
        """Hessian of the log-likelihood in nlme's natural parameters (at ``pars``, default the estimates).

        The log-likelihood is not profiled over sigma (the fixed effects are); the Hessian is
        computed by central differences with Richardson extrapolation
        (:func:`hlmkit.derivatives.richardson_hessian`, numDeriv's method).
        """
        if pars is None:
            pars, _ = self._natural_pars()
        with _single_threaded_blas():
            return richardson_hessian(self.deviance_function.loglik_natural, np.asarray(pars, dtype=float))

    def apvar(self) -> pd.DataFrame:
        """Approximate covariance of the variance parameters on nlme's natural scale (nlme's ``apVar``).

        Log standard deviations, ``log((1+r)/(1-r))`` of the correlations and log sigma: the
        inverse of minus the Hessian of the log-likelihood (:meth:`apvar_hessian`).

        Where this differs from nlme, and why: nlme computes the same matrix from a Hessian by
        plain finite differences (``fdHess``, relative step ``eps^(1/3)``) of a likelihood
        evaluated with its own rounding, and its variances can be off by several percent (on
        lme4's ``sleepstudy``, 27% for one of them; on data rescaled by 1e3, over 50%). hlmkit
        extrapolates central differences (Richardson, numDeriv's method) of the likelihood of
        standardised cross-products; on the 42 interior test fits its Hessian is within 3e-5
        (relative) of numDeriv's and its apVar within 2e-5 of the exact one
        (``tests/test_lme_cases.py``). Where nlme's ``intervals`` and ours differ for the
        variance components, ours are the accurate ones.
        """
        return self._apvar.copy()

    @cached_property
    def _apvar(self) -> pd.DataFrame:
        # computed once: the Hessian takes dozens of likelihood evaluations (20 ms on HSB, ten
        # times the rest of the results), and intervals() asks for it again
        if self.boundary:
            raise ValueError(
                "no approximate covariance of the variance parameters at a boundary fit: "
                + "; ".join(self.boundary)
            )
        pars, labels = self._natural_pars()
        H = self.apvar_hessian(pars)
        if not np.all(np.isfinite(H)) or np.any(np.linalg.eigvalsh(H) >= 0):
            raise ValueError("the approximate covariance of the variance parameters is not positive definite")
        return pd.DataFrame(np.linalg.inv(-H), index=labels, columns=labels)

    def intervals(self, level: float = 0.95) -> dict[str, pd.DataFrame]:
        """nlme's approximate confidence intervals.

        Fixed effects on the t distribution with nlme's df and ``sqrt(diag(vcov))`` (nlme's
        ``intervals`` does not apply ``adjustSigma``, also for ML fits); standard deviations,
        correlations and sigma from a normal approximation on the log / Fisher-z scale
        (``apvar``), back-transformed.

        Returns
        -------
        dict with DataFrames ``"fixed"``, ``"random"`` and ``"sigma"``, columns lower, est., upper.
        """
        level = _check_level(level)
        tq = stats.t.ppf(1 - (1 - level) / 2, self.df.to_numpy())
        se = np.sqrt(np.diag(self.vcov.to_numpy()))
        fixed = pd.DataFrame(
            {"lower": self.fixef - tq * se, "est.": self.fixef, "upper": self.fixef + tq * se}
        )
        out = {"fixed": fixed}
        av = self.apvar()
        pars, labels = self._natural_pars()
        z = stats.norm.ppf(1 - (1 - level) / 2)
        half = z * np.sqrt(np.diag(av.to_numpy()))
        lo, hi = pars - half, pars + half
        q = self.crossproducts.q
        rows = {}
        for k, lab in enumerate(labels[:-1]):
            # back from the log scale (standard deviations) or Fisher's z (correlations)
            f: Callable[[Any], Any] = np.exp if k < q else _from_fisher_z
            rows[lab] = (f(lo[k]), f(pars[k]), f(hi[k]))
        out["random"] = pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "est.", "upper"])
        out["sigma"] = pd.DataFrame(
            [(math.exp(lo[-1]), math.exp(pars[-1]), math.exp(hi[-1]))],
            index=["sigma"],
            columns=["lower", "est.", "upper"],
        )
        return out

    # ------------------------------------------------------------------------------------
    def summary_table(self) -> pd.DataFrame:
        """The fixed-effects table of ``summary``: Value, Std.Error, DF, t-value, p-value.

        For an ML fit the standard errors use nlme's ``adjustSigma`` (see :attr:`se`).
        """
        return pd.DataFrame(
            {
                "Value": self.fixef,
                "Std.Error": self.se,
                "DF": self.df,
                "t-value": self.tvalues,
                "p-value": self.pvalues,
            }
        )

    def summary(self) -> LmeSummary:
        """An nlme-style summary; ``print(fit.summary())`` shows it."""
        return LmeSummary(self)

    def __str__(self) -> str:
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
        start = self.theta if random is None else None
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


def _from_fisher_z(x: float) -> float:
    """A correlation from nlme's ``log((1 + r) / (1 - r))``."""
    return (math.exp(x) - 1) / (math.exp(x) + 1)


def _check_level(level: Any) -> float:
    """A confidence level strictly between 0 and 1."""
    try:
        lev = float(level)
    except (TypeError, ValueError):
        raise TypeError(f"level must be a number between 0 and 1, not {level!r}") from None
    if not 0 < lev < 1:
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95), not {level!r}")
    return lev


class LmeSummary(RPrinted):
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
        lines.append(indent(table_r(crit, digits=7), 1))
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
            lines.extend(re_block(list(sd.index), sd.to_numpy(), fit.corr_re.to_numpy(), fit.sigma))
        lines.append("")
        lines.append(f"Fixed effects:  {fit.fixed_formula.strip()}")
        tab = fit.summary_table()
        pv = format_r(np.round(tab["p-value"].to_numpy(), 4), digits=7)
        lines.append(table_r(tab, digits=7, formatted={"p-value": pv}))
        if not self.short and len(tab) > 1:
            cor = fit.vcov.to_numpy() / np.outer(fit.se, fit.se)
            lines.append(" Correlation: ")
            lines.extend(lower_triangle(list(tab.index), cor))
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


# --------------------------------------------------------------------------------------------
# lmlist
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class LmListResult(RPrinted):
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

    def __str__(self) -> str:
        n_na = int(self.coef.isna().any(axis=1).sum())
        return (
            f"lmlist: {self.formula}  ({len(self.coef)} clusters, {n_na} with a coefficient not estimable)\n"
            + repr(self.coef)
        )

    def pooled_sigma(self) -> float:
        """Pooled within-cluster residual standard deviation."""
        ok = self.df_resid > 0
        rss = (self.sigma[ok] ** 2 * self.df_resid[ok]).sum()
        return float(math.sqrt(rss / self.df_resid[ok].sum()))


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
    for idx in _split_indices(codes, len(labels)):
        b, s, sg, dfr = lstsq_pivot(d.matrix[idx], y[idx])
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


def anova(
    *fits: LmeResult,
    names: Sequence[str] | None = None,
    type: str = "sequential",  # noqa: A002
    test: bool = True,
) -> pd.DataFrame:
    """nlme's ``anova.lme``: F tests of the terms of one fit, or likelihood-ratio tests between fits.

    **One fit**: Wald F tests of the fixed-effect terms, with nlme's numerator and denominator
    df (``fit.df_terms``). ``type="sequential"`` (the default) tests each term after the terms
    before it (type I); ``type="marginal"`` tests each term after all the others. For an ML fit
    the covariance of the fixed effects is scaled by ``N / (N - p)``, nlme's ``adjustSigma``.

    **Several fits**: a likelihood-ratio test between each fit and the one before it. The fits must
    use the same response and rows, and each pair must be nested (the fixed and random effects of
    one within those of the other); REML log-likelihoods are comparable only between models with
    the same fixed effects, so comparing REML fits whose fixed effects differ is an error (refit
    them with ``method="ML"``). Two fits with the same number of parameters get no p-value (there
    is no test); with ``test=False`` models that are not nested can be compared by AIC and BIC.

    Returns
    -------
    DataFrame or AnovaTable
        One fit: a DataFrame indexed by term, with columns numDF, denDF, F-value, p-value.
        Several fits: an AnovaTable (a DataFrame) with columns Model, df, AIC, BIC, logLik, Test,
        L.Ratio, p-value, printed as nlme prints it (p-values to 4 decimals, blank where there is
        no test).

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> f0 = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    >>> f1 = f0.update(random="~ 1 + ses | school")
    >>> list(hk.anova(f0, f1)["df"])
    [4, 6]
    >>> list(hk.anova(f1).index)
    ['(Intercept)', 'ses']
    """
    if not fits:
        raise ValueError("anova needs a fit (F tests of its terms) or several fits (likelihood-ratio tests)")
    if len(fits) == 1:
        check_comparable(fits, "anova", ["fit"])
        if names is not None:
            raise ValueError(
                "anova: names label the fits of a comparison; with one fit there is nothing to name"
            )
        return _anova_terms(fits[0], type)
    if names is not None:
        names = list(names)
        if len(names) != len(fits):
            raise ValueError(f"anova: {len(names)} names for {len(fits)} fits; give one name per fit")
    check_comparable(fits, "anova", [f"fit {k + 1}" for k in range(len(fits))], likelihoods=True)
    if test:
        for k in range(1, len(fits)):
            a, b = fits[k - 1], fits[k]
            if a.n_params != b.n_params and not (_nested(a, b) or _nested(b, a)):
                raise ValueError(
                    f"anova: fits {k} and {k + 1} are not nested (neither's fixed and random effects are "
                    "within the other's, on the same clusters), so their likelihood-ratio statistic has no "
                    "chi-square distribution. Compare them by AIC and BIC with anova(..., test=False)."
                )
    labels = names if names is not None else [f"fit{k + 1}" for k in range(len(fits))]
    rows = []
    for k, f in enumerate(fits):
        row = {
            "Model": k + 1,
            "df": f.n_params,
            "AIC": f.aic,
            "BIC": f.bic,
            "logLik": f.loglik,
            "Test": "",
            "L.Ratio": np.nan,
            "p-value": np.nan,
        }
        if k > 0 and test:
            prev = fits[k - 1]
            lr = 2 * abs(f.loglik - prev.loglik)
            ddf = abs(f.n_params - prev.n_params)
            row["Test"] = f"{k} vs {k + 1}"
            row["L.Ratio"] = lr
            row["p-value"] = float(stats.chi2.sf(lr, ddf)) if ddf > 0 else np.nan
        rows.append(row)
    return AnovaTable(rows, index=labels)


def check_comparable(
    fits: Sequence[Any],
    who: str,
    roles: Sequence[str],
    *,
    likelihoods: bool = False,
    same_clusters: bool = False,
) -> None:
    """The one check that fits can be compared (by ``anova``, ``r2`` and ``simulate_lrt``).

    Every fit is an :class:`LmeResult`, fitted by the same method to the same response on the
    same rows. With ``likelihoods``, REML fits must also have the same fixed effects (a REML
    likelihood is that of residual contrasts of the fixed-effects design). With
    ``same_clusters``, the fits must have the same clusters, row by row. ``who`` names the
    caller and ``roles`` the fits in the error messages.
    """
    for role, f in zip(roles, fits):
        if not isinstance(f, LmeResult):
            raise TypeError(f"{who}: {role} must be an LmeResult (from hlmkit.lme), not {type(f).__name__}")
    base, role0 = fits[0], roles[0]
    for role, f in zip(roles[1:], fits[1:]):
        if f.method != base.method:
            raise ValueError(
                f"{who}: {role0} is fitted by {base.method} and {role} by {f.method}; their "
                "likelihoods and variance components are not comparable: fit both the same way"
            )
        cb, cf = base.crossproducts, f.crossproducts
        if f.nobs != base.nobs or not np.array_equal(cf.y, cb.y):
            raise ValueError(f"{who}: {role0} and {role} do not use the same response and rows")
        if same_clusters and (
            f.group != base.group
            or not f.groups.equals(base.groups)
            or not np.array_equal(cf.codes, cb.codes)
        ):
            raise ValueError(
                f"{who}: {role0} and {role} have different clusters ({base.group!r} and {f.group!r})"
            )
        if (
            likelihoods
            and base.method == "REML"
            and not (f.design_columns == base.design_columns and np.allclose(cf.X, cb.X))
        ):
            raise ValueError(
                f"{who}: these REML fits have different fixed effects. A REML likelihood is the "
                "likelihood of residual contrasts that depend on the fixed-effects design, so REML "
                "fits with different fixed effects are not comparable; refit them with method='ML'."
            )


def in_span(A: np.ndarray, B: np.ndarray) -> bool:
    """Whether every column of A is a linear combination of the columns of B."""
    if A.shape[1] == 0:
        return True
    if B.shape[1] == 0:
        return False
    coef, *_ = np.linalg.lstsq(B, A, rcond=None)
    scale = max(1.0, float(np.abs(A).max()))
    return bool(np.allclose(B @ coef, A, atol=1e-8 * scale, rtol=0))


def _nested(small: LmeResult, big: LmeResult) -> bool:
    """Whether ``small``'s model is a special case of ``big``'s (same clusters)."""
    cs, cb = small.crossproducts, big.crossproducts
    if small.group != big.group or not np.array_equal(cs.codes, cb.codes):
        return False
    if small.n_params > big.n_params:
        return False
    return in_span(cs.X, cb.X) and in_span(cs.Z, cb.Z)


def _anova_terms(fit: LmeResult, type: str) -> pd.DataFrame:  # noqa: A002 - nlme's argument name
    """nlme's ``anova(fit)``: the F test of each fixed-effect term (sequential or marginal)."""
    if type not in ("sequential", "marginal"):
        raise ValueError(f"anova: type must be 'sequential' or 'marginal', not {type!r}")
    beta = fit.fixef.to_numpy()
    V = fit.vcov.to_numpy() * fit.sigma_adjustment
    assign = fit.assign
    term_labels = fit.term_labels
    if type == "sequential":
        # R beta with R upper triangular, R'R = V^-1: component k tests column k after columns < k
        low = np.linalg.cholesky(np.linalg.inv(V))  # lower, low low' = V^-1, so R = low'
        c0 = low.T @ beta
    rows = []
    for t in range(len(term_labels)):
        cols = np.flatnonzero(assign == t)
        if type == "sequential":
            F = float(np.sum(c0[cols] ** 2) / len(cols))
        else:
            b = beta[cols]
            F = float(b @ np.linalg.solve(V[np.ix_(cols, cols)], b) / len(cols))
        den = float(fit.df_terms.iloc[t])
        rows.append(
            {
                "numDF": len(cols),
                "denDF": int(den),
                "F-value": F,
                "p-value": float(stats.f.sf(F, len(cols), den)),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(term_labels))
