"""Tests of hlmkit.effects: bands, effect plots, per-cluster lines, marked effects, static 3D."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hlmkit as hk


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return hk.load_hs()


@pytest.fixture(scope="module")
def fit(hs):
    return hk.lme("mathach ~ ses * Sector", hs, random="~ 1 | school")


def test_plot_band_sorts_by_x_and_fills_between_limits():
    _fig, ax = plt.subplots()
    line = hk.plot_band(ax, [3, 1, 2], [30, 10, 20], [29, 9, 19], [31, 11, 21], color="C2")
    assert line is ax.lines[0]
    assert line.get_xdata().tolist() == [1.0, 2.0, 3.0]
    assert line.get_ydata().tolist() == [10.0, 20.0, 30.0]
    (band,) = ax.collections
    verts = band.get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(9.0)
    assert verts[:, 1].max() == pytest.approx(31.0)


def test_plot_band_without_limits_draws_only_the_line():
    _fig, ax = plt.subplots()
    hk.plot_band(ax, [0, 1], [0, 1])
    assert len(ax.collections) == 0 and len(ax.lines) == 1


def test_plot_band_rejects_mismatched_input():
    _fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="both lower and upper"):
        hk.plot_band(ax, [0, 1], [0, 1], lower=[0, 0])
    with pytest.raises(ValueError, match="x has"):
        hk.plot_band(ax, [0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="one value per x"):
        hk.plot_band(ax, [0, 1], [0, 1], [0], [1])


def test_effect_plot_draws_the_wald_estimates_and_two_se_bands(fit, hs):
    grid = hk.pred_grid(ses=np.linspace(-2, 2, 9), Sector=hs["Sector"])
    ww = hk.wald(fit, pred=grid).to_frame(se=2)
    fig = hk.effect_plot(ww, "ses", group="Sector", hline=0)
    ax = fig.axes[0]
    lines = [ln for ln in ax.lines if len(ln.get_xdata()) == 9]
    assert len(lines) == 2
    # the Public line is the model's prediction: b0 + b2 + (b1 + b3) ses
    b = fit.fixef
    pub = lines[1]
    expected = b["(Intercept)"] + b["SectorPublic"] + (b["ses"] + b["ses:SectorPublic"]) * pub.get_xdata()
    np.testing.assert_allclose(pub.get_ydata(), expected, rtol=1e-12)
    # each band spans estimate -+ 2 SE
    band = ax.collections[1].get_paths()[0].vertices
    sub = ww[ww["Sector"] == "Public"]
    assert band[:, 1].max() == pytest.approx((sub["coef"] + 2 * sub["se"]).max())
    assert band[:, 1].min() == pytest.approx((sub["coef"] - 2 * sub["se"]).min())


def test_effect_plot_panels_hue_and_style(fit, hs):
    grid = hk.pred_grid(ses=[-1.0, 1.0], m=[-1, 0, 1], Sector=hs["Sector"])
    grid["line"] = grid["Sector"].astype(str) + " " + grid["m"].astype(str)
    ww = hk.wald(fit, pred=grid[["ses", "Sector"]]).to_frame(se=2)
    ww[["m", "line"]] = grid[["m", "line"]].to_numpy()
    fig = hk.effect_plot(ww, "ses", group="line", hue="Sector", style="m", col="Sector", band=False)
    assert len(fig.axes) == 2
    left = fig.axes[0]
    assert {ln.get_linestyle() for ln in left.lines} == {"-", "--", ":"}
    assert {ln.get_color() for ln in left.lines} == {"C0"}
    assert len(left.collections) == 0
    # with a colour but no style, the legend names the colours' levels, not each line
    fig = hk.effect_plot(ww, "ses", group="line", hue="Sector", band=False)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["Catholic", "Public"]
    fig = hk.effect_plot(ww, "ses", group="line", hue="Sector", style="m", band=False)
    assert len(fig.axes[0].get_legend().get_texts()) == 6


def test_effect_plot_errors_name_the_problem(fit, hs):
    ww = hk.wald(fit, pred=hk.pred_grid(ses=[0.0, 1.0], Sector=hs["Sector"])).to_frame()
    with pytest.raises(KeyError, match="'nope'"):
        hk.effect_plot(ww, "nope")
    ww["mixed"] = ["a", "b", "a", "b"]
    with pytest.raises(ValueError, match="several mixed values"):
        hk.effect_plot(ww, "ses", group="Sector", hue="mixed")
    _fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="without col/row"):
        hk.effect_plot(ww, "ses", col="Sector", ax=ax)


def test_cluster_lines_are_the_per_cluster_ols_lines(hs):
    fig = hk.cluster_lines(hs, "ses", "mathach", "school", col="Sector", centroids=True)
    cath = fig.axes[0]
    coefs = hk.lmlist("mathach ~ ses", hs, "school").coef
    sch = sorted(hs.loc[hs["Sector"] == "Catholic", "school"].unique())
    segs = [ln for ln in cath.lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) == 2]
    assert len(segs) == len(sch)
    first = segs[0]
    a, b = coefs.loc[sch[0]]
    np.testing.assert_allclose(first.get_ydata(), a + b * first.get_xdata(), rtol=1e-10)
    x = hs.loc[hs["school"] == sch[0], "ses"]
    assert first.get_xdata().tolist() == [x.min(), x.max()]


def test_cluster_lines_order_panels_of_a_text_column_as_r(hs):
    """Data, not a prediction grid: a text column's panels in R's (sorted) order, as xy_panels
    draws them, whatever the order of the rows."""
    d = hs.assign(sec=hs["Sector"].astype(str)).sort_values("mathach", ascending=False)
    assert d["sec"].iloc[0] == "Public"
    fig = hk.cluster_lines(d, "ses", "mathach", "school", col="sec")
    assert [ax.get_title() for ax in fig.axes] == ["sec = Catholic", "sec = Public"]


def test_mark_effect_and_static_3d(hs):
    _fig, ax = plt.subplots()
    ann = hk.mark_effect(ax, (0.0, 1.0), (0.0, 3.0), "compositional")
    assert ann.get_text() == "compositional"
    assert ann.xy == (0.0, 2.0)
    sch = hk.up(hs, "school", all=True)
    ax3 = hk.view3d_static(
        sch,
        "ses",
        "Size",
        "mathach",
        hue="Sector",
        surfaces=[(lambda x, y: 12 + 0 * x + 0 * y, "C0")],
        ellipsoids=[([0, 1000, 12], np.diag([0.1, 1e5, 4.0]), 2.0, "k")],
    )
    assert ax3.name == "3d"
    with pytest.raises(KeyError, match="'nope'"):
        hk.view3d_static(sch, "ses", "Size", "nope")
