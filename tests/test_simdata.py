"""hlmkit.simdata: the notes' simulated schools (shapes, reproducibility, moments) and their pictures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hlmkit as hk

GAMMA = (12.0, 2.0)
G = np.array([[16.0, 8.0], [8.0, 25.0]])
SIGMA2 = 20.0


def test_shapes_and_columns():
    sim = hk.simulate_two_level(GAMMA, G, SIGMA2, n_schools=5, seed=11)
    data, beta = sim
    assert list(data.columns) == ["school", "ses", "eps", "y"]
    assert list(beta.columns) == ["(Intercept)", "ses", "n"]
    assert list(beta.index) == [1, 2, 3, 4, 5]
    assert beta["n"].sum() == len(data)
    assert (data.groupby("school").size() == beta["n"]).all()
    # y is exactly the true line plus the error
    b = beta.loc[data["school"]]
    np.testing.assert_allclose(
        data["y"],
        b["(Intercept)"].to_numpy() + b["ses"].to_numpy() * data["ses"] + data["eps"],
        rtol=0,
        atol=1e-12,
    )


def test_reproducible_and_school_by_school():
    a = hk.simulate_two_level(n_schools=3, seed=5)
    b = hk.simulate_two_level(n_schools=3, seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.beta, b.beta)
    c = hk.simulate_two_level(n_schools=3, seed=6)
    assert not np.allclose(a.beta["(Intercept)"], c.beta["(Intercept)"])
    # school 1 does not depend on how many schools are drawn after it
    one = hk.simulate_two_level(n_schools=1, seed=5)
    pd.testing.assert_frame_equal(one.data, a.school(1).reset_index(drop=True))
    pd.testing.assert_series_equal(one.beta.loc[1], a.beta.loc[1])


def test_moments_on_a_large_sample():
    J = 4000
    sim = hk.simulate_two_level(GAMMA, G, SIGMA2, n_schools=J, n_mean=30, x_sd=1.5, seed=2024)
    b = sim.beta[["(Intercept)", "ses"]].to_numpy()
    # means of the true lines: within 4 standard errors of gamma
    se = np.sqrt(np.diag(G) / J)
    assert np.all(np.abs(b.mean(axis=0) - GAMMA) < 4 * se)
    # their covariance: each element within 4 SEs (var of a sample covariance ~ (G_ik^2 + G_ii G_kk) / J)
    C = np.cov(b, rowvar=False)
    se_c = np.sqrt((G**2 + np.outer(np.diag(G), np.diag(G))) / J)
    assert np.all(np.abs(C - G) < 4 * se_c)
    # sample sizes ~ Poisson(30)
    n = sim.beta["n"].to_numpy()
    assert abs(n.mean() - 30) < 4 * np.sqrt(30 / J)
    assert abs(n.var() - 30) < 0.1 * 30
    # students: x ~ N(0, 1.5^2), eps ~ N(0, 20)
    assert abs(sim.data["ses"].std() - 1.5) < 0.02
    assert abs(sim.data["eps"].var() / SIGMA2 - 1) < 0.02
    assert abs(sim.data["ses"].mean()) < 0.02


def test_blues_vary_as_G_plus_ols_dispersion():
    # Var(beta-hat_j) = G + sigma^2 (X_j'X_j)^-1: the least-squares lines of equal-size schools
    J = 3000
    sim = hk.simulate_two_level(GAMMA, G, SIGMA2, n_schools=J, n_mean=10, x_sd=0.5, seed=7, fixed_n=True)
    bh = np.array([sim.ols(j) for j in sim.beta.index])
    S = np.mean([SIGMA2 * np.linalg.inv(sim.xtx(j)) for j in sim.beta.index], axis=0)
    V = np.cov(bh, rowvar=False)
    target = G + S
    se_c = np.sqrt((target**2 + np.outer(np.diag(target), np.diag(target))) / J)
    assert np.all(np.abs(V - target) < 4 * se_c)
    # with n = 10 and sd(x) = 0.5 the least-squares slopes vary clearly more than the true slopes
    assert V[1, 1] > 1.2 * G[1, 1]


def test_intercept_only_fixed_n_and_singular_G():
    sim = hk.simulate_two_level(
        gamma=[10.0], G=[[4.0]], sigma2=9.0, n_schools=4, n_mean=7, fixed_n=True, seed=1
    )
    assert list(sim.data.columns) == ["school", "eps", "y"]
    assert list(sim.beta.columns) == ["(Intercept)", "n"]
    assert (sim.beta["n"] == 7).all()
    np.testing.assert_allclose(sim.ols(2), [sim.school(2)["y"].mean()])
    flat = hk.simulate_two_level(GAMMA, np.zeros((2, 2)), SIGMA2, n_schools=3, seed=1)
    np.testing.assert_allclose(flat.beta[["(Intercept)", "ses"]].to_numpy(), np.tile(GAMMA, (3, 1)))


def test_min_n_is_respected():
    sim = hk.simulate_two_level(n_schools=300, n_mean=3, seed=3, min_n=3)
    assert sim.beta["n"].min() >= 3


def test_ols_and_xtx_of_a_school():
    sim = hk.simulate_two_level(seed=42)
    d = sim.school(1)
    slope, intercept = np.polyfit(d["ses"], d["y"], 1)
    np.testing.assert_allclose(sim.ols(1), [intercept, slope], rtol=1e-10)
    X = np.column_stack([np.ones(len(d)), d["ses"]])
    np.testing.assert_allclose(sim.xtx(1), X.T @ X)
    with pytest.raises(KeyError, match="no school 2"):
        sim.school(2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"G": [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]}, "must be 2 x 2"),
        ({"G": [[1.0, 2.0], [2.0, 1.0]]}, "not positive semi-definite"),
        ({"G": [[1.0, 0.5], [0.0, 1.0]]}, "not symmetric"),
        ({"sigma2": -1.0}, "sigma2"),
        ({"gamma": [1.0, 2.0, 3.0]}, "gamma must have 1"),
        ({"n_schools": 0}, "n_schools"),
        ({"n_mean": 0}, "n_mean"),
        ({"x_sd": -1}, "x_sd"),
        ({"n_mean": 2, "fixed_n": True}, "below min_n"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hk.simulate_two_level(**kwargs)


def test_ols_dispersion_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    x = rng.normal(size=25)
    y = 1 + 2 * x + rng.normal(size=25)
    res = sm.OLS(y, sm.add_constant(x)).fit()
    np.testing.assert_allclose(hk.ols_dispersion(x, res.scale), res.cov_params(), rtol=1e-10)
    X = sm.add_constant(x)
    np.testing.assert_allclose(hk.ols_dispersion(X, 2.0), 2.0 * np.linalg.inv(X.T @ X))
    with pytest.raises(ValueError, match="singular"):
        hk.ols_dispersion([1.0, 1.0, 1.0], 1.0)


def test_expected_xtx_is_the_average_design():
    sim = hk.simulate_two_level(n_schools=2000, n_mean=20, x_sd=0.7, x_mean=0.3, fixed_n=True, seed=9)
    avg = np.mean([sim.xtx(j) for j in sim.beta.index], axis=0)
    np.testing.assert_allclose(avg, hk.expected_xtx(20, x_sd=0.7, x_mean=0.3), rtol=0.02, atol=0.05)


def test_plot_layers_share_one_frame():
    sim = hk.simulate_two_level(seed=8)
    ax1 = hk.plot_simulated_school(sim, space="beta", layers=["population"])
    ax2 = hk.plot_simulated_school(sim, space="beta")
    assert ax1.get_xlim() == ax2.get_xlim() and ax1.get_ylim() == ax2.get_ylim()
    # all beta-space layers: 3 points, 3 ellipses, 2 shadow bars + 4 guide lines
    assert len(ax2.lines) == 3 + 3 + 2 + 4
    ax3 = hk.plot_simulated_school(sim, space="data", layers=["population", "true"])
    ax4 = hk.plot_simulated_school(sim, space="data")
    assert ax3.get_ylim() == ax4.get_ylim()
    assert len(ax4.lines) == 3 and len(ax4.collections) == 1
    # the least-squares line drawn is the school's least-squares fit
    xs, ys = ax4.lines[2].get_data()
    b = sim.ols(1)
    np.testing.assert_allclose(ys, b[0] + b[1] * np.asarray(xs))


def test_plot_errors():
    sim = hk.simulate_two_level(seed=8)
    with pytest.raises(ValueError, match="unknown beta-space layer"):
        hk.plot_simulated_school(sim, space="beta", layers=["data"])
    with pytest.raises(ValueError, match="space must be"):
        hk.plot_simulated_school(sim, space="gamma")
    one_way = hk.simulate_two_level(gamma=[1.0], G=[[1.0]], seed=1)
    with pytest.raises(ValueError, match="slope"):
        hk.plot_simulated_school(one_way)


def test_plot_design_ellipses_draws_G_and_V():
    ax = hk.plot_design_ellipses(GAMMA, G, SIGMA2, hk.expected_xtx(30))
    g_line, v_line = ax.lines[0], ax.lines[1]
    # V contains G: the V ellipse reaches further along the slope axis
    assert np.ptp(v_line.get_ydata()) > np.ptp(g_line.get_ydata())


# ---------------------------------------------------------------------------------------------
# data drawn elsewhere: as_two_level_sample
# ---------------------------------------------------------------------------------------------


def test_as_two_level_sample_recovers_the_true_lines_of_simulated_data():
    sim = hk.simulate_two_level(GAMMA, G, SIGMA2, n_schools=4, seed=3)
    back = hk.as_two_level_sample(sim.data, GAMMA, G, SIGMA2)
    np.testing.assert_allclose(
        back.beta[["(Intercept)", "ses"]], sim.beta[["(Intercept)", "ses"]], rtol=1e-12
    )
    assert back.beta["n"].tolist() == sim.beta["n"].tolist()
    for j in sim.beta.index:
        np.testing.assert_allclose(back.ols(j), sim.ols(j), rtol=1e-12)
        np.testing.assert_allclose(back.xtx(j), sim.xtx(j), rtol=1e-12)


def test_as_two_level_sample_allows_rounding_and_no_more():
    sim = hk.simulate_two_level(GAMMA, G, SIGMA2, n_schools=2, seed=8)
    printed = sim.data.round(2)
    back = hk.as_two_level_sample(printed, GAMMA, G, SIGMA2, decimals=2)
    np.testing.assert_allclose(back.beta[["(Intercept)", "ses"]], sim.beta[["(Intercept)", "ses"]], atol=0.05)
    assert 0 < back.params["max_misfit"] < 0.005 * (2 + sim.beta["ses"].abs().max())
    with pytest.raises(ValueError, match="not y = b0"):  # rounded data claimed exact
        hk.as_two_level_sample(printed, GAMMA, G, SIGMA2)
    wrong = printed.copy()
    wrong.loc[3, "y"] += 0.5  # one outcome off its line
    with pytest.raises(ValueError, match="school 1.*not y = b0"):
        hk.as_two_level_sample(wrong, GAMMA, G, SIGMA2, decimals=2)


def test_as_two_level_sample_bad_input():
    d = hk.load_notes_school1()
    with pytest.raises(ValueError, match="no column"):
        hk.as_two_level_sample(d.drop(columns="eps"), GAMMA, G, SIGMA2, decimals=2)
    with pytest.raises(ValueError, match="contiguous"):
        two = pd.concat([d.assign(school=1), d.assign(school=2)]).sort_index(kind="stable")
        hk.as_two_level_sample(two, GAMMA, G, SIGMA2, decimals=2)
    with pytest.raises(ValueError, match="gamma"):
        hk.as_two_level_sample(d, [12.0], [[16.0]], SIGMA2, decimals=2)


def test_the_notes_school_1():
    """The notes' printed school (p. 90): its true line (5.24, -4.61), its least-squares line (5.55, -4.95)."""
    sim = hk.as_two_level_sample(hk.load_notes_school1(), GAMMA, G, SIGMA2, decimals=2)
    assert sim.beta.loc[1, "n"] == 23
    np.testing.assert_allclose(
        sim.beta.loc[1, ["(Intercept)", "ses"]].to_numpy(float), [5.24, -4.61], atol=0.005
    )
    np.testing.assert_allclose(sim.ols(1), [5.55, -4.95], atol=0.005)
    ax = hk.plot_simulated_school(sim, space="data", layers=["ls"])
    xs, ys = ax.lines[0].get_data()
    np.testing.assert_allclose(ys, sim.ols(1)[0] + sim.ols(1)[1] * np.asarray(xs), rtol=1e-12)
