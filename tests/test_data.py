"""The HSB data sets: shapes, school lists, category orders, checksums of the committed CSVs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk

DATA = Path(__file__).resolve().parent.parent / "data"


def test_csv_checksums_match_data_readme():
    readme = (DATA / "README.md").read_text()
    for name in ("hsfull.csv", "schools.csv", "notes_school1.csv", "bdf.csv"):
        digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert digest in readme, f"{name} changed: update data/README.md (sha256 {digest})"


def test_hsfull_shape_and_columns():
    d = hk.load_hsfull()
    assert d.shape == (7185, 13)
    assert list(d.columns) == hk.data.COLUMNS
    assert d["school"].nunique() == 160
    assert (d["X"].to_numpy() == np.arange(1, 7186)).all()
    assert not d.isna().any().any()


def test_category_orders_are_spidas():
    d = hk.load_hs()
    assert list(d["Sector"].cat.categories) == ["Catholic", "Public"]
    assert list(d["Sex"].cat.categories) == ["Female", "Male"]
    assert list(d["Minority"].cat.categories) == ["No", "Yes"]
    assert ((d["sector"] == 1) == (d["Sector"] == "Catholic")).all()
    assert ((d["female"] == 1) == (d["Sex"] == "Female")).all()


def test_hs_is_the_notes_data():
    hs = hk.load_hs()
    assert hs.shape == (1977, 13)
    assert sorted(hs["school"].unique()) == list(hk.HS_SCHOOLS)
    counts = hs["school"].value_counts()
    assert counts.min() == 29 and counts.max() == 66
    assert counts[1317] == 48
    # the notes' first rows and the rows of some()
    assert hs.iloc[0][["X", "school", "mathach", "ses"]].tolist() == [141, 1317, 12.862, 0.882]
    row = hs.loc[hs["X"] == 6140].iloc[0]
    assert (row["school"], row["mathach"], row["Sex"], row["HIMINTY"]) == (8531, -1.509, "Female", 0)
    sch = hk.up(hs, "school")
    assert sch["Sector"].value_counts().to_dict() == {"Catholic": 21, "Public": 19}
    assert int(sch["HIMINTY"].sum()) == 11


def test_halves_are_disjoint_and_complete():
    hs1, hs2, full = hk.load_hs1(), hk.load_hs2(), hk.load_hsfull()
    assert len(hs1) == 3684 and len(hs2) == 3501
    s1, s2 = set(hs1["school"]), set(hs2["school"])
    assert len(s1) == len(s2) == 80 and not (s1 & s2) and (s1 | s2) == set(full["school"])
    assert hk.up(hs1, "school")["Sector"].value_counts().to_dict() == {"Catholic": 36, "Public": 44}
    assert hk.up(hs2, "school")["Sector"].value_counts().to_dict() == {"Catholic": 34, "Public": 46}


def test_loaders_return_fresh_copies():
    a = hk.load_hs()
    a.loc[1, "mathach"] = -999
    assert hk.load_hs().loc[1, "mathach"] == 12.862


def test_school_file():
    sc = hk.load_schools()
    assert sc.shape == (160, 7)
    assert sc["school"].is_unique


def test_sample_clusters_keeps_whole_clusters():
    full = hk.load_hsfull()
    s = hk.sample_clusters(full, "school", n=10, seed=3)
    assert s["school"].nunique() == 10
    sizes = full["school"].value_counts()
    for school, n in s["school"].value_counts().items():
        assert n == sizes[school]
    assert s.equals(hk.sample_clusters(full, "school", n=10, seed=3))
    assert hk.sample_clusters(full, "school", frac=0.5, seed=1)["school"].nunique() == 80


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"by": "nope", "n": 2}, "no column 'nope'"),
        ({"by": "school"}, "exactly one of n= or frac="),
        ({"by": "school", "n": 2, "frac": 0.1}, "exactly one of n= or frac="),
        ({"by": "school", "n": 500}, "cannot take n=500"),
        ({"by": "school", "frac": 1.5}, "frac must be between 0 and 1"),
    ],
)
def test_sample_clusters_bad_input(kwargs, message):
    with pytest.raises((KeyError, ValueError), match=message):
        hk.sample_clusters(hk.load_hs(), **kwargs)


def test_sample_clusters_refuses_missing_cluster_ids():
    d = hk.load_hs().copy()
    d.loc[3, "school"] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        hk.sample_clusters(d, "school", n=2)


def test_data_frames_are_pandas():
    assert isinstance(hk.load_hs2(), pd.DataFrame)


def test_notes_school1_is_as_printed():
    d = hk.load_notes_school1()
    assert list(d.columns) == ["school", "ses", "eps", "y"]
    assert len(d) == 23 and (d["school"] == 1).all()
    # first and last values of each printed row of the notes (p. 90)
    assert d["ses"].iloc[[0, 11, 12, 22]].tolist() == [-1.05, -1.71, -0.64, 0.38]
    assert d["eps"].iloc[[0, 11, 12, 22]].tolist() == [4.46, 0.46, 3.64, -3.61]
    assert d["y"].iloc[[0, 9, 10, 19, 20, 22]].tolist() == [14.53, -3.59, 9.09, 6.24, 19.37, -0.13]
    assert (d[["ses", "eps", "y"]] == d[["ses", "eps", "y"]].round(2)).all().all()


def test_bdf_is_nlmes():
    bdf = hk.load_bdf()
    assert bdf.shape == (2287, 28)
    assert bdf["schoolNR"].nunique() == 131
    assert not bdf.isna().any().any()
    # R (nlme 3.1-162): table(bdf$Minority), table(bdf$sex), mean(bdf$langPOST)
    assert bdf["Minority"].value_counts(sort=False).tolist() == [2155, 132]
    assert bdf["sex"].value_counts(sort=False).tolist() == [1194, 1093]
    assert abs(bdf["langPOST"].mean() - 40.93484915) < 1e-8
    assert list(bdf["denomina"].cat.categories) == ["1", "2", "3", "4"]
    assert bdf["pupilNR"].is_unique
