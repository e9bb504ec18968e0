"""hlmkit.shrinkage: pooled means, codings, BLUEs and BLUPs, against nlme values frozen in R.

Reference values: tests/reference/notes2.json (tests/reference/R/part_notes2.R) and
tests/reference/lme_models.json (part_lme.R), R 4.2.2, nlme 3.1-162.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference

N2 = r_reference("notes2")
LME = r_reference("lme_models")


def _frame(m):
    rows = m["rows"] if isinstance(m["rows"], list) else [m["rows"]]
    cols = m["cols"] if isinstance(m["cols"], list) else [m["cols"]]
    return pd.DataFrame(
        np.asarray(m["values"], dtype=float).reshape(len(rows), len(cols)), index=rows, columns=cols
    )


@pytest.fixture(scope="module")
def hs_sid():
    """hs with the notes' informative school id, built as in the R part."""
    hs = hk.load_hs()
    comp = hk.capply(hs["Sex"] == "Female", hs["school"], "mean")
    cat = np.where(comp == 1, "Girls", np.where(comp == 0, "Boys", "Coed"))
    sid = hs["Sector"].astype(str).str[0] + hs["school"].astype(str) + pd.Series(cat, index=hs.index).str[0]
    hs["sid"] = hk.reorder(sid, hs["ses"] + 1000 * (hs["Sector"] == "Catholic"))
    return hs


@pytest.fixture(scope="module")
def oneway(hs_sid):
    return hk.lme("mathach ~ 1", hs_sid, random="~ 1 | sid")


@pytest.fixture(scope="module")
def slopes(hs_sid):
    return hk.lme("mathach ~ ses * Sector", hs_sid, random="~ 1 + ses | school")


# --------------------------------------------------------------------------------------------
# pooled means and codings
# --------------------------------------------------------------------------------------------


def test_pooled_means_match_R_with_R_variance_components(hs_sid):
    ref = N2["oneway_sid"]
    g00 = ref["G"]["values"][0][0]
    s2 = ref["sigma"] ** 2
    pm = hk.pooled_means(hs_sid, "mathach", "sid", g00, s2, size="Size")
    assert list(pm.index) == ["schools", "students", "size", "mixed"]
    for name, vals in N2["weighted_means"].items():
        for col in ("estimate", "cond_var", "uncond_var"):
            assert pm.loc[name, col] == pytest.approx(vals[col], rel=1e-10), (name, col)
    # the inverse-variance weighted mean of the school means is nlme's GLS estimate, and its
    # unconditional variance is nlme's variance of the fixed effect
    assert pm.loc["mixed", "estimate"] == pytest.approx(ref["fixef"]["(Intercept)"], rel=1e-10)
    assert pm.loc["mixed", "uncond_var"] == pytest.approx(ref["vcov"]["values"][0][0], rel=1e-8)
    assert N2["mean_overall"] == pytest.approx(pm.loc["students", "estimate"], rel=1e-12)
    assert N2["mean_of_means"] == pytest.approx(pm.loc["schools", "estimate"], rel=1e-12)


def test_pooled_means_with_our_fit_reproduce_our_gls(hs_sid, oneway):
    pm = hk.pooled_means(hs_sid, "mathach", "sid", oneway.G.iloc[0, 0], oneway.sigma**2)
    assert pm.loc["mixed", "estimate"] == pytest.approx(oneway.fixef["(Intercept)"], rel=1e-10)
    assert pm.loc["mixed", "uncond_var"] == pytest.approx(oneway.vcov.iloc[0, 0], rel=1e-8)
    # the student mean has the smallest conditional variance, the mixed weights the smallest unconditional
    assert pm["cond_var"].idxmin() == "students"
    assert pm["uncond_var"].idxmin() == "mixed"


def test_pooled_weights_order_and_sums(hs_sid):
    w = hk.pooled_weights(hs_sid, "mathach", "sid", 8.0, 40.0, size="Size")
    assert list(w.index) == N2["oneway_sid"]["levels"]  # categories in their order
    np.testing.assert_allclose(w[["w_schools", "w_students", "w_size", "w_mixed"]].sum(), 1.0)
    np.testing.assert_array_equal(w["n"], N2["sid_table"]["n"])
    np.testing.assert_allclose(w["mean"], N2["sid_table"]["mathach.ols"], rtol=1e-12)


def test_pooled_weights_bad_input(hs_sid):
    with pytest.raises(KeyError, match="no column 'nope'"):
        hk.pooled_weights(hs_sid, "nope", "sid", 1.0, 1.0)
    with pytest.raises(ValueError, match="'ses' varies within cluster"):
        hk.pooled_weights(hs_sid, "mathach", "sid", 1.0, 1.0, size="ses")
    with pytest.raises(ValueError, match="g00 >= 0"):
        hk.pooled_weights(hs_sid, "mathach", "sid", -1.0, 1.0)


