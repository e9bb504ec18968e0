"""hlmkit: multilevel data tools and linear mixed models for the book *Mixed Models in Python*.

The Python counterpart of the R package spida2 and of the parts of nlme that Georges Monette's
course "Mixed Models with R: From Hierarchical to Mixed" needs. Everything public is available
from the top level::

    import hlmkit as hk
    hs = hk.load_hs()
    fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")
    print(fit.summary())

Modules, one idea each (no function is named like its module, so ``import hlmkit.<module>``
always reaches the module):

========================  ==============================================================
``data``                  the High School and Beyond data sets; ``sample_clusters``
``frames``                ``capply``, ``cvar``, ``dvar``, ``up``, ``tab``, ``some``, ``gicc``;
                          ``levels_of``, the one order of the levels of a grouping
``formula``               R model formulas, R's coefficient names
``lmm``                   ``lme`` (linear mixed models), ``lmlist``, ``anova``
``leastsquares``          ``ols`` (R's ``lm``) and ``lm_summary``; R's pivoting of aliased columns
``hypotheses``            ``wald`` tests of linear hypotheses, ``lform``, ``pred_grid``
``multivariate``          ``mlm``: multivariate linear models and MANOVA (the two-stage method)
``ellipses``              ``ellipse``: data, dispersion and confidence ellipses
``plots``, ``plot3d``     figures of the course (``qq_plot``, ``xy_panels``, ``scatter_matrix``,
                          beta space, ...); offline interactive 3D
``effects``               effect plots with confidence bands
``diagnostics``           ``hausman``, ``influence``
``shrinkage``             BLUEs, BLUPs and the weights of pooled estimators
``simdata``               simulated two-level data
``simulate``              simulation-calibrated likelihood-ratio tests
``rsquared``              ``r2``: multilevel R-squared
``book``                  glue and checks for the book's pages
========================  ==============================================================

The engine behind ``lme``: ``crossproducts`` (the profiled deviance), ``optimizer``, ``refit``
(warm-started refits) and ``derivatives``; ``_rprint`` prints numbers and tables as R does.
"""

from importlib.metadata import PackageNotFoundError, version

from . import book as book  # the module (its helpers are imported from hlmkit.book)
from .data import (
    HS1_SCHOOLS,
    HS_SCHOOLS,
    load_bdf,
    load_hs,
    load_hs1,
    load_hs2,
    load_hsfull,
    load_notes_school1,
    load_schools,
    sample_clusters,
)
from .diagnostics import HausmanResult, HausmanWarning, hausman, influence, influence_plot
from .effects import cluster_lines, effect_plot, mark_effect, plot_band
from .ellipses import conf_ellipse, data_ellipse, ellipse, ellipse_radius, line_L, plot_ellipse
from .formula import FormulaError
from .frames import capply, cvar, dvar, gicc, reorder, some, tab, up
from .hypotheses import FixInfo, WaldResult, get_fix, lform, pred_grid, wald
from .leastsquares import OlsResult, lm_summary, ols
from .lmm import (
    BoundaryFitWarning,
    ConvergenceWarning,
    IdentifiabilityWarning,
    LmeResult,
    LmListResult,
    anova,
    lme,
    lmlist,
)
from .multivariate import MlmResult, manova_stats, mlm
from .plot3d import (
    Interactive3D,
    add_ellipsoid,
    add_surface,
    ellipsoid_mesh,
    scatter3d,
    show3d,
    view3d_static,
)
from .plots import (
    MIN_TEXT_PT,
    PAGE_WIDTH_IN,
    beta_space,
    cluster_panels,
    coef_lines,
    conf_ellipses,
    data_space,
    fit_page,
    group_colors,
    mark_origin,
    ppoints,
    qq_plot,
    scatter_matrix,
    smallest_text_pt,
    xqplot,
    xy_panels,
)
from .rsquared import MultilevelR2, NakagawaR2, r2, r2_nakagawa, r2_snijders_bosker
from .shrinkage import (
    BlueBlup,
    Blup,
    blue_blup,
    blup_from_blue,
    plot_blue_blup,
    plot_shrinkage,
    pooled_means,
    pooled_weights,
    shrinkage_table,
    weighted_coding,
)
from .simdata import (
    TwoLevelSample,
    as_two_level_sample,
    expected_xtx,
    ols_dispersion,
    plot_design_ellipses,
    plot_simulated_school,
    simulate_two_level,
)
from .simulate import SimulatedLRT, simulate_lrt

try:
    __version__ = version("hlmkit")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "HS1_SCHOOLS",
    "HS_SCHOOLS",
    "MIN_TEXT_PT",
    "PAGE_WIDTH_IN",
    "BlueBlup",
    "Blup",
    "BoundaryFitWarning",
    "ConvergenceWarning",
    "FixInfo",
    "FormulaError",
    "HausmanResult",
    "HausmanWarning",
    "IdentifiabilityWarning",
    "Interactive3D",
    "LmListResult",
    "LmeResult",
    "MlmResult",
    "MultilevelR2",
    "NakagawaR2",
    "OlsResult",
    "SimulatedLRT",
    "TwoLevelSample",
    "WaldResult",
    "add_ellipsoid",
    "add_surface",
    "anova",
    "as_two_level_sample",
    "beta_space",
    "blue_blup",
    "blup_from_blue",
    "capply",
    "cluster_lines",
    "cluster_panels",
    "coef_lines",
    "conf_ellipse",
    "conf_ellipses",
    "cvar",
    "data_ellipse",
    "data_space",
    "dvar",
    "effect_plot",
    "ellipse",
    "ellipse_radius",
    "ellipsoid_mesh",
    "expected_xtx",
    "fit_page",
    "get_fix",
    "gicc",
    "group_colors",
    "hausman",
    "influence",
    "influence_plot",
    "lform",
    "line_L",
    "lm_summary",
    "lme",
    "lmlist",
    "load_bdf",
    "load_hs",
    "load_hs1",
    "load_hs2",
    "load_hsfull",
    "load_notes_school1",
    "load_schools",
    "manova_stats",
    "mark_effect",
    "mark_origin",
    "mlm",
    "ols",
    "ols_dispersion",
    "plot_band",
    "plot_blue_blup",
    "plot_design_ellipses",
    "plot_ellipse",
    "plot_shrinkage",
    "plot_simulated_school",
    "pooled_means",
    "pooled_weights",
    "ppoints",
    "pred_grid",
    "qq_plot",
    "r2",
    "r2_nakagawa",
    "r2_snijders_bosker",
    "reorder",
    "sample_clusters",
    "scatter3d",
    "scatter_matrix",
    "show3d",
    "shrinkage_table",
    "simulate_lrt",
    "simulate_two_level",
    "smallest_text_pt",
    "some",
    "tab",
    "up",
    "view3d_static",
    "wald",
    "weighted_coding",
    "xqplot",
    "xy_panels",
]
