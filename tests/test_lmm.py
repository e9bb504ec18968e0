"""hlmkit.lme against nlme (and lme4) on every mixed model of the notes and of Lab 1.

Reference values: tests/reference/lme_models.json, written by tests/reference/make_reference.R
(R 4.2.2, nlme 3.1-162, lme4 1.1-31). For each model the file holds nlme's fit (or, where nlme
stops, lme4's) and lme4's fit of the same model as a second opinion.

Agreement asked for (design.md section 5): fixed effects and their SEs to a relative 1e-4,
variance components to 1e-3, log-likelihood to 1e-3 absolute, df exactly, BLUPs to 1e-3. The
comparison is with the R fit that reached the higher likelihood: where nlme stopped short of the
optimum (it needed raised iteration limits, and lme4 went further) a comparison of estimates with
nlme would test nlme's stopping rule, not our answer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference

REF = r_reference("lme_models")


def _data(name, hs, hs1, hs2):
    return {"hs": hs, "hs1": hs1, "hs2": hs2, "hs_pub": hs[hs["Sector"] == "Public"]}[name]


def _fit(rec, hs, hs1, hs2):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = hk.lme(
            rec["fixed"], _data(rec["data"], hs, hs1, hs2), random=rec["random"], method=rec["method"]
        )
    return fit, caught


def _best_reference(rec):
    """The R fit (nlme's or lme4's) with the higher log-likelihood, and nlme's df if any."""
    cands = [rec] + ([rec["lme4"]] if "lme4" in rec else [])
    best = max(cands, key=lambda r: r["loglik"])
    return best


def _mat(m):
    rows = [m["rows"]] if isinstance(m["rows"], str) else list(m["rows"])
    cols = [m["cols"]] if isinstance(m["cols"], str) else list(m["cols"])
    return pd.DataFrame(
        np.array(m["values"], dtype=float).reshape(len(rows), len(cols)), index=rows, columns=cols
    )


FITS: dict[str, tuple] = {}


@pytest.fixture(scope="module")
def fits(hs, hs1, hs2):
    if not FITS:
        for name, rec in REF.items():
            FITS[name] = _fit(rec, hs, hs1, hs2)
    return FITS


#: The models where both nlme and lme4 stop short of the optimum, with how much higher our
#: log-likelihood is than the better R fit's (see test_beats_r_where_r_stops_short). Everywhere
#: else our estimates must be R's.
R_STOPS_SHORT = {"lab2_fit2": 0.00585}


@pytest.mark.parametrize("name", sorted(REF))
def test_reaches_the_optimum(name, fits):
    """Our log-likelihood is at least the best of nlme's and lme4's (to 1e-3), and higher only where
    both R engines are known to stop short."""
    rec = REF[name]
    fit, _ = fits[name]
    best = _best_reference(rec)
    assert fit.converged, f"{name}: not converged: {fit.optimizer_info}"
    assert fit.loglik >= best["loglik"] - 1e-3, (name, fit.loglik, best["loglik"])
    gap = R_STOPS_SHORT.get(name, 0.0)
    assert fit.loglik - best["loglik"] == pytest.approx(gap, abs=1e-3), (name, fit.loglik, best["loglik"])


