"""Tests of hlmkit.diagnostics against values frozen from R (tests/reference/lab1_ex1.json).

The reference part is tests/reference/R/part_lab1_ex1.R: the Hausman statistic by hand
(lm with factor(id) against nlme::lme), lme4's influence(..., groups = "id") with cooks.distance
and dfbeta, and lme4's drop-one-row influence, on hs1 with id = school.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference

REF = r_reference("lab1_ex1")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def dd() -> pd.DataFrame:
    d = hk.load_hs1()
    d["id"] = d["school"]
    return d


@pytest.fixture(scope="module")
def fit_ri(dd):
    return hk.lme("mathach ~ ses * Sector + cvar(ses, id)", dd, random="~ 1 | id")


@pytest.fixture(scope="module")
def fitc(dd):
    return hk.lme("mathach ~ ses * Sector + cvar(ses, id)", dd, random="~ 1 + ses | id")


@pytest.fixture(scope="module")
def fe_int(dd):
    return hk.ols("mathach ~ ses + ses:Sector + factor(id)", dd)


# --------------------------------------------------------------------------------------------
# hausman
# --------------------------------------------------------------------------------------------


def test_hausman_one_slope_matches_r(dd):
    ref = REF["hausman"]["ses_ri"]
    h = hk.hausman(hk.ols("mathach ~ ses + factor(id)", dd), hk.lme("mathach ~ ses", dd, random="~ 1 | id"))
    assert h.df == 1 and h.positive_definite
    assert list(h.coefficients.index) == ["ses"]
    assert h.coefficients.loc["ses", "fe"] == pytest.approx(ref["fe"], rel=1e-9)
    assert h.coefficients.loc["ses", "re"] == pytest.approx(ref["re"], rel=1e-5)
    assert h.coefficients.loc["ses", "se_fe"] == pytest.approx(ref["se_fe"], rel=1e-9)
    assert h.statistic == pytest.approx(ref["statistic"], rel=1e-3)
    assert h.pvalue == pytest.approx(ref["p"], rel=5e-3)
    assert h["statistic"] == h.statistic


def test_hausman_two_slopes_matches_r(dd, fe_int):
    ref = REF["hausman"]["int_ri"]
    re_fit = hk.lme("mathach ~ ses * Sector", dd, random="~ 1 | id")
    h = hk.hausman(fe_int, re_fit)
    assert list(h.coefficients.index) == ref["terms"]
    np.testing.assert_allclose(h.coefficients["fe"], ref["fe"], rtol=1e-9)
    np.testing.assert_allclose(h.coefficients["re"], ref["re"], rtol=1e-5)
    np.testing.assert_allclose(h.coefficients["se_re"], ref["se_re"], rtol=1e-4)
    np.testing.assert_allclose(np.sort(h.eigenvalues)[::-1], ref["eigen_Vd"], rtol=1e-3)
    assert h.df == 2
    assert h.statistic == pytest.approx(ref["statistic"], rel=1e-3)
    assert h.pvalue == pytest.approx(ref["p"], rel=1e-2)
    assert "chisq = " in str(h) and "df = 2" in str(h)


def test_hausman_with_random_slopes_warns_that_the_difference_is_not_positive_definite(dd, fe_int):
    # the Lab's fit: with a random ses slope the RE fit's ses variance exceeds the FE one
    ref = REF["hausman"]["int_lab_fit"]
    fit = hk.lme("mathach ~ ses * Sector", dd, random="~ 1 + ses | id")
    with pytest.warns(hk.HausmanWarning, match="not positive definite"):
        h = hk.hausman(fe_int, fit)
    assert not h.positive_definite
    assert np.all(h.eigenvalues < 0) and np.all(np.asarray(ref["eigen_Vd"]) < 0)
    np.testing.assert_allclose(np.sort(h.eigenvalues), np.sort(ref["eigen_Vd"]), rtol=0.1)
    assert h.statistic < 0 and ref["statistic"] < 0
    assert h.pvalue == 1.0


def test_mundlak_within_coefficients_equal_the_fixed_effects_ones(dd, fe_int):
    # with a random intercept and every cluster mean in the model, GLS gives the within estimates
    ref = REF["hausman"]["mundlak_ri"]
    m = hk.lme("mathach ~ (ses + cvar(ses, id)) * Sector", dd, random="~ 1 | id")
    for name in ("ses", "ses:SectorPublic"):
        assert m.fixef[name] == pytest.approx(fe_int.params[name], rel=1e-8)
        assert m.fixef[name] == pytest.approx(ref["fixef"][name], rel=1e-8)
    w = hk.wald(m, "cvar")
    assert w.test["numDF"].iloc[0] == ref["cvar"]["numDF"]
    assert w.test["denDF"].iloc[0] == ref["cvar"]["denDF"]
    assert w.F == pytest.approx(ref["cvar"]["F"], rel=1e-4)


def test_hausman_skips_coefficients_the_fixed_effects_fit_cannot_estimate(dd):
    # SectorPublic is confounded with the school dummies: R's lm drops a dummy (NA) and reports a
    # number for SectorPublic that is a contrast of school effects; the comparison leaves it out
    fe = hk.ols("mathach ~ ses * Sector + factor(id)", dd)
    assert fe.aliased == ["factor(id)9586"]  # as R
    re_fit = hk.lme("mathach ~ ses * Sector", dd, random="~ 1 | id")
    h = hk.hausman(fe, re_fit)
    assert list(h.coefficients.index) == ["ses", "ses:SectorPublic"]
    assert h.statistic == pytest.approx(REF["hausman"]["int_ri"]["statistic"], rel=1e-3)
    with pytest.raises(ValueError, match=r"does not estimate \['SectorPublic'\]"):
        hk.hausman(fe, re_fit, terms=["ses", "SectorPublic"])


def test_hausman_bad_terms_are_named(dd, fe_int):
    re_fit = hk.lme("mathach ~ ses * Sector", dd, random="~ 1 | id")
    with pytest.raises(ValueError, match="'Minority' matches no coefficient"):
        hk.hausman(fe_int, re_fit, terms="Minority")
    with pytest.raises(KeyError, match="'cvar"):
        hk.hausman(fe_int, re_fit, terms=["cvar(ses, id)"])
    h = hk.hausman(fe_int, re_fit, terms="^ses$")
    assert h.df == 1 and list(h.coefficients.index) == ["ses"]


# --------------------------------------------------------------------------------------------
# influence
# --------------------------------------------------------------------------------------------


def _ref_frame(ref: dict) -> tuple[pd.Series, pd.DataFrame]:
    units = [int(u) for u in ref["units"]]
    cooks = pd.Series(ref["cooks"], index=units)
    dfbeta = pd.DataFrame(ref["dfbeta"]["values"], index=units, columns=ref["dfbeta"]["cols"])
    return cooks, dfbeta


def test_influence_by_school_matches_lme4_random_intercept(fit_ri):
    ref = REF["influence_ri_id"]
    infl = hk.influence(fit_ri, by="id")
    cooks, dfbeta = _ref_frame(ref)
    assert list(infl.index) == sorted(cooks.index)
    assert infl["converged"].all() and all(ref["converged"])
    np.testing.assert_allclose(infl["cooks_distance"], cooks.loc[infl.index], atol=1e-6, rtol=1e-4)
    np.testing.assert_allclose(infl[list(fit_ri.fixef.index)], dfbeta.loc[infl.index], atol=1e-6)
    assert list(infl.columns) == list(fit_ri.fixef.index) + ["cooks_distance", "converged", "boundary"]
    assert not infl["boundary"].any()


def test_influence_by_school_matches_lme4_random_slope(fitc):
    # lme4's refits stop about 1e-4 short of the optimum nlme and hlmkit reach on this model
    ref = REF["influence_rs_id"]
    infl = hk.influence(fitc, by="id")
    cooks, dfbeta = _ref_frame(ref)
    assert infl["converged"].all()
    np.testing.assert_allclose(infl["cooks_distance"], cooks.loc[infl.index], atol=1e-4)
    np.testing.assert_allclose(infl[list(fitc.fixef.index)], dfbeta.loc[infl.index], atol=5e-4)


def test_influence_by_row_matches_lme4(fit_ri):
    ref = REF["influence_ri_rows"]
    infl = hk.influence(fit_ri)
    assert infl.index.name == "row" and len(infl) == fit_ri.nobs
    assert infl["converged"].all() and ref["converged_all"]
    np.testing.assert_allclose(infl["cooks_distance"], ref["cooks"], atol=1e-6)
    top = np.asarray(ref["top"]) - 1
    np.testing.assert_allclose(infl.iloc[top, :5], ref["dfbeta_top"], atol=1e-6)


def test_influence_agrees_with_refitting_from_scratch():
    hs = hk.load_hs()
    fit = hk.lme("mathach ~ ses + cvar(ses, school)", hs, random="~ 1 + ses | school")
    infl = hk.influence(fit, by="school")
    for school in (1317, 7688):
        refit = hk.lme(
            "mathach ~ ses + cvar(ses, school)", hs[hs["school"] != school], random="~ 1 + ses | school"
        )
        np.testing.assert_allclose(
            infl.loc[school, list(fit.fixef.index)], refit.fixef - fit.fixef, atol=1e-6
        )
    d = infl.loc[1317, list(fit.fixef.index)].to_numpy(float)
    m, p = len(infl), len(fit.fixef)
    expected = (m - p) / (m * p) * d @ np.linalg.solve(fit.vcov.to_numpy(), d)
    assert infl.loc[1317, "cooks_distance"] == pytest.approx(expected, rel=1e-12)


def test_influence_by_another_column_deletes_its_groups(fit_ri):
    # "school" is not the fit's grouping column ("id") but has the same groups
    by_school = hk.influence(fit_ri, by="school")
    by_id = hk.influence(fit_ri, by="id")
    assert by_school.index.name == "school" and list(by_school.index) == list(by_id.index)
    np.testing.assert_allclose(by_school["cooks_distance"], by_id["cooks_distance"], rtol=1e-10)


def test_influence_by_a_categorical_column_keeps_its_order(hs):
    """A categorical column's units come in the order of its categories, as lme orders clusters."""
    d = hs.copy()
    d["sch2"] = pd.Categorical(d["school"], categories=sorted(d["school"].unique(), reverse=True))
    fit = hk.lme("mathach ~ ses", d, random="~ 1 | school")
    infl = hk.influence(fit, by="sch2")
    assert list(infl.index) == list(hk.lme("mathach ~ ses", d, random="~ 1 | sch2").groups)
    assert list(infl.index) == sorted(infl.index, reverse=True)
    by_school = hk.influence(fit, by="school")
    np.testing.assert_allclose(
        infl["cooks_distance"].to_numpy(), by_school["cooks_distance"].to_numpy()[::-1], rtol=1e-10
    )


