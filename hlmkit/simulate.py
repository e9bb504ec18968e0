"""Parametric simulation of a likelihood-ratio test between two mixed models (nlme's ``simulate.lme``).

A test of a variance component puts the null hypothesis on the boundary of the parameter space
(a variance equal to zero), where the chi-square reference distribution of the likelihood-ratio
statistic does not hold: the nominal p-value is too large, the test conservative
(Self and Liang 1987). Lab 1 calibrates it by simulation:

1. generate ``nsim`` responses from the fitted **null** model, ``y* = X b + Z u + e`` with
   ``u ~ N(0, G)`` independently per cluster and ``e ~ N(0, sigma^2)``, using the null fit's
   estimates;
2. refit both models to each ``y*`` and record ``LR* = 2 max(0, loglik_alt - loglik_null)``;
3. the **empirical p-value** is the share of simulated ``LR*`` at least as large as the observed
   LR (equivalently, of simulated nominal p-values at most the observed one).

:func:`simulate_lrt` does this without rebuilding either model: the design, the grouping and all
cluster-level cross-products are those of the original fits, and only the response's
cross-products change from one simulated data set to the next (``CrossProducts.with_response``). Each
refit starts at the true (null) parameters: the null model at its own estimates, the
alternative at the null's covariance matrix embedded in its larger one. The refits use a
quasi-Newton (BFGS) method started from the Hessian of the original data's deviance, with
central-difference gradients whose points are evaluated all at once (the profiled deviance
vectorised over parameter values), and the engine's own optimiser as the fallback. A refit that
does not reach a stationary point of the deviance is counted and its simulated data set left
out, as nlme's ``plot.simulate.lme`` leaves out fits with ``info != 0``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._blas import single_threaded_blas
from ._rprint import RPrinted
from .lmm import LmeResult, check_comparable, in_span
from .plots import MIN_TEXT_PT
from .refit import WarmRefit

__all__ = ["SimulatedLRT", "simulate_lrt"]


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class SimulatedLRT(RPrinted):
    """Result of :func:`simulate_lrt`.

    Attributes
    ----------
    lr_observed : float
        The likelihood-ratio statistic of the two fitted models.
    p_nominal : float
        Its chi-square p-value on ``df`` degrees of freedom (what ``anova`` reports).
    p_empirical : float
        The share of simulated statistics ``>= lr_observed`` (over the data sets whose two
        refits converged).
    se_empirical : float
        Monte-Carlo standard error of ``p_empirical``, ``sqrt(p (1 - p) / n)``.
    p_mixture : float or None
        The p-value on the 50:50 mixture of chi-square(df - 1) and chi-square(df), the
        asymptotic null distribution when the alternative adds one random effect; None otherwise.
    lr : ndarray
        The simulated statistics ``2 max(0, loglik_alt - loglik_null)`` of the converged data sets.
    df : int
        Difference in the number of parameters.
    nsim, n_failed : int
        Data sets simulated, and left out because a refit did not converge.
    n_fallback : int
        Refits that needed the engine's general optimiser after the fast Newton refit stopped.
    loglik_null, loglik_alt : ndarray
        The refits' log-likelihoods for every data set (NaN where the refit did not converge).
    seed : int or None
    method : str
        "REML" or "ML".
    elapsed : float
        Seconds spent simulating and refitting.
    """

    lr_observed: float
    p_nominal: float
    p_empirical: float
    se_empirical: float
    p_mixture: float | None
    lr: np.ndarray = field(repr=False)
    df: int
    nsim: int
    n_failed: int
    n_fallback: int
    loglik_null: np.ndarray = field(repr=False)
    loglik_alt: np.ndarray = field(repr=False)
    seed: int | None
    method: str
    elapsed: float
    null_label: str = "null"
    alt_label: str = "alternative"

    @property
    def nominal_p_simulated(self) -> np.ndarray:
        """The nominal (chi-square) p-value of each simulated statistic."""
        return stats.chi2.sf(self.lr, self.df)

    def quantiles(self, probs: Any = (0.5, 0.75, 0.9, 0.95, 0.99)) -> pd.DataFrame:
        """Quantiles of the simulated statistics beside those of chi-square(df) (and the mixture)."""
        probs = np.asarray(probs, dtype=float)
        out = pd.DataFrame(
            {"simulated": np.quantile(self.lr, probs), f"chisq({self.df})": stats.chi2.ppf(probs, self.df)},
            index=pd.Index(probs, name="prob"),
        )
        if self.p_mixture is not None:
            out["mixture"] = [_mixture_quantile(p, self.df) for p in probs]
        return out

    def __str__(self) -> str:
        n_ok = self.nsim - self.n_failed
        lines = [
            f"Parametric simulation of the likelihood-ratio test ({self.method})",
            f"  null: {self.null_label}",
            f"  alternative: {self.alt_label}",
            f"  LR = {self.lr_observed:.4f} on {self.df} df; nominal p = {self.p_nominal:.4g}"
            + (f", 50:50 mixture p = {self.p_mixture:.4g}" if self.p_mixture is not None else ""),
            f"  empirical p = {self.p_empirical:.4g} (Monte-Carlo SE {self.se_empirical:.2g}) "
            f"from {n_ok} of {self.nsim} simulated data sets"
            + (
                f"; {self.n_failed} left out, a refit did not converge"
                if self.n_failed
                else "; all refits converged"
            ),
        ]
        if self.seed is not None:
            lines.append(f"  seed {self.seed}; {self.elapsed:.1f} s")
        return "\n".join(lines)

    def plot(self, ax: Any = None, mixture: bool = True) -> Any:
        """nlme's ``plot.simulate.lme``: nominal against empirical p-values of the simulated tests.

        The simulated statistics sorted from the largest, ``LR*_(i)``, are plotted at the
        empirical p-value ``(i - 0.5) / n`` against their nominal p-value (chi-square on ``df``):
        a correct chi-square reference puts the points on the diagonal; points above it mean
        the nominal p-values are too large (a conservative test). The observed test is marked:
        read across from its nominal p-value to the curve and down to its empirical p-value.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 5), layout="constrained")
        lr = np.sort(self.lr)[::-1]
        n = len(lr)
        emp = (np.arange(1, n + 1) - 0.5) / n
        ax.plot(emp, stats.chi2.sf(lr, self.df), color="C0", lw=1.5, label=f"chi-square({self.df})")
        if mixture and self.p_mixture is not None:
            mix = 0.5 * stats.chi2.sf(lr, self.df - 1) + 0.5 * stats.chi2.sf(lr, self.df)
            ax.plot(
                emp,
                mix,
                color="C2",
                lw=1.2,
                ls="--",
                label=f"50:50 mixture of chi-square({self.df - 1}, {self.df})",
            )
        ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
        ax.axhline(self.p_nominal, color="C3", lw=0.8, ls=":")
        ax.axvline(self.p_empirical, color="C3", lw=0.8, ls=":")
        ax.plot(
            [self.p_empirical],
            [self.p_nominal],
            "o",
            color="C3",
            ms=5,
            label=f"observed: nominal {self.p_nominal:.3f}, empirical {self.p_empirical:.3f}",
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("Empirical p-value")
        ax.set_ylabel("Nominal p-value")
        ax.legend(fontsize=MIN_TEXT_PT, loc="lower right")
        return ax


def _mixture_quantile(prob: float, df: int) -> float:
    from scipy.optimize import brentq

    def cdf(x: float) -> float:
        low = stats.chi2.cdf(x, df - 1) if df > 1 else 1.0  # chi-square(0) is a point mass at 0
        return 0.5 * low + 0.5 * stats.chi2.cdf(x, df)

    if cdf(0.0) >= prob:
        return 0.0
    return float(brentq(lambda x: cdf(x) - prob, 0.0, 1e3))


# --------------------------------------------------------------------------------------------
# the simulation
# --------------------------------------------------------------------------------------------


def _check_pair(null_fit: Any, alt_fit: Any) -> list[int]:
    """Validate the two fits; the positions of the null's random effects among the alternative's."""
    check_comparable(
        [null_fit, alt_fit],
        "simulate_lrt",
        ["the null fit", "the alternative"],
        likelihoods=True,
        same_clusters=True,
    )
    pn, pa = null_fit.crossproducts, alt_fit.crossproducts
    if not null_fit.converged or not alt_fit.converged:
        which = "null" if not null_fit.converged else "alternative"
        raise ValueError(f"simulate_lrt: the {which} fit did not converge; there is nothing to calibrate")
    if alt_fit.n_params <= null_fit.n_params:
        raise ValueError(
            f"simulate_lrt: the alternative has {alt_fit.n_params} parameters and the null "
            f"{null_fit.n_params}; the alternative must be the larger model"
        )
    null_re = list(null_fit.G.columns)
    alt_re = list(alt_fit.G.columns)
    missing = [c for c in null_re if c not in alt_re]
    if missing:
        raise ValueError(
            f"simulate_lrt: the null model's random effects {missing} are not in the "
            f"alternative's {alt_re}: the models are not nested"
        )
    idx = [alt_re.index(c) for c in null_re]
    for c in null_re:
        zn = pn.Z[:, null_re.index(c)]
        za = pa.Z[:, alt_re.index(c)]
        if not np.allclose(zn, za):
            raise ValueError(f"simulate_lrt: the random effect {c!r} has different values in the two fits")
    if null_fit.method == "ML":
        # nested fixed effects: every null column must be in the alternative's span
        if not in_span(pn.X, pa.X):
            raise ValueError(
                "simulate_lrt: the null model's fixed effects are not nested in the alternative's"
            )
    return idx


def _embedded_start(null_fit: LmeResult, alt_fit: LmeResult, idx: list[int], new_sd: float) -> np.ndarray:
    """The alternative's (standardised) theta for the null's relative G, embedded, plus ``new_sd**2``
    on the new effects (relative to sigma, in the units of the alternative's random-effects design)."""
    pa = alt_fit.crossproducts
    q = pa.q
    lam_n = null_fit.crossproducts.lam(null_fit.theta)
    rel = np.zeros((q, q))
    rel[np.ix_(idx, idx)] = lam_n @ lam_n.T
    new = [k for k in range(q) if k not in idx]
    rel[new, new] = new_sd**2
    # a tiny ridge keeps the factorisation defined when the null's own G is singular
    rel += 1e-12 * np.eye(q)
    L = np.linalg.cholesky(rel)
    return pa.to_std(L[pa.tri])


def simulate_lrt(
    null_fit: LmeResult,
    alt_fit: LmeResult,
    nsim: int = 1000,
    seed: int | None = None,
    *,
    new_sd: float = 0.1,
    maxiter: int = 100,
) -> SimulatedLRT:
    """Calibrate the likelihood-ratio test of two nested mixed models by parametric simulation.

    Responses are simulated from the fitted null model (its fixed effects, its random-effects
    covariance ``G`` and its residual variance), both models are refitted to each, and the
    observed LR statistic is compared with the simulated ones: the Lab's "simulation to adjust
    p-values", nlme's ``simulate.lme`` with ``m2``.

    Parameters
    ----------
    null_fit, alt_fit : LmeResult
        Nested fits of the same response on the same rows and clusters, both REML (then with the
        same fixed effects, e.g. a test of random effects) or both ML. The null model's random
        effects must be among the alternative's.
    nsim : int
        Number of simulated data sets.
    seed : int, optional
        Seed of numpy's random generator: the same seed gives the same result.
    new_sd : float
        Where the alternative's refits start for the effects it adds: their standard deviation
        relative to sigma (a zero start would be a stationary point the optimiser cannot leave).
    maxiter : int
        Iteration limit of the fallback optimiser.

    Returns
    -------
    SimulatedLRT
        With ``lr_observed``, ``lr`` (the simulated statistics), ``p_nominal`` and ``p_empirical``;
        ``print`` it for a summary and call ``.plot()`` for nlme's p-value plot.

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> m0 = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    >>> m1 = m0.update(random="~ 1 + ses | school")
    >>> sim = hk.simulate_lrt(m0, m1, nsim=20, seed=1)
    >>> sim.df, len(sim.lr) + sim.n_failed
    (2, 20)
    >>> 0 <= sim.p_empirical <= 1
    True
    """
    if int(nsim) != nsim or nsim < 1:
        raise ValueError(f"simulate_lrt: nsim must be a positive integer, not {nsim!r}")
    nsim = int(nsim)
    idx = _check_pair(null_fit, alt_fit)
    t0 = time.perf_counter()
    pn, pa = null_fit.crossproducts, alt_fit.crossproducts
    dev_n, dev_a = null_fit.deviance_function, alt_fit.deviance_function
    rng = np.random.default_rng(seed)
    # the null model's generating quantities
    xb = pn.X @ null_fit.fixef.to_numpy()
    sigma = null_fit.sigma
    factor = sigma * pn.lam(null_fit.theta)  # b_j = factor @ u_j, u_j ~ N(0, I): Var(b_j) = G
    codes, Zn = pn.codes, pn.Z
    J, qn, n = pn.ngroups, pn.q, pn.n
    start_null = null_fit.theta_std.copy()
    start_alt = _embedded_start(null_fit, alt_fit, idx, new_sd)
    ll_null = np.full(nsim, np.nan)
    ll_alt = np.full(nsim, np.nan)
    fallback = 0
    with single_threaded_blas():
        qn_null = WarmRefit(dev_n, start_null)
        qn_alt = WarmRefit(dev_a, start_alt)
        for s in range(nsim):
            u = rng.standard_normal((J, qn))
            e = rng.standard_normal(n)
            b = u @ factor.T
            y = xb + np.einsum("nq,nq->n", Zn, b[codes]) + sigma * e
            dn_y = dev_n.with_crossproducts(pn.with_response(y))
            _, dn, ok_n, fb_n = qn_null.minimise(dn_y, start_null, maxiter)
            da_y = dev_a.with_crossproducts(pa.with_response(y))
            _, da, ok_a, fb_a = qn_alt.minimise(da_y, start_alt, maxiter)
            fallback += int(fb_n) + int(fb_a)
            if ok_n and ok_a:
                ll_null[s] = -0.5 * dn
                ll_alt[s] = -0.5 * da
    elapsed = time.perf_counter() - t0
    ok = np.isfinite(ll_null) & np.isfinite(ll_alt)
    lr = 2.0 * np.maximum(0.0, ll_alt[ok] - ll_null[ok])
    lr_obs = 2.0 * max(0.0, alt_fit.loglik - null_fit.loglik)
    df = int(alt_fit.n_params - null_fit.n_params)
    n_ok = int(ok.sum())
    if n_ok == 0:
        raise RuntimeError("simulate_lrt: no simulated data set had two converged refits")
    p_emp = float(np.mean(lr >= lr_obs))
    # one random effect added (with its covariances) and nothing else: the asymptotic null
    # distribution is the 50:50 mixture of chi-square(df - 1) and chi-square(df)
    same_fixed = null_fit.design_columns == alt_fit.design_columns
    mixture = None
    if same_fixed and pa.q - pn.q == 1 and df == pn.q + 1:
        mixture = float(0.5 * stats.chi2.sf(lr_obs, df - 1) + 0.5 * stats.chi2.sf(lr_obs, df))
    return SimulatedLRT(
        lr_observed=float(lr_obs),
        p_nominal=float(stats.chi2.sf(lr_obs, df)),
        p_empirical=p_emp,
        se_empirical=float(math.sqrt(p_emp * (1 - p_emp) / n_ok)),
        p_mixture=mixture,
        lr=lr,
        df=df,
        nsim=nsim,
        n_failed=nsim - n_ok,
        n_fallback=fallback,
        loglik_null=ll_null,
        loglik_alt=ll_alt,
        seed=seed,
        method=null_fit.method,
        elapsed=elapsed,
        null_label=f"{null_fit.fixed_formula}, random {null_fit.random_formula}",
        alt_label=f"{alt_fit.fixed_formula}, random {alt_fit.random_formula}",
    )
