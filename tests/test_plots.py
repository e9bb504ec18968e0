"""Tests of hlmkit.plots.xqplot (spida2's extended quantile plots) and its plotting positions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference
from hlmkit.plots import _layout, ppoints

REF = r_reference("ch02")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def visible_axes(fig: plt.Figure) -> list[plt.Axes]:
    return [ax for ax in fig.axes if ax.get_visible()]


def title(ax: plt.Axes) -> str:
    return ax.get_title(loc="left")


def kind(ax: plt.Axes) -> str:
    return ax.get_title(loc="right")


def bar_heights(ax: plt.Axes) -> list[float]:
    """Bar lengths, top bar first (the y axis is inverted: first category on top)."""
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    return [p.get_width() for p in bars]


@pytest.fixture
def toy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [3.0, np.nan, 1.0, np.inf, 2.0, -np.inf, 5.0, np.nan, 4.0, 0.5, 7.0, 6.0],
            "n": np.arange(12),
            "flag": [True, False] * 6,
            "f": pd.Categorical(
                ["b", "a", None, "b", "b", "a", "b", None, "a", "b", "b", "b"], categories=["a", "b", "never"]
            ),
            "t": ["q", "p", "q", None, "q", "r", "q", "p", "q", "q", "p", "q"],
        }
    )


# ------------------------------------------------------------------------------------------
# plotting positions and layout
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 10, 11, 12])
def test_ppoints_match_r(n):
    np.testing.assert_allclose(ppoints(n), REF["ppoints"][f"n{n}"], rtol=1e-12)


def test_ppoints_empty():
    assert ppoints(0).shape == (0,)


@pytest.mark.parametrize(
    "k, shape",
    [
        (1, (1, 1)),
        (2, (1, 2)),
        (3, (2, 2)),
        (4, (2, 2)),
        (5, (2, 3)),
        (6, (2, 3)),
        (7, (3, 3)),
        (9, (3, 3)),
        (10, (3, 4)),
        (12, (3, 4)),
        (13, (4, 4)),
        (17, (5, 4)),
    ],
)
def test_layout_follows_spida2(k, shape):
    assert _layout(k) == shape


# ------------------------------------------------------------------------------------------
# the whole data set
# ------------------------------------------------------------------------------------------


def test_one_panel_per_variable_of_hs():
    hs = hk.load_hs()
    fig = hk.xqplot(hs)
    shown = visible_axes(fig)
    assert len(shown) == 13
    assert len(fig.axes) == 16  # a 4 x 4 grid, the last three slots hidden
    assert [title(ax) for ax in shown] == list(hs.columns)
    kinds = dict(zip(hs.columns, (kind(ax) for ax in shown)))
    assert kinds["school"] == "integer"
    assert kinds["mathach"] == "numeric"
    assert kinds["Sector"] == "categorical"
    # fits the book's width (8 inches) with four panels a row
    assert fig.get_size_inches()[0] <= 8.0 + 1e-9


def test_columns_select_and_order():
    hs = hk.load_hs()
    fig = hk.xqplot(hs, columns=["ses", "Sex"])
    assert [title(ax) for ax in visible_axes(fig)] == ["ses", "Sex"]
    assert len(fig.axes) == 2


def test_ncols_sets_panels_per_row():
    fig = hk.xqplot(hk.load_hs(), ncols=3)
    assert len(fig.axes) == 15  # 5 rows of 3
    assert len(visible_axes(fig)) == 13


# ------------------------------------------------------------------------------------------
# quantile panels
# ------------------------------------------------------------------------------------------


def test_quantile_panel_plots_sorted_finite_values(toy):
    fig = hk.xqplot(toy, columns=["x"])
    ax = fig.axes[0]
    pts = ax.lines[0]
    finite = np.sort(toy["x"][np.isfinite(toy["x"])].to_numpy())
    np.testing.assert_allclose(pts.get_ydata(), finite)
    np.testing.assert_allclose(pts.get_xdata(), ppoints(len(finite)))
    # mean (solid) and mean +/- SD (dashed) of the finite values
    mean, sd = finite.mean(), finite.std(ddof=1)
    hlines = ax.lines[1:]
    assert [ln.get_linestyle() for ln in hlines] == ["-", "--", "--"]
    np.testing.assert_allclose([ln.get_ydata()[0] for ln in hlines], [mean, mean - sd, mean + sd])
    assert ax.get_xlim() == (0.0, 1.0)


def test_missing_and_infinite_values_are_counted_in_the_label(toy):
    ax = hk.xqplot(toy, columns=["x"]).axes[0]
    assert ax.get_xlabel() == "Fraction of 8 obs.\n-Inf: 1 +Inf: 1  NA: 2"
    ax = hk.xqplot(toy, columns=["n"]).axes[0]
    assert ax.get_xlabel() == "Fraction of 12 obs."


def test_normal_quantiles_match_r():
    df = pd.DataFrame({"v": np.arange(12.0)[::-1]})
    ax = hk.xqplot(df, ptype="normal").axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), REF["qnorm_ppoints12"], rtol=1e-10)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.arange(12.0))
    assert ax.get_xlabel() == "Normal quantile\n(12 obs.)"


def test_logical_and_nullable_columns_are_numeric():
    df = pd.DataFrame({"b": [True, False, True, True], "i": pd.array([1, None, 3, 4], dtype="Int64")})
    fig = hk.xqplot(df)
    b_ax, i_ax = fig.axes
    assert kind(b_ax) == "logical"
    np.testing.assert_allclose(b_ax.lines[0].get_ydata(), [0, 1, 1, 1])
    assert i_ax.get_xlabel() == "Fraction of 3 obs.\nNA: 1"


def test_all_missing_column_draws_an_empty_panel():
    ax = hk.xqplot(pd.DataFrame({"z": [np.nan, np.nan]})).axes[0]
    assert ax.get_xlabel() == "Fraction of 0 obs.\nNA: 2"
    assert [t.get_text() for t in ax.texts] == ["no finite values"]


def test_datetime_column():
    df = pd.DataFrame({"d": pd.to_datetime(["2020-01-03", None, "2020-01-01", "2020-01-02"])})
    ax = hk.xqplot(df).axes[0]
    assert kind(ax) == "datetime"
    assert ax.get_xlabel() == "Fraction of 3 obs.\nNA: 1"


# ------------------------------------------------------------------------------------------
# bar panels
# ------------------------------------------------------------------------------------------


def test_categorical_bars_in_category_order_with_na_last(toy):
    ax = hk.xqplot(toy, columns=["f"]).axes[0]
    assert bar_heights(ax) == [3, 7, 0, 2]  # a, b, never, <NA>
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "never", "<NA>"]
    assert ax.get_xlabel() == "N = 10   Nmiss = 2"
    assert kind(ax) == "categorical"
    # the counts are written at the end of the bars
    assert [t.get_text() for t in ax.texts] == ["3", "7", "0", "2"]


def test_text_bars_alphabetical(toy):
    ax = hk.xqplot(toy, columns=["t"]).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p", "q", "r", "<NA>"]
    assert bar_heights(ax) == [3, 7, 1, 1]
    assert kind(ax) == "text"


def test_hs_bars_show_the_counts_of_the_notes():
    hs = hk.load_hs()
    axes = dict(zip(hs.columns, hk.xqplot(hs).axes))
    assert bar_heights(axes["Sex"]) == [1074, 903]
    assert bar_heights(axes["Sector"]) == [1144, 833]
    assert bar_heights(axes["Minority"]) == [1433, 544]
    assert axes["Sex"].get_xlabel() == "N = 1977"


def test_maxlab_labels_only_the_most_frequent():
    s = pd.Series(list("a" * 5 + "b" * 1 + "c" * 4 + "d" * 3 + "e" * 2))
    ax = hk.xqplot(pd.DataFrame({"s": s}), maxlab=3).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "c", "d"]
    assert len(ax.patches) == 5
    assert len(ax.texts) == 0  # more bars than maxlab: no count labels


def test_counts_can_be_turned_off(toy):
    ax = hk.xqplot(toy, columns=["f"], counts=False).axes[0]
    assert len(ax.texts) == 0


def test_long_names_are_broken():
    name = "a_rather_long_variable_name"
    ax = hk.xqplot(pd.DataFrame({name: [1.0, 2.0]})).axes[0]
    assert title(ax) == name[:20] + "\n" + name[20:]


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


def test_bad_ptype_is_an_error():
    with pytest.raises(ValueError, match="ptype must be 'uniform' or 'normal', not 'qq'"):
        hk.xqplot(hk.load_hs(), ptype="qq")


def test_missing_column_is_named():
    with pytest.raises(KeyError, match="nosuch"):
        hk.xqplot(hk.load_hs(), columns=["ses", "nosuch"])


def test_no_columns():
    with pytest.raises(ValueError, match="no columns"):
        hk.xqplot(pd.DataFrame(index=range(3)))


def test_bad_ncols():
    with pytest.raises(ValueError, match="ncols"):
        hk.xqplot(hk.load_hs(), ncols=0)


@pytest.mark.parametrize(
    "values, what",
    [(np.array([1 + 2j, 3j]), "complex"), (pd.to_timedelta([1, 2], unit="D"), "timedelta")],
)
def test_undrawable_columns_are_named(values, what):
    df = pd.DataFrame({"ok": [1.0, 2.0], "weird": values})
    with pytest.raises(TypeError, match="weird"):
        hk.xqplot(df)
    assert plt.get_fignums() == []  # refused before drawing anything


def test_repeated_column_names():
    df = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    with pytest.raises(ValueError, match="repeated column names"):
        hk.xqplot(df)
