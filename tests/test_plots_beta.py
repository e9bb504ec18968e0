"""Data-space and beta-space plots: cluster_panels, beta_space, data_space, coef_lines, conf_ellipses,
mark_origin, group_colors (hlmkit.plots) and view3d_static (hlmkit.plot3d)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

import hlmkit as hk
from hlmkit.ellipses import conf_ellipse, line_L
from hlmkit.plots import coef_lines, conf_ellipses, data_space, group_colors, mark_origin


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return hk.load_hs()


@pytest.fixture(scope="module")
def lcoefs(hs: pd.DataFrame) -> pd.DataFrame:
    return hk.lmlist("mathach ~ ses", hs, "school").coef


@pytest.fixture(scope="module")
def sector(hs: pd.DataFrame) -> pd.Series:
    return hk.up(hs, "school")["Sector"]


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _same_color(a, b) -> bool:
    return np.allclose(to_rgba(a), to_rgba(b))


# ---------------------------------------------------------------------------------------------
# colours
# ---------------------------------------------------------------------------------------------


def test_group_colors_defaults_and_overrides():
    assert group_colors(["a", "b", "c"]) == {"a": "C0", "b": "C1", "c": "C2"}
    assert group_colors(["a", "b"], {"b": "red", "z": "blue"}) == {"a": "C0", "b": "red"}


# ---------------------------------------------------------------------------------------------
# data space
# ---------------------------------------------------------------------------------------------


def test_data_space_one_scatter_per_group(hs, ax):
    data_space(hs, "ses", "mathach", "Sector", ax=ax, colors={"Public": "red"})
    assert len(ax.collections) == 2
    offsets = ax.collections[1].get_offsets()
    assert len(offsets) == int((hs["Sector"] == "Public").sum())
    assert _same_color(ax.collections[1].get_facecolor()[0][:3], "red")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Catholic", "Public"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("ses", "mathach")


def test_data_space_without_legend_leaves_points_unlabelled(hs, ax):
    data_space(hs, "ses", "mathach", "Sector", ax=ax, legend=False)
    assert ax.get_legend() is None
    assert all(c.get_label().startswith("_") for c in ax.collections)


def test_data_space_errors(hs, ax):
    with pytest.raises(KeyError, match="'nope'"):
        data_space(hs, "nope", "mathach", ax=ax)
    with pytest.raises(ValueError, match="3 values for"):
        data_space(hs, "ses", "mathach", hue=[1, 2, 3], ax=ax)


# ---------------------------------------------------------------------------------------------
# lines from (intercept, slope) pairs
# ---------------------------------------------------------------------------------------------


def test_coef_lines_draws_each_line_over_its_range(lcoefs, sector, hs, ax):
    ranges = hs.groupby("school")["ses"].agg(["min", "max"])
    lines = coef_lines(ax, lcoefs, x_range=ranges, hue=sector, colors={"Catholic": "k", "Public": "r"})
    assert len(lines) == len(lcoefs)
    first = lines[0]
    school = lcoefs.index[0]
    np.testing.assert_allclose(first.get_xdata(), ranges.loc[school].to_numpy())
    a, b = lcoefs.loc[school]
    np.testing.assert_allclose(first.get_ydata(), a + b * ranges.loc[school].to_numpy())
    assert _same_color(first.get_color(), "k" if sector[school] == "Catholic" else "r")


def test_coef_lines_aligns_a_series_hue_by_index(lcoefs, sector, ax):
    shuffled = sector.sample(frac=1, random_state=3)  # same values, another order
    lines = coef_lines(ax, lcoefs, x_range=(-1, 1), hue=shuffled, colors={"Catholic": "k", "Public": "r"})
    for line, school in zip(lines, lcoefs.index):
        assert _same_color(line.get_color(), "k" if sector[school] == "Catholic" else "r")


def test_coef_lines_default_range_labels_and_missing_rows(ax):
    ax.set_xlim(0, 4)
    coefs = pd.DataFrame({"(Intercept)": [1.0, np.nan, 0.0], "x": [2.0, 1.0, -1.0]}, index=["a", "b", "c"])
    lines = coef_lines(ax, coefs, hue=["g", "g", "h"], labels=True)
    assert len(lines) == 2  # the NaN row is skipped
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 9.0])
    assert lines[1].get_label() == "h"
    with pytest.raises(KeyError, match="no range for rows"):
        coef_lines(ax, coefs, x_range=pd.DataFrame({"lo": [0.0], "hi": [1.0]}, index=["a"]))
    with pytest.raises(KeyError, match="'slope'"):
        coef_lines(ax, coefs, slope="slope")


def test_coef_lines_accepts_an_array(ax):
    lines = coef_lines(ax, np.array([[0.0, 1.0], [2.0, 0.0]]), x_range=(0, 1))
    np.testing.assert_allclose(lines[0].get_ydata(), [0.0, 1.0])
    np.testing.assert_allclose(lines[1].get_ydata(), [2.0, 2.0])


# ---------------------------------------------------------------------------------------------
# confidence ellipses in beta space
# ---------------------------------------------------------------------------------------------


def test_conf_ellipses_draws_the_ellipse_and_its_centre(hs, ax):
    fit = hk.ols("mathach ~ ses * Sector", hs)
    Ls = {s: line_L(fit, "ses", Sector=s) for s in ["Catholic", "Public"]}
    drawn = conf_ellipses(ax, fit, Ls, colors={"Public": "m"})
    assert set(drawn) == {"Catholic", "Public"}
    np.testing.assert_allclose(drawn["Public"].get_xydata(), conf_ellipse(fit, L=Ls["Public"]))
    assert _same_color(drawn["Public"].get_color(), "m")
    assert drawn["Catholic"].get_label() == "Catholic"
    centres = [ln for ln in ax.lines if ln.get_marker() == "+"]
    assert len(centres) == 2
    expected = Ls["Public"].to_numpy() @ fit.params.to_numpy()
    np.testing.assert_allclose(centres[1].get_xydata()[0], expected, rtol=1e-6)


def test_shadow_ellipses_are_smaller(hs, ax):
    fit = hk.ols("mathach ~ ses * Sector", hs)
    L = {"d": line_L(fit, "ses", Sector="Public") - line_L(fit, "ses", Sector="Catholic")}
    big = conf_ellipses(ax, fit, L)["d"].get_xydata()
    small = conf_ellipses(ax, fit, L, kind="shadow", center=False, labels=False)["d"].get_xydata()
    assert np.ptp(small[:, 0]) < np.ptp(big[:, 0])
    assert np.ptp(small[:, 1]) / np.ptp(big[:, 1]) == pytest.approx(
        hk.ellipse_radius(0.95, "shadow", 1973) / hk.ellipse_radius(0.95, "coverage", 1973), rel=1e-3
    )


def test_mark_origin(ax):
    mark_origin(ax)
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(crosses) == 1
    np.testing.assert_allclose(crosses[0].get_xydata(), [[0, 0]])
    assert crosses[0].get_label() == "no difference"


# ---------------------------------------------------------------------------------------------
# beta space
# ---------------------------------------------------------------------------------------------


def test_beta_space_groups_colours_and_labels(lcoefs, sector):
    shuffled = sector.sample(frac=1, random_state=5)
    ax = hk.beta_space(
        lcoefs, hue=shuffled, colors={"Public": "r"}, ellipse_radius=None, xlabel="intercept", ylabel="slope"
    )
    try:
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("intercept", "slope")
        pub = ax.collections[1]
        assert _same_color(pub.get_facecolor()[0][:3], "r")
        np.testing.assert_allclose(
            np.sort(pub.get_offsets()[:, 1]), np.sort(lcoefs.loc[sector == "Public", "ses"].to_numpy())
        )
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Catholic", "Public"]
    finally:
        plt.close(ax.figure)


def test_beta_space_data_ellipses_and_errors(lcoefs):
    ax = hk.beta_space(lcoefs, ellipse_radius=1)
    try:
        assert len(ax.lines) == 1  # one group, one data ellipse
        with pytest.raises(KeyError, match="'slope'"):
            hk.beta_space(lcoefs, y="slope", ax=ax)
        with pytest.raises(KeyError, match="no value for rows"):
            hk.beta_space(lcoefs, hue=pd.Series(["a"], index=[lcoefs.index[0]]), ax=ax)
    finally:
        plt.close(ax.figure)


# ---------------------------------------------------------------------------------------------
# per-cluster panels
# ---------------------------------------------------------------------------------------------


def test_cluster_panels_draws_each_school_ols_line(hs, lcoefs):
    order = list(lcoefs.index[::-1])
    fig = hk.cluster_panels(
        hs, "ses", "mathach", "school", order=order, title=lambda s: f"S{s}", col_wrap=5, line_color="k"
    )
    try:
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert len(visible) == len(order)
        first = visible[0]
        assert first.get_title() == f"S{order[0]}"
        (line,) = first.lines
        x, y = line.get_xydata().T
        slope = (y[1] - y[0]) / (x[1] - x[0])
        assert slope == pytest.approx(lcoefs.loc[order[0], "ses"], rel=1e-8)
        assert _same_color(line.get_color(), "k")
    finally:
        plt.close(fig)


def test_cluster_panels_with_hue_draws_a_line_per_group(hs):
    fig = hk.cluster_panels(
        hs, "ses", "mathach", "Sector", hue="Sex", colors={"Male": "g"}, col_wrap=2, panel_size=3
    )
    try:
        ax = fig.axes[0]
        assert len(ax.lines) == 2  # girls and boys
        assert _same_color(ax.lines[1].get_color(), "g")
        assert ax.get_title() == "Catholic"
        assert fig.legends and [t.get_text() for t in fig.legends[0].get_texts()] == ["Female", "Male"]
    finally:
        plt.close(fig)


def test_cluster_panels_missing_column(hs):
    with pytest.raises(KeyError, match="'nope'"):
        hk.cluster_panels(hs, "ses", "mathach", "nope")


# ---------------------------------------------------------------------------------------------
# static 3D
# ---------------------------------------------------------------------------------------------


def test_view3d_static(hs):
    ax = hk.view3d_static(
        hs,
        "ses",
        "Size",
        "mathach",
        hue="Sector",
        surfaces=[(lambda x, y: 10 + x + 0 * y, "0.3")],
        ellipsoids=[([0, 1000, 12], np.diag([1.0, 1e4, 4.0]), 1.0, "k")],
    )
    try:
        assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("ses", "Size", "mathach")
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Catholic", "Public"]
        assert len(ax.collections) == 4  # two groups, the surface and the ellipsoid
    finally:
        plt.close(ax.figure)
    with pytest.raises(KeyError, match="'nope'"):
        hk.view3d_static(hs, "ses", "nope", "mathach")
