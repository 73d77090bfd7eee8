"""Smoke test of examples.activations: autograd's derivatives equal the notes' closed forms."""

import pytest

from examples import activations
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_autograd_derivatives_match_the_notes(tmp_path):
    result = run_example(activations, tmp_path, "--points", "201")
    checks = result["checks"]
    for name in (
        "logistic sigmoid",
        "tanh",
        "hard-logistic",
        "hard-tanh",
        "ReLU",
        "ELU (alpha 1)",
        "softplus",
        "swish / SiLU (beta 1)",
        "GELU (exact)",
        "leaky ReLU (0.01)",
    ):
        assert checks[f"{name}: f' vs closed form"] < 1e-9, name
    assert checks["sigmoid' maximum - 0.25"] < 1e-12 and checks["sigmoid' is largest at x = 0 (distance)"] == 0
    assert checks["softplus' vs sigmoid"] < 1e-12
    assert checks["swish beta = 0 vs x / 2"] < 1e-12 and checks["swish beta = 0: f' vs 1/2"] < 1e-12
    assert max(v for k, v in checks.items() if "softmax" in k or "maxout" in k or "PReLU" in k) < 1e-9
    approx = result["approximations"]
    assert approx["GELU tanh approximation: max error"] < 1e-3 < approx["GELU sigmoid approximation: max error"] < 0.03
