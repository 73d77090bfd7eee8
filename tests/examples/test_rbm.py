"""Smoke test of examples.rbm: contrastive divergence makes the reconstruction error fall."""

import pytest

from examples import rbm
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_reconstruction_error_falls(tmp_path):
    result = run_example(rbm, tmp_path, "--epochs", "3", "--hidden", "32", "--gibbs", "20", "--samples", "4")
    train, test = result["errors"]["train"], result["errors"]["test"]
    assert len(train) == 4 and train[-1] < train[0] / 2 and test[-1] < test[0] / 2
