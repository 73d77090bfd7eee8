"""Smoke test of examples.vanishing_gradients: ReLU (He) keeps first-layer gradients the sigmoid net loses."""

import pytest

from examples import vanishing_gradients
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_relu_first_layer_gradient_dwarfs_sigmoid(tmp_path):
    result = run_example(vanishing_gradients, tmp_path, "--epochs", "1", "--probe", "100")
    norms = result["at_init"]
    assert norms["relu", "He"][0] >= 100 * norms["sigmoid", "Xavier"][0]
    assert norms["sigmoid", "Xavier"][0] < 1e-2 * norms["sigmoid", "Xavier"][-1]  # vanishing towards the input
    assert norms["relu", "N(0, 1)"][0] > 100 * norms["relu", "N(0, 1)"][-1]  # exploding
    assert result["reference_difference"] < 1e-9  # autograd's delta^(l) = the hand-derived one
