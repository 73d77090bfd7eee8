"""Smoke test of examples.saturation: cross-entropy escapes saturation, the quadratic cost crawls."""

import pytest

from examples import saturation
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_cross_entropy_learns_faster_than_quadratic_from_saturation(tmp_path):
    result = run_example(saturation, tmp_path, "--epochs", "60")
    quad, ce = result["runs"]["quadratic"]["cost"], result["runs"]["cross-entropy"]["cost"]
    # Relative to its own start, over the first 50 epochs.
    assert ce[50] / ce[0] < 0.1 < 0.9 < quad[50] / quad[0]
    # The autograd gradient has the sigma'(z) factor for the quadratic cost only.
    for name, run in result["runs"].items():
        assert abs(run["dC/dw"][0] - result["closed_form_grad"][name]) < 1e-12
