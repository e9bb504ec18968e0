"""hk.anova prints its table as nlme's print.anova.lme does (p-values, blanks where there is no test)."""

from __future__ import annotations

import numpy as np
import pytest

import hlmkit as hk

# R 4.2, nlme 3.1-162, on nlme's MathAchieve (= hk.load_hsfull()):
#   f0 <- lme(MathAch ~ SES, MathAchieve, random = ~ 1 | School)
#   f1 <- update(f0, random = ~ 1 + SES | School); f2 <- update(f0, random = ~ 1 + Minority | School)
#   f0m <- update(f0, method = "ML"); f3m <- update(f0m, . ~ . + Sex); f4m <- update(f3m, . ~ . + Minority)
#   print(anova(f0, f1)); print(anova(f1, f2)); print(anova(f0, f1, f2)); print(anova(f0m, f3m, f4m))
R_PRINTED = {
    ("f0", "f1"): """
   Model df      AIC      BIC    logLik   Test  L.Ratio p-value
f0     1  4 46653.17 46680.69 -23322.58
f1     2  6 46652.40 46693.68 -23320.20 1 vs 2 4.771058   0.092""",
    ("f1", "f2"): """
   Model df      AIC      BIC    logLik
f1     1  6 46652.40 46693.68 -23320.20
f2     2  6 46549.57 46590.85 -23268.79""",
    ("f0", "f1", "f2"): """
   Model df      AIC      BIC    logLik   Test  L.Ratio p-value
f0     1  4 46653.17 46680.69 -23322.58
f1     2  6 46652.40 46693.68 -23320.20 1 vs 2 4.771058   0.092
f2     3  6 46549.57 46590.85 -23268.79""",
    ("f0m", "f3m", "f4m"): """
    Model df      AIC      BIC    logLik   Test  L.Ratio p-value
f0m     1  4 46649.00 46676.52 -23320.50
f3m     2  5 46599.74 46634.14 -23294.87 1 vs 2  51.2609  <.0001
f4m     3  6 46398.84 46440.11 -23193.42 2 vs 3 202.9074  <.0001""",
}


@pytest.fixture(scope="module")
def fits():
    hs = hk.load_hsfull()
    f0 = hk.lme("mathach ~ ses", hs, random="~ 1 | school")
    f0m = f0.update(method="ML")
    f3m = f0m.update(". ~ . + Sex")
    return {
        "f0": f0,
        "f1": f0.update(random="~ 1 + ses | school"),
        "f2": f0.update(random="~ 1 + Minority | school"),
        "f0m": f0m,
        "f3m": f3m,
        "f4m": f3m.update(". ~ . + Minority"),
    }


@pytest.mark.parametrize("names", list(R_PRINTED))
def test_anova_prints_as_nlme(fits, names):
    table = hk.anova(*(fits[n] for n in names), names=list(names))
    # R pads the blank cells with spaces; compare the lines without trailing blanks
    assert [ln.rstrip() for ln in repr(table).splitlines()] == R_PRINTED[names].strip("\n").splitlines()


def test_anova_keeps_its_numbers_and_shows_no_nan(fits):
    table = hk.anova(fits["f0"], fits["f1"], fits["f2"], names=["f0", "f1", "f2"])
    assert np.isnan(table["p-value"].iloc[0]) and np.isnan(table["p-value"].iloc[2])  # no test: NaN kept
    assert table["p-value"].iloc[1] == pytest.approx(0.09204, abs=1e-5)
    html = table._repr_html_()
    assert "NaN" not in html and "nan" not in html and "None" not in html
    assert "<td>0.092</td>" in html
    # rounding keeps the printing; a selection of columns prints as a plain DataFrame
    assert "NaN" not in repr(table.round(3))
    assert "Test" not in repr(table[["AIC", "BIC"]]) and "AIC" in repr(table[["AIC", "BIC"]])


def test_anova_p_value_that_rounds_to_zero(fits):
    table = hk.anova(fits["f0m"], fits["f3m"], names=["a", "b"])
    assert table["p-value"].iloc[1] < 5e-5
    assert repr(table).splitlines()[-1].endswith("<.0001")
    assert "&lt;.0001" in table._repr_html_()
