"""hlmkit: multilevel data tools and linear mixed models for the book *Mixed Models in Python*.

The Python counterpart of the R package spida2 and of the parts of nlme that Georges Monette's
course "Mixed Models with R: From Hierarchical to Mixed" needs. Everything public is available
from the top level::

    import hlmkit as hk
    hs = hk.load_hs()
    fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")
    print(fit.summary())

Modules, one idea each: ``data`` (the HSB data sets), ``frames`` (cvar, dvar, up, tab, ...),
``formula`` (R model formulas), ``lmm`` (lme, lmlist, anova), ``wald`` (linear hypotheses, OLS),
``plots`` and ``plot3d`` (figures), ``book`` (glue and checks for the book's pages).
"""

from . import diagnostics, effects, r2, shrinkage, simdata, simulate
from .data import (
    HS1_SCHOOLS,
    HS_SCHOOLS,
    load_hs,
    load_hs1,
    load_hs2,
    load_hsfull,
    load_schools,
    sample_clusters,
)
from .diagnostics import *  # noqa: F403
from .effects import *  # noqa: F403
from .ellipse import conf_ellipse, data_ellipse, ellipse, ellipse_radius, plot_ellipse
from .formula import FormulaError
from .frames import capply, cvar, dvar, gicc, reorder, some, tab, up
from .lmm import BoundaryFitWarning, ConvergenceWarning, LmeResult, LmListResult, anova, lme, lmlist
from .plot3d import add_ellipsoid, add_surface, ellipsoid_mesh, scatter3d, show3d
from .plots import beta_space, cluster_panels, ppoints, xqplot
from .r2 import *  # noqa: F403
from .shrinkage import *  # noqa: F403
from .simdata import *  # noqa: F403
from .simulate import *  # noqa: F403
from .wald import WaldResult, get_fix, lform, lm_summary, ols, pred_grid, wald

__version__ = "0.1.0"

__all__ = [
    "HS1_SCHOOLS",
    "HS_SCHOOLS",
    "BoundaryFitWarning",
    "ConvergenceWarning",
    "FormulaError",
    "LmListResult",
    "LmeResult",
    "WaldResult",
    "add_ellipsoid",
    "add_surface",
    "anova",
    "beta_space",
    "cluster_panels",
    "capply",
    "conf_ellipse",
    "data_ellipse",
    "ellipse",
    "ellipse_radius",
    "plot_ellipse",
    "cvar",
    "dvar",
    "ellipsoid_mesh",
    "get_fix",
    "gicc",
    "lform",
    "lm_summary",
    "lme",
    "lmlist",
    "load_hs",
    "load_hs1",
    "load_hs2",
    "load_hsfull",
    "load_schools",
    "ols",
    "ppoints",
    "pred_grid",
    "reorder",
    "sample_clusters",
    "scatter3d",
    "show3d",
    "some",
    "tab",
    "up",
    "wald",
    "xqplot",
]

# the modules below add their own public names
__all__ += (
    diagnostics.__all__ + effects.__all__ + r2.__all__ + shrinkage.__all__ + simdata.__all__ + simulate.__all__
)
