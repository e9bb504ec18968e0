"""hk.lme on data beyond HSB: nlme's bdf (the Lab 1 exercise), against nlme's fits (tests/reference/bdf.json)."""

from __future__ import annotations

import pytest

import hlmkit as hk
from hlmkit.book import r_reference

REF = r_reference("bdf")
FIXED = "IQ.verb + cvar(IQ.verb, schoolNR) + ses + cvar(ses, schoolNR) + sex + Minority + denomina"
RANDOM = "~ 1 + dvar(IQ.verb, schoolNR) | schoolNR"


@pytest.fixture(scope="module")
def bdf():
    d = hk.load_bdf()
    d["gain"] = d["langPOST"] - d["langPRET"]
    return d


@pytest.mark.parametrize(
    "name, formula", [("pretest", f"langPOST ~ langPRET + {FIXED}"), ("gain", f"gain ~ {FIXED}")]
)
def test_bdf_models_agree_with_nlme(bdf, name, formula):
    ref = REF[name]
    fit = hk.lme(formula, bdf, random=RANDOM)
    assert fit.converged
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-3)
    assert list(fit.fixef.index) == list(ref["fixef"])
    for term, value in ref["fixef"].items():
        assert fit.fixef[term] == pytest.approx(value, rel=1e-4, abs=1e-5), term
        assert fit.se[term] == pytest.approx(ref["se"][term], rel=1e-3), term
        assert int(fit.df[term]) == ref["df"][term], term
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)
