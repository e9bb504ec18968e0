"""Simulated two-level data: schools with random regression lines, and their picture in beta space.

The notes build intuition for the hierarchical model with a simulated population of schools
(pp. 89-100): each school ``j`` has a true line ``beta_j = gamma + u_j`` with ``u_j ~ N(0, G)``, a
sample size ``N_j ~ Poisson(n_mean)``, student values ``x ~ N(x_mean, x_sd^2)`` and responses
``y = beta_0j + beta_1j x + eps``, ``eps ~ N(0, sigma^2)``.

* :func:`simulate_two_level` draws such data (seeded, reproducible school by school);
  :func:`as_two_level_sample` takes data drawn elsewhere (the school the notes print) instead;
* :func:`ols_dispersion` is the variance ``sigma^2 (X_j'X_j)^-1`` of a school's least-squares line
  given its true line, and :func:`expected_xtx` the ``X'X`` of a typical school of a design;
* :func:`plot_simulated_school` draws one school in data space (lines and points) or in beta space
  (each line a point; ``G``, ``sigma^2 (X_j'X_j)^-1`` and ``V_j = G + sigma^2 (X_j'X_j)^-1`` as
  dispersion ellipses), layer by layer, on fixed axes so that a sequence of figures builds up;
* :func:`plot_design_ellipses` draws the ellipses of ``G`` and ``V_j`` for a design, to compare designs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .ellipses import ellipse
from .plots import MIN_TEXT_PT

__all__ = [
    "TwoLevelSample",
    "as_two_level_sample",
    "expected_xtx",
    "ols_dispersion",
    "plot_design_ellipses",
    "plot_simulated_school",
    "simulate_two_level",
]


def _as_cov(G: Any, q: int, name: str = "G") -> np.ndarray:
    M = np.atleast_2d(np.asarray(G, dtype=float))
    if M.shape != (q, q):
        raise ValueError(f"{name} must be {q} x {q} to match gamma, not {M.shape}")
    if not np.allclose(M, M.T):
        raise ValueError(f"{name} is not symmetric")
    if np.linalg.eigvalsh(M)[0] < -1e-10 * max(1.0, float(np.abs(M).max())):
        raise ValueError(f"{name} is not positive semi-definite")
    return (M + M.T) / 2


@dataclass
class TwoLevelSample:
    """Simulated two-level data from :func:`simulate_two_level`.

    Attributes
    ----------
    data : DataFrame
        One row per student: ``school`` (1, 2, ...), ``x_name`` (e.g. ``ses``), ``eps`` (the
        within-school error) and ``y``.
    beta : DataFrame
        One row per school (indexed by school): the true coefficients ``(Intercept)`` (and the
        slope, named like ``x_name``) and ``n``, the school's sample size.
    gamma, G, sigma2 : the parameters the data were drawn from.
    x_name : str

    Unpacks as ``data, beta = simulate_two_level(...)``.
    """

    data: pd.DataFrame
    beta: pd.DataFrame
    gamma: np.ndarray
    G: np.ndarray
    sigma2: float
    x_name: str = "ses"
    params: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.data, self.beta))

    @cached_property
    def _bounds(self) -> np.ndarray:
        # the data are stored school after school: row ranges from the sample sizes
        return np.concatenate([[0], np.cumsum(self.beta["n"].to_numpy())])

    def school(self, j: int) -> pd.DataFrame:
        """The rows of school ``j``."""
        if j not in self.beta.index:
            raise KeyError(f"no school {j!r}: the schools are 1 to {len(self.beta)}")
        k = int(self.beta.index.get_indexer(pd.Index([j]))[0])
        return self.data.iloc[self._bounds[k] : self._bounds[k + 1]]

    def xtx(self, j: int) -> np.ndarray:
        """``X_j'X_j`` of school ``j`` (``X_j`` = [1, x], or [1] for an intercept-only model)."""
        d = self.school(j)
        X = _design(d[self.x_name].to_numpy() if len(self.gamma) == 2 else None, len(d))
        return X.T @ X

    def ols(self, j: int) -> np.ndarray:
        """The least-squares coefficients of school ``j`` (the BLUE ``beta-hat_j``)."""
        d = self.school(j)
        X = _design(d[self.x_name].to_numpy() if len(self.gamma) == 2 else None, len(d))
        return np.linalg.lstsq(X, d["y"].to_numpy(), rcond=None)[0]


