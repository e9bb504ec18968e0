"""hlmkit.rsquared: r2, r2_snijders_bosker and r2_nakagawa against R.

Reference values: tests/reference/lab1_ex2.json (section ``r2``), written by
tests/reference/R/part_lab1_ex2.R: the Lab's ``amr2`` (from nlme's VarCorr), Snijders-Bosker by
hand from nlme's estimates, and ``performance::r2_nakagawa`` (performance 0.10.2).
"""

from __future__ import annotations

import numpy as np
import pytest

import hlmkit as hk
from hlmkit.book import r_reference

REF = r_reference("lab1_ex2")["r2"]

FF3 = "mathach ~ ses + Minority + ses * cvar(Minority, id) + cvar(ses, id)"


@pytest.fixture(scope="module")
def models(hs1):
    null = hk.lme("mathach ~ 1", hs1, random="~ 1 | id")
    return {
        "null": null,
        "ff3": hk.lme(FF3, hs1, random="~ 1 | id"),
        "fit": hk.lme("mathach ~ ses * Minority", hs1, random="~ 1 | id"),
        "fitc": hk.lme("mathach ~ ses * Sector + cvar(ses, id)", hs1, random="~ 1 + ses | id"),
        "ff3c": hk.lme(FF3, hs1, random="~ 1 + dvar(Minority, id) | id"),
    }


def test_r2_is_the_labs_amr2(models):
    res = hk.r2(models["ff3"], models["null"])
    # R's amr2 works on VarCorr's printed (7-digit) variances
    assert res.level2 == pytest.approx(REF["amr2_ff3"][0], rel=1e-5)
    assert res.level1 == pytest.approx(REF["amr2_ff3"][1], rel=1e-5)
    assert round(res.level2, 3) == 0.624 and round(res.level1, 4) == 0.0862  # the Lab's numbers (lab1.md)
    np.testing.assert_allclose(res.table["full"], REF["vc_ff3"], rtol=1e-6)
    np.testing.assert_allclose(res.table["null"], REF["vc_null"], rtol=1e-6)
    assert res["level1"] == res.level1
    fit = hk.r2(models["fit"], models["null"])
    np.testing.assert_allclose([fit.level2, fit.level1], REF["amr2_fit"], rtol=1e-5)


def test_r2_is_the_proportional_reduction_of_each_component(models):
    full, null = models["ff3"], models["null"]
    res = hk.r2(full, null)
    t_f, t_n = full.G.iloc[0, 0], null.G.iloc[0, 0]
    assert res.level2 == pytest.approx(1 - t_f / t_n, rel=1e-12)
    assert res.level1 == pytest.approx(1 - full.sigma**2 / null.sigma**2, rel=1e-12)


def test_r2_refuses_random_slopes_unless_asked(models):
    with pytest.raises(ValueError, match=r"random slopes \(dvar\(Minority, id\)\)"):
        hk.r2(models["ff3c"], models["null"])
    res = hk.r2(models["ff3c"], models["null"], allow_slopes=True)
    assert res.level2 == pytest.approx(1 - models["ff3c"].G.iloc[0, 0] / models["null"].G.iloc[0, 0])


def test_r2_can_be_negative(hs1):
    """Either R-squared can be negative (the Lab's caveat) and is reported as it is."""
    null = hk.lme("mathach ~ 1", hs1, random="~ 1 | id")
    # a purely within-school covariate explains level-1 variance and leaves (here: adds) intercept variance
    within = hk.r2(hk.lme("mathach ~ dvar(ses, id)", hs1, random="~ 1 | id"), null)
    assert within.level1 > 0.05 and within.level2 < 0
    # a school-level covariate explains intercept variance; sigma^2 moves by noise only, here upwards
    between = hk.r2(hk.lme("mathach ~ Sector", hs1, random="~ 1 | id"), null)
    assert between.level2 > 0.2 and -1e-3 < between.level1 < 0