@pytest.mark.parametrize("name", sorted(set(REF) - set(R_STOPS_SHORT)))
def test_estimates_agree_with_r(name, fits):
    """R's estimates, where R reached the optimum: a fit that is higher than R's fails here (it is
    listed in R_STOPS_SHORT once the reason is known), rather than skipping."""
    rec = REF[name]
    fit, _ = fits[name]
    best = _best_reference(rec)
    assert fit.loglik <= best["loglik"] + 1e-3, (
        f"{name}: our log-likelihood {fit.loglik} is above R's {best['loglik']}: R stopped short, or the "
        "data are not R's"
    )
    names = list(fit.fixef.index)
    assert names == list(best["fixef"]), "coefficient names and order must be R's"
    fe = np.array([best["fixef"][k] for k in names])
    se = np.array([best["se"][k] for k in names])
    # relative 1e-4 (for a coefficient near zero, relative to its standard error)
    scale = np.maximum(np.abs(fe), se)
    assert np.all(np.abs(fit.fixef.to_numpy() - fe) <= 1e-4 * scale), (fit.fixef.to_numpy() - fe) / scale
    # R's se are sqrt(diag(vcov)): nlme's varFix, lme4's vcov (no adjustSigma)
    ours_se = np.sqrt(np.diag(fit.vcov.to_numpy()))
    assert np.all(np.abs(ours_se - se) <= 1e-4 * se + 1e-3 * se * bool(fit.boundary)), (ours_se - se) / se
    # summary's standard errors: nlme's adjustSigma for ML fits
    adjust = fit.nobs / (fit.nobs - len(fe)) if fit.method == "ML" else 1.0
    np.testing.assert_allclose(fit.se.to_numpy(), ours_se * np.sqrt(adjust), rtol=1e-12)
    G = _mat(best["G"]).to_numpy()
    sd = np.sqrt(np.diag(G))
    tol = 1e-3 * np.outer(sd, sd) + 1e-6
    assert np.all(np.abs(fit.G.to_numpy() - G) <= tol), fit.G.to_numpy() - G
    assert fit.sigma == pytest.approx(best["sigma"], rel=1e-4)
    assert fit.loglik == pytest.approx(best["loglik"], abs=1e-3)
    # AIC and BIC as nlme computes them (lme4's REML BIC uses log(N), nlme's log(N - p))
    n_eff = fit.nobs - len(fit.fixef) if fit.method == "REML" else fit.nobs
    assert fit.aic == pytest.approx(-2 * best["loglik"] + 2 * fit.n_params, abs=2e-3)
    assert fit.bic == pytest.approx(-2 * best["loglik"] + np.log(n_eff) * fit.n_params, abs=2e-3)
    if rec["engine"] == "nlme" and abs(rec["loglik"] - fit.loglik) < 1e-3:
        assert (fit.aic, fit.bic) == (
            pytest.approx(rec["aic"], abs=2e-3),
            pytest.approx(rec["bic"], abs=2e-3),
        )
    assert (fit.nobs, fit.ngroups) == (best["nobs"], best["ngroups"])


@pytest.mark.parametrize("name", sorted(k for k in REF if "df" in REF[k]))
def test_degrees_of_freedom_are_nlmes(name, fits):
    fit, _ = fits[name]
    assert fit.df.to_dict() == {k: int(v) for k, v in REF[name]["df"].items()}


@pytest.mark.parametrize("name", sorted(k for k in REF if "ranef" in REF[k] and REF[k]["engine"] == "nlme"))
def test_blups_agree_with_nlme(name, fits):
    rec = REF[name]
    fit, _ = fits[name]
    ref = _mat(rec["ranef"])
    ours = fit.ranef.copy()
    ours.index = [str(i) for i in ours.index]
    ref = ref.loc[ours.index]
    sd = fit.sd_re.to_numpy()
    assert np.all(np.abs(ours.to_numpy() - ref.to_numpy()) <= 1e-3 * sd)


def test_beats_r_where_r_stops_short(fits):
    """ses * Minority with four correlated random effects (the Lab's fit2): nlme needs raised limits and
    lme4 stops on a singular G at a lower likelihood; our search goes higher (by 0.0058 than nlme,
    0.118 than lme4), and says G is singular."""
    assert set(R_STOPS_SHORT) == {"lab2_fit2"}
    rec = REF["lab2_fit2"]
    fit, caught = fits["lab2_fit2"]
    assert fit.loglik > rec["loglik"] > rec["lme4"]["loglik"]
    assert fit.loglik - rec["loglik"] == pytest.approx(R_STOPS_SHORT["lab2_fit2"], abs=1e-4)
    assert fit.loglik - rec["lme4"]["loglik"] == pytest.approx(0.118, abs=1e-3)
    assert fit.boundary and any(issubclass(w.category, hk.BoundaryFitWarning) for w in caught)


@pytest.mark.parametrize("name", ["hs2_slopes_outcomes", "lab_fit_ml"])
def test_converges_where_nlme_fails(name, fits):
    rec = REF[name]
    assert rec["engine"] == "lme4" and "singular convergence" in rec["nlme_error"]
    fit, caught = fits[name]
    assert fit.converged
    assert fit.loglik == pytest.approx(rec["loglik"], abs=1e-3)
    assert fit.boundary == ["the correlation of '(Intercept)' and 'ses' is +1"]
    assert [str(w.message) for w in caught if issubclass(w.category, hk.BoundaryFitWarning)]


