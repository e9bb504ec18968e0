"""hlmkit: multilevel data tools and linear mixed models for the book *Mixed Models in Python*.

The Python counterpart of the R package spida2 and of the parts of nlme that Georges Monette's
course "Mixed Models with R: From Hierarchical to Mixed" needs. Everything public is available
from the top level::

    import hlmkit as hk
    hs = hk.load_hs()
    fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")
    print(fit.summary())

Modules, one idea each:

========================  ==============================================================
``data``                  the High School and Beyond data sets; ``sample_clusters``
``frames``                ``capply``, ``cvar``, ``dvar``, ``up``, ``tab``, ``some``, ``gicc``
``formula``               R model formulas, R's coefficient names
``lmm``                   ``lme`` (linear mixed models), ``lmlist``, ``anova``
``wald``                  Wald tests of linear hypotheses, ``lform``, ``pred_grid``, ``ols``
``mlm``                   multivariate linear models and MANOVA (the two-stage method)
``ellipse``               data, dispersion and confidence ellipses
``plots``, ``plot3d``     figures of the course; offline interactive 3D
``effects``               effect plots with confidence bands
``diagnostics``           ``hausman``, ``influence``
``shrinkage``             BLUEs, BLUPs and the weights of pooled estimators
``simdata``               simulated two-level data
``simulate``              simulation-calibrated likelihood-ratio tests
``r2``                    multilevel R-squared
``book``                  glue and checks for the book's pages
========================  ==============================================================
"""

from . import (
    book,
    data,
    diagnostics,
    effects,
    ellipse,
    formula,
    frames,
    lmm,
    mlm,
    plot3d,
    plots,
    r2,
    shrinkage,
    simdata,
    simulate,
    wald,
)

# captured before the star imports below rebind the names wald, ellipse and mlm to functions
_MODULES = (data, frames, lmm, wald, mlm, ellipse, plots, plot3d, effects, diagnostics, shrinkage, simdata,
            simulate, r2)

from .data import *  # noqa: E402, F403
from .diagnostics import *  # noqa: F403
from .effects import *  # noqa: F403
from .ellipse import *  # noqa: F403
from .formula import FormulaError
from .frames import *  # noqa: F403
from .lmm import *  # noqa: F403
from .mlm import *  # noqa: F403
from .plot3d import *  # noqa: F403
from .plots import *  # noqa: F403
from .r2 import *  # noqa: F403
from .shrinkage import *  # noqa: F403
from .simdata import *  # noqa: F403
from .simulate import *  # noqa: F403
from .wald import *  # noqa: F403

__version__ = "0.1.0"

__all__ = ["FormulaError", *(name for module in _MODULES for name in module.__all__)]
del _MODULES