def test_snijders_bosker_by_hand(models):
    res = hk.r2_snijders_bosker(models["ff3"], models["null"])
    assert res.n == pytest.approx(REF["n_harmonic"], rel=1e-12)
    assert res.level1 == pytest.approx(REF["sb_ff3"]["level1"], rel=1e-5)
    assert res.level2 == pytest.approx(REF["sb_ff3"]["level2"], rel=1e-5)
    fit = hk.r2_snijders_bosker(models["fit"], models["null"])
    assert fit.level1 == pytest.approx(REF["sb_fit"]["level1"], rel=1e-5)
    assert fit.level2 == pytest.approx(REF["sb_fit"]["level2"], rel=1e-5)


def test_snijders_bosker_cluster_size(models):
    full, null = models["ff3"], models["null"]
    a = hk.r2_snijders_bosker(full, null, n=10)
    b = hk.r2_snijders_bosker(full, null, n=100)
    assert a.level1 == pytest.approx(b.level1)  # level 1 does not depend on n
    sf, sn = full.sigma**2, null.sigma**2
    tf, tn = full.G.iloc[0, 0], null.G.iloc[0, 0]
    assert a.level2 == pytest.approx(1 - (sf / 10 + tf) / (sn / 10 + tn))
    with pytest.raises(ValueError, match="n must be a positive"):
        hk.r2_snijders_bosker(full, null, n=0)
    with pytest.raises(ValueError, match="random slopes"):
        hk.r2_snijders_bosker(models["ff3c"], null)


def test_nakagawa_matches_performance_random_intercept(models):
    ref = REF["nakagawa_ff3"]
    res = hk.r2_nakagawa(models["ff3"])
    assert res.marginal == pytest.approx(ref["marginal"], abs=1e-4)
    assert res.conditional == pytest.approx(ref["conditional"], abs=1e-4)
    assert res.var_fixed == pytest.approx(ref["var_fixed"], rel=1e-4)
    assert res.var_random == pytest.approx(ref["var_random"], rel=1e-4)
    assert res.var_residual == pytest.approx(ref["var_residual"], rel=1e-4)


def test_nakagawa_matches_performance_random_slope(models):
    ref = REF["nakagawa_fitc"]
    res = hk.r2_nakagawa(models["fitc"])
    assert res.marginal == pytest.approx(ref["marginal"], abs=1e-4)
    assert res.conditional == pytest.approx(ref["conditional"], abs=1e-4)
    assert res.var_random == pytest.approx(ref["var_random"], rel=1e-4)
    assert res.var_random > models["fitc"].G.iloc[0, 0]


def test_nakagawa_random_variance_is_the_average_of_z_g_z(models):
    fit = models["ff3c"]
    Z = fit.Z.to_numpy()
    G = fit.G.to_numpy()
    by_row = np.array([z @ G @ z for z in Z])
    res = hk.r2_nakagawa(fit)
    assert res.var_random == pytest.approx(by_row.mean(), rel=1e-12)
    # the dvar slope has mean 0 in every school, so only its variance adds to tau00
    assert res.var_random > G[0, 0]
    total = res.var_fixed + res.var_random + res.var_residual
    assert res.conditional - res.marginal == pytest.approx(res.var_random / total)


def test_bad_input(models, hs1):
    full, null = models["ff3"], models["null"]
    with pytest.raises(TypeError, match="LmeResult"):
        hk.r2(full, "null")
    with pytest.raises(TypeError, match="LmeResult"):
        hk.r2_nakagawa(hk.ols("mathach ~ ses", hs1))
    with pytest.raises(ValueError, match="random intercept only"):
        hk.r2(full, models["ff3c"])
    with pytest.raises(ValueError, match="REML and the null by ML"):
        hk.r2(full, null.update(method="ML"))
    other = hk.lme("mathach ~ 1", hs1[hs1["Sector"] == "Public"], random="~ 1 | id")
    with pytest.raises(ValueError, match="same response and rows"):
        hk.r2_snijders_bosker(full, other)


def test_results_print(models):
    res = hk.r2(models["ff3"], models["null"])
    text = str(res)
    assert "level 2: intercept variance" in text and "0.6241" in text
    nak = str(hk.r2_nakagawa(models["ff3"]))
    assert "Conditional R2: 0.264" in nak and "Marginal R2: 0.192" in nak
