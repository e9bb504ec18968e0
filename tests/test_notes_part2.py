"""The numbers of the notes pp. 76-174 (the book's chapters 6-10), from hlmkit, against nlme.

Reference values: tests/reference/notes2.json, written by tests/reference/R/part_notes2.R
(R 4.2.2, nlme 3.1-162), and the printed output of the notes where it is the same computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import block_diag

import hlmkit as hk
from hlmkit.book import r_reference

N2 = r_reference("notes2")
LME = r_reference("lme_models")
ONEWAY = N2["oneway_sid"]


@pytest.fixture(scope="module")
def hs_sid():
    """hs with Sex.comp, Sex.cat and the informative id, as the notes (p. 31) and chapter 10 build them."""
    hs = hk.load_hs()
    hs["Sex.comp"] = hk.capply(hs["Sex"] == "Female", hs["school"], "mean")
    hs["Sex.cat"] = pd.Categorical(
        np.select([hs["Sex.comp"] == 1, hs["Sex.comp"] == 0], ["Girls", "Boys"], default="Coed")
    )
    label = hs["Sector"].astype(str).str[0] + hs["school"].astype(str) + hs["Sex.cat"].astype(str).str[0]
    hs["sid"] = hk.reorder(label, hs["ses"] + 1000 * (hs["Sector"] == "Catholic"))
    return hs


@pytest.fixture(scope="module")
def oneway(hs_sid):
    return hk.lme("mathach ~ 1", hs_sid, random="~ 1 | sid")


def test_sid_levels_are_Rs_reorder(hs_sid):
    assert list(hs_sid["sid"].cat.categories) == ONEWAY["levels"]


def test_oneway_on_sid_matches_nlme(oneway):
    assert oneway.fixef["(Intercept)"] == pytest.approx(ONEWAY["fixef"]["(Intercept)"], rel=1e-7)
    assert oneway.se["(Intercept)"] == pytest.approx(ONEWAY["se"]["(Intercept)"], rel=1e-6)
    assert int(oneway.df["(Intercept)"]) == ONEWAY["df"]["(Intercept)"]
    assert oneway.sigma == pytest.approx(ONEWAY["sigma"], rel=1e-6)
    assert oneway.G.iloc[0, 0] == pytest.approx(ONEWAY["G"]["values"][0][0], rel=1e-5)
    assert oneway.loglik == pytest.approx(ONEWAY["loglik"], abs=1e-6)
    assert oneway.aic == pytest.approx(ONEWAY["aic"], abs=1e-5)
    assert oneway.bic == pytest.approx(ONEWAY["bic"], abs=1e-5)
    assert list(oneway.ranef.index) == ONEWAY["levels"]
    np.testing.assert_allclose(
        oneway.ranef["(Intercept)"], np.asarray(ONEWAY["ranef"]["values"])[:, 0], atol=1e-6
    )
    np.testing.assert_allclose(
        oneway.coef["(Intercept)"], np.asarray(ONEWAY["coef"]["values"])[:, 0], atol=1e-6
    )


def test_oneway_printout_of_the_notes(oneway):
    # summary(fit.oneway.re), p. 149
    assert round(oneway.aic, 2) == 12985.94
    assert round(oneway.bic, 2) == 13002.71
    assert round(oneway.loglik, 3) == -6489.969
    assert round(oneway.sd_re.iloc[0], 6) == 2.836278
    assert round(oneway.sigma, 6) == 6.296759
    assert round(oneway.fixef.iloc[0], 5) == 12.60468
    assert round(oneway.se.iloc[0], 7) == 0.4711941
    # coef() for the first and last schools
    assert round(oneway.coef.loc["P5762C", "(Intercept)"], 6) == 5.298161
    assert round(oneway.coef.loc["C9586G", "(Intercept)"], 6) == 14.689530
    # coef = ranef + fixef exactly
    assert (oneway.coef["(Intercept)"] == oneway.ranef["(Intercept)"] + oneway.fixef["(Intercept)"]).all()


def test_residual_quantiles_wald_and_intervals(oneway):
    q = np.quantile(oneway.resid(1, "pearson"), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(q, list(ONEWAY["resid_quantiles"].values()), atol=1e-6)
    w = hk.wald(oneway)
    assert w.test["F"].iloc[0] == pytest.approx(ONEWAY["wald_F"], rel=1e-6)
    assert round(w.test["F"].iloc[0], 3) == 715.589
    iv = oneway.intervals()
    ref = ONEWAY["intervals"]
    np.testing.assert_allclose(iv["fixed"].to_numpy()[0], ref["fixed"]["values"][0], rtol=1e-7)
    np.testing.assert_allclose(iv["sigma"].to_numpy()[0], list(ref["sigma"].values()), rtol=1e-6)
    # the SD interval's ends rest on a numerical Hessian: agreement to about 4 digits
    np.testing.assert_allclose(iv["random"].to_numpy()[0], ref["random"]["values"][0], rtol=5e-4)


def test_school_table_of_the_notes(hs_sid, oneway):
    d = hs_sid.copy()
    d["ses.sch"] = hk.cvar(d["ses"], d["sid"])
    d["n"] = hk.capply(d["sid"], d["sid"], len)
    d["mathach.ols"] = hk.capply(d["mathach"], d["sid"], "mean")
    tab = hk.up(d, "sid")
    assert list(tab.index) == ONEWAY["levels"]
    st = N2["sid_table"]
    np.testing.assert_array_equal(tab["n"], st["n"])
    np.testing.assert_array_equal(tab["school"], st["school"])
    np.testing.assert_array_equal(tab["Size"], st["Size"])
    np.testing.assert_allclose(tab["Sex.comp"], st["Sex.comp"], rtol=1e-12)
    np.testing.assert_allclose(tab["ses.sch"], st["ses.sch"], rtol=1e-10)
    np.testing.assert_allclose(tab["mathach.ols"], st["mathach.ols"], rtol=1e-12)
    # the notes' some(hs1.sid) rows (p. 155)
    assert round(tab.loc["P8854C", "ses.sch"], 8) == -0.75675
    assert tab.loc["C7688B", "n"] == 54
    assert str(tab.loc["C4530G", "Sex.cat"]) == "Girls"


def test_ladder_of_models_matches_nlme(hs_sid):
    """The 'from the simple to the complex' table (chapter 8), fitted on hs."""
    for key in [
        "hs_oneway",
        "hs_means_outcomes",
        "hs_ancova",
        "hs_random_coef",
        "hs_slopes_outcomes",
        "hs_nonrandom_slopes",
        "hs_parallel_slopes",
        "hs_ctx_cwg",
        "hs_ctx_raw",
        "hs_ctx_sector",
    ]:
        r = LME[key]
        fit = hk.lme(r["fixed"], hs_sid, random=r["random"])
        assert fit.converged and not fit.boundary, key
        assert fit.loglik == pytest.approx(r["loglik"], abs=1e-3), key
        np.testing.assert_allclose(
            fit.fixef.to_numpy(), [r["fixef"][k] for k in fit.fixef.index], rtol=1e-4, err_msg=key
        )


def test_gls_formula_reproduces_lme(hs_sid):
    """Chapter 6: the GLS formula with V_j = Z_j G Z_j' + sigma^2 I gives lme's estimates and covariance."""
    fit = hk.lme("mathach ~ ses * Sector", hs_sid, random="~ 1 + ses | school")
    X, Z, y = fit.X.to_numpy(), fit.Z.to_numpy(), fit.y.to_numpy()
    school = fit.group_values.to_numpy()
    G, s2 = fit.G.to_numpy(), fit.sigma**2
    Vinv = block_diag(
        *[
            np.linalg.inv(Z[school == j] @ G @ Z[school == j].T + s2 * np.eye((school == j).sum()))
            for j in fit.groups
        ]
    )
    XtVX = X.T @ Vinv @ X
    np.testing.assert_allclose(np.linalg.solve(XtVX, X.T @ Vinv @ y), fit.fixef, rtol=1e-8)
    np.testing.assert_allclose(np.linalg.inv(XtVX), fit.vcov, rtol=1e-7, atol=1e-12)


def test_sector_means_are_the_average_BLUPs(hs_sid):
    """Chapter 10: with fixed part ses * Sector and random 1 + ses, the GLS sector lines are the plain
    averages of the sector's BLUP lines (the BLUPs sum to zero within each sector)."""
    fit = hk.lme("mathach ~ ses * Sector", hs_sid, random="~ 1 + ses | school")
    sector = hk.up(hs_sid, "school")["Sector"]
    sums = fit.ranef.groupby(sector.to_numpy()).sum()
    np.testing.assert_allclose(sums.to_numpy(), 0.0, atol=1e-6)
    # and in the one-way model the BLUPs average to the GLS estimate
    one = hk.lme("mathach ~ 1", hs_sid, random="~ 1 | school")
    assert one.coef["(Intercept)"].mean() == pytest.approx(one.fixef["(Intercept)"], rel=1e-9)
