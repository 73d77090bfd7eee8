"""Smoke test of examples.logic_gates: threshold units are right, the perceptron fails only on XOR, 2-2-1 solves it."""

import numpy as np
import pytest

from examples import logic_gates
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_perceptron_fails_on_xor_and_the_2_2_1_network_solves_it(tmp_path):
    result = run_example(logic_gates, tmp_path, "--perceptron-epochs", "20", "--steps", "800")
    assert all(result["mp_correct"].values())
    converged = result["perceptron_converged"]
    assert not converged["XOR"]
    assert converged["AND"] and converged["OR"] and converged["NAND"] and converged["NOT"]
    outputs = result["xor_net_outputs"]
    assert np.array_equal(outputs > 0.5, [False, True, True, False])