def _design(x: np.ndarray | None, n: int) -> np.ndarray:
    return np.ones((n, 1)) if x is None else np.column_stack([np.ones(n), x])


def simulate_two_level(
    gamma: Sequence[float] = (12.0, 2.0),
    G: Any = ((16.0, 8.0), (8.0, 25.0)),
    sigma2: float = 20.0,
    n_schools: int = 1,
    n_mean: float = 30.0,
    x_sd: float = 1.0,
    seed: int | None = None,
    *,
    x_mean: float = 0.0,
    fixed_n: bool = False,
    min_n: int = 3,
    x_name: str = "ses",
) -> TwoLevelSample:
    """Draw schools with random regression lines and students within them (the notes' simulation).

    For each school ``j = 1, ..., n_schools`` in turn: the random effect ``u_j ~ N(0, G)``, the true
    line ``beta_j = gamma + u_j``, the sample size ``N_j ~ Poisson(n_mean)`` (redrawn while it is
    below ``min_n``; exactly ``n_mean`` with ``fixed_n=True``), the students' ``x ~ N(x_mean,
    x_sd^2)`` and errors ``eps ~ N(0, sigma2)``, and ``y = beta_0j + beta_1j x + eps``. Schools
    are drawn one after another from one generator, so school 1 is the same whatever
    ``n_schools`` is.

    Parameters
    ----------
    gamma : length-2 (intercept, slope) or length-1 (intercept only: the one-way model)
    G : q x q positive semi-definite matrix
        Covariance of the random effects (may be singular, e.g. zero: every school has the line
        ``gamma``).
    sigma2 : float
        Within-school error variance.
    n_schools : int
    n_mean : float
        Mean of the Poisson sample sizes.
    x_sd, x_mean : float
        Spread and centre of the Level-1 predictor.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.
    fixed_n : bool
        Every school has ``n_mean`` students (rounded).
    min_n : int
        Smallest sample size kept (a school needs ``q + 1`` students for a least-squares line and
        an error estimate).
    x_name : str
        Name of the predictor column (and of the slope in ``beta``).

    Returns
    -------
    TwoLevelSample

    Examples
    --------
    >>> from hlmkit import simulate_two_level
    >>> sim = simulate_two_level(n_schools=3, seed=1)
    >>> data, beta = sim
    >>> list(data.columns), list(beta.columns)
    (['school', 'ses', 'eps', 'y'], ['(Intercept)', 'ses', 'n'])
    >>> bool(beta["n"].sum() == len(data))
    True
    """
    g = np.asarray(gamma, dtype=float).reshape(-1)
    q = len(g)
    if q not in (1, 2):
        raise ValueError(f"gamma must have 1 (intercept) or 2 (intercept, slope) values, not {q}")
    Gm = _as_cov(G, q)
    if not np.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"sigma2 must be a non-negative variance, not {sigma2}")
    if int(n_schools) != n_schools or n_schools < 1:
        raise ValueError(f"n_schools must be a positive integer, not {n_schools}")
    if n_mean <= 0:
        raise ValueError(f"n_mean must be positive, not {n_mean}")
    if x_sd < 0:
        raise ValueError(f"x_sd must be non-negative, not {x_sd}")
    if fixed_n and round(n_mean) < min_n:
        raise ValueError(f"fixed_n: n_mean = {n_mean} is below min_n = {min_n}")
    rng = np.random.default_rng(seed)
    # a square root of G that works when G is singular
    w, v = np.linalg.eigh(Gm)
    root = v * np.sqrt(np.clip(w, 0, None))
    rows = []
    betas = []
    for j in range(1, int(n_schools) + 1):
        u = root @ rng.standard_normal(q)
        b = g + u
        if fixed_n:
            n = round(n_mean)
        else:
            n = int(rng.poisson(n_mean))
            tries = 0
            while n < min_n:
                n = int(rng.poisson(n_mean))
                tries += 1
                if tries > 10_000:
                    raise ValueError(f"n_mean = {n_mean} almost never gives {min_n} students; lower min_n")
        x = x_mean + x_sd * rng.standard_normal(n) if q == 2 else None
        eps = np.sqrt(sigma2) * rng.standard_normal(n)
        y = _design(x, n) @ b + eps
        rows.append((np.full(n, j), x, eps, y))
        betas.append(list(b) + [n])
    cols_data = {"school": np.concatenate([r[0] for r in rows])}
    if q == 2:
        cols_data[x_name] = np.concatenate([r[1] for r in rows])
    cols_data["eps"] = np.concatenate([r[2] for r in rows])
    cols_data["y"] = np.concatenate([r[3] for r in rows])
    data = pd.DataFrame(cols_data)
    cols = ["(Intercept)", x_name][:q] + ["n"]
    beta = pd.DataFrame(betas, columns=cols, index=pd.RangeIndex(1, int(n_schools) + 1, name="school"))
    beta["n"] = beta["n"].astype(int)
    params = {"n_mean": n_mean, "x_sd": x_sd, "x_mean": x_mean, "seed": seed, "fixed_n": fixed_n}
    return TwoLevelSample(
        data=data, beta=beta, gamma=g, G=Gm, sigma2=float(sigma2), x_name=x_name, params=params
    )


