"""Properties that hold for every input, checked on inputs hypothesis draws.

* R formulas: the design matrix spans the same column space, with the same rank, as formulaic's
  (an independent implementation of R's formula language), and the formula survives a round trip
  through its term labels. hlmkit has no deparse of a whole formula: the round trip is R's
  ``reformulate(attr(terms(f), "term.labels"), response)``, i.e. the labels joined by ``+``.
* ``lme`` does not depend on the order of the rows.
* ``lme`` is equivariant under y -> a + b y: the intercept becomes a + b beta0, the other fixed
  effects b beta, sigma |b| sigma, G b^2 G, the BLUPs b u, and the log-likelihood moves by
  -(n - p) log|b| (REML) or -n log|b| (ML).
* The profiled deviance evaluated on a batch of thetas (the optimiser's way) equals the deviance
  at each theta alone, and both equal the deviance computed from the dense marginal covariance.

Small data and few examples keep them fast (deadline None: the machine is shared).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix
from hypothesis import given, settings
from hypothesis import strategies as st

import hlmkit as hk
from hlmkit.formula import ModelFrame, parse_formula

# --------------------------------------------------------------------------------------------
# R formulas against formulaic
# --------------------------------------------------------------------------------------------

_rng = np.random.default_rng(20240521)
_N = 48
FORMULA_DATA = pd.DataFrame(
    {
        "y": _rng.normal(size=_N),
        "x1": _rng.normal(size=_N),
        "x2": _rng.normal(size=_N),
        # every level present, cells crossed unevenly
        "f": pd.Categorical(np.resize(["a", "b", "c"], _N)[_rng.permutation(_N)]),
        "g": pd.Categorical(np.resize(["u", "v"], _N)[_rng.permutation(_N)]),
        "h": pd.Categorical(np.resize(["p", "q", "r", "s"], _N)[_rng.permutation(_N)]),
    }
)
VARIABLES = ["x1", "x2", "f", "g", "h"]


@st.composite
def formulas(draw):
    """A two-sided formula of numeric and factor variables: terms joined by +, each one variable or
    an interaction (:, *) or nesting (/) of two or three; sometimes (...)^2; sometimes no intercept."""
    n_terms = draw(st.integers(1, 4))
    terms = []
    for _ in range(n_terms):
        names = draw(st.lists(st.sampled_from(VARIABLES), min_size=1, max_size=3, unique=True))
        op = draw(st.sampled_from([":", "*", "/"])) if len(names) > 1 else ""
        terms.append(op.join(names))
    rhs = " + ".join(terms)
    if len(terms) > 1 and draw(st.booleans()):
        rhs = f"({rhs})^2"
    intercept = draw(st.sampled_from(["", " - 1", "0 + "]))
    return "y ~ " + (intercept + rhs if intercept == "0 + " else rhs + intercept)


def _rank(m: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(m, tol=1e-8 * max(1.0, np.abs(m).max()) * max(m.shape)))


@settings(max_examples=100, deadline=None)
@given(formulas())
def test_formula_column_space_and_rank_are_formulaics(formula):
    ours = ModelFrame(formula, FORMULA_DATA).design().matrix
    theirs = np.asarray(model_matrix(formula, FORMULA_DATA).rhs, dtype=float)
    r = _rank(ours)
    assert r == _rank(theirs), formula
    assert _rank(np.column_stack([ours, theirs])) == r, f"{formula}: the column spaces differ"


def _deparse(parsed) -> str:
    """R's reformulate(attr(terms(f), "term.labels"), response), with -1 when there is no intercept."""
    return f"{parsed.response} ~ " + " + ".join(parsed.term_labels) + ("" if parsed.intercept else " - 1")


def _by_variables(design) -> dict[str, np.ndarray]:
    """Design columns by name with the parts of an interaction in sorted order."""
    return {":".join(sorted(name.split(":"))): design.matrix[:, k] for k, name in enumerate(design.columns)}


