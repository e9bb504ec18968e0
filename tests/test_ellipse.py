"""Ellipses of beta space: hlmkit.ellipses (ellipse, data_ellipse, conf_ellipse, ellipse_radius, line_L)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hlmkit as hk
from hlmkit.book import r_reference
from hlmkit.ellipses import conf_ellipse, data_ellipse, ellipse, ellipse_radius, line_L
from hlmkit.multivariate import mlm

REF = r_reference("notes_ols")


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return hk.load_hs()


@pytest.fixture(scope="module")
def pooled(hs: pd.DataFrame):
    return hk.ols("mathach ~ ses * Sector", hs)


def _closed_curves(pts: np.ndarray) -> list[np.ndarray]:
    """Split stacked curves at their NaN rows."""
    out, cur = [], []
    for row in pts:
        if np.isnan(row).any():
            out.append(np.array(cur))
            cur = []
        else:
            cur.append(row)
    out.append(np.array(cur))
    return out


# ---------------------------------------------------------------------------------------------
# ellipse
# ---------------------------------------------------------------------------------------------


def test_ellipse_points_satisfy_the_quadratic_form():
    S = np.array([[4.0, 1.2], [1.2, 1.0]])
    c = np.array([1.0, -2.0])
    pts = ellipse(c, S, radius=1.7, n=60)
    assert pts.shape == (61, 2)
    np.testing.assert_allclose(pts[0], pts[-1])  # closed
    d = pts - c
    q = np.einsum("ij,jk,ik->i", d, np.linalg.inv(S), d)
    np.testing.assert_allclose(q, 1.7**2, rtol=1e-10)


def test_ellipse_several_radii_are_separated_by_nan():
    pts = ellipse([0, 0], np.eye(2), radius=[1, 2], n=20)
    assert pts.shape == (2 * 21 + 1, 2)
    curves = _closed_curves(pts)
    assert len(curves) == 2
    np.testing.assert_allclose(np.hypot(*curves[0].T), 1)
    np.testing.assert_allclose(np.hypot(*curves[1].T), 2)


def test_singular_shape_gives_a_segment():
    # a rank-one shape: the "ellipse" collapses onto the line through c in direction (1, 2)
    v = np.array([1.0, 2.0])
    pts = ellipse([3, 3], np.outer(v, v), radius=1)
    d = pts - np.array([3, 3])
    np.testing.assert_allclose(d[:, 0] * 2 - d[:, 1], 0, atol=1e-6)  # width: sqrt of rounding error
    assert np.abs(d[:, 0]).max() == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (np.eye(3), "2x2"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "not symmetric"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "not positive semi-definite"),
    ],
)
def test_ellipse_rejects_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        ellipse([0, 0], shape)


# ---------------------------------------------------------------------------------------------
# radius: coverage and shadows
# ---------------------------------------------------------------------------------------------


def test_ellipse_radius_formulas():
    assert ellipse_radius(0.95, "coverage", 38) == pytest.approx(np.sqrt(2 * stats.f.ppf(0.95, 2, 38)))
    assert ellipse_radius(0.95, "coverage") == pytest.approx(np.sqrt(stats.chi2.ppf(0.95, 2)))
    assert ellipse_radius(0.95, "shadow", 38) == pytest.approx(stats.t.ppf(0.975, 38))
    assert ellipse_radius(0.95, "shadow") == pytest.approx(1.959964, abs=1e-6)
    # a coverage ellipse is always larger than the shadow ellipse of the same level
    assert ellipse_radius(0.95, "coverage", 38) > ellipse_radius(0.95, "shadow", 38)


@pytest.mark.parametrize(("level", "kind"), [(0, "coverage"), (1.2, "shadow"), (0.95, "box")])
def test_ellipse_radius_rejects_bad_input(level, kind):
    with pytest.raises(ValueError):
        ellipse_radius(level, kind)


def test_coverage_radius_covers_95_percent_of_normal_draws():
    rng = np.random.default_rng(1)
    S = np.array([[2.0, 0.8], [0.8, 1.0]])
    x = rng.multivariate_normal([0, 0], S, size=40000)
    q = np.einsum("ij,jk,ik->i", x, np.linalg.inv(S), x)
    assert np.mean(q <= ellipse_radius(0.95, "coverage") ** 2) == pytest.approx(0.95, abs=0.005)


def test_shadow_of_an_ellipse_in_any_direction():
    # the shadow (projection) of {c + r F'u} on a direction a is c'a +- r sqrt(a'Sa)
    S = np.array([[3.0, -1.0], [-1.0, 2.0]])
    c = np.array([0.5, 1.5])
    pts = ellipse(c, S, radius=2.0, n=4000)
    for angle in np.linspace(0, np.pi, 7):
        a = np.array([np.cos(angle), np.sin(angle)])
        proj = pts @ a
        half = 2.0 * np.sqrt(a @ S @ a)
        assert proj.max() == pytest.approx(c @ a + half, rel=1e-5)
        assert proj.min() == pytest.approx(c @ a - half, rel=1e-5)


# ---------------------------------------------------------------------------------------------
# data ellipse
# ---------------------------------------------------------------------------------------------


def test_data_ellipse_shadows_are_mean_plus_minus_sd():
    rng = np.random.default_rng(2)
    x = rng.normal(3, 2, 200)
    y = 0.5 * x + rng.normal(0, 1, 200)
    pts = data_ellipse(x, y, n=4000)
    assert pts[:, 0].max() == pytest.approx(x.mean() + x.std(ddof=1), abs=1e-5)
    assert pts[:, 1].min() == pytest.approx(y.mean() - y.std(ddof=1), abs=1e-5)


def test_data_ellipse_drops_missing_and_needs_two_points():
    x = np.array([0.0, 1.0, np.nan, np.nan])
    y = np.array([1.0, np.nan, 3.0, 4.0])
    with pytest.raises(ValueError, match="two complete points"):
        data_ellipse(x, y)
    pts = data_ellipse([0, 1, 2, np.nan], [0, 1, 3, 5])
    assert np.isfinite(pts).all()


# ---------------------------------------------------------------------------------------------
# confidence ellipses of fits
# ---------------------------------------------------------------------------------------------


def test_conf_ellipse_shape_and_centre(pooled):
    pts = conf_ellipse(pooled, ["SectorPublic", "ses:SectorPublic"], n=40)
    V = pooled.cov_params().loc[["SectorPublic", "ses:SectorPublic"], ["SectorPublic", "ses:SectorPublic"]]
    expected = ellipse(
        pooled.params[["SectorPublic", "ses:SectorPublic"]],
        V.to_numpy(),
        radius=ellipse_radius(0.95, "coverage", pooled.df_resid),
        n=40,
    )
    np.testing.assert_allclose(pts, expected)


def test_shadow_ellipse_projects_onto_the_wald_intervals(pooled):
    """The notes' "95 % shadows": each axis shadow of the shadow ellipse is the t interval."""
    names = ["SectorPublic", "ses:SectorPublic"]
    pts = conf_ellipse(pooled, names, kind="shadow", n=20000)
    ci = hk.wald(pooled, names).estimates
    assert pts[:, 0].min() == pytest.approx(ci.loc["SectorPublic", "lower"], rel=1e-6)
    assert pts[:, 1].max() == pytest.approx(ci.loc["ses:SectorPublic", "upper"], rel=1e-6)


