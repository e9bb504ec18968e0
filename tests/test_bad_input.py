"""Bad input to the mixed-model engine gets a clear error (or warning) naming the problem (issue 12).

Each of these once gave a wrong number or a raw numpy/pandas traceback.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hlmkit as hk


@pytest.fixture(scope="module")
def hsm():
    return hk.load_hs()


@pytest.fixture(scope="module")
def fit2(hsm):
    return hk.lme("mathach ~ ses", hsm, random="~ 1 | school")


# ---- wald: integers are positions; a row of L is 2-D or a dict -------------------------------


def test_wald_reads_an_integer_list_as_positions_whatever_its_length(fit2):
    w = hk.wald(fit2, [0, 1])  # p = 2: once read as the row (0, 1)
    assert w.test["numDF"].iloc[0] == 2
    assert list(w.estimates.index) == ["(Intercept)", "ses"]
    assert w.F == pytest.approx(hk.wald(fit2).F)
    assert list(hk.wald(fit2, np.array([1])).estimates.index) == ["ses"]
    assert list(hk.wald(fit2, [-1]).estimates.index) == ["ses"]


def test_wald_refuses_a_flat_row_and_takes_2d_or_dict_rows(fit2):
    with pytest.raises(ValueError, match="flat list of numbers"):
        hk.wald(fit2, [0.0, 1.0])
    a = hk.wald(fit2, [[0, 1]])
    b = hk.wald(fit2, {"slope": {"ses": 1}})
    c = hk.wald(fit2, pd.Series({"ses": 1.0}, name="slope"))
    assert a.F == pytest.approx(b.F) == pytest.approx(c.F)
    assert a.F == pytest.approx(hk.wald(fit2, "ses").F)
    with pytest.raises(ValueError, match="positions must be all non-negative"):
        hk.wald(fit2, [0, -1])
    with pytest.raises(IndexError, match="out of range"):
        hk.wald(fit2, [2])


def test_wald_level_must_be_a_probability(fit2):
    with pytest.raises(ValueError, match="level must be strictly between 0 and 1"):
        hk.wald(fit2, "ses", level=1.5)


# ---- hausman ---------------------------------------------------------------------------------


def test_hausman_refuses_fits_of_other_rows_or_responses(hsm):
    fe = hk.ols("mathach ~ ses + factor(school)", hsm)
    re_other_rows = hk.lme("mathach ~ ses", hsm.iloc[:1500], random="~ 1 | school")
    with pytest.raises(ValueError, match="different rows"):
        hk.hausman(fe, re_other_rows)
    other = hsm.assign(y2=hsm["mathach"] + np.random.default_rng(1).normal(size=len(hsm)))
    re_other_y = hk.lme("y2 ~ ses", other, random="~ 1 | school")
    with pytest.raises(ValueError, match="different responses"):
        hk.hausman(fe, re_other_y)
    shuffled = hsm.sample(frac=1.0, random_state=3)
    with pytest.raises(ValueError, match="different rows"):
        hk.hausman(fe, hk.lme("mathach ~ ses", shuffled, random="~ 1 | school"))
    assert hk.hausman(fe, hk.lme("mathach ~ ses", hsm, random="~ 1 | school")).df == 1


# ---- lme's data -------------------------------------------------------------------------------


def test_clusters_of_one_row_warn_that_the_split_is_not_identified(hsm):
    one = hsm.groupby("school").head(1).copy()
    one["id"] = np.arange(len(one))
    with pytest.warns(hk.IdentifiabilityWarning, match="every cluster has a single row"):
        hk.lme("mathach ~ ses", one, random="~ 1 | id")


def test_duplicated_index_is_refused(hsm):
    dup = pd.concat([hsm, hsm.iloc[:10]])
    with pytest.raises(ValueError, match="duplicated labels"):
        hk.lme("mathach ~ ses", dup, random="~ 1 | school")


def test_infinite_values_are_named(hsm):
    bad = hsm.copy()
    bad.loc[bad.index[3], "ses"] = np.inf
    with pytest.raises(hk.FormulaError, match="'ses' has 1 infinite value"):
        hk.lme("mathach ~ ses", bad, random="~ 1 | school")
    bad = hsm.copy()
    bad.loc[bad.index[[3, 5]], "mathach"] = -np.inf
    with pytest.raises(hk.FormulaError, match="response 'mathach' has 2 infinite value"):
        hk.lme("mathach ~ ses", bad, random="~ 1 | school")


def test_group_of_mixed_types_is_named(hsm):
    bad = hsm.copy()
    bad["g"] = [str(s) if k % 2 else int(s) for k, s in enumerate(bad["school"])]
    bad["g"] = bad["g"].astype(object)
    with pytest.raises(hk.FormulaError, match="'g' mixes values of different types"):
        hk.lme("mathach ~ ses", bad, random="~ 1 | g")


def test_categorical_response_is_named(hsm):
    with pytest.raises(hk.FormulaError, match="response 'Sector' is not numeric"):
        hk.lme("Sector ~ ses", hsm, random="~ 1 | school")


@pytest.mark.parametrize("method", [None, "reml2", 1])
def test_method_must_be_reml_or_ml(hsm, method):
    with pytest.raises(ValueError, match="method must be 'REML' or 'ML'"):
        hk.lme("mathach ~ ses", hsm, random="~ 1 | school", method=method)


def test_intervals_level_must_be_a_probability(fit2):
    with pytest.raises(ValueError, match="level must be strictly between 0 and 1"):
        fit2.intervals(level=1.5)
    assert fit2.intervals(level=0.9)["fixed"].notna().all().all()


# ---- anova ------------------------------------------------------------------------------------


def test_anova_refuses_models_that_are_not_nested(hsm):
    a = hk.lme("mathach ~ ses", hsm, random="~ 1 | school", method="ML")
    b = hk.lme("mathach ~ Sector + Minority", hsm, random="~ 1 | school", method="ML")
    with pytest.raises(ValueError, match="not nested"):
        hk.anova(a, b)
    tab = hk.anova(a, b, test=False)
    assert tab["p-value"].isna().all() and list(tab["df"]) == [4, 5]
    c = hk.lme("mathach ~ ses + Sector", hsm, random="~ 1 | school", method="ML")
    tab = hk.anova(a, c)
    assert tab["p-value"].iloc[1] == pytest.approx(stats.chi2.sf(tab["L.Ratio"].iloc[1], 1))


def test_anova_names_must_match_the_fits(fit2):
    other = fit2.update(random="~ 1 + ses | school")
    with pytest.raises(ValueError, match="2 names for 3 fits|3 names for 2 fits"):
        hk.anova(fit2, other, names=["a", "b", "c"])
    assert list(hk.anova(fit2, other, names=["a", "b"]).index) == ["a", "b"]


# ---- cvar ---------------------------------------------------------------------------------------


def test_cvar_aligns_a_by_series_by_label(hsm):
    x = hsm["ses"]
    by = hsm["school"].sample(frac=1.0, random_state=1)  # the same rows, in another order
    np.testing.assert_allclose(hk.cvar(x, by), hk.cvar(x, hsm["school"]))
    with pytest.raises(ValueError, match="different index labels"):
        hk.cvar(x, by.set_axis(np.arange(len(by)) + 10**6))
    # an array x has no labels: by position, as in R
    np.testing.assert_allclose(hk.cvar(x.to_numpy(), hsm["school"]), hk.cvar(x, hsm["school"]))


def test_no_warning_on_good_data(hsm):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hk.lme("mathach ~ ses", hsm, random="~ 1 + ses | school")