def test_weighted_coding_intercepts_match_R(hs_sid):
    codes = hs_sid["sid"].cat.codes.to_numpy()
    w = hk.pooled_weights(hs_sid, "mathach", "sid", 1.0, 1.0, size="Size")
    y = hs_sid["mathach"].to_numpy()
    for name, weights in [("schools", np.ones(40)), ("students", w["n"]), ("size", w["n"] * 0 + w["w_size"])]:
        C = hk.weighted_coding(weights)
        assert C.shape == (40, 39)
        np.testing.assert_allclose(np.asarray(weights) @ C, 0.0, atol=1e-9)
        X = np.column_stack([np.ones(len(y)), C[codes]])
        b = np.linalg.lstsq(X, y, rcond=None)[0]
        assert b[0] == pytest.approx(N2["coded_intercepts"][name], rel=1e-10), name
        if name == "schools":  # equal weights: the intercept of R's contr.sum coding
            assert b[0] == pytest.approx(N2["coded_intercepts"]["contr_sum"], rel=1e-10)


@pytest.mark.parametrize(
    "weights, match", [([1.0], "two levels"), ([1.0, -2.0], "positive"), ([1.0, np.nan], "finite")]
)
def test_weighted_coding_bad_input(weights, match):
    with pytest.raises(ValueError, match=match):
        hk.weighted_coding(weights)


# --------------------------------------------------------------------------------------------
# shrinkage in the one-way model
# --------------------------------------------------------------------------------------------


