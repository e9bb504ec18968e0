"""Shared fixtures: the course's data sets (loaded once) and the frozen R reference values."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import hlmkit as hk  # noqa: E402

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="session")
def hs():
    return hk.load_hs()


@pytest.fixture(scope="session")
def hs1():
    d = hk.load_hs1()
    d["id"] = d["school"]
    d["ses.m"] = hk.cvar(d["ses"], d["id"])
    d["Min.prop"] = hk.cvar(d["Minority"], d["id"])
    return d


@pytest.fixture(scope="session")
def hs2():
    d = hk.load_hs2()
    d["id"] = d["school"]
    return d


@pytest.fixture(scope="session")
def lme_ref():
    return json.loads((REF / "lme_models.json").read_text())


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run only when asked for (``pytest -m slow``)."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
