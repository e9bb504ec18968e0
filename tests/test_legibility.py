"""hlmkit's figures are legible in the book: no text under 8 pt once fitted to the text column.

The book shows a figure at its own size unless it is wider than the column (6.6 inches as the
book shows figures), when it is shrunk to fit, text and all. So the smallest text of a figure,
times min(1, column / figure width), must be at least ``hk.MIN_TEXT_PT``. The browser suite
checks the same on every figure the book actually shows (browser_tests/images.py).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hlmkit as hk


def shown_pt(fig) -> float:
    """The smallest text of ``fig`` as the book shows it (saved with a tight bounding box)."""
    smallest = hk.smallest_text_pt(fig)
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width  # inches
    plt.close(fig)
    return smallest * min(1.0, hk.PAGE_WIDTH_IN / width)


@pytest.fixture(scope="module")
def fit_slopes(hs):
    return hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")


def _figure(obj):
    return obj if isinstance(obj, plt.Figure) else obj.figure


FIGURES = {
    "xqplot": lambda hs, fit: hk.xqplot(hs),
    "cluster_panels, 40 small panels": lambda hs, fit: hk.cluster_panels(
        hs[hs["school"].isin(sorted(hs["school"].unique())[:40])],
        "ses",
        "mathach",
        "school",
        col_wrap=5,
        panel_size=1.6,
    ),
    "cluster_panels, two large panels with a legend": lambda hs, fit: hk.cluster_panels(
        hs, "ses", "mathach", "Sector", hue="Sex", col_wrap=2, panel_size=3.6
    ),
    "beta_space with school labels": lambda hs, fit: hk.beta_space(
        hk.lmlist("mathach ~ ses", hs, "school").coef.head(30), labels=True
    ),
    "effect_plot in two panels": lambda hs, fit: hk.effect_plot(
        hk.wald(fit, pred=hk.pred_grid(ses=np.linspace(-2, 2, 5), Sector=hs["Sector"])).to_frame(se=2),
        "ses",
        group="Sector",
        col="Sector",
    ),
    "cluster_lines": lambda hs, fit: hk.cluster_lines(hs, "ses", "mathach", "school", col="Sector"),
    "view3d_static": lambda hs, fit: hk.view3d_static(hs, "ses", "Size", "mathach", hue="Sector"),
    "plot_shrinkage": lambda hs, fit: hk.plot_shrinkage(
        hk.shrinkage_table(hk.lme("mathach ~ 1", hs)), center=12.6
    ),
    "plot_blue_blup": lambda hs, fit: hk.plot_blue_blup(
        hk.blue_blup(fit), hk.up(hs, "school")["Sector"], G=fit.G
    ),
    "plot_design_ellipses": lambda hs, fit: hk.plot_design_ellipses(
        [12, 2], [[16, 8], [8, 25]], 20, hk.expected_xtx(30)
    ),
    "influence_plot": lambda hs, fit: hk.influence_plot(
        pd.DataFrame({"cooks_distance": np.linspace(0, 1, 40)}, index=range(1000, 1040)), n_label=3
    ),
    "qq_plot with labels": lambda hs, fit: hk.qq_plot(
        np.arange(20.0), labels=[str(i) for i in range(20)], n_label=3
    ),
    "scatter_matrix": lambda hs, fit: hk.scatter_matrix(hs.head(300), ["mathach", "ses", "Size", "PRACAD"]),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_text_is_legible_at_the_page_width(name, hs, fit_slopes):
    fig = _figure(FIGURES[name](hs, fit_slopes))
    assert shown_pt(fig) >= hk.MIN_TEXT_PT - 1e-9


def test_the_check_fails_on_small_text_and_on_a_figure_too_wide():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.tick_params(labelsize=7)
    assert shown_pt(fig) < hk.MIN_TEXT_PT
    fig, ax = plt.subplots(figsize=(12, 3))  # 10-pt ticks, the figure shrunk to about half
    ax.plot([0, 1], [0, 1])
    assert shown_pt(fig) < hk.MIN_TEXT_PT


def test_fit_page_keeps_the_shape():
    assert hk.fit_page(13.2, 6.0) == (6.6, 3.0)
    assert hk.fit_page(6.0, 6.0) == (6.0, 6.0)
