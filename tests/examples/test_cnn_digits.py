"""Smoke tests of examples.cnn_digits: a tiny run on the 8x8 digits, and LeNet-5 on small IDX files."""

import pytest

from examples import cnn_digits
from tests.support.examples_smoke import fake_mnist_folder, run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_cnn_digits_tiny_run_learns(tmp_path, capsys):
    result = run_example(cnn_digits, tmp_path, "--epochs", "3", "--channels", "4", "8", "--limit", "400")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"test accuracy: {result['test_accuracy']:.4f}"  # the exact last line
    assert result["test_accuracy"] > 0.8
    written = {p.rsplit("cnn_digits_", 1)[1][:-4] for p in result["files"]}
    assert {"curves", "filters", "feature_maps"} <= written


def test_cnn_digits_trains_lenet5_on_mnist_idx_files(tmp_path, capsys):
    data = fake_mnist_folder(tmp_path)
    result = run_example(
        cnn_digits, tmp_path / "out", "--mnist", str(data), "--epochs", "6", "--batch-size", "8", "--lr", "0.02"
    )
    out = capsys.readouterr().out
    assert "data: MNIST" in out and "network: LeNet-5" in out and "parameters: 61706\n" in out
    assert out.strip().splitlines()[-1] == f"test accuracy: {result['test_accuracy']:.4f}"
    assert result["test_accuracy"] > 0.9
