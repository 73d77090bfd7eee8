"""Smoke test of examples.universal_approximation: wider hidden layers fit sin better; the RBF fit is good."""

import pytest

from examples import universal_approximation
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_error_falls_with_width_and_rbf_fits(tmp_path):
    result = run_example(
        universal_approximation,
        tmp_path,
        "--widths",
        "1",
        "4",
        "16",
        "--steps",
        "800",
        "--restarts",
        "2",
        "--points",
        "60",
    )
    err = result["errors"]
    assert err[1] > err[4] > err[16]
    assert err[16] < err[1] / 20
    assert result["rbf_error"] < 0.02
    assert result["rbf_least_squares_error"] < 0.02  # the book's way: centres first, least squares