def test_influence_bad_input(fit_ri):
    with pytest.raises(KeyError, match="'nope'"):
        hk.influence(fit_ri, by="nope")
    with pytest.raises(TypeError, match="LmeResult"):
        hk.influence(hk.ols("mathach ~ ses", hk.load_hs()))
    with pytest.raises(ValueError, match="4 units to delete but 5 fixed effects"):
        d = hk.load_hs1()
        d["id"] = d["school"]
        d["quarter"] = d["school"] % 4
        hk.influence(hk.lme("mathach ~ ses * Sector + cvar(ses, id)", d, random="~ 1 | id"), by="quarter")
    # one unit holds every Public school: without it SectorPublic cannot be estimated
    hs = hk.load_hs()
    hs["unit"] = np.where(hs["Sector"] == "Public", "P", hs["school"].astype(str))
    fit = hk.lme("mathach ~ ses + Sector", hs, random="~ 1 | school")
    with pytest.raises(ValueError, match="without unit 'P' the fixed effects are not all estimable"):
        hk.influence(fit, by="unit")


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def test_qq_plot_points_and_labels():
    v = np.array([0.1, -0.3, 2.5, 0.0, -0.2, 0.4, np.nan])
    ax = hk.qq_plot(v, labels=list("abcdefg"), n_label=1)
    (pts,) = ax.collections
    assert len(pts.get_offsets()) == 6
    assert [t.get_text() for t in ax.texts] == ["c"]
    with pytest.raises(ValueError, match="line must be"):
        hk.qq_plot(v, line="diagonal")


