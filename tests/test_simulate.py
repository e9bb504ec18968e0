"""hlmkit.simulate_lrt: the parametric simulation of a likelihood-ratio test (nlme's simulate.lme).

Reference values: tests/reference/lab1_ex2.json, written by tests/reference/R/part_lab1_ex2.R:

* ``simulate``: nlme's ``simulate(fit.m, m2 = fit.sm, nsim = 1000, seed = 1234, method = "REML")``
  on hs1: the 1000 simulated LR statistics and the empirical p-value (0.067);
* ``simulate_check``: the first 200 of those responses regenerated in R and refitted with lme4,
  which shows that nlme's refits sometimes stop short of the optimum (LR* = 0 in 9 % of its
  draws where lme4 finds LR > 0).

Simulated draws differ between R and numpy, so the comparison is of distributions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hlmkit as hk
from hlmkit.book import r_reference
from hlmkit.refit import WarmRefit
from hlmkit.simulate import _embedded_start

REF = r_reference("lab1_ex2")
SIM = REF["simulate"]
CHECK = REF["simulate_check"]


@pytest.fixture(scope="module")
def pair(hs1):
    fit_m = hk.lme("mathach ~ ses * Minority", hs1, random="~ 1 + dvar(Minority, id) | id")
    fit_sm = fit_m.update(random="~ 1 + dvar(Minority, id) + dvar(ses, id) | id")
    return fit_m, fit_sm


@pytest.fixture(scope="module")
def sim1000(pair):
    return hk.simulate_lrt(*pair, nsim=1000, seed=1234)


def test_observed_test_is_anovas(pair, sim1000):
    assert sim1000.lr_observed == pytest.approx(SIM["lr_observed"], abs=1e-3)
    assert sim1000.p_nominal == pytest.approx(SIM["p_nominal"], abs=1e-4)
    assert sim1000.df == SIM["df"] == 3
    assert sim1000.p_nominal == pytest.approx(hk.anova(*pair)["p-value"].iloc[1])


def test_empirical_p_agrees_with_nlme(sim1000):
    """1000 draws: within Monte-Carlo error of R's (0.067 here, 0.078 in lab1.md's run)."""
    p = sim1000.p_empirical
    assert sim1000.nsim == 1000 and sim1000.n_failed == 0
    assert 0.06 <= p <= 0.10
    se = np.sqrt(p * (1 - p) / 1000 + SIM["p_empirical"] * (1 - SIM["p_empirical"]) / SIM["n_ok"])
    assert abs(p - SIM["p_empirical"]) < 3 * se
    assert sim1000.se_empirical == pytest.approx(np.sqrt(p * (1 - p) / 1000))
    # the calibrated test is less conservative than the nominal one, as the Lab says
    assert p < sim1000.p_nominal


def test_lr_distribution_agrees_with_r(sim1000):
    lr = sim1000.lr
    # with lme4's optima on R's own draws (200 of them): the same distribution
    assert stats.ks_2samp(lr, CHECK["lr_lme4"]).pvalue > 0.01
    # with nlme's simulate: the same distribution once nlme's spurious zeros are set aside
    nlme = np.array(SIM["lr_sorted"])
    assert stats.ks_2samp(lr, nlme[nlme > 1e-6]).pvalue > 0.01
    assert abs(np.median(lr) - np.quantile(CHECK["lr_lme4"], 0.5)) < 0.4


def test_few_zero_statistics(sim1000):
    """Adding a random effect with its covariances: the LR is 0 only if the optimum is the null's.
    Our share of zero statistics is near lme4's on R's own draws (0 of 200), far below nlme's (its
    refits stop short: lme4 finds LR > 0 on the same responses, tests/reference/R/part_lab1_ex2.R)."""
    zero = np.mean(sim1000.lr < 1e-6)
    assert zero < 0.01 < SIM["share_zero"]
    assert zero <= CHECK["share_zero_lme4"] + 0.01


def test_refits_reach_the_optimum(pair):
    """The fast refits agree with a full lme fit of the same simulated response."""
    fit_m, fit_sm = pair
    pn, pa = fit_m.crossproducts, fit_sm.crossproducts
    dn_, da_ = fit_m.deviance_function, fit_sm.deviance_function
    start_alt = _embedded_start(fit_m, fit_sm, [0, 1], 0.1)
    qn_null, qn_alt = WarmRefit(dn_, fit_m.theta_std), WarmRefit(da_, start_alt)
    rng = np.random.default_rng(7)
    factor = fit_m.sigma * pn.lam(fit_m.theta)
    data = fit_m.data.copy()
    for _ in range(3):
        b = rng.standard_normal((pn.ngroups, 2)) @ factor.T
        y = (
            pn.X @ fit_m.fixef.to_numpy()
            + np.einsum("nq,nq->n", pn.Z, b[pn.codes])
            + fit_m.sigma * rng.standard_normal(pn.n)
        )
        _, dn, okn, _ = qn_null.minimise(dn_.with_crossproducts(pn.with_response(y)), fit_m.theta_std)
        _, da, oka, _ = qn_alt.minimise(da_.with_crossproducts(pa.with_response(y)), start_alt)
        assert okn and oka
        data["ysim"] = y
        with warnings.catch_warnings():
            # boundary fits of simulated data are expected; only the optimum matters here
            warnings.simplefilter("ignore", hk.BoundaryFitWarning)
            n_full = hk.lme("ysim ~ ses * Minority", data, random="~ 1 + dvar(Minority, id) | id")
            a_full = hk.lme(
                "ysim ~ ses * Minority", data, random="~ 1 + dvar(Minority, id) + dvar(ses, id) | id"
            )
        assert -0.5 * dn == pytest.approx(n_full.loglik, abs=1e-6)
        assert -0.5 * da == pytest.approx(a_full.loglik, abs=1e-6)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_batched_deviance_is_the_deviance(pair, hs1, method):
    """The deviance at a batch of thetas is the deviance of each, and at the optimum -2 logLik."""
    fit = pair[1] if method == "REML" else pair[1].update(method="ML")
    dev = fit.deviance_function
    rng = np.random.default_rng(3)
    thetas = fit.theta_std[None, :] + 0.1 * rng.standard_normal((9, len(fit.theta)))
    expected = np.array([dev(t) for t in thetas])
    np.testing.assert_allclose(dev.batch(thetas), expected, rtol=1e-12, atol=1e-8)
    assert dev.deviance(fit.theta_std) == pytest.approx(-2 * fit.loglik, abs=1e-9)
    one = hk.lme("mathach ~ ses", hs1, random="~ 1 | id", method=method)
    t1 = one.theta_std[None, :] * np.array([[0.5], [1.0], [2.0]])
    d1 = one.deviance_function
    np.testing.assert_allclose(d1.batch(t1), [d1(t) for t in t1], rtol=1e-12)
    assert np.argmin(d1.batch(t1)) == 1


def test_seeded_and_reproducible(pair):
    a = hk.simulate_lrt(*pair, nsim=25, seed=11)
    b = hk.simulate_lrt(*pair, nsim=25, seed=11)
    c = hk.simulate_lrt(*pair, nsim=25, seed=12)
    np.testing.assert_array_equal(a.lr, b.lr)
    np.testing.assert_array_equal(a.loglik_alt, b.loglik_alt)
    assert not np.array_equal(a.lr, c.lr)
    assert a.seed == 11 and a["p_empirical"] == a.p_empirical


def test_ml_comparison_of_fixed_effects_is_chi_square(hs):
    """No boundary for a fixed effect: the simulated LR of an ML test is close to chi-square(1)."""
    m0 = hk.lme("mathach ~ ses", hs, random="~ 1 | school", method="ML")
    m1 = hk.lme("mathach ~ ses + Size", hs, random="~ 1 | school", method="ML")
    res = hk.simulate_lrt(m0, m1, nsim=300, seed=5)
    assert res.df == 1 and res.p_mixture is None and res.n_failed == 0
    assert res.lr.mean() == pytest.approx(1.0, abs=0.25)
    assert stats.kstest(res.lr, stats.chi2(1).cdf).pvalue > 0.001


def test_mixture_p_value(sim1000):
    lr, df = sim1000.lr_observed, sim1000.df
    assert sim1000.p_mixture == pytest.approx(0.5 * stats.chi2.sf(lr, df - 1) + 0.5 * stats.chi2.sf(lr, df))
    q = sim1000.quantiles([0.5, 0.95])
    assert list(q.columns) == ["simulated", "chisq(3)", "mixture"]
    assert q.loc[0.95, "chisq(3)"] == pytest.approx(stats.chi2.ppf(0.95, 3))
    # the mixture quantile: P(mixture <= q) = 0.95
    qm = q.loc[0.95, "mixture"]
    assert 0.5 * stats.chi2.cdf(qm, 2) + 0.5 * stats.chi2.cdf(qm, 3) == pytest.approx(0.95, abs=1e-8)


def test_prints_and_plots(sim1000):
    text = str(sim1000)
    assert "empirical p = " in text and "nominal p = 0.1527" in text and "all refits converged" in text
    ax = sim1000.plot()
    assert ax.get_xlabel() == "Empirical p-value" and ax.get_ylabel() == "Nominal p-value"
    line = ax.get_lines()[0]
    assert len(line.get_xdata()) == len(sim1000.lr)


def test_bad_input(pair, hs1):
    fit_m, fit_sm = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hk.BoundaryFitWarning)
        not_nested = fit_m.update(random="~ 1 + dvar(ses, id) + ses | id")
        other_rows = hk.lme(
            "mathach ~ ses * Minority",
            hs1[hs1["X"] % 7 != 0],
            random="~ 1 + dvar(Minority, id) + dvar(ses, id) | id",
        )
    with pytest.raises(TypeError, match="LmeResult"):
        hk.simulate_lrt(fit_m, "fit_sm", nsim=5)
    with pytest.raises(ValueError, match="larger model"):
        hk.simulate_lrt(fit_sm, fit_m, nsim=5)
    with pytest.raises(ValueError, match="different fixed effects"):
        hk.simulate_lrt(fit_m, fit_sm.update(". ~ . + cvar(ses, id)"), nsim=5)
    with pytest.raises(ValueError, match="not nested"):
        hk.simulate_lrt(fit_m, not_nested, nsim=5)
    with pytest.raises(ValueError, match="REML and the alternative by ML"):
        hk.simulate_lrt(fit_m, fit_sm.update(method="ML"), nsim=5)
    with pytest.raises(ValueError, match="same response and rows"):
        hk.simulate_lrt(fit_m, other_rows, nsim=5)
    with pytest.raises(ValueError, match="nsim must be a positive integer"):
        hk.simulate_lrt(fit_m, fit_sm, nsim=0)


def test_result_fields(sim1000):
    res = sim1000
    ok = np.isfinite(res.loglik_null) & np.isfinite(res.loglik_alt)
    np.testing.assert_allclose(res.lr, 2 * np.maximum(0, res.loglik_alt[ok] - res.loglik_null[ok]))
    assert res.p_empirical == pytest.approx(np.mean(res.lr >= res.lr_observed))
    assert isinstance(res.quantiles(), pd.DataFrame)
    assert res.elapsed > 0 and res.method == "REML"
