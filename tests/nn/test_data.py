"""nn.data: DataLoader, train_val_test_split, IDX reading and MNIST loading."""

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.data import DataLoader, load_mnist, read_idx, train_val_test_split

# --- DataLoader ---------------------------------------------------------------


def _epoch_orders(loader, epochs):
    """The sample ids seen in each epoch, in order (X holds the ids)."""
    out = []
    for _ in range(epochs):
        out.append(np.concatenate([xb for xb, _ in loader]))
    return out


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 25), seed=st.integers(0, 2**32 - 1))
def test_loader_covers_every_sample_once_and_keeps_last_batch(n, batch_size, seed):
    X = np.arange(n)
    y = np.arange(n) * 10
    loader = DataLoader(X, y, batch_size, shuffle=True, seed=seed)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-n // batch_size)
    sizes = [len(xb) for xb, _ in batches]
    assert all(s == batch_size for s in sizes[:-1])
    assert sizes[-1] == n - batch_size * (len(batches) - 1)  # the partial batch is kept
    seen = np.concatenate([xb for xb, _ in batches])
    np.testing.assert_array_equal(np.sort(seen), X)
    for xb, yb in batches:  # pairs stay aligned
        np.testing.assert_array_equal(yb, xb * 10)


def test_loader_same_seed_same_orders_and_epochs_differ():
    X = np.arange(50)
    a = _epoch_orders(DataLoader(X, None, 8, seed=3), 4)
    b = _epoch_orders(DataLoader(X, None, 8, seed=3), 4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    # Each epoch reshuffles, and a different seed gives different orders.
    assert not any(np.array_equal(a[i], a[j]) for i in range(4) for j in range(i + 1, 4))
    c = _epoch_orders(DataLoader(X, None, 8, seed=4), 1)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], X)


def test_loader_no_shuffle_and_multidim_and_none_targets():
    X = np.arange(7 * 2 * 3).reshape(7, 2, 3)
    loader = DataLoader(X, None, 3, shuffle=False)
    batches = list(loader)
    assert [xb.shape for xb, _ in batches] == [(3, 2, 3), (3, 2, 3), (1, 2, 3)]
    assert all(yb is None for _, yb in batches)
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)
    assert all(isinstance(xb, np.ndarray) for xb, _ in batches)


def test_loader_drop_last():
    loader = DataLoader(np.arange(10), np.arange(10), 4, drop_last=True, seed=0)
    assert len(loader) == 2
    assert [len(xb) for xb, _ in loader] == [4, 4]


def test_loader_does_not_touch_global_random_state():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    list(DataLoader(np.arange(20), None, 5, seed=None))
    assert np.random.random() == before


def test_loader_errors():
    with pytest.raises(ValueError, match=r"DataLoader: X has shape \(5, 2\) but y has shape \(4,\)"):
        DataLoader(np.zeros((5, 2)), np.zeros(4), 2)
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int"):
            DataLoader(np.zeros((5, 2)), np.zeros(5), bad)


# --- train_val_test_split -------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(10, 200),
    val=st.floats(0.0, 0.4),
    test=st.floats(0.0, 0.4),
    seed=st.integers(0, 1000),
    stratify=st.booleans(),
)
def test_split_sizes_and_disjointness(n, val, test, seed, stratify):
    X = np.arange(n)
    y = np.arange(n) % 3
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, val=val, test=test, seed=seed, stratify=stratify)
    assert len(Xte) == round(test * n) and len(Xva) == round(val * n)
    assert len(Xtr) + len(Xva) + len(Xte) == n
    all_ids = np.concatenate([Xtr, Xva, Xte])
    np.testing.assert_array_equal(np.sort(all_ids), X)  # disjoint and complete
    for Xs, ys in ((Xtr, ytr), (Xva, yva), (Xte, yte)):
        np.testing.assert_array_equal(ys, Xs % 3)  # labels follow their samples


def test_split_is_reproducible_and_seed_dependent():
    X, y = np.arange(100), np.arange(100) % 2
    a = train_val_test_split(X, y, seed=5)
    b = train_val_test_split(X, y, seed=5)
    c = train_val_test_split(X, y, seed=6)
    for (xa, _), (xb, _) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
    assert not np.array_equal(a[0][0], c[0][0])


def test_stratified_split_keeps_class_proportions():
    # 70 / 20 / 10 samples of three classes; a 20 % test split takes 14 / 4 / 2.
    y = np.repeat([0, 1, 2], [70, 20, 10])
    X = np.arange(100)
    (_, ytr), (_, yva), (_, yte) = train_val_test_split(X, y, val=0.1, test=0.2, seed=1, stratify=True)
    assert np.bincount(yte, minlength=3).tolist() == [14, 4, 2]
    assert np.bincount(yva, minlength=3).tolist() == [7, 2, 1]
    assert np.bincount(ytr, minlength=3).tolist() == [49, 14, 7]


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 40), min_size=2, max_size=5), seed=st.integers(0, 1000))
def test_stratified_split_within_one_sample_per_class(counts, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    (_, ytr), (_, yva), (_, yte) = train_val_test_split(
        np.zeros((n, 2)), y, val=0.15, test=0.25, seed=seed, stratify=True
    )
    counts = np.array(counts)
    # Each class gets its exact share of the test split, rounded up or down.
    share = counts * len(yte) / n
    assert np.all(np.abs(np.bincount(yte, minlength=len(counts)) - share) < 1)
    # No class is overdrawn by test + validation together, and the rest is training data.
    used = np.bincount(yte, minlength=len(counts)) + np.bincount(yva, minlength=len(counts))
    assert np.all(used <= counts)
    np.testing.assert_array_equal(np.bincount(ytr, minlength=len(counts)), counts - used)


def test_split_keeps_feature_rows_and_allows_none_targets():
    X = np.arange(40).reshape(20, 2)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, None, val=0.25, test=0.25, seed=0)
    assert ytr is None and yva is None and yte is None
    assert Xtr.shape == (10, 2) and Xva.shape == (5, 2) and Xte.shape == (5, 2)
    rows = np.concatenate([Xtr, Xva, Xte])
    np.testing.assert_array_equal(rows[:, 1] - rows[:, 0], 1)