def as_two_level_sample(
    data: pd.DataFrame,
    gamma: Sequence[float],
    G: Any,
    sigma2: float,
    *,
    x_name: str = "ses",
    decimals: int | None = None,
) -> TwoLevelSample:
    """Simulated data drawn elsewhere (e.g. printed in the notes) as a :class:`TwoLevelSample`.

    ``data`` holds, for each school, its students' predictor, errors ``eps`` and responses ``y``,
    generated as ``y = beta_0j + beta_1j x + eps``. Then ``y - eps`` lies exactly on the school's
    true line, so the line is *recovered* from the data: it is the least-squares fit of
    ``y - eps`` on ``x``, exact up to the rounding of printed values. The largest distance of a
    point ``y - eps`` from the recovered line is stored in ``params["max_misfit"]``; when it is
    larger than rounding to ``decimals`` places can explain (or than 1e-9 relative for unrounded
    data), the data were not generated that way and a ValueError says so.

    Parameters
    ----------
    data : DataFrame
        Columns ``school``, ``x_name``, ``eps``, ``y``; each school's rows contiguous.
    gamma, G, sigma2 : the parameters of the population the school(s) were drawn from
        (they define the population line and ellipses of the pictures; they are not estimated).
    x_name : str
        Name of the predictor column.
    decimals : int, optional
        The number of decimals the values were rounded to, if any.

    Returns
    -------
    TwoLevelSample

    Examples
    --------
    >>> import hlmkit as hk
    >>> sim = hk.as_two_level_sample(hk.load_notes_school1(), [12, 2], [[16, 8], [8, 25]], 20, decimals=2)
    >>> sim.beta.round(2).values.tolist()          # the true line and n
    [[5.24, -4.61, 23.0]]
    """
    missing = [c for c in ("school", x_name, "eps", "y") if c not in data.columns]
    if missing:
        raise ValueError(f"as_two_level_sample: the data have no column(s) {missing}")
    g = np.asarray(gamma, dtype=float).reshape(-1)
    if len(g) != 2:
        raise ValueError(f"as_two_level_sample: gamma must be (intercept, slope), not {len(g)} values")
    Gm = _as_cov(G, 2)
    if not np.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"sigma2 must be a non-negative variance, not {sigma2}")
    d = data[["school", x_name, "eps", "y"]].reset_index(drop=True)
    if d.isna().any().any():
        raise ValueError("as_two_level_sample: the data have missing values")
    schools = pd.unique(d["school"])
    runs = (d["school"] != d["school"].shift()).sum()
    if runs != len(schools):
        raise ValueError("as_two_level_sample: each school's rows must be contiguous (sort by school)")
    betas, misfit = [], 0.0
    for j in schools:
        rows = d[d["school"] == j]
        x, on_line = rows[x_name].to_numpy(float), (rows["y"] - rows["eps"]).to_numpy(float)
        if len(rows) < 3 or np.ptp(x) == 0:
            raise ValueError(f"as_two_level_sample: school {j} needs 3 or more distinct {x_name} values")
        b = np.linalg.lstsq(_design(x, len(x)), on_line, rcond=None)[0]
        worst = float(np.abs(on_line - _design(x, len(x)) @ b).max())
        if decimals is None:
            allowed = 1e-9 * max(1.0, float(np.abs(on_line).max()))
        else:
            # y, eps and x each off by up to half a unit in the last decimal
            allowed = 0.5 * 10.0 ** (-decimals) * (2 + abs(b[1])) * (1 + 1e-9)
        if worst > allowed:
            raise ValueError(
                f"as_two_level_sample: in school {j}, y - eps is up to {worst:.3g} off a straight line "
                f"in {x_name} (rounding allows {allowed:.3g}): the data are not y = b0 + b1*{x_name} + eps"
            )
        misfit = max(misfit, worst)
        betas.append([*b, len(rows)])
    beta = pd.DataFrame(betas, columns=["(Intercept)", x_name, "n"], index=pd.Index(schools, name="school"))
    beta["n"] = beta["n"].astype(int)
    params = {"source": "data", "decimals": decimals, "max_misfit": misfit}
    return TwoLevelSample(
        data=d, beta=beta, gamma=g, G=Gm, sigma2=float(sigma2), x_name=x_name, params=params
    )