def test_one_way_model_prints_the_notes_numbers(hs):
    fit = hk.lme("mathach ~ 1", hs, random="~ 1 | school", data_name="hs")
    text = str(fit.summary())
    for printed in [
        "12985.94",
        "13002.71",
        "-6489.969",
        "2.836278",
        "6.296759",
        "12.60468",
        "0.4711941",
        "1937",
        "26.75049",
    ]:
        assert printed in text, printed
    assert "Number of Observations: 1977" in text and "Number of Groups: 40" in text


def test_intervals_match_nlme(fits):
    """Fixed effects to 1e-4; standard deviations and sigma to 3 digits (nlme's apVar is a numerical
    Hessian with a 6e-6 step; ours uses a larger, better conditioned step)."""
    rec = REF["hs_oneway"]
    fit, _ = fits["hs_oneway"]
    iv = fit.intervals()
    ref_fixed = _mat(rec["intervals"]["fixed"])
    np.testing.assert_allclose(iv["fixed"].to_numpy(), ref_fixed.to_numpy(), rtol=1e-5)
    ref_re = _mat(rec["intervals"]["random"])
    np.testing.assert_allclose(iv["random"].to_numpy(), ref_re.to_numpy(), rtol=1e-3)
    sig = rec["intervals"]["sigma"]
    np.testing.assert_allclose(
        iv["sigma"].to_numpy()[0], [sig["lower"], sig["est."], sig["upper"]], rtol=1e-3
    )


def test_fitted_residuals_and_predictions(hs):
    fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")
    f0, f1 = fit.fitted(0), fit.fitted(1)
    np.testing.assert_allclose(f0, fit.X.to_numpy() @ fit.fixef.to_numpy())
    np.testing.assert_allclose(fit.resid(1) + f1, hs["mathach"])
    np.testing.assert_allclose(fit.resid(1, "pearson"), fit.resid(1) / fit.sigma)
    # coef = fixef + ranef for the random terms
    np.testing.assert_allclose(fit.coef["ses"], fit.fixef["ses"] + fit.ranef["ses"])
    np.testing.assert_allclose(fit.coef["SectorPublic"], fit.fixef["SectorPublic"])
    # predictions on the data reproduce the fitted values at both levels
    np.testing.assert_allclose(fit.predict(hs, level=0), f0)
    np.testing.assert_allclose(fit.predict(hs, level=1), f1)
    new = pd.DataFrame(
        {
            "ses": [0.0, 1.0],
            "Sector": pd.Categorical(["Public", "Public"], ["Catholic", "Public"]),
            "school": [1317, 99999],
        }
    )
    p1 = fit.predict(new, level=1)
    assert np.isnan(p1.iloc[1]) and np.isfinite(p1.iloc[0])


def test_missing_values_are_dropped_and_counted(hs):
    d = hs.copy()
    d.loc[d.index[:5], "ses"] = np.nan
    d.loc[d.index[10], "mathach"] = np.nan
    fit = hk.lme("mathach ~ ses", d, random="~ 1 | school")
    assert fit.nobs == 1977 - 6 and fit.n_dropped == 6
    assert "6 rows with missing values were dropped" in str(fit.summary())


def test_update_and_refit(hs):
    fit = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    fc = fit.update(". ~ . + cvar(ses, school)")
    assert fc.design_columns == ["(Intercept)", "ses", "cvar(ses, school)"]
    same = fit.refit(hs)
    assert same.loglik == pytest.approx(fit.loglik, abs=1e-8)
    ml = fit.update(method="ML")
    assert ml.method == "ML" and ml.loglik > fit.loglik


def test_non_convergence_is_reported(hs):
    with pytest.warns(hk.ConvergenceWarning, match="did not converge"):
        fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school", maxiter=1)
    assert not fit.converged
    assert "did NOT converge" in str(fit.summary())


def test_anova_likelihood_ratio(hs, lme_ref):
    f0 = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 | school")
    f1 = f0.update(random="~ 1 + ses | school")
    table = hk.anova(f0, f1)
    lr = 2 * (f1.loglik - f0.loglik)
    assert table["L.Ratio"].iloc[1] == pytest.approx(lr)
    assert table["df"].tolist() == [6, 8]
    assert table["logLik"].iloc[0] == pytest.approx(lme_ref["hs_nonrandom_slopes"]["loglik"], abs=1e-3)


