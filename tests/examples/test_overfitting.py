"""Smoke test of examples.overfitting: L2 narrows the train/validation gap; early stopping restores the best epoch."""

import numpy as np
import pytest

from examples import overfitting
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_l2_narrows_the_gap_and_early_stopping_restores_the_best(tmp_path):
    # A short run: a stronger lambda and a larger step make the difference show within 40 epochs.
    result = run_example(
        overfitting,
        tmp_path,
        "--epochs",
        "40",
        "--n-train",
        "100",
        "--n-val",
        "200",
        "--lam",
        "10",
        "--lr",
        "0.3",
        "--patience",
        "3",
        "--moons",
        "30",
        "--moons-epochs",
        "150",
    )
    gaps = list(result["gaps"].values())  # none, L2, dropout, early stopping
    assert gaps[0] > gaps[1] + 0.05
    history, val_loss_after = result["early_stopping"]
    assert len(history["loss"]) < result["epochs"]
    assert np.isclose(val_loss_after, min(history["val_loss"]), rtol=1e-9)
    (_, val_plain), (_, val_l2) = result["moons"].values()
    assert val_l2 > val_plain