@settings(max_examples=100, deadline=None)
@given(formulas())
def test_formula_survives_a_round_trip_through_its_term_labels(formula):
    """The same terms in the same order, the same intercept, the same columns. A label lists an
    interaction's variables in their order of first appearance in the formula, so the text can
    change for two rounds and then stays: R does the same (``y ~ x1:x2 + x2`` becomes
    ``y ~ x2 + x1:x2``, then ``y ~ x2 + x2:x1`` for good, in R 4.2 as here)."""
    parsed = parse_formula(formula)
    again = _deparse(parsed)
    reparsed = parse_formula(again)
    assert [set(t.split(":")) for t in reparsed.term_labels] == [
        set(t.split(":")) for t in parsed.term_labels
    ]
    assert reparsed.intercept == parsed.intercept
    twice = _deparse(reparsed)
    assert _deparse(parse_formula(twice)) == twice, "the round trip does not settle after two rounds"
    one, two = ModelFrame(formula, FORMULA_DATA).design(), ModelFrame(again, FORMULA_DATA).design()
    cols_one, cols_two = _by_variables(one), _by_variables(two)
    assert cols_one.keys() == cols_two.keys() and len(cols_one) == len(one.columns)
    for name, values in cols_one.items():
        np.testing.assert_array_equal(cols_two[name], values, err_msg=f"{formula} -> {again}: column {name}")


def test_the_formula_strategy_reaches_every_kind_of_term():
    """The property tests above see factor-by-factor, factor-by-numeric and nested terms (and
    formulaic agrees on a case where R's coding is not of full rank)."""
    for formula in ["y ~ f*g", "y ~ f:x1 + g:x1", "y ~ h/x2 - 1", "y ~ (x1 + f + g)^2", "y ~ 0 + f:g:x2"]:
        ours = ModelFrame(formula, FORMULA_DATA).design().matrix
        theirs = np.asarray(model_matrix(formula, FORMULA_DATA).rhs, dtype=float)
        assert _rank(np.column_stack([ours, theirs])) == _rank(ours) == _rank(theirs), formula
    deficient = ModelFrame("y ~ f:x1 + g:x1", FORMULA_DATA).design().matrix
    assert _rank(deficient) == deficient.shape[1] - 1  # R's coding: g[u]:x1 + g[v]:x1 = the sum of f's


# --------------------------------------------------------------------------------------------
# lme: row order and units of the response
# --------------------------------------------------------------------------------------------

# models whose REML and ML fits on hs are inside the parameter space (a boundary fit's estimates
# are determined less tightly than the tolerances below)
MODELS = [
    ("mathach ~ ses + Sector", "~ 1 + ses | school"),
    ("mathach ~ Sector + Minority", "~ 1 + Minority | school"),
    ("mathach ~ ses + Sex", "~ 1 | school"),
]


@pytest.fixture(scope="module")
def small_hs(hs):
    return hs.reset_index(drop=True)


def _fit(fixed, data, random, method="REML"):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence or boundary warning on these fits
        return hk.lme(fixed, data, random=random, method=method)


@pytest.fixture(scope="module")
def base_fits(small_hs):
    return {
        (k, method): _fit(fixed, small_hs, random, method)
        for k, (fixed, random) in enumerate(MODELS)
        for method in ("REML", "ML")
    }


def _assert_same_fit(a, b, what):
    se = np.sqrt(np.diag(a.vcov.to_numpy()))
    assert np.all(
        np.abs(a.fixef.to_numpy() - b.fixef.to_numpy()) <= 1e-6 * np.maximum(np.abs(a.fixef), se)
    ), what
    assert b.sigma == pytest.approx(a.sigma, rel=1e-6), what
    sd = np.sqrt(np.diag(a.G.to_numpy()))
    assert np.all(np.abs(a.G.to_numpy() - b.G.to_numpy()) <= 1e-5 * np.outer(sd, sd)), what
    assert b.loglik == pytest.approx(a.loglik, abs=1e-7), what


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    model=st.sampled_from(range(len(MODELS))),
    method=st.sampled_from(["REML", "ML"]),
)
def test_lme_does_not_depend_on_the_row_order(small_hs, base_fits, seed, model, method):
    fixed, random = MODELS[model]
    order = np.random.default_rng(seed).permutation(len(small_hs))
    shuffled = _fit(fixed, small_hs.iloc[order], random, method)
    base = base_fits[(model, method)]
    _assert_same_fit(base, shuffled, f"{fixed}, {random}, {method}, seed {seed}")
    re_a, re_b = base.ranef, shuffled.ranef.loc[base.ranef.index]
    np.testing.assert_allclose(re_b.to_numpy(), re_a.to_numpy(), rtol=0, atol=1e-6 * base.sigma)
    # fitted values follow their rows
    np.testing.assert_allclose(shuffled.fitted(1), base.fitted(1)[order], rtol=1e-8)


_scales = st.floats(0.001, 1000.0).flatmap(lambda m: st.sampled_from([m, -m]))


