"""Chapter 2's multilevel data tools on hs, compared with values frozen from R (tests/reference/ch02.json,
written by tests/reference/R/part_ch02.R): tab, capply, reorder and up(all=True)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk
from hlmkit.book import r_reference

REF = r_reference("ch02")


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    """hs with the chapter's derived columns, built as the chapter builds them."""
    d = hk.load_hs()
    d["Sex.comp"] = hk.capply(d["Sex"] == "Female", d["school"], "mean")
    d["Sex.cat"] = pd.Categorical(
        np.where(d["Sex.comp"] == 1, "Girls", np.where(d["Sex.comp"] == 0, "Boys", "Coed"))
    )
    sid = d["Sector"].astype(str).str[0] + d["school"].astype(str) + d["Sex.cat"].astype(str).str[0]
    d["sid"] = hk.reorder(sid, d["ses"] + 1000 * (d["Sector"] == "Catholic"))
    return d


def ref_table(name: str) -> pd.DataFrame:
    m = REF[name]
    return pd.DataFrame(m["values"], index=m["rows"], columns=m["cols"])


def per_school(name: str, d: dict | None = None) -> pd.Series:
    d = REF[name] if d is None else d
    return pd.Series(d).rename(index=int)


def test_students_per_school(hs):
    counts = hk.tab(hs, "school", totals=False)
    pd.testing.assert_series_equal(
        counts.astype(int), per_school("n_school").astype(int), check_names=False, check_index_type=False
    )


@pytest.mark.parametrize("row, name", [("Sector", "sector_school"), ("Sex", "sex_school")])
def test_two_way_tables_with_totals(hs, row, name):
    t = hk.tab(hs, row, "school")
    ref = ref_table(name)
    body = t.drop(index="Total", columns="Total")
    body.columns = body.columns.astype(str)
    np.testing.assert_array_equal(body.loc[ref.index, ref.columns].to_numpy(), ref.to_numpy())
    np.testing.assert_array_equal(t.loc["Total"].drop("Total").to_numpy(), ref.sum(axis=0).to_numpy())
    assert t.loc["Total", "Total"] == len(hs) == 1977


def test_three_way_table_faces(hs):
    t = hk.tab(hs, "Sex", "school", "Sector")
    ref = ref_table("sex_sector")
    for sector in ["Catholic", "Public"]:
        for sex in ["Female", "Male"]:
            assert t.loc[(sector, sex), "Total"] == ref.loc[sex, sector]
    assert t.loc[("Catholic", "Female"), "Total"] == 651
    assert t.loc[("Public", "Male"), "Total"] == 410


def test_sex_composition_and_category(hs):
    comp = hs.groupby("school")["Sex.comp"].first()
    pd.testing.assert_series_equal(
        comp, per_school("sex_comp").astype(float), check_names=False, check_index_type=False, rtol=1e-14
    )
    cat = hs.groupby("school")["Sex.cat"].first().astype(str)
    pd.testing.assert_series_equal(
        cat, per_school("sex_cat").astype(str), check_names=False, check_index_type=False, check_dtype=False
    )


def test_sid_levels_ordered_like_r(hs):
    assert list(hs["sid"].cat.categories) == REF["sid_levels"]
    first = hs.groupby("school")["sid"].first().astype(str)
    pd.testing.assert_series_equal(
        first,
        per_school("sid_school").astype(str),
        check_names=False,
        check_index_type=False,
        check_dtype=False,
    )


def test_up_all_means_and_modes(hs):
    sch = hk.up(hk.load_hs(), "school", all=True)
    for col in ["mathach", "ses", "X", "female"]:
        ref = per_school("", REF["up_all"][col]).astype(float)
        np.testing.assert_allclose(sch[col].to_numpy(), ref.loc[sch.index].to_numpy(), rtol=1e-13)
    for col in ["Sex", "Minority"]:
        ref = per_school("", REF["up_all"][col])
        assert sch[col].astype(str).tolist() == ref.loc[sch.index].tolist()
    assert sch.loc[7172, "Sex"] == "Female"  # a 22 / 22 tie goes to the first level, as in R


def test_up_by_sid_keeps_derived_invariants(hs):
    by_sid = hk.up(hs, "sid")
    assert by_sid.shape == (40, 11)
    assert list(by_sid.index) == REF["sid_levels"]
    assert {"Sex.comp", "Sex.cat", "sid", "school", "Freq"} <= set(by_sid.columns)
    assert "ses" not in by_sid.columns and "Sex" not in by_sid.columns
