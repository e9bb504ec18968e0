"""The notes' Methods 1-4 and the three estimates of ses, against values frozen from R.

tests/reference/notes_ols.json is written by tests/reference/R/part_notes_ols.R (base R + nlme's
lmList; spida2's up and wald written out). Each test names the R expression it mirrors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference
from hlmkit.multivariate import MlmResult, manova_stats, mlm

REF = r_reference("notes_ols")
TESTS = ["Pillai", "Wilks", "Hotelling-Lawley", "Roy"]


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return hk.load_hs()


@pytest.fixture(scope="module")
def ddu(hs) -> pd.DataFrame:
    return hk.up(hs, "school")


@pytest.fixture(scope="module")
def lcoefs(hs) -> pd.DataFrame:
    return hk.lmlist("mathach ~ ses", hs, "school").coef


@pytest.fixture(scope="module")
def lm_mult(lcoefs, ddu) -> MlmResult:
    return mlm(lcoefs, "~ Sector", ddu)


def _mat(m: dict) -> pd.DataFrame:
    return pd.DataFrame(m["values"], index=m["rows"], columns=m["cols"])


def _check_lm(fit, r: dict) -> None:
    names = list(r["coef"])
    assert list(fit.params.index) == names
    np.testing.assert_allclose(fit.params[names], [r["coef"][k] for k in names], rtol=1e-10)
    np.testing.assert_allclose(fit.bse[names], [r["se"][k] for k in names], rtol=1e-9)
    np.testing.assert_allclose(fit.tvalues[names], [r["t"][k] for k in names], rtol=1e-9)
    np.testing.assert_allclose(fit.pvalues[names], [r["p"][k] for k in names], rtol=1e-6, atol=1e-300)
    assert np.sqrt(fit.scale) == pytest.approx(r["sigma"], rel=1e-10)
    assert fit.df_resid == r["df_resid"]
    assert fit.rsquared == pytest.approx(r["r_squared"], rel=1e-9)
    V = _mat(r["vcov"]).loc[names, names].to_numpy()  # entries that are 0 in theory differ by rounding
    np.testing.assert_allclose(fit.cov_params().loc[names, names], V, rtol=1e-9, atol=1e-12 * np.abs(V).max())


# ---------------------------------------------------------------------------------------------
# Method 1: lm(mathach ~ ses * Sector, hs)
# ---------------------------------------------------------------------------------------------


def test_pooled_ols_matches_r(hs):
    fit = hk.ols("mathach ~ ses * Sector", hs)
    r = REF["pooled"]
    _check_lm(fit, r)
    assert fit.rsquared_adj == pytest.approx(r["adj_r_squared"], rel=1e-9)
    assert fit.fvalue == pytest.approx(r["fstatistic"]["value"], rel=1e-9)
    np.testing.assert_allclose(
        np.quantile(fit.resid, [0, 0.25, 0.5, 0.75, 1]), r["resid_quantiles"], rtol=1e-9
    )


def test_pooled_summary_prints_as_r_does(hs):
    """summary(fit.pooled) as R 4.2 prints it (notes p. 46), significance stars left out."""
    text = hk.lm_summary(hk.ols("mathach ~ ses * Sector", hs))
    lines = [ln.rstrip() for ln in text.splitlines()]
    for expected in [
        "-19.1774  -4.8286   0.2949   4.9595  15.7836",
        "                 Estimate Std. Error t value Pr(>|t|)",
        "(Intercept)       13.5579     0.1881  72.067  < 2e-16",
        "ses                2.2999     0.2582   8.908  < 2e-16",
        "SectorPublic      -1.4666     0.2921  -5.021 5.60e-07",
        "ses:SectorPublic   1.6051     0.3845   4.174 3.12e-05",
        "Residual standard error: 6.344 on 1973 degrees of freedom",
    ]:
        assert any(ln.endswith(expected) for ln in lines), expected


def test_ecological_summary_prints_as_r_does(hs):
    text = hk.lm_summary(hk.ols("mathach ~ ses", hk.up(hs, "school", all=True)))
    assert "(Intercept)  12.7926     0.2898  44.150  < 2e-16" in text
    assert "ses           5.7734     0.6984   8.267  5.1e-10" in text


# ---------------------------------------------------------------------------------------------
# Method 2a: lm(mathach ~ factor(school)/ses - 1) and wald(lm1, L), wald(lm1, diffmat %*% L)
# ---------------------------------------------------------------------------------------------


def _sector_L(lm1, ddu) -> pd.DataFrame:
    ind = (ddu["Sector"] == "Catholic").to_numpy(dtype=float)
    avg = np.vstack([ind, 1 - ind])
    avg = avg / avg.sum(axis=1, keepdims=True)
    zero = np.zeros_like(avg)
    return pd.DataFrame(
        np.block([[avg, zero], [zero, avg]]),
        columns=lm1.params.index,
        index=["Cath Int", "Pub Int", "Cath Slope", "Pub Slope"],
    )


def test_fixed_effects_lines_and_sector_averages_match_r(hs, ddu):
    lm1 = hk.ols("mathach ~ factor(school)/ses - 1", hs)
    r = REF["fixed_effects"]
    assert list(lm1.params.index) == r["coef_names"]
    np.testing.assert_allclose(lm1.params, r["coef"], rtol=1e-9)
    assert lm1.df_resid == r["df_resid"]
    L = _sector_L(lm1, ddu)
    for key, Lh in [
        ("sector_means", L),
        (
            "sector_difference",
            pd.DataFrame([[-1, 1, 0, 0], [0, 0, -1, 1]], index=["Int", "Slope"], columns=L.index) @ L,
        ),
    ]:
        w = hk.wald(lm1, Lh)
        rr = r[key]
        np.testing.assert_allclose(w.estimates["estimate"], rr["estimate"], rtol=1e-9)
        np.testing.assert_allclose(w.estimates["se"], rr["se"], rtol=1e-9)
        np.testing.assert_allclose(w.estimates["t"], rr["t"], rtol=1e-9)
        np.testing.assert_allclose(w.estimates["p"], rr["p"], rtol=1e-6)
        assert int(w.test["numDF"].iloc[0]) == rr["numDF"]
        assert w.test["denDF"].iloc[0] == rr["denDF"]
        assert w.F == pytest.approx(rr["F"], rel=1e-9)
        assert w.pvalue == pytest.approx(rr["p_F"], rel=1e-6)
        VL = np.array(rr["vcov"]["values"])
        np.testing.assert_allclose(w.vcov[next(iter(w.vcov))], VL, rtol=1e-9, atol=1e-12 * np.abs(VL).max())


def test_lmlist_gives_the_same_lines_as_r(lcoefs):
    np.testing.assert_allclose(lcoefs, _mat(REF["two_stage"]["lmlist"]), rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Method 2b: lm(mathach ~ ses + factor(school) + ses:Sector); wald(fit2, "ses:Sector")
# ---------------------------------------------------------------------------------------------


def test_common_slopes_match_r(hs):
    fit2 = hk.ols("mathach ~ ses + factor(school) + ses:Sector", hs)
    r = REF["common_slopes"]
    names = ["ses", r["name"]]
    np.testing.assert_allclose(fit2.params[names], r["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit2.bse[names], r["se"], rtol=1e-9)
    np.testing.assert_allclose(fit2.pvalues[names], r["p"], rtol=1e-6)
    assert fit2.df_resid == r["df_resid"]
    w = hk.wald(fit2, "ses:Sector").estimates.iloc[0]
    assert w["estimate"] == pytest.approx(r["coef"][1], rel=1e-9)
    assert w["t"] == pytest.approx(r["t"][1], rel=1e-9)


def test_common_slope_is_the_ss_weighted_average_of_school_slopes(hs, lcoefs, ddu):
    fit2 = hk.ols("mathach ~ ses + factor(school) + ses:Sector", hs)
    ssw = (hk.dvar(hs["ses"], hs["school"]) ** 2).groupby(hs["school"]).sum()
    avg = (lcoefs["ses"] * ssw).groupby(ddu["Sector"]).sum() / ssw.groupby(ddu["Sector"]).sum()
    assert avg["Catholic"] == pytest.approx(fit2.params["ses"], rel=1e-10)
    assert avg["Public"] - avg["Catholic"] == pytest.approx(fit2.params["ses:SectorPublic"], rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Method 3: lm(as.matrix(lcoefs) ~ Sector, up(hs, ~ factor(school))): summary, vcov, anova
# ---------------------------------------------------------------------------------------------


def test_mlm_coefficients_and_standard_errors_match_r(lm_mult):
    r = REF["two_stage"]
    for key in ["coef", "se", "t", "p"]:
        expected = _mat(r[key])
        got = getattr(lm_mult, key)
        assert list(got.index) == list(expected.index)
        assert list(got.columns) == list(expected.columns)
        np.testing.assert_allclose(got, expected, rtol=1e-9 if key != "p" else 1e-6)
    np.testing.assert_allclose(lm_mult.sigma, _mat(r["sigma"]), rtol=1e-9)
    assert lm_mult.df_resid == r["df_resid"]


def test_mlm_vcov_has_rs_names_and_values(lm_mult):
    V = _mat(REF["two_stage"]["vcov"])
    got = lm_mult.cov_params()
    assert list(got.index) == list(V.index)  # "(Intercept):SectorPublic", "ses:(Intercept)", ...
    np.testing.assert_allclose(got, V, rtol=1e-9)


def test_mlm_equations_are_the_separate_regressions(lcoefs, ddu, lm_mult):
    d = ddu.assign(slope=lcoefs["ses"])
    one = hk.ols("slope ~ Sector", d)
    np.testing.assert_allclose(lm_mult.coef["ses"], one.params, rtol=1e-12)
    np.testing.assert_allclose(lm_mult.se["ses"], one.bse, rtol=1e-12)


@pytest.mark.parametrize("test", TESTS)
def test_manova_matches_r(lm_mult, test):
    r = next(t for t in REF["two_stage"]["manova"] if t["test"] == test)
    row = lm_mult.manova(test).loc["Sector"]
    assert row[test] == pytest.approx(r["stat"], rel=1e-9)
    assert row["approx F"] == pytest.approx(r["approx_F"], rel=1e-9)
    assert (row["num Df"], row["den Df"]) == (r["num_df"], r["den_df"])
    assert row["Pr(>F)"] == pytest.approx(r["p"], rel=1e-6)


@pytest.mark.parametrize("test", TESTS)
def test_manova_with_two_terms_and_a_three_level_factor_matches_r(lcoefs, ddu, test):
    r = REF["two_stage_sexcat"]
    d = ddu.assign(SexCat=pd.Categorical(r["sexcat"], categories=["Boys", "Coed", "Girls"]))
    fit = mlm(lcoefs, "~ Sector + SexCat", d)
    np.testing.assert_allclose(fit.coef, _mat(r["coef"]), rtol=1e-9)
    table = fit.manova(test)
    assert list(table.index) == ["(Intercept)", "Sector", "SexCat"]
    for t in (t for t in r["manova"] if t["test"] == test):
        row = table.loc[t["term"]]
        assert row[test] == pytest.approx(t["stat"], rel=1e-9)
        assert row["approx F"] == pytest.approx(t["approx_F"], rel=1e-9)
        assert (row["num Df"], row["den Df"]) == pytest.approx((t["num_df"], t["den_df"]))
        assert row["Pr(>F)"] == pytest.approx(t["p"], rel=1e-6)


def test_manova_of_two_groups_is_hotellings_t2(lm_mult):
    """With two groups the Wald F of the two differences is T^2 / 2; the exact F rescales it."""
    w = hk.wald(lm_mult, lm_mult.coef_L("SectorPublic"))
    assert w.test["denDF"].iloc[0] == lm_mult.df_resid
    t2 = 2 * w.F
    nu = lm_mult.df_resid
    assert t2 * (nu - 1) / (2 * nu) == pytest.approx(lm_mult.manova().loc["Sector", "approx F"], rel=1e-10)


def test_coef_L_picks_a_coefficient_in_every_equation(lm_mult):
    L = lm_mult.coef_L("SectorPublic")
    assert list(L.index) == ["(Intercept)", "ses"]
    np.testing.assert_allclose(L.to_numpy() @ lm_mult.params.to_numpy(), lm_mult.coef.loc["SectorPublic"])
    with pytest.raises(KeyError, match="not a coefficient"):
        lm_mult.coef_L("Sector")


def test_mlm_summary_prints_each_response(lm_mult):
    text = lm_mult.summary()
    assert "Response (Intercept) :" in text and "Response ses :" in text
    # R 4.2's summary(lm.mult), notes p. 43 (stars left out)
    assert "(Intercept)    1.6672     0.3506   4.756 2.84e-05" in text
    assert "SectorPublic   1.1100     0.5086   2.182   0.0353" in text
    assert "SectorPublic  -2.0273     0.8488  -2.389    0.022" in text
    assert text.count("on 38 degrees of freedom") == 2


def test_mlm_drops_rows_with_missing_responses(lcoefs, ddu):
    y = lcoefs.copy()
    y.iloc[0, 1] = np.nan
    fit = mlm(y, "~ Sector", ddu)
    assert fit.n_dropped == 1 and fit.nobs == len(y) - 1 and fit.df_resid == len(y) - 3
    ref = mlm(lcoefs.iloc[1:], "~ Sector", ddu)
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-12)


def test_mlm_bad_input(lcoefs, ddu):
    with pytest.raises(TypeError, match="one column per response"):
        mlm(lcoefs["ses"], "~ Sector", ddu)
    with pytest.raises(TypeError, match="not numeric"):
        mlm(lcoefs.assign(g="a"), "~ Sector", ddu)
    with pytest.raises(KeyError, match="not in data"):
        mlm(lcoefs, "~ Sector", ddu.iloc[:10])
    with pytest.raises(ValueError, match="only the right-hand side"):
        mlm(lcoefs, "y ~ Sector", ddu)
    with pytest.raises(ValueError, match="rank deficient"):
        mlm(lcoefs, "~ Sector + sector", ddu)
    with pytest.raises(ValueError, match="no residual degrees of freedom"):
        mlm(lcoefs.iloc[[0, 4]], "~ Sector", ddu)
    with pytest.raises(ValueError, match="test must be one of"):
        mlm(lcoefs, "~ Sector", ddu).manova("Bartlett")


def test_manova_stats_known_values():
    # one hypothesis df: all four statistics give the exact F = (1 - L) / L * (nu - p + 1) / p
    H, E = np.diag([1.0, 0.0]), np.eye(2)
    for test in TESTS:
        _, F, df1, df2 = manova_stats(H, E, 1, 20, test)
        assert (F, df1, df2) == pytest.approx((1.0 * 19 / 2, 2, 19))
    with pytest.raises(ValueError):
        manova_stats(H, E, 1, 20, "Bartlett")


# ---------------------------------------------------------------------------------------------
# Method 4: lm(mathach ~ ses, up(hs, ~ factor(school), all = T)), and by sector
# ---------------------------------------------------------------------------------------------


def test_ecological_regressions_match_r(hs):
    sch = hk.up(hs, "school", all=True)
    _check_lm(hk.ols("mathach ~ ses", sch), REF["ecological"])
    _check_lm(hk.ols("mathach ~ ses * Sector", sch), REF["ecological_sector"])


# ---------------------------------------------------------------------------------------------
# the three estimates: within, between, pooled
# ---------------------------------------------------------------------------------------------


def test_contextual_model_holds_within_and_between_slopes(hs):
    d = hs.assign(ses_m=hk.cvar(hs["ses"], hs["school"]))
    ctx = hk.ols("mathach ~ ses + ses_m", d)
    _check_lm(ctx, REF["contextual"])
    _check_lm(hk.ols("mathach ~ (ses + ses_m) * Sector", d), REF["contextual_sector"])
    within = hk.ols("mathach ~ ses + factor(school)", hs)
    between = hk.ols("mathach ~ ses_m", d)
    assert within.params["ses"] == pytest.approx(REF["within_fe"]["coef"]["ses"], rel=1e-10)
    _check_lm(between, REF["between_weighted"])
    assert ctx.params["ses"] == pytest.approx(within.params["ses"], rel=1e-10)
    assert ctx.params["ses"] + ctx.params["ses_m"] == pytest.approx(between.params["ses_m"], rel=1e-10)


def test_pooled_slope_is_the_ss_weighted_average(hs):
    ssw = float((hk.dvar(hs["ses"], hs["school"]) ** 2).sum())
    ssb = float(((hk.cvar(hs["ses"], hs["school"]) - hs["ses"].mean()) ** 2).sum())
    assert (ssw, ssb) == pytest.approx((REF["ss"]["within"], REF["ss"]["between"]), rel=1e-10)
    bw = REF["within_fe"]["coef"]["ses"]
    bb = REF["between_weighted"]["coef"]["ses_m"]
    assert (ssw * bw + ssb * bb) / (ssw + ssb) == pytest.approx(REF["pooled_ses"]["coef"]["ses"], rel=1e-10)
