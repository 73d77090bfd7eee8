"""Smoke test of examples.kinematics: gradient descent recovers v0 and a."""

import pytest

from examples import kinematics
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_recovers_v0_and_a(tmp_path):
    result = run_example(kinematics, tmp_path, "--v0", "5", "--a", "-3")
    assert abs(result["v0"] - 5) < 0.03 * 5 and abs(result["a"] + 3) < 0.03 * 3
    assert abs(result["v0"] - result["least_squares"][0]) < 1e-3  # converged to the exact minimiser
