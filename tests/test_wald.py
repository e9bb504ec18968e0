"""wald: the forms of L, rank reduction, df rule, estimates; against spida2's computation in R."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference

REF = r_reference("wald")
MODELS = r_reference("lme_models")


@pytest.fixture(scope="module")
def fitted(hs, hs1):
    out = {}
    for name in {r["model"] for r in REF.values()}:
        rec = MODELS[name]
        data = hs if rec["data"] == "hs" else hs1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hk.BoundaryFitWarning)
            out[name] = hk.lme(rec["fixed"], data, random=rec["random"], method=rec["method"])
    return out


def _L(key, fit):
    L = REF[key]["L"]
    names = list(fit.fixef.index)
    if key == "fitc_L3":
        return {"Within": [0, 1, 0, 0, 0], "Contextual": [0, 0, 0, 1, 0], "Compositional": [0, 1, 0, 1, 0]}
    if key == "fitn_within":
        return {"Catholic": [0, 1, 0, 0, 0], "Public": [0, 1, 0, 0, 1], "Pub - Cath": [0, 0, 0, 0, 1]}
    if key == "fitn_gap":
        grid = pd.DataFrame({"ses": np.round(np.arange(-2, 2.0001, 0.05), 10)})
        return hk.lform(fit, [0, 0, 1, 0, "ses"], grid)
    if key == "ff_gap":
        grid = pd.DataFrame({"ses": np.round(np.arange(-2, 2.0001, 0.1), 10)})
        return hk.lform(fit, [0, 0, 1, 0, "ses"], grid)
    assert all(n for n in names)
    return L if L != "" else None


@pytest.mark.parametrize("key", sorted(REF))
def test_wald_matches_spida2(key, fitted):
    ref = REF[key]
    fit = fitted[ref["model"]]
    w = hk.wald(fit, _L(key, fit))
    t = w.test.iloc[0]
    assert (int(t["numDF"]), int(t["denDF"])) == (ref["numDF"], ref["denDF"])
    assert t["F"] == pytest.approx(ref["F"], rel=1e-3)
    assert t["p"] == pytest.approx(ref["p"], rel=2e-3)
    est = w.estimates
    np.testing.assert_allclose(est["estimate"], ref["estimate"], rtol=1e-4, atol=1e-4 * np.max(ref["se"]))
    np.testing.assert_allclose(est["se"], ref["se"], rtol=1e-3)
    np.testing.assert_array_equal(est["df"], ref["df"])


def test_the_labs_broken_pattern_is_a_clear_error(fitted):
    fit = fitted["lab2_fit_sm_ac3"]
    with pytest.raises(ValueError, match="not a valid regular expression"):
        hk.wald(fit, ":car(ses|cvar(ses.*:")


def test_rank_reduction_gives_numdf_2(fitted):
    w = hk.wald(fitted["lab_fitc"], {"W": [0, 1, 0, 0, 0], "C": [0, 0, 0, 1, 0], "B": [0, 1, 0, 1, 0]})
    assert w.test["numDF"].iloc[0] == 2 and len(w.estimates) == 3


def test_forms_of_L_agree(fitted):
    fit = fitted["lab_fitc"]
    by_regex = hk.wald(fit, "Sector")
    by_names = hk.wald(fit, ["SectorPublic", "ses:SectorPublic"])
    by_index = hk.wald(fit, [2, 4])
    L = np.zeros((2, 5))
    L[0, 2] = L[1, 4] = 1
    by_matrix = hk.wald(fit, L)
    by_dicts = hk.wald(fit, {"a": {"SectorPublic": 1}, "b": {"ses:SectorPublic": 1}})
    for w in (by_names, by_index, by_matrix, by_dicts):
        assert w.F == pytest.approx(by_regex.F)
    all_but_intercept = hk.wald(fit, [-1])
    assert all_but_intercept.test["numDF"].iloc[0] == 4


def test_several_hypotheses_in_one_call(fitted):
    w = hk.wald(fitted["lab_fitc"], {"ses": "ses", "Sector": "Sector"})
    assert list(w.test.index) == ["ses", "Sector"]
    assert w.test.loc["ses", "F"] == pytest.approx(REF["fitc_ses"]["F"], rel=1e-3)
    assert w.estimates.index.nlevels == 2


def test_wald_on_ols_uses_residual_df(hs):
    fit = hk.ols("mathach ~ ses + factor(school) + ses:Sector", hs)
    w = hk.wald(fit, "ses:Sector")
    row = w.estimates.iloc[0]
    assert (row["estimate"], row["se"], row["t"]) == (
        pytest.approx(1.204719, abs=5e-7),
        pytest.approx(0.436134, abs=5e-7),
        pytest.approx(2.762267, abs=5e-7),
    )
    assert int(w.test["denDF"].iloc[0]) == 1935


def test_to_frame_bands_and_grid(fitted):
    fit = fitted["lab_fitn"]
    grid = pd.DataFrame({"ses": [-2.0, 0.0, 2.0]})
    w = hk.wald(fit, hk.lform(fit, [0, 0, 1, 0, "ses"], grid))
    fr = w.to_frame(se=2)
    np.testing.assert_allclose(fr["U2"] - fr["coef"], 2 * fr["se"])
    assert "ses" in fr.columns
    np.testing.assert_allclose(fr["coef"], [-4.51, -1.78, 0.95], atol=6e-3)  # the Lab's gap at -2, 0, 2


def test_pred_grid_order_and_wald_pred(hs):
    g = hk.pred_grid(ses=[-1, 1], Sector=hs["Sector"])
    assert g["ses"].tolist() == [-1, 1, -1, 1]
    assert g["Sector"].tolist() == ["Catholic", "Catholic", "Public", "Public"]
    fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 | school")
    w = hk.wald(fit, pred=g)
    np.testing.assert_allclose(w.estimates["estimate"], fit.predict(g, level=0))
    assert list(w.to_frame().columns[-2:]) == ["ses", "Sector"]


@pytest.mark.parametrize(
    "L, error, message",
    [
        ("nomatch", ValueError, "matches no coefficient"),
        ([[1, 0]], ValueError, "has 2 columns but the fit has 5"),
        (["ses", "bogus"], KeyError, "not coefficients"),
        ({"a": {"bogus": 1}}, KeyError, "'bogus' is not a coefficient"),
        (np.zeros((1, 5)), ValueError, "L is zero"),
        ([7], IndexError, "out of range"),
    ],
)
def test_bad_L(fitted, L, error, message):
    with pytest.raises(error, match=message):
        hk.wald(fitted["lab_fitc"], L)


def test_lform_errors(fitted):
    fit = fitted["lab_fitc"]
    with pytest.raises(ValueError, match="3 entries for 5 coefficients"):
        hk.lform(fit, [0, 1, 2], pd.DataFrame({"ses": [1.0]}))
    with pytest.raises(KeyError, match="not coefficients"):
        hk.lform(fit, {"bogus": 1}, pd.DataFrame({"ses": [1.0]}))


def test_printout_looks_like_spida2(hs):
    fit = hk.lme("mathach ~ 1", hs, random="~ 1 | school")
    text = str(hk.wald(fit))
    assert "715.589" in text and "1937" in text and "<.00001" in text