def test_split_errors():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match=r"train_val_test_split: X has shape \(10, 2\) but y has shape \(9,\)"):
        train_val_test_split(X, y[:9])
    with pytest.raises(ValueError, match="train_val_test_split: val \\+ test must be below 1"):
        train_val_test_split(X, y, val=0.5, test=0.5)
    with pytest.raises(ValueError, match="train_val_test_split: test must be a fraction"):
        train_val_test_split(X, y, test=1.5)
    with pytest.raises(ValueError, match="train_val_test_split: stratify=True needs 1-d class labels"):
        train_val_test_split(X, None, stratify=True)


# --- IDX files -------------------------------------------------------------------

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(arr):
    """IDX encoding written here by hand with struct, independent of the reader."""
    arr = np.asarray(arr)
    code = IDX_CODES[arr.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=False):
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)])
def test_read_idx_roundtrip(tmp_path, compress, dtype, shape):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        arr = rng.normal(size=shape).astype(dtype) * 1e3
    # A name that does not say gzip: detection must use the content.
    path = write(tmp_path / "data-idx", idx_bytes(arr), compress)
    got = read_idx(path)
    assert got.shape == shape
    assert got.dtype == np.dtype(dtype)  # native byte order
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, arr)
    got[...] = 0  # writable, not a view of the file buffer


def test_read_idx_known_bytes(tmp_path):
    # Written out byte by byte: a (2, 3) uint8 array and a big-endian int32 vector.
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 251, 252])
    np.testing.assert_array_equal(read_idx(write(tmp_path / "u8", raw)), [[1, 2, 3], [250, 251, 252]])
    raw = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE])
    np.testing.assert_array_equal(read_idx(write(tmp_path / "i32", raw)), [256, -2])


def test_read_idx_bad_magic(tmp_path):
    good = idx_bytes(np.arange(6, dtype=np.uint8))
    for name, data in (
        ("bad1", b"\x01" + good[1:]),
        ("bad2", good[:2] + b"\x07" + good[3:]),
        ("bad3", b"PK\x03\x04" + good[4:]),
    ):
        path = write(tmp_path / name, data)
        with pytest.raises(ValueError, match=f"read_idx: .*{name}.*bad magic number"):
            read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_truncated(tmp_path, compress):
    good = idx_bytes(np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    for cut in (2, 9, len(good) - 1):
        path = write(tmp_path / f"trunc{cut}.idx", good[:cut], compress)
        with pytest.raises(ValueError, match=f"read_idx: .*trunc{cut}.idx.*truncated"):
            read_idx(path)


def test_read_idx_truncated_gzip_stream(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)))
    path = write(tmp_path / "cut.gz", data[: len(data) // 2])
    with pytest.raises(ValueError, match="read_idx: .*cut.gz"):
        read_idx(path)


def test_read_idx_trailing_bytes(tmp_path):
    path = write(tmp_path / "long", idx_bytes(np.arange(4, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="read_idx: .*long.*trailing"):
        read_idx(path)


def test_load_mnist_small_fake(tmp_path):
    rng = np.random.default_rng(0)
    tr_img = rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    tr_img[0, 0, 0], tr_img[0, 0, 1] = 0, 255
    tr_lab = np.array([0, 9, 3, 3, 1], dtype=np.uint8)
    te_img = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    te_lab = np.array([7, 2, 5], dtype=np.uint8)
    # A mix of raw and gzipped files, as downloads come.
    write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(tr_img), compress=True)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(tr_lab))
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(te_img))
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(te_lab), compress=True)

    (Xtr, ytr), (Xte, yte) = load_mnist(tmp_path)
    assert Xtr.shape == (5, 784) and Xte.shape == (3, 784)
    assert np.issubdtype(Xtr.dtype, np.floating)
    assert Xtr.min() == 0.0 and Xtr.max() == 1.0 and Xte.min() >= 0 and Xte.max() <= 1
    np.testing.assert_allclose(Xtr[2].reshape(28, 28), tr_img[2] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(Xte, te_img.reshape(3, -1) / 255.0, rtol=1e-6)
    assert ytr.dtype == np.int64 and yte.dtype == np.int64
    np.testing.assert_array_equal(ytr, tr_lab)
    np.testing.assert_array_equal(yte, te_lab)


def test_load_mnist_missing_and_mismatched(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((4, 28, 28), np.uint8)))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(3, np.uint8)))
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match=r"load_mnist: train-images-idx3-ubyte has shape \(4, 28, 28\)"):
        load_mnist(tmp_path)
    os.remove(tmp_path / "train-labels-idx1-ubyte")
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    (Xtr, _), (Xte, _) = load_mnist(str(tmp_path))
    assert Xtr.shape == (4, 784) and Xte.shape == (2, 784)