def test_anova_refuses_reml_fits_with_different_fixed_effects(hs):
    f0 = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    f1 = hk.lme("mathach ~ ses + Sector", hs, random="~ 1 | school")
    with pytest.raises(ValueError, match="different fixed effects.*method='ML'"):
        hk.anova(f0, f1)
    ok = hk.anova(f0.update(method="ML"), f1.update(method="ML"))
    assert ok["p-value"].iloc[1] < 0.05


@pytest.mark.parametrize(
    "fixed, random, message",
    [
        ("mathach ~ nope", "~ 1 | school", "no column 'nope'"),
        ("mathach ~ ses", "~ 1 | nope", "no column 'nope'"),
        ("mathach ~ ses", "~ 1 + ses", "needs a grouping variable"),
        ("mathach ~ ses + I(2 * ses)", "~ 1 | school", "not all estimable.*I\\(2 \\* ses\\)"),
        ("~ ses", "~ 1 | school", "needs a response"),
    ],
)
def test_bad_input_is_named(hs, fixed, random, message):
    with pytest.raises((hk.FormulaError, ValueError, KeyError), match=message):
        hk.lme(fixed, hs, random=random)


def test_a_nearly_aliased_column_is_aliased_as_in_r(hs):
    """A column equal to others up to 1e-9 noise: numerically full rank, but R's lm (QR tolerance
    1e-7) gives it NA, lme4 drops it and nlme stops. ols leaves it out with R's coefficients for the
    rest; lme names it instead of failing inside the fit."""
    d = hs.copy()
    d["c"] = d["ses"] + d["female"] + 1e-9 * np.random.default_rng(1).standard_normal(len(d))
    assert np.linalg.matrix_rank(d[["ses", "female", "c"]].assign(one=1.0).to_numpy()) == 4
    fit = hk.ols("mathach ~ ses + female + c", d)
    assert fit.aliased == ["c"]
    without = hk.ols("mathach ~ ses + female", d)
    np.testing.assert_allclose(fit.params.to_numpy(), without.params.to_numpy(), rtol=1e-10)
    with pytest.raises(hk.FormulaError, match=r"not all estimable: \['c'\]"):
        hk.lme("mathach ~ ses + female + c", d, random="~ 1 | school")


def test_factor_with_one_level_is_an_error(hs):
    d = hs[hs["Sector"] == "Public"]
    with pytest.raises(hk.FormulaError, match="factor 'Sector' has only one level"):
        hk.lme("mathach ~ ses + Sector", d, random="~ 1 | school")


def test_bad_method(hs):
    with pytest.raises(ValueError, match="method must be 'REML' or 'ML'"):
        hk.lme("mathach ~ 1", hs, method="OLS")


def test_lmlist_na_where_not_estimable(hs1):
    fits = hk.lmlist("mathach ~ ses * Minority", hs1, by="id")
    assert fits.coef.shape == (80, 4)
    bad = fits.coef.isna().any(axis=1)
    assert bad.sum() > 0
    # a school with no minority student: the Minority terms are NaN, the intercept and ses are not
    counts = hs1.groupby("id")["Minority"].apply(lambda m: (m == "Yes").sum())
    none = counts[counts == 0].index
    assert fits.coef.loc[none, "MinorityYes"].isna().all()
    assert fits.coef.loc[none, ["(Intercept)", "ses"]].notna().all().all()
    # an estimable school matches OLS on that school alone
    school = fits.coef.index[~bad][0]
    one = hk.ols("mathach ~ ses * Minority", hs1[hs1["id"] == school])
    np.testing.assert_allclose(fits.coef.loc[school], one.params, rtol=1e-10)
    np.testing.assert_allclose(fits.se.loc[school], one.bse, rtol=1e-10)


def test_g_condition_and_eigen(hs1):
    fit = hk.lme("mathach ~ ses * Minority", hs1, random="~ 1 + dvar(Minority, id) + dvar(ses, id) | id")
    assert fit.G_condition == pytest.approx(33.5, abs=0.05)  # the Lab's cond(G)
    eig = fit.G_eigen
    assert eig["eigenvalue"].is_monotonic_decreasing
    assert eig["share"].sum() == pytest.approx(1.0)