def test_xy_panels_numeric_and_categorical(fit_ri, dd):
    diag = pd.DataFrame(
        {
            "fitted": fit_ri.fitted(),
            "resid": fit_ri.resid(type="pearson"),
            "Sector": dd["Sector"],
            "Sex": dd["Sex"],
            "id": dd["id"],
        }
    )
    fig = hk.xy_panels(diag, "fitted", "resid", col="Sector", row="Sex", hline=0, labels="id", n_label=2)
    assert len(fig.axes) == 4
    assert all(len(ax.texts) == 2 for ax in fig.axes)
    fig2 = hk.xy_panels(diag, "resid", "Sex", col="Sector")
    assert [t.get_text() for t in fig2.axes[0].get_yticklabels()] == ["Female", "Male"]
    with pytest.raises(KeyError, match="'nope'"):
        hk.xy_panels(diag, "fitted", "nope")


def test_scatter_matrix_and_influence_plot(fit_ri):
    infl = hk.influence(fit_ri, by="id")
    cols = ["ses", "cvar(ses, id)", "cooks_distance"]
    fig = hk.scatter_matrix(infl, cols, labels=infl.index, n_label=2)
    assert len(fig.axes) == 9
    assert sum(len(ax.texts) for ax in fig.axes) == 2 * 6
    ax = hk.influence_plot(infl, n_label=3)
    top = infl["cooks_distance"].nlargest(3).index
    assert {t.get_text() for t in ax.texts} == {str(i) for i in top}
    with pytest.raises(KeyError, match="no column 'x'"):
        hk.influence_plot(infl, column="x")
    with pytest.raises(ValueError, match="two numeric"):
        hk.scatter_matrix(infl, ["ses"])


def test_a_fit_started_at_its_own_optimum_is_converged(fit_ri, dd):
    # L-BFGS-B reports "ABNORMAL" (no lower point on its line search) when started at the optimum;
    # that is convergence, not failure (lmm.py's optimise, fixed alongside influence's fallback)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = hk.lme("mathach ~ ses * Sector + cvar(ses, id)", dd, random="~ 1 | id", start=fit_ri.theta)
    assert again.converged
    assert again.loglik == pytest.approx(fit_ri.loglik, abs=1e-9)
