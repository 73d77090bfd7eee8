"""Smoke tests of examples.digits: a tiny run on the 8x8 digits, and the --mnist path on fake IDX files."""

import pytest

from examples import digits
from tests.support.examples_smoke import fake_mnist_folder, run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_digits_tiny_run_learns(tmp_path, capsys):
    result = run_example(digits, tmp_path, "--epochs", "3", "--hidden", "32", "--no-augment")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"test accuracy: {result['test_accuracy']:.4f}"  # the exact last line
    assert result["test_accuracy"] > 0.8
    assert {"curves", "confusion", "mistakes"} <= {p.rsplit("digits_", 1)[1][:-4] for p in result["files"]}


def test_digits_reads_mnist_idx_files_even_without_graphviz(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` program: the graph picture is skipped with a note
    data = fake_mnist_folder(tmp_path)
    result = run_example(
        digits, tmp_path / "out", "--mnist", str(data), "--epochs", "8", "--hidden", "16", "--batch-size", "8"
    )
    out = capsys.readouterr().out
    assert "data: MNIST" in out and "network: [784, 16, 10]" in out and "training images: 54\n" in out
    assert "note: no graph picture" in out and "graph picture: False" in out
    assert out.strip().splitlines()[-1] == "test accuracy: 1.0000"
    assert result["test_accuracy"] == 1.0
