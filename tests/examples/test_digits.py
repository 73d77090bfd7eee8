"""Smoke tests of examples.digits: a tiny run on the 8x8 digits, and the --mnist path on fake IDX files."""

import gzip
import struct

import numpy as np
from examples_smoke import run_example

from examples import digits


def test_digits_tiny_run_learns(tmp_path, capsys):
    result = run_example(digits, tmp_path, "--epochs", "3", "--hidden", "32", "--no-augment")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"test accuracy: {result['test_accuracy']:.4f}"  # the exact last line
    assert result["test_accuracy"] > 0.8
    assert {"curves", "confusion", "mistakes"} <= {p.rsplit("digits_", 1)[1][:-4] for p in result["files"]}


def write_idx(path, array, compress):
    """An IDX file: magic 0x0000, dtype code 0x08 (uint8), ndim, big-endian dims, then the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def fake_mnist(folder, rng, n_train=60, n_test=21):
    """Three classes of 28x28 images told apart by which horizontal band is bright, plus noise."""

    def make(n):
        labels = np.arange(n) % 3
        images = rng.integers(0, 60, size=(n, 28, 28))
        for i, c in enumerate(labels):
            images[i, 4 + 8 * c : 10 + 8 * c, 4:24] = 255
        return images, labels

    (train_x, train_y), (test_x, test_y) = make(n_train), make(n_test)
    write_idx(folder / "train-images-idx3-ubyte.gz", train_x, compress=True)  # gzipped and raw files both
    write_idx(folder / "train-labels-idx1-ubyte", train_y, compress=False)
    write_idx(folder / "t10k-images-idx3-ubyte", test_x, compress=False)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", test_y, compress=True)


def fake_mnist_folder(tmp_path):
    """tmp_path/mnist holding fake_mnist's four files."""
    data = tmp_path / "mnist"
    data.mkdir()
    fake_mnist(data, np.random.default_rng(0))
    return data


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