def test_shrinkage_table_is_ranef_exactly(oneway):
    tab = hk.shrinkage_table(oneway)
    np.testing.assert_allclose(tab["u_blup"], oneway.ranef["(Intercept)"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tab["blup"], oneway.coef["(Intercept)"], rtol=1e-12)
    lam = 1 / (1 + oneway.sigma**2 / (tab["n"] * oneway.G.iloc[0, 0]))
    np.testing.assert_allclose(tab["shrinkage"], lam)
    assert tab["shrinkage"].between(0, 1).all()
    # more students, less shrinkage
    assert tab.sort_values("n")["shrinkage"].is_monotonic_increasing


def test_shrinkage_table_matches_nlme(oneway):
    ref = N2["oneway_sid"]
    tab = hk.shrinkage_table(oneway)
    assert list(tab.index) == ref["levels"]
    re = _frame(ref["ranef"])
    st = N2["sid_table"]
    np.testing.assert_array_equal(tab["n"], st["n"])
    np.testing.assert_allclose(tab["blue"], st["mathach.ols"], rtol=1e-12)
    np.testing.assert_allclose(tab["u_blup"], re["(Intercept)"].loc[tab.index], atol=2e-5)
    np.testing.assert_allclose(tab["blup"], st["blup"], atol=2e-5)


def test_blup_from_blue_with_R_components_gives_R_ranef():
    # hlmkit's BLUP formula alone, fed nlme's own estimates and each school's mean, gives nlme's BLUPs
    ref = N2["oneway_sid"]
    g00, s2, gamma = ref["G"]["values"][0][0], ref["sigma"] ** 2, ref["fixef"]["(Intercept)"]
    st = pd.DataFrame(N2["sid_table"]).set_index("sid")
    ours = pd.Series(
        [
            hk.blup_from_blue([gamma], [[g00]], s2, [[n]], [mean]).estimate[0] - gamma
            for n, mean in zip(st["n"], st["mathach.ols"])
        ],
        index=st.index,
    )
    re = _frame(ref["ranef"])["(Intercept)"]
    np.testing.assert_allclose(ours, re.loc[st.index], rtol=1e-9, atol=1e-9)


def test_shrinkage_table_with_a_covariate(hs_sid):
    fit = hk.lme("mathach ~ ses", hs_sid, random="~ 1 | school")
    tab = hk.shrinkage_table(fit)
    np.testing.assert_allclose(tab["u_blup"], fit.ranef["(Intercept)"], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(
        tab["blup"], fit.fitted(1).groupby(fit.group_values).mean().loc[tab.index], rtol=1e-10
    )


def test_shrinkage_table_refuses_random_slopes(slopes):
    with pytest.raises(ValueError, match="random-intercept model"):
        hk.shrinkage_table(slopes)


# --------------------------------------------------------------------------------------------
# the matrix formula
# --------------------------------------------------------------------------------------------


def test_blup_from_blue_with_nlme_estimates_gives_nlme_ranef(hs_sid):
    ref = LME["hs_slopes_outcomes"]
    G = np.asarray(ref["G"]["values"])
    s2 = ref["sigma"] ** 2
    fx = ref["fixef"]
    re = _frame(ref["ranef"])
    lines = _frame(N2["slopes_outcomes_lines"])
    for school, d in hs_sid.groupby("school"):
        pub = float(d["Sector"].iloc[0] == "Public")
        gamma = [fx["(Intercept)"] + pub * fx["SectorPublic"], fx["ses"] + pub * fx["ses:SectorPublic"]]
        X = np.column_stack([np.ones(len(d)), d["ses"]])
        bh = np.linalg.lstsq(X, d["mathach"].to_numpy(), rcond=None)[0]
        res = hk.blup_from_blue(gamma, G, s2, X.T @ X, bh)
        np.testing.assert_allclose(res.estimate - gamma, re.loc[str(school)], rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(res.estimate, lines.loc[str(school)], rtol=1e-9)
        # the notes' form of the formula gives the same
        Si = X.T @ X / s2
        notes = np.linalg.solve(np.linalg.inv(G) + Si, np.linalg.solve(G, gamma) + Si @ bh)
        np.testing.assert_allclose(res.estimate, notes, rtol=1e-10)
        # prediction-error variance below G
        assert np.all(np.linalg.eigvalsh(G - res.variance) > -1e-12)


def test_blue_blup_reproduces_the_fit(slopes):
    bb = hk.blue_blup(slopes)
    np.testing.assert_allclose(bb.ranef, slopes.ranef, rtol=1e-7, atol=1e-9)
    blue_r = _frame(N2["blue_ses"])
    np.testing.assert_allclose(
        bb.blue.to_numpy(), blue_r.loc[[str(s) for s in bb.blue.index]].to_numpy(), rtol=1e-10
    )
    lines = _frame(N2["slopes_outcomes_lines"])
    np.testing.assert_allclose(
        bb.blup.to_numpy(), lines.loc[[str(s) for s in bb.blup.index]].to_numpy(), rtol=1e-3, atol=1e-3
    )
    # population values are the sector lines
    fx = slopes.fixef
    cath = bb.population.loc[1317]
    np.testing.assert_allclose(cath, [fx["(Intercept)"], fx["ses"]], rtol=1e-10)
    tab = bb.table()
    assert tab.shape == (40, 7) and tab[("n", "")].sum() == 1977


def test_blue_blup_random_intercept_agrees_with_shrinkage_table(oneway):
    bb = hk.blue_blup(oneway)
    tab = hk.shrinkage_table(oneway)
    np.testing.assert_allclose(bb.blup["(Intercept)"], tab["blup"], rtol=1e-10)
    np.testing.assert_allclose(bb.blue["(Intercept)"], tab["blue"], rtol=1e-12)


def test_blup_from_blue_edge_cases():
    # G = 0 (boundary): the BLUP is the population value
    res = hk.blup_from_blue([1.0, 2.0], np.zeros((2, 2)), 4.0, np.eye(2) * 10, [5.0, 7.0])
    np.testing.assert_allclose(res.estimate, [1.0, 2.0])
    np.testing.assert_allclose(res.variance, 0.0)
    # very precise BLUE: the BLUP is nearly the BLUE
    res = hk.blup_from_blue([1.0], [[4.0]], 1e-6, [[100.0]], [3.0])
    assert res.estimate[0] == pytest.approx(3.0, abs=1e-6)
    with pytest.raises(ValueError, match="singular"):
        hk.blup_from_blue([0.0, 0.0], np.eye(2), 1.0, np.ones((2, 2)), [0.0, 0.0])
    with pytest.raises(ValueError, match="must be 2 x 2"):
        hk.blup_from_blue([0.0, 0.0], np.eye(3), 1.0, np.eye(2), [0.0, 0.0])


# --------------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------------


def test_plot_shrinkage_draws_one_arrow_per_cluster(oneway):
    tab = hk.shrinkage_table(oneway)
    ax = hk.plot_shrinkage(tab, oneway.fixef["(Intercept)"])
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(tab)
    # each arrow goes from the BLUE to the BLUP of its cluster
    a = arrows[0]
    assert a.xyann[1] == pytest.approx(tab["blue"].iloc[0]) and a.xy[1] == pytest.approx(tab["blup"].iloc[0])
    with pytest.raises(KeyError, match="no column 'size'"):
        hk.plot_shrinkage(tab, 0.0, x="size")


def test_plot_blue_blup_panels(slopes, hs_sid):
    bb = hk.blue_blup(slopes)
    sector = hk.up(hs_sid, "school")["Sector"]
    fig = hk.plot_blue_blup(bb, sector, G=slopes.G)
    assert [ax.get_title() for ax in fig.axes] == ["Catholic", "Public"]
    # the population point of each panel is its sector's line
    for ax, sec in zip(fig.axes, ["Catholic", "Public"]):
        pt = next(ln for ln in ax.lines if ln.get_marker() == "o")
        expected = bb.population[(sector == sec).to_numpy()].iloc[0].to_numpy()
        np.testing.assert_allclose([pt.get_xdata()[0], pt.get_ydata()[0]], expected)
    with pytest.raises(ValueError, match="G must be 2 x 2"):
        hk.plot_blue_blup(bb, sector, G=np.eye(3))
    with pytest.raises(ValueError, match="no value for some clusters"):
        hk.plot_blue_blup(bb, sector.iloc[:5])
