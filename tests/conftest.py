"""Shared fixtures: the course's data sets (loaded once) and the frozen R reference values.

Reference values frozen from R (tests/reference/*.json, written by make_reference.R) are read with
one loader, ``hlmkit.book.r_reference``, the one the book's pages use: a test module calls it at
import time (its model names parametrize the tests), or takes a fixture below.
"""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

import hlmkit as hk
from hlmkit.book import r_reference


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
    return r_reference("lme_models")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow (make test does: about 20 s, 2 GB)",
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run only when asked for: ``--slow`` (as ``make test`` does) or ``-m slow``."""
    if config.getoption("--slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
