"""Smoke test of examples.loss_surface: both 1-1-1 losses are non-convex; descent paths end where they should."""

import numpy as np
import pytest

from examples import loss_surface
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_nonconvex_losses_and_descent_paths(tmp_path):
    result = run_example(loss_surface, tmp_path, "--grid", "41", "--steps", "300")
    for loss in ("square", "cross-entropy"):
        assert result["nonconvex"][loss]["min_eigenvalue"] < -1e-3
        assert result["nonconvex"][loss]["midpoint_excess"] > 1e-3
    assert np.abs(result["bowl_ends"]).max() < 1e-6
    assert len(result["himmelblau_minima_reached"]) >= 2
