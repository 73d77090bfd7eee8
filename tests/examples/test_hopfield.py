"""Smoke test of examples.hopfield: stored digits recalled from 10% flips, energy never rises, capacity."""

import pytest

from examples import hopfield
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_recall_energy_and_capacity(tmp_path):
    result = run_example(hopfield, tmp_path, "--trials", "5", "--units", "100", "--capacity-trials", "2")
    assert result["recall"] == [1.0] * 5  # every stored digit, every corrupted copy
    assert min(result["recall_all_ten"]) < 0.5  # ten similar digits are too many
    assert result["energy_rises"] == 0
    exact = dict(zip(result["counts"], result["exact"]))
    assert exact[min(exact)] == 1.0 and exact[max(exact)] < 0.2  # 0.02 N recalled, 0.3 N not
