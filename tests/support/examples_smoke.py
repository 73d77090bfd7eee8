"""Shared by the examples' smoke tests: run one in-process with tiny settings and check its figures;
fake MNIST files for the --mnist paths."""

import gzip
import os
import struct

import numpy as np


def run_example(module, tmp_path, *argv):
    """module.main(argv + --out tmp_path --no-progress); every figure it reports must be a real PNG there."""
    result = module.main([*argv, "--out", str(tmp_path), "--no-progress"])
    assert result["files"], "the example wrote no figure"
    for path in result["files"]:
        assert os.path.dirname(path) == str(tmp_path) and path.endswith(".png")
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000
    return result


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
