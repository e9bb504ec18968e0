"""Multilevel R-squared: three ways of saying how much variance a mixed model explains.

"If there is any R-squared there is more than one" (Lab 1): a mixed model splits the variance of
the response into parts at each level, and a set of covariates can explain a share of each part.

* :func:`r2` -- the Lab's ``amr2`` (Raudenbush and Bryk's proportional reduction in variance):
  ``level2 = (tau00_null - tau00_full) / tau00_null`` and
  ``level1 = (sigma2_null - sigma2_full) / sigma2_null``, each variance component of the model
  compared with the same component of a null model. Either can be negative, and with random
  slopes the intercept variance depends on where the slope variables are zero.
* :func:`r2_snijders_bosker` -- Snijders and Bosker's (2012, ch. 7) proportional reduction of the
  *prediction error* of an individual outcome (level 1) and of a cluster mean of ``n`` outcomes
  (level 2). Adding a covariate cannot lower them in the population, so they behave more like
  the familiar R-squared.
* :func:`r2_nakagawa` -- Nakagawa and Schielzeth's (2013) marginal and conditional R-squared: the
  share of the total variance explained by the fixed effects, and by fixed plus random effects,
  with Johnson's (2014) extension to random slopes (the variance of ``z'u`` averaged over the data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._rprint import RPrinted
from .lmm import LmeResult, check_comparable

__all__ = ["MultilevelR2", "NakagawaR2", "r2", "r2_nakagawa", "r2_snijders_bosker"]


@dataclass(repr=False)
class MultilevelR2(RPrinted):
    """Level-1 and level-2 R-squared of a model against a null model (:func:`r2`, :func:`r2_snijders_bosker`).

    Attributes
    ----------
    level1, level2 : float
        The R-squared at level 1 (within clusters, students) and level 2 (between clusters, schools).
    table : DataFrame
        The quantities compared: one row per level, columns ``null``, ``full`` and ``R2``.
    definition : str
        Which R-squared this is.
    n : float or None
        The cluster size used at level 2 (Snijders-Bosker only).
    """

    level1: float
    level2: float
    table: pd.DataFrame = field(repr=False)
    definition: str
    n: float | None = None

    def __str__(self) -> str:
        lines = [self.definition]
        if self.n is not None:
            lines.append(f"  (level 2 for clusters of n = {self.n:.4g})")
        t = self.table
        w = max(len(str(i)) for i in t.index)
        lines.append(" " * w + "        null        full        R2")
        for name, row in t.iterrows():
            lines.append(f"{name!s:<{w}} {row['null']:11.5g} {row['full']:11.5g} {row['R2']:9.4f}")
        return "\n".join(lines)


@dataclass(repr=False)
class NakagawaR2(RPrinted):
    """Nakagawa-Schielzeth R-squared of a mixed model (:func:`r2_nakagawa`).

    Attributes
    ----------
    marginal : float
        ``var_fixed / (var_fixed + var_random + var_residual)``: explained by the fixed effects.
    conditional : float
        ``(var_fixed + var_random) / (...)``: explained by fixed and random effects together.
    var_fixed : float
        Variance of the fixed-effects predictions ``X b`` over the data (denominator n - 1, as R's ``var``).
    var_random : float
        Variance of the random part ``z'u``, averaged over the data: ``mean_i z_i' G z_i``
        (the intercept variance in a random-intercept model).
    var_residual : float
        ``sigma^2``.
    """

    marginal: float
    conditional: float
    var_fixed: float
    var_random: float
    var_residual: float

    def __str__(self) -> str:
        return (
            "R2 for mixed models (Nakagawa and Schielzeth)\n"
            f"  Conditional R2: {self.conditional:.3f}\n"
            f"     Marginal R2: {self.marginal:.3f}\n"
            f"  variances: fixed {self.var_fixed:.4g}, random {self.var_random:.4g}, "
            f"residual {self.var_residual:.4g}"
        )


# --------------------------------------------------------------------------------------------


def _check_pair(full: Any, null: Any, fname: str) -> None:
    check_comparable([full, null], fname, ["the full model", "the null"], same_clusters=True)
    if list(null.G.columns) != ["(Intercept)"]:
        raise ValueError(
            f"{fname}: the null model must have a random intercept only, not {list(null.G.columns)}"
        )


def _slopes(fit: LmeResult) -> list[str]:
    return [c for c in fit.G.columns if c != "(Intercept)"]


def _intercept_variance(fit: LmeResult, fname: str, allow_slopes: bool) -> float:
    names = list(fit.G.columns)
    if "(Intercept)" not in names:
        raise ValueError(f"{fname}: the model has no random intercept (its random effects are {names})")
    slopes = _slopes(fit)
    if slopes and not allow_slopes:
        raise ValueError(
            f"{fname}: the model has random slopes ({', '.join(slopes)}), so its between-cluster variance "
            "differs from one value of the slope variables to another and the intercept variance is the "
            "variance where they are 0. Refit with a random intercept only (fit.update(random='~ 1 | ...')), "
            "or pass allow_slopes=True to use the intercept variance anyway."
        )
    k = names.index("(Intercept)")
    return float(fit.G.to_numpy()[k, k])


def r2(full: LmeResult, null: LmeResult, *, allow_slopes: bool = False) -> MultilevelR2:
    """The Lab's multilevel R-squared: proportional reductions of the two variance components.

    ``level2 = (tau00_null - tau00_full) / tau00_null`` (the between-cluster intercept variance) and
    ``level1 = (sigma2_null - sigma2_full) / sigma2_null`` (the within-cluster residual variance),
    the Lab's ``amr2`` and Raudenbush and Bryk's "proportion of variance explained".

    Caveats (the Lab's): the definition suits random-intercept models (with random slopes the
    between-cluster variance depends on the slope variables, so by default such a model is
    refused); either value can be negative, e.g. when a level-1 covariate with a contextual
    effect is added without its cluster mean, and extreme values point to a misspecified model.

    Parameters
    ----------
    full : LmeResult
        The model of interest, with a random intercept.
    null : LmeResult
        The reference, usually the empty model ``y ~ 1`` with a random intercept, on the same rows.
    allow_slopes : bool
        Accept a full model with random slopes and use its intercept variance.

    Returns
    -------
    MultilevelR2
        With ``level1`` and ``level2``.

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> null = hk.lme("mathach ~ 1", hs, random="~ 1 | school")
    >>> full = hk.lme("mathach ~ ses + cvar(ses, school)", hs, random="~ 1 | school")
    >>> res = hk.r2(full, null)
    >>> 0 < res.level1 < res.level2 < 1
    True
    """
    _check_pair(full, null, "r2")
    t_full = _intercept_variance(full, "r2", allow_slopes)
    t_null = float(null.G.to_numpy()[0, 0])
    s_full, s_null = full.sigma**2, null.sigma**2
    if t_null <= 0:
        raise ValueError(
            "r2: the null model's intercept variance is 0; there is no between-cluster variance to explain"
        )
    table = pd.DataFrame(
        {"null": [t_null, s_null], "full": [t_full, s_full]},
        index=["level 2: intercept variance tau00", "level 1: residual variance sigma^2"],
    )
    table["R2"] = (table["null"] - table["full"]) / table["null"]
    return MultilevelR2(
        level1=float(table["R2"].iloc[1]),
        level2=float(table["R2"].iloc[0]),
        table=table,
        definition="Multilevel R2 (proportional reduction in each variance component; Raudenbush and Bryk)",
    )


def r2_snijders_bosker(full: LmeResult, null: LmeResult, n: float | None = None) -> MultilevelR2:
    """Snijders and Bosker's R-squared at level 1 and level 2 (2012, section 7.1).

    The proportional reduction in the mean squared error of predicting an individual outcome,
    ``level1 = 1 - (sigma2_full + tau00_full) / (sigma2_null + tau00_null)``, and of predicting
    the mean of a cluster of ``n`` outcomes,
    ``level2 = 1 - (sigma2_full / n + tau00_full) / (sigma2_null / n + tau00_null)``.
    Both models need a random intercept only (Snijders and Bosker compute the R-squared of a
    random-slope model from its random-intercept version, which gives nearly the same value).

    Parameters
    ----------
    full, null : LmeResult
        Random-intercept fits on the same rows; ``null`` is usually the empty model.
    n : float, optional
        A representative cluster size; by default the harmonic mean of the cluster sizes.

    Returns
    -------
    MultilevelR2
        With ``level1``, ``level2`` and ``n``.

    Examples
    --------
    >>> import hlmkit as hk
    >>> hs = hk.load_hs()
    >>> null = hk.lme("mathach ~ 1", hs, random="~ 1 | school")
    >>> full = hk.lme("mathach ~ ses + cvar(ses, school)", hs, random="~ 1 | school")
    >>> res = hk.r2_snijders_bosker(full, null)
    >>> 0 < res.level1 < res.level2 < 1
    True
    """
    _check_pair(full, null, "r2_snijders_bosker")
    t_full = _intercept_variance(full, "r2_snijders_bosker", allow_slopes=False)
    t_null = float(null.G.to_numpy()[0, 0])
    if n is None:
        sizes = np.bincount(full.crossproducts.codes, minlength=full.ngroups)
        n = float(len(sizes) / np.sum(1.0 / sizes))
    elif not np.isfinite(n) or n <= 0:
        raise ValueError(f"r2_snijders_bosker: n must be a positive cluster size, not {n!r}")
    s_full, s_null = full.sigma**2, null.sigma**2
    table = pd.DataFrame(
        {"null": [s_null + t_null, s_null / n + t_null], "full": [s_full + t_full, s_full / n + t_full]},
        index=["level 1: sigma^2 + tau00", "level 2: sigma^2/n + tau00"],
    )
    table["R2"] = 1 - table["full"] / table["null"]
    return MultilevelR2(
        level1=float(table["R2"].iloc[0]),
        level2=float(table["R2"].iloc[1]),
        table=table,
        definition="Snijders-Bosker R2 (proportional reduction of prediction error)",
        n=float(n),
    )


def r2_nakagawa(fit: LmeResult) -> NakagawaR2:
    """Nakagawa and Schielzeth's marginal and conditional R-squared of a linear mixed model.

    With ``var_fixed`` the variance of the fixed-effects predictions ``X b``, ``var_random`` the
    variance of the random part (``mean_i z_i' G z_i``, Johnson's 2014 extension to random
    slopes; ``tau00`` for a random intercept) and ``var_residual = sigma^2``:
    ``marginal = var_fixed / total`` and ``conditional = (var_fixed + var_random) / total``.

    The same as R's ``performance::r2_nakagawa`` for random-intercept models and for random slopes
    on variables that are also fixed effects. For random slopes on variables that are not in the
    fixed part (e.g. ``dvar(ses, id)`` with ``ses`` fixed), ``performance`` leaves the slopes out
    of ``var_random`` with a warning; here they are included.

    Examples
    --------
    >>> import hlmkit as hk
    >>> fit = hk.lme("mathach ~ ses", hk.load_hs(), random="~ 1 | school")
    >>> res = hk.r2_nakagawa(fit)
    >>> 0 < res.marginal < res.conditional < 1
    True
    """
    if not isinstance(fit, LmeResult):
        raise TypeError(f"r2_nakagawa: fit must be an LmeResult (from hlmkit.lme), not {type(fit).__name__}")
    xb = fit.crossproducts.X @ fit.fixef.to_numpy()
    var_fixed = float(np.var(xb, ddof=1)) if len(xb) > 1 else 0.0
    Z = fit.crossproducts.Z
    G = fit.G.to_numpy()
    var_random = float(np.mean(np.einsum("ni,ij,nj->n", Z, G, Z)))
    var_residual = fit.sigma**2
    total = var_fixed + var_random + var_residual
    return NakagawaR2(
        marginal=var_fixed / total,
        conditional=(var_fixed + var_random) / total,
        var_fixed=var_fixed,
        var_random=var_random,
        var_residual=var_residual,
    )