def ols_dispersion(x: Any, sigma2: float, intercept: bool = True) -> np.ndarray:
    """``sigma^2 (X'X)^-1``: the variance of a least-squares fit given the true coefficients.

    Parameters
    ----------
    x : 1-D array (the predictor; an intercept column is added) or 2-D design matrix
    sigma2 : float
        Error variance.
    intercept : bool
        Add a column of ones to a 1-D ``x``.

    Examples
    --------
    >>> from hlmkit import ols_dispersion
    >>> ols_dispersion([-1.0, 1.0, -1.0, 1.0], sigma2=4.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    X = np.asarray(x, dtype=float)
    if X.ndim == 1:
        X = _design(X, len(X)) if intercept else X[:, None]
    xtx = X.T @ X
    if np.linalg.matrix_rank(xtx) < xtx.shape[0]:
        raise ValueError(
            "ols_dispersion: X'X is singular (too few points, or a predictor that does not vary)"
        )
    return float(sigma2) * np.linalg.inv(xtx)


def expected_xtx(n: float, x_sd: float = 1.0, x_mean: float = 0.0) -> np.ndarray:
    """``E(X'X)`` for ``n`` students with ``x ~ N(x_mean, x_sd^2)``, ``X = [1, x]``: a typical school.

    Examples
    --------
    >>> from hlmkit import expected_xtx
    >>> expected_xtx(30, x_sd=0.5).tolist()
    [[30.0, 0.0], [0.0, 7.5]]
    """
    m2 = x_sd**2 + x_mean**2
    return float(n) * np.array([[1.0, x_mean], [x_mean, m2]])


# --------------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------------

_DATA_LAYERS = ("population", "true", "data", "ls")
_BETA_LAYERS = ("population", "G", "shadows", "true", "ols_ellipse", "beta_hat", "V")

#: colours of the layers (the same in data space and beta space)
COLORS = {
    "population": "black",
    "true": "tab:red",
    "data": "tab:gray",
    "ls": "tab:blue",
    "G": "black",
    "ols_ellipse": "tab:red",
    "beta_hat": "tab:blue",
    "V": "tab:blue",
}


def _limits(points: list[np.ndarray], pad: float = 0.06) -> tuple[tuple[float, float], tuple[float, float]]:
    P = np.vstack([np.atleast_2d(p) for p in points])
    P = P[~np.isnan(P).any(axis=1)]
    lo, hi = P.min(axis=0), P.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - pad * span, hi + pad * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def plot_simulated_school(
    sim: TwoLevelSample,
    school: int = 1,
    space: str = "data",
    layers: Sequence[str] | None = None,
    ax: plt.Axes | None = None,
    legend: bool = True,
) -> plt.Axes:
    """Draw one simulated school, layer by layer, in data space or in beta space.

    The axes are fixed by *all* the layers, drawn or not, so that figures showing more and more
    layers of the same school share one frame.

    Parameters
    ----------
    sim : TwoLevelSample
        From :func:`simulate_two_level` (with a slope).
    school : int
    space : {"data", "beta"}
    layers : sequence of str
        Data space: ``"population"`` (the mean line gamma), ``"true"`` (the school's line
        beta_j), ``"data"`` (its students), ``"ls"`` (its least-squares line beta-hat_j).
        Beta space: ``"population"`` (the point gamma), ``"G"`` (the dispersion ellipse of G around
        gamma), ``"shadows"`` (G's shadows on the axes: gamma +- 1 SD), ``"true"`` (the point
        beta_j), ``"ols_ellipse"`` (the ellipse of sigma^2 (X_j'X_j)^-1 around beta_j),
        ``"beta_hat"`` (the point beta-hat_j), ``"V"`` (the ellipse of V_j = G + sigma^2
        (X_j'X_j)^-1 around gamma). Default: all.
    ax : matplotlib Axes, optional
    legend : bool

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import hlmkit as hk
    >>> sim = hk.simulate_two_level(seed=3)
    >>> ax = hk.plot_simulated_school(sim, space="beta", layers=["population", "G"])
    >>> len(ax.lines)
    2
    """
    if len(sim.gamma) != 2:
        raise ValueError("plot_simulated_school needs a model with a slope (gamma of length 2)")
    if space not in ("data", "beta"):
        raise ValueError(f"space must be 'data' or 'beta', not {space!r}")
    allowed = _DATA_LAYERS if space == "data" else _BETA_LAYERS
    layers = list(allowed if layers is None else layers)
    unknown = [lay for lay in layers if lay not in allowed]
    if unknown:
        raise ValueError(f"unknown {space}-space layer(s) {unknown}; choose from {list(allowed)}")
    d = sim.school(school)
    xname = sim.x_name
    x = d[xname].to_numpy()
    y = d["y"].to_numpy()
    beta = sim.beta.loc[school, ["(Intercept)", xname]].to_numpy(dtype=float)
    bhat = sim.ols(school)
    gam = sim.gamma
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    if space == "data":
        xr = np.array([min(x.min(), -2.5), max(x.max(), 2.5)])
        lines = {"population": gam, "true": beta, "ls": bhat}
        pts = [np.column_stack([x, y])] + [np.column_stack([xr, b[0] + b[1] * xr]) for b in lines.values()]
        xlim, ylim = _limits(pts)
        labels = {
            "population": r"population mean line $\gamma$",
            "true": r"true line of the school $\beta_j$",
            "ls": r"least-squares line $\hat\beta_j$",
        }
        styles = {"population": "-", "true": "--", "ls": "-"}
        for lay in layers:
            if lay == "data":
                ax.scatter(x, y, s=14, color=COLORS["data"], label=f"students (n = {len(x)})", zorder=3)
            else:
                b = lines[lay]
                ax.plot(xr, b[0] + b[1] * xr, styles[lay], color=COLORS[lay], lw=2, label=labels[lay])
        ax.set_xlabel(xname)
        ax.set_ylabel("y")
    else:
        S = sim.sigma2 * np.linalg.inv(sim.xtx(school))
        V = sim.G + S
        ells = {"G": ellipse(gam, sim.G), "ols_ellipse": ellipse(beta, S), "V": ellipse(gam, V)}
        xlim, ylim = _limits(list(ells.values()) + [gam, beta, bhat], pad=0.1)
        sd = np.sqrt(np.diag(sim.G))
        for lay in layers:
            if lay == "population":
                ax.plot(
                    *gam,
                    "o",
                    color=COLORS["population"],
                    ms=7,
                    label=r"population mean line $\gamma$",
                    zorder=4,
                )
            elif lay == "true":
                ax.plot(*beta, "o", color=COLORS["true"], ms=7, label=r"true line $\beta_j$", zorder=4)
            elif lay == "beta_hat":
                ax.plot(
                    *bhat, "s", color=COLORS["beta_hat"], ms=7, label=r"least squares $\hat\beta_j$", zorder=4
                )
            elif lay == "G":
                ax.plot(*ells["G"].T, color=COLORS["G"], lw=1.5, label=r"$G$ (dispersion of $\beta_j$)")
            elif lay == "ols_ellipse":
                ax.plot(
                    *ells["ols_ellipse"].T,
                    color=COLORS["ols_ellipse"],
                    lw=1.5,
                    label=r"$\sigma^2(X_j'X_j)^{-1}$ around $\beta_j$",
                )
            elif lay == "V":
                ax.plot(*ells["V"].T, color=COLORS["V"], lw=1.5, label=r"$V_j = G + \sigma^2(X_j'X_j)^{-1}$")
            elif lay == "shadows":
                # grey bars just inside the bottom and left edges, with dotted guides to the ellipse
                y_bar = ylim[0] + 0.02 * (ylim[1] - ylim[0])
                x_bar = xlim[0] + 0.02 * (xlim[1] - xlim[0])
                lo0, hi0 = gam[0] - sd[0], gam[0] + sd[0]
                lo1, hi1 = gam[1] - sd[1], gam[1] + sd[1]
                ax.plot(
                    [lo0, hi0],
                    [y_bar] * 2,
                    color="black",
                    lw=5,
                    alpha=0.35,
                    solid_capstyle="butt",
                    label=r"shadows: $\gamma \pm$ 1 SD",
                )
                ax.plot([x_bar] * 2, [lo1, hi1], color="black", lw=5, alpha=0.35, solid_capstyle="butt")
                for v in (lo0, hi0):
                    ax.axvline(v, color="black", lw=0.6, ls=":")
                for v in (lo1, hi1):
                    ax.axhline(v, color="black", lw=0.6, ls=":")
        ax.set_xlabel(r"intercept $\beta_0$")
        ax.set_ylabel(rf"slope $\beta_{{{xname}}}$" if xname.isidentifier() else "slope")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if legend and layers:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0)
    return ax


def plot_design_ellipses(
    gamma: Sequence[float],
    G: Any,
    sigma2: float,
    xtx: Any,
    ax: plt.Axes | None = None,
    legend: bool = True,
) -> plt.Axes:
    """The dispersion ellipses of ``G`` and of ``V = G + sigma^2 (X'X)^-1`` around ``gamma``.

    ``G`` describes how the true lines vary; ``V`` how the least-squares lines vary (true line
    plus estimation error). The gap between the two ellipses is the estimation error that a
    design (its ``X'X``) and ``sigma^2`` add.

    Examples
    --------
    >>> import hlmkit as hk
    >>> ax = hk.plot_design_ellipses([12, 2], [[16, 8], [8, 25]], 20, hk.expected_xtx(30))
    >>> len(ax.lines)
    3
    """
    gam = np.asarray(gamma, dtype=float)
    Gm = _as_cov(G, 2)
    S = float(sigma2) * np.linalg.inv(np.asarray(xtx, dtype=float))
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.5), layout="constrained")
    ax.plot(*ellipse(gam, Gm).T, color=COLORS["G"], lw=1.5, label=r"$G$")
    ax.plot(*ellipse(gam, Gm + S).T, color=COLORS["V"], lw=1.5, label=r"$V = G + \sigma^2(X'X)^{-1}$")
    ax.plot(*gam, "o", color="black", ms=4)
    ax.set_xlabel(r"intercept $\beta_0$")
    ax.set_ylabel(r"slope $\beta_1$")
    if legend:
        ax.legend(fontsize=MIN_TEXT_PT, loc="upper left", frameon=False)
    return ax
