"""capply, cvar, dvar, up, tab, some, gicc, reorder: exact values on small frames, invariants, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

import hlmkit as hk


@pytest.fixture
def small():
    return pd.DataFrame(
        {
            "g": [1, 1, 2, 2, 2, 3],
            "x": [1.0, 3.0, 2.0, np.nan, 8.0, 5.0],
            "f": pd.Categorical(["a", "b", "b", "b", "c", "a"], categories=["a", "b", "c"]),
            "sz": [10, 10, 20, 20, 20, 30],
            "txt": ["u", "v", "w", "w", "w", "z"],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


# --- capply -----------------------------------------------------------------------------------


def test_capply_scalar_and_vector(small):
    assert hk.capply(small["x"], small["g"], "mean").tolist() == [2.0, 2.0, 5.0, 5.0, 5.0, 5.0]
    r = hk.capply(small["x"], small["g"], lambda v: v.rank())
    assert r.tolist()[:3] == [1.0, 2.0, 1.0] and np.isnan(r.iloc[3])
    assert list(r.index) == [10, 11, 12, 13, 14, 15]


def test_capply_on_a_frame_with_a_column_name(small):
    out = hk.capply(small, "g", lambda d: d["x"].max() - d["x"].min())
    assert out.tolist() == [2.0, 2.0, 6.0, 6.0, 6.0, 0.0]


def test_capply_extra_arguments(small):
    out = hk.capply(small["x"], small["g"], lambda v, k: v.sum() * k, 10)
    assert out.tolist() == [40.0, 40.0, 100.0, 100.0, 100.0, 50.0]


def test_capply_na_cluster_gives_nan_by_default(small):
    g = small["g"].astype(float).copy()
    g.iloc[0] = np.nan
    out = hk.capply(small["x"], g, "mean")
    assert np.isnan(out.iloc[0]) and out.iloc[1] == 3.0
    own = hk.capply(small["x"], g, "mean", na_group=True)
    assert own.iloc[0] == 1.0


def test_capply_wrong_length_is_an_error(small):
    with pytest.raises(ValueError, match="func returned 2 values for cluster 2, which has 3 rows"):
        hk.capply(small["x"], small["g"], lambda v: v.to_numpy()[:2])


def test_capply_unknown_column(small):
    with pytest.raises(KeyError, match="no column 'school'"):
        hk.capply(small, "school", len)


def test_capply_length_mismatch(small):
    with pytest.raises(ValueError, match="has 3 values but x has 6"):
        hk.capply(small["x"], [1, 2, 3], "mean")


def test_capply_text_result(small):
    out = hk.capply(small["txt"], small["g"], lambda v: v.iloc[0])
    assert out.tolist() == ["u", "u", "w", "w", "w", "z"]


# --- cvar / dvar -------------------------------------------------------------------------------


def test_cvar_skips_missing_values_and_fills_every_row(small):
    assert hk.cvar(small["x"], small["g"]).tolist() == [2.0, 2.0, 5.0, 5.0, 5.0, 5.0]


def test_dvar_keeps_missing_values(small):
    d = hk.dvar(small["x"], small["g"])
    assert d.iloc[[0, 1, 2, 4, 5]].tolist() == [-1.0, 1.0, -3.0, 3.0, 0.0]
    assert np.isnan(d.iloc[3])


def test_cvar_of_a_factor_gives_proportions_of_non_reference_levels(small):
    out = hk.cvar(small["f"], small["g"])
    assert list(out.columns) == ["b", "c"]
    np.testing.assert_allclose(out["b"], [0.5, 0.5, 2 / 3, 2 / 3, 2 / 3, 0.0])
    np.testing.assert_allclose(out["c"], [0.0, 0.0, 1 / 3, 1 / 3, 1 / 3, 0.0])
    full = hk.cvar(small["f"], small["g"], all=True)
    np.testing.assert_allclose(full.sum(axis=1), 1.0)


def test_cvar_of_a_two_level_factor_is_a_vector(hs):
    m = hk.cvar(hs["Minority"], hs["school"])
    assert isinstance(m, pd.Series)
    s1317 = hs["school"] == 1317
    assert m[s1317].iloc[0] == pytest.approx((hs.loc[s1317, "Minority"] == "Yes").mean())


def test_cvar_of_a_logical(hs):
    p = hk.cvar(hs["Sex"] == "Female", hs["school"])
    assert p[hs["school"] == 2208].iloc[0] == pytest.approx(0.5833333, abs=5e-8)


def test_dvar_of_a_factor(small):
    d = hk.dvar(small["f"], small["g"])
    np.testing.assert_allclose(d["b"], [-0.5, 0.5, 1 / 3, 1 / 3, -2 / 3, 0.0])


def test_cvar_refuses_text(small):
    with pytest.raises(TypeError, match="holds text"):
        hk.cvar(small["txt"], small["g"])


def test_cvar_factor_with_one_level():
    with pytest.raises(ValueError, match="fewer than two levels"):
        hk.cvar(pd.Series(pd.Categorical(["a", "a"])), [1, 2])


def test_cvar_all_missing_cluster_is_nan():
    out = hk.cvar(pd.Series([np.nan, np.nan, 1.0]), [1, 1, 2])
    assert np.isnan(out.iloc[0]) and out.iloc[2] == 1.0


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    data_frames([column("g", elements=st.integers(0, 5)), column("x", elements=finite)]),
)
def test_cvar_plus_dvar_is_x(df):
    if df.empty:
        return
    total = hk.cvar(df["x"], df["g"]) + hk.dvar(df["x"], df["g"])
    np.testing.assert_allclose(total, df["x"], rtol=1e-9, atol=1e-6)
    # the cluster mean of dvar is 0
    means = hk.dvar(df["x"], df["g"]).groupby(df["g"]).mean()
    np.testing.assert_allclose(means, 0, atol=1e-6 * (1 + df["x"].abs().max()))


@settings(max_examples=60, deadline=None)
@given(data_frames([column("g", elements=st.integers(0, 6)), column("x", elements=finite)]))
def test_capply_keeps_row_order_and_index(df):
    if df.empty:
        return
    df = df.set_index(pd.Index(np.arange(len(df))[::-1] * 7))
    out = hk.capply(df["x"], df["g"], lambda v: v.rank())
    assert out.index.equals(df.index)
    expected = df.groupby("g")["x"].rank()
    np.testing.assert_allclose(out, expected)


@settings(max_examples=40, deadline=None)
@given(
    data_frames([column("g", elements=st.integers(0, 4)), column("v", elements=st.integers(0, 3))]),
)
def test_up_of_an_invariant_column_is_constant(df):
    if df.empty:
        return
    df["inv"] = df["g"] * 10 + 1
    out = hk.up(df, "g")
    assert "inv" in out.columns
    assert (out["inv"] == out.index * 10 + 1).all()
    back = df["g"].map(out["inv"])
    assert (back == df["inv"]).all()
    assert out["Freq"].sum() == len(df)


# --- up ----------------------------------------------------------------------------------------


def test_up_keeps_invariant_columns(small):
    out = hk.up(small, "g")
    assert list(out.columns) == ["g", "sz", "Freq"]
    assert out["Freq"].tolist() == [2, 3, 1]
    assert out.index.tolist() == [1, 2, 3]


def test_up_all_means_and_modes(small):
    out = hk.up(small, "g", all=True)
    assert out["x"].tolist() == [2.0, 5.0, 5.0]
    assert out["f"].tolist() == ["a", "b", "a"]  # tie a/b in cluster 1 goes to the first category
    assert out["txt"].tolist() == ["u", "w", "z"]  # text columns get a mode (spida2 errors here)
    assert list(out["f"].cat.categories) == ["a", "b", "c"]


def test_up_na_counts_as_a_value_for_invariance():
    df = pd.DataFrame({"g": [1, 1, 2, 2], "a": [np.nan, np.nan, 3.0, 3.0], "b": [np.nan, 1.0, 2.0, 2.0]})
    out = hk.up(df, "g")
    assert "a" in out.columns and "b" not in out.columns


def test_up_drops_rows_with_missing_cluster_with_a_warning():
    df = pd.DataFrame({"g": [1, 1, np.nan], "a": [1, 1, 5]})
    with pytest.warns(UserWarning, match="1 row"):
        out = hk.up(df, "g")
    assert out["Freq"].tolist() == [2]


def test_up_on_hs_matches_the_notes(hs):
    sch = hk.up(hs, "school")
    assert sch.shape == (40, 8)
    al = hk.up(hs, "school", all=True)
    assert al.loc[1317, "mathach"] == pytest.approx(13.177687, abs=5e-7)
    assert al.loc[1317, "ses"] == pytest.approx(0.34533333, abs=5e-9)
    assert al.loc[2629, "ses"] == pytest.approx(-0.13764912, abs=5e-9)
    assert (al.loc[1317, "Sex"], al.loc[1317, "Minority"]) == ("Female", "Yes")
    assert al.loc[7172, "Sex"] == "Female"  # 22 girls, 22 boys: ties go to the first level


def test_up_agg_adds_level_proportions(hs):
    out = hk.up(hs, "school", agg=["Sex"])
    np.testing.assert_allclose(out["Sex_Female"] + out["Sex_Male"], 1.0)
    assert out.loc[2208, "Sex_Female"] == pytest.approx(35 / 60)


def test_up_existing_freq_is_summed():
    df = pd.DataFrame({"g": [1, 1, 2], "Freq": [2, 3, 4]})
    assert hk.up(df, "g")["Freq"].tolist() == [5, 4]


def test_up_unknown_column(small):
    with pytest.raises(KeyError, match=r"no column\(s\) \['school'\]"):
        hk.up(small, "school")


def test_up_several_keys(hs):
    out = hk.up(hs, ["school", "Sex"])
    assert out["Freq"].sum() == 1977
    assert len(out) == len(hs.groupby(["school", "Sex"], observed=True))


# --- tab ---------------------------------------------------------------------------------------


def test_tab_two_way_with_totals(hs):
    t = hk.tab(hs, "Sex", "Minority")
    assert t.loc["Female"].tolist() == [775, 299, 1074]
    assert t.loc["Total"].tolist() == [1433, 544, 1977]


def test_tab_one_way(hs):
    t = hk.tab(hs, "Sector")
    assert t.to_dict() == {"Catholic": 1144, "Public": 833, "Total": 1977}


def test_tab_percentages_conditional_on_rows(hs):
    t = hk.tab(hs, "Sex", "Minority", pct="Sex")
    np.testing.assert_allclose(t.loc["Female"], [72.16, 27.84, 100.0], atol=5e-3)
    np.testing.assert_allclose(t.loc["All"], [72.48, 27.52, 100.0], atol=5e-3)


def test_tab_counts_missing_values():
    df = pd.DataFrame({"a": ["x", None, "y", "x"]})
    t = hk.tab(df, "a")
    assert t.to_dict() == {"x": 2, "y": 1, "<NA>": 1, "Total": 4}


def test_tab_three_way_faces(hs):
    t = hk.tab(hs, "Sex", "school", "Sector")
    assert t.loc[("Catholic", "Total"), "Total"] == 1144
    assert t.loc[("Total", "Female"), "Total"] == 1074
    assert t.loc[("Public", "Male"), 2626] == 20


def test_tab_without_totals(hs):
    t = hk.tab(hs, "Sex", "Minority", totals=False)
    assert t.shape == (2, 2)


def test_tab_weights(hs):
    t = hk.tab(hs, "Sector", weights="mathach")
    assert t["Total"] == pytest.approx(hs["mathach"].sum())


def test_tab_bad_input(hs):
    with pytest.raises(KeyError, match="no column"):
        hk.tab(hs, "Nope")
    with pytest.raises(ValueError, match="not among the tabulated columns"):
        hk.tab(hs, "Sex", pct="Sector")
    with pytest.raises(ValueError, match="at least one column"):
        hk.tab(hs)


# --- some, gicc, reorder ------------------------------------------------------------------------


def test_some_keeps_original_order(hs):
    s = hk.some(hs, 10, seed=1)
    assert len(s) == 10 and s.index.is_monotonic_increasing
    assert s.equals(hk.some(hs, 10, seed=1))


def test_gicc_matches_spida2(hs):
    g = hk.gicc(hs, "school")
    expected = {"mathach": 0.17594, "ses": 0.28383, "Sex": 0.33234, "Minority": 0.41290}
    for k, v in expected.items():
        assert g[k] == pytest.approx(v, abs=5e-6)
    for k in ("school", "Size", "Sector", "PRACAD", "DISCLIM"):
        assert g[k] == pytest.approx(1.0)
    raw = hk.gicc(hs, "school", method="raw")
    assert raw["mathach"] == pytest.approx(0.18650, abs=5e-6)
    assert raw["ses"] == pytest.approx(0.29749, abs=5e-6)


def test_gicc_full_data_matches_spida2():
    g = hk.gicc(hk.load_hsfull(), "school")
    for k, v in {"mathach": 0.1955, "ses": 0.2749, "Sex": 0.2869, "Minority": 0.4644}.items():
        assert g[k] == pytest.approx(v, abs=5e-5)


def test_gicc_several_keys_is_right(hs):
    # spida2 gets 0.75 for school here; a school is constant within (school, Sex) cells
    g = hk.gicc(hs[["school", "Sex", "mathach"]], ["school", "Sex"])
    assert g["school"] == pytest.approx(1.0)


def test_gicc_na_method():
    df = pd.DataFrame({"g": [1, 1, 2, 2], "x": [np.nan, np.nan, 1.0, 2.0]})
    assert hk.gicc(df, "g", method="na")["x"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="method must be"):
        hk.gicc(df, "g", method="bogus")


def test_reorder_orders_categories_by_mean():
    r = hk.reorder(["a", "a", "b", "c"], [5, 7, 1, 3])
    assert list(r.categories) == ["b", "c", "a"]
    with pytest.raises(ValueError, match="score has 2 values"):
        hk.reorder(["a", "b", "c"], [1, 2])
