"""hlmkit's result objects: declared attributes, one printing base, expensive parts computed once."""

import html

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit._rprint import RPrinted


@pytest.fixture(scope="module")
def fits():
    hs = hk.load_hs()
    null = hk.lme("mathach ~ 1", hs, random="~ 1 | school")
    full = hk.lme("mathach ~ ses + cvar(ses, school)", hs, random="~ 1 | school")
    return hs, null, full


def test_lme_result_declares_every_attribute_it_sets(fits):
    _, _, fit = fits
    declared = set(hk.LmeResult.__annotations__)
    set_on_instance = set(vars(fit)) - {"_apvar"}  # _apvar: the cached_property's value, once computed
    assert set_on_instance <= declared, f"not declared: {sorted(set_on_instance - declared)}"
    assert {"fixef", "vcov", "G", "sigma", "ranef", "loglik", "converged"} <= declared


def test_apvar_is_computed_once(fits, monkeypatch):
    hs, _, _ = fits
    fit = hk.lme("mathach ~ ses", hs, random="~ 1 + ses | school")
    calls = []
    real = hk.LmeResult.apvar_hessian

    def counting(self, pars=None):
        calls.append(1)
        return real(self, pars)

    monkeypatch.setattr(hk.LmeResult, "apvar_hessian", counting)
    first = fit.apvar()
    fit.intervals()
    second = fit.apvar()
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    second.iloc[0, 0] = np.nan  # a copy: changing it does not change the fit's
    assert np.isfinite(fit.apvar().iloc[0, 0])


def _results(fits):
    hs, null, full = fits
    ols = hk.ols("mathach ~ ses", hs)
    lcoefs = hk.lmlist("mathach ~ ses", hs, by="school").coef
    return {
        "LmeResult": full,
        "LmeSummary": full.summary(),
        "LmListResult": hk.lmlist("mathach ~ ses", hs, by="school"),
        "OlsResult": ols,
        "WaldResult": hk.wald(full, "ses"),
        "HausmanResult": hk.hausman(
            hk.ols("mathach ~ ses + factor(school)", hs), hk.lme("mathach ~ ses", hs, random="~ 1 | school")
        ),
        "MultilevelR2": hk.r2(full, null),
        "NakagawaR2": hk.r2_nakagawa(full),
        "MlmResult": hk.mlm(lcoefs, "~ Sector", hk.up(hs, "school")),
    }


def test_results_share_one_printing_base(fits):
    for name, res in _results(fits).items():
        assert isinstance(res, RPrinted), name
        text = str(res)
        assert text.strip(), name
        assert res._repr_html_() == "<pre>" + html.escape(text) + "</pre>", name
        if name != "MlmResult":
            assert repr(res) == text, name


def test_results_index_like_r_lists(fits):
    _, null, full = fits
    res = hk.r2(full, null)
    assert res["level1"] == res.level1
    with pytest.raises(KeyError, match="no entry 'nope'"):
        res["nope"]
    with pytest.raises(KeyError):
        res["_private"]
    w = hk.wald(full, "ses")
    # one hypothesis: its test's columns by name
    assert (w["numDF"], w["denDF"], w["p"]) == tuple(w.test[["numDF", "denDF", "p"]].iloc[0])
    assert w["F"] == w.F