@settings(max_examples=25, deadline=None)
@given(
    a=st.floats(-1e4, 1e4),
    b=_scales,
    model=st.sampled_from(range(len(MODELS))),
    method=st.sampled_from(["REML", "ML"]),
)
def test_lme_follows_a_linear_change_of_the_response(small_hs, base_fits, a, b, model, method):
    fixed, random = MODELS[model]
    data = small_hs.assign(mathach=a + b * small_hs["mathach"])
    new = _fit(fixed, data, random, method)
    base = base_fits[(model, method)]
    what = f"{fixed}, {random}, {method}: y -> {a!r} + {b!r} y"
    expected = b * base.fixef
    expected["(Intercept)"] += a
    se = abs(b) * np.sqrt(np.diag(base.vcov.to_numpy()))
    assert np.all(np.abs(new.fixef - expected) <= 1e-6 * np.maximum(np.abs(expected), se) + 1e-9 * abs(a)), (
        what
    )
    assert new.sigma == pytest.approx(abs(b) * base.sigma, rel=1e-6), what
    sd = np.sqrt(np.diag(base.G.to_numpy())) * abs(b)
    assert np.all(np.abs(new.G.to_numpy() - b**2 * base.G.to_numpy()) <= 1e-5 * np.outer(sd, sd)), what
    np.testing.assert_allclose(
        new.ranef.to_numpy(), b * base.ranef.to_numpy(), rtol=0, atol=1e-5 * abs(b) * base.sigma
    )
    shift = -(base.nobs - (len(base.fixef) if method == "REML" else 0)) * math.log(abs(b))
    assert new.loglik == pytest.approx(base.loglik + shift, abs=1e-6), what


# --------------------------------------------------------------------------------------------
# the profiled deviance: batch, one at a time, dense
# --------------------------------------------------------------------------------------------


def _dense_deviance(cp, theta, reml):
    """-2 log-likelihood, profiled over beta and sigma, from V = I + Z Psi Z' (Psi = Lambda Lambda')."""
    lam = cp.lam(theta)
    psi = lam @ lam.T
    n, p = cp.X.shape
    V = np.eye(n)
    for j in np.unique(cp.codes):
        rows = np.flatnonzero(cp.codes == j)
        Zj = cp.Z[rows]
        V[np.ix_(rows, rows)] += Zj @ psi @ Zj.T
    Vi = np.linalg.inv(V)
    xvx = cp.X.T @ Vi @ cp.X
    beta = np.linalg.solve(xvx, cp.X.T @ Vi @ cp.y)
    r = cp.y - cp.X @ beta
    r2 = float(r @ Vi @ r)
    logdet_v = np.linalg.slogdet(V)[1]
    if reml:
        return logdet_v + np.linalg.slogdet(xvx)[1] + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p)))
    return logdet_v + n * (1 + math.log(2 * math.pi * r2 / n))


@pytest.fixture(scope="module")
def deviance_fits(hs):
    few = hs[hs["school"].isin([1317, 2208, 4292, 5640, 8627])]  # 5 schools: V is 270 x 270
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hk.BoundaryFitWarning)  # the deviance is defined there too
        return {
            method: hk.lme("mathach ~ ses * Sector", few, random="~ 1 + ses | school", method=method)
            for method in ("REML", "ML")
        }


_thetas = st.lists(
    st.tuples(st.floats(0.0, 3.0), st.floats(-3.0, 3.0), st.floats(0.0, 3.0)), min_size=1, max_size=6
)


@settings(max_examples=25, deadline=None)
@given(thetas=_thetas, method=st.sampled_from(["REML", "ML"]))
def test_deviance_batch_is_the_deviance_at_each_theta(deviance_fits, thetas, method):
    dev = deviance_fits[method].deviance_function
    cp = dev.cp
    T = np.array(thetas, dtype=float)  # standardised thetas: (Lambda_11, Lambda_21, Lambda_22)
    batch = dev.batch(T) + cp.offset(dev.reml)
    one_by_one = np.array([dev.deviance(t) for t in T])
    np.testing.assert_allclose(batch, one_by_one, rtol=1e-12)
    dense = np.array([_dense_deviance(cp, cp.from_std(t), dev.reml) for t in T])
    np.testing.assert_allclose(batch, dense, rtol=1e-9)


def test_the_deviance_at_the_estimate_is_minus_twice_the_loglik(deviance_fits):
    for fit in deviance_fits.values():
        dev = fit.deviance_function
        assert dev.deviance(fit.theta_std) == pytest.approx(-2 * fit.loglik, rel=1e-10)
        assert _dense_deviance(dev.cp, fit.theta, dev.reml) == pytest.approx(-2 * fit.loglik, rel=1e-9)