def test_manova_shadow_interval_matches_r(hs):
    """Method 3: the slope shadow of the difference ellipse is R's t interval on 38 df."""
    lcoefs = hk.lmlist("mathach ~ ses", hs, "school").coef
    fit = mlm(lcoefs, "~ Sector", hk.up(hs, "school"))
    pts = conf_ellipse(fit, L=fit.coef_L("SectorPublic"), kind="shadow", n=20000)
    r = REF["two_stage"]
    est, se = r["coef"]["values"][1][1], r["se"]["values"][1][1]
    half = stats.t.ppf(0.975, r["df_resid"]) * se
    assert pts[:, 1].min() == pytest.approx(est - half, rel=1e-6)
    assert pts[:, 1].max() == pytest.approx(est + half, rel=1e-6)
    assert est - half > 0  # p = 0.0353 < 0.05


def test_conf_ellipse_checks_its_input(pooled):
    with pytest.raises(ValueError, match="exactly two"):
        conf_ellipse(pooled, ["ses"])
    with pytest.raises(ValueError, match="2 x 4"):
        conf_ellipse(pooled, L=np.eye(3))


# ---------------------------------------------------------------------------------------------
# line_L: a line of data space as a point of beta space
# ---------------------------------------------------------------------------------------------


def test_line_L_gives_the_sector_lines_of_the_pooled_fit(pooled):
    b = REF["pooled"]["coef"]
    Lc = line_L(pooled, "ses", Sector="Catholic")
    Lp = line_L(pooled, "ses", Sector="Public")
    assert list(Lc.index) == ["(Intercept)", "ses"]
    np.testing.assert_allclose(
        Lc.to_numpy() @ pooled.params.to_numpy(), [b["(Intercept)"], b["ses"]], rtol=1e-10
    )
    np.testing.assert_allclose(
        Lp.to_numpy() @ pooled.params.to_numpy(),
        [b["(Intercept)"] + b["SectorPublic"], b["ses"] + b["ses:SectorPublic"]],
        rtol=1e-10,
    )
    # the difference of the two is the pair of Sector coefficients
    np.testing.assert_array_equal((Lp - Lc).to_numpy(), [[0, 0, 1, 0], [0, 0, 0, 1]])


def test_line_L_works_on_mixed_models(hs):
    fit = hk.lme("mathach ~ ses * Sector", hs, random="~ 1 + ses | school")
    L = line_L(fit, "ses", Sector="Public")
    est = hk.wald(fit, L).estimates["estimate"].to_numpy()
    np.testing.assert_allclose(
        est, [fit.fixef.iloc[0] + fit.fixef.iloc[2], fit.fixef.iloc[1] + fit.fixef.iloc[3]]
    )


def test_line_L_refuses_curves_and_missing_variables(hs, pooled):
    quad = hk.ols("mathach ~ ses + I(ses^2)", hs)
    with pytest.raises(ValueError, match="not linear in 'ses'"):
        line_L(quad, "ses")
    with pytest.raises((KeyError, ValueError), match="Sector"):
        line_L(pooled, "ses")
    with pytest.raises(ValueError, match="horizontal variable"):
        line_L(pooled, "ses", ses=1.0)
