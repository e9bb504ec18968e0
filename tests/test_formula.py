"""R model formulas: term order, coefficient names, coding rules, updates, evaluation errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.formula import FormulaError, ModelFrame, parse_formula, parse_random, update_formula


@pytest.mark.parametrize(
    "formula, terms, intercept",
    [
        ("y ~ ses * Sector + cvar(ses,id)", ["ses", "Sector", "cvar(ses, id)", "ses:Sector"], True),
        ("y ~ a*b*c - a:b:c", ["a", "b", "c", "a:b", "a:c", "b:c"], True),
        ("y ~ (a + b + c)^2", ["a", "b", "c", "a:b", "a:c", "b:c"], True),
        ("y ~ f/x - 1", ["f", "f:x"], False),
        ("y ~ 0 + a", ["a"], False),
        ("y ~ -1 + a", ["a"], False),
        ("y ~ a + 0 + b", ["a", "b"], False),
        ("y ~ a - 1 - 0", ["a"], True),
        ("y ~ x*(m == 'Yes')", ["x", 'm == "Yes"', 'x:m == "Yes"'], True),
        ("y ~ b:a + a", ["a", "b:a"], True),
        ("y ~ I(ses^2) + log(Size)", ["I(ses^2)", "log(Size)"], True),
        ("y ~ ses.m + `odd name`", ["ses.m", "`odd name`"], True),
    ],
)
def test_terms_follow_r(formula, terms, intercept):
    pf = parse_formula(formula)
    assert pf.term_labels == terms
    assert pf.intercept is intercept


def test_update_formula_substitutes_dot():
    assert update_formula("y ~ a * b", ". ~ . + c") == "y ~ (a * b) + c"
    new = update_formula("mathach ~ ses * Minority", ". ~ (.) * cvar(ses, id)")
    assert parse_formula(new).term_labels == [
        "ses",
        "Minority",
        "cvar(ses, id)",
        "ses:Minority",
        "ses:cvar(ses, id)",
        "Minority:cvar(ses, id)",
        "ses:Minority:cvar(ses, id)",
    ]
    assert update_formula("y ~ a", "log(.) ~ .").startswith("log((y)) ~")


def test_r_coefficient_names_and_values(hs):
    mf = ModelFrame("mathach ~ ses * Sector + cvar(ses, school)", hs)
    d = mf.design()
    assert d.columns == ["(Intercept)", "ses", "SectorPublic", "cvar(ses, school)", "ses:SectorPublic"]
    X = d.frame()
    pub = (hs["Sector"] == "Public").to_numpy()
    np.testing.assert_array_equal(X["SectorPublic"], pub.astype(float))
    np.testing.assert_allclose(X["ses:SectorPublic"], hs["ses"].to_numpy() * pub)
    np.testing.assert_allclose(X["cvar(ses, school)"], hk.cvar(hs["ses"], hs["school"]))


def test_full_dummy_coding_where_r_uses_it(hs):
    d = ModelFrame("mathach ~ factor(school)/ses - 1", hs).design()
    assert d.matrix.shape == (1977, 80)
    assert d.columns[0] == "factor(school)1317" and d.columns[40] == "factor(school)1317:ses"
    # the per-school columns reproduce each school's own OLS line
    beta = np.linalg.lstsq(d.matrix, hs["mathach"].to_numpy(), rcond=None)[0]
    one = hk.ols("mathach ~ ses", hs[hs["school"] == 1317])
    np.testing.assert_allclose(beta[[0, 40]], one.params, rtol=1e-10)


def test_interactions_vary_first_factor_fastest():
    df = pd.DataFrame(
        {"y": np.arange(8.0), "a": pd.Categorical(list("xyxyxyxy")), "b": pd.Categorical(list("ppqqrrpp"))}
    )
    d = ModelFrame("y ~ a:b - 1", df).design()
    assert d.columns == ["ax:bp", "ay:bp", "ax:bq", "ay:bq", "ax:br", "ay:br"]


def test_logical_and_text_variables_are_factors():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "t": ["b", "a", "b", "a"], "x": [1.0, 2, 3, 4]})
    d = ModelFrame("y ~ t + (x > 2)", df).design()
    assert d.columns == ["(Intercept)", "tb", "x > 2TRUE"]


def test_unused_levels_are_dropped(hs):
    pub = hs[hs["Sector"] == "Public"]
    mf = ModelFrame("mathach ~ Sex", pub)
    assert mf.design().columns == ["(Intercept)", "SexMale"]


def test_missing_values_drop_rows(hs):
    d = hs.copy()
    d.loc[d.index[0], "ses"] = np.nan
    mf = ModelFrame("mathach ~ ses", d)
    assert mf.nobs == 1976 and mf.n_dropped == 1 and d.index[0] not in mf.index


def test_new_design_keeps_training_levels_and_recomputes_cvar(hs):
    mf = ModelFrame("mathach ~ ses * Sector + cvar(ses, school)", hs)
    grid = pd.DataFrame({"ses": [0.0, 1.0], "Sector": ["Public", "Public"], "school": [1, 1]})
    d = mf.new_design(mf.parsed, grid)
    assert d.columns == mf.design().columns
    np.testing.assert_allclose(d.frame()["cvar(ses, school)"], [0.5, 0.5])  # spida2: mean within newdata
    with pytest.raises(FormulaError, match="levels not seen when the model was fitted"):
        mf.new_design(mf.parsed, grid.assign(Sector=["Private", "Public"]))


@pytest.mark.parametrize(
    "formula, message",
    [
        ("y ~", "nothing after"),
        ("y x", "has no '~'"),
        ("y ~ a +", "ends too early"),
        ("y ~ 2", "cannot be a term"),
        ("y ~ .", "has no meaning here"),
        ("y ~ (a + b)^x", "whole number"),
    ],
)
def test_syntax_errors(formula, message):
    with pytest.raises(FormulaError, match=message):
        parse_formula(formula)


def test_unknown_variable_is_named(hs):
    with pytest.raises(FormulaError, match="no column 'SES' in the data"):
        ModelFrame("mathach ~ SES", hs)


def test_evaluation_error_is_named(hs):
    with pytest.raises(FormulaError, match="could not evaluate 'cvar\\(ses\\)'"):
        ModelFrame("mathach ~ cvar(ses)", hs)


def test_parse_random():
    assert parse_random("~ 1 + ses | school") == ("~1 + ses", "school")
    assert parse_random("~ dvar(ses, id) | id") == ("~dvar(ses, id)", "id")
    with pytest.raises(FormulaError, match="only one grouping factor"):
        parse_random("~ 1 | school/class")
