"""hlmkit.book: the checks the pages rely on must be able to fail."""

from __future__ import annotations

import numpy as np
import pytest

from hlmkit.book import GLUED, check, check_printed, glue, printed_decimals


def test_printed_decimals():
    assert printed_decimals("12.60468") == 5
    assert printed_decimals("1937") == 0
    assert printed_decimals("-0.0266") == 4
    assert printed_decimals("2.84e-05") == 7


def test_check_printed_passes_to_the_last_digit():
    check_printed(12.6046755, "12.60468")
    check_printed(12.6046849, "12.60468")  # one unit in the last digit either way
    check_printed(np.float64(-6489.9693), "-6489.969")


@pytest.mark.parametrize("value, printed", [(12.60471, "12.60468"), (0.4711951, "0.4711941"), (1939, "1937")])
def test_check_printed_fails_beyond_the_last_digit(value, printed):
    with pytest.raises(AssertionError, match="the notes print"):
        check_printed(value, printed, what="x")


def test_check_printed_refuses_arrays_and_nan():
    with pytest.raises(TypeError):
        check_printed(np.array([1.0, 2.0]), "1")
    with pytest.raises(AssertionError):
        check_printed(float("nan"), "1.0")


def test_check_exact_and_with_tolerance():
    check(1977, 1977)
    check([1.0, 2.0], [1.0, 2.0 + 1e-9], rel=1e-6)
    check({"a": 1, "b": 2.0}, {"a": 1, "b": 2.0})
    check("Female", "Female")
    with pytest.raises(AssertionError, match="expected"):
        check(1976, 1977)
    with pytest.raises(AssertionError, match="shape"):
        check([1, 2], [1, 2, 3])
    with pytest.raises(AssertionError):
        check("Male", "Female")


def test_glue_stores_plain_python_numbers():
    value = glue("test-value", np.float64(1.5))
    assert type(value) is float and GLUED["test-value"] == 1.5
