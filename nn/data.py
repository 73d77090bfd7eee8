"""Data handling in plain NumPy: mini-batches, train/validation/test splits, MNIST IDX files."""

import gzip
import math
import os
import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["DataLoader", "train_val_test_split", "read_idx", "load_mnist"]


def _is_positive_int(n):
    return not isinstance(n, bool) and isinstance(n, (int, np.integer)) and n > 0


class DataLoader:
    """Iterate over ``(xb, yb)`` mini-batches of ``(X, y)``.

    * Samples are indexed along the first axis; the last, partial batch is
      kept unless ``drop_last=True``.
    * With ``shuffle=True`` each iteration (each epoch) draws a fresh order
      from the loader's own ``np.random.Generator``: one seed gives one
      reproducible sequence of orders, and the global NumPy state is untouched.
    * ``y`` may be None; the pairs are then ``(xb, None)``.
    """

    def __init__(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike | None,
        batch_size: int,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        if self.X.ndim == 0:
            raise ValueError(f"DataLoader: X must have a sample axis, got shape {self.X.shape}")
        if self.y is not None and (self.y.ndim == 0 or self.y.shape[0] != self.X.shape[0]):
            raise ValueError(
                f"DataLoader: X has shape {self.X.shape} but y has shape {self.y.shape}; "
                f"their first dimensions (number of samples) must match"
            )
        if not _is_positive_int(batch_size):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_samples // self.batch_size
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        # The order is drawn when iteration starts, so every epoch reshuffles.
        n = self.n_samples
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for k in range(len(self)):
            idx = order[k * self.batch_size : (k + 1) * self.batch_size]
            yield self.X[idx], (None if self.y is None else self.y[idx])


def _largest_remainder(total, weights, caps):
    """Split the integer ``total`` in proportion to ``weights`` without exceeding ``caps``.

    Floors of the exact shares first, then the leftover units one by one to the
    largest fractional parts (ties: lower index), skipping full groups.
    """
    weights = np.asarray(weights, dtype=np.float64)
    shares = total * weights / weights.sum()
    counts = np.minimum(np.floor(shares).astype(np.int64), caps)
    order = np.argsort(-(shares - np.floor(shares)), kind="stable")
    left = total - int(counts.sum())
    while left > 0:  # terminates because total <= caps.sum()
        for i in order:
            if left == 0:
                break
            if counts[i] < caps[i]:
                counts[i] += 1
                left -= 1
    return counts


def _check_fraction(name, f):
    if isinstance(f, bool) or not isinstance(f, (float, int, np.floating, np.integer)) or not 0 <= f < 1:
        raise ValueError(f"train_val_test_split: {name} must be a fraction in [0, 1), got {f!r}")
    return float(f)


def train_val_test_split(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    val: float = 0.1,
    test: float = 0.2,
    seed: int | None = 0,
    stratify: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Shuffle and split into ``(X_train, y_train), (X_val, y_val), (X_test, y_test)``.

    ``val`` and ``test`` are fractions of the samples; the split sizes are
    ``round(test * n)`` and ``round(val * n)``, the rest is training data.
    With ``stratify=True`` (``y`` holding class labels, 1-d) every split keeps
    the class proportions as closely as whole samples allow, with the same
    split sizes. ``y`` may be None (not with ``stratify``).
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"train_val_test_split: X must have a sample axis, got shape {X.shape}")
    n = X.shape[0]
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(
                f"train_val_test_split: X has shape {X.shape} but y has shape {y.shape}; "
                f"their first dimensions must match"
            )
    val = _check_fraction("val", val)
    test = _check_fraction("test", test)
    if val + test >= 1:
        raise ValueError(f"train_val_test_split: val + test must be below 1, got {val} + {test}")
    n_test = int(round(test * n))
    n_val = int(round(val * n))
    rng = np.random.default_rng(seed)

    if not stratify:
        order = rng.permutation(n)
        test_idx, val_idx, train_idx = np.split(order, [n_test, n_test + n_val])
    else:
        if y is None or y.ndim != 1:
            shape = None if y is None else y.shape
            raise ValueError(f"train_val_test_split: stratify=True needs 1-d class labels y, got {shape}")
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        # Share the test samples among classes, then the validation samples
        # among what each class has left.
        test_k = _largest_remainder(n_test, counts, counts)
        val_k = _largest_remainder(n_val, counts, counts - test_k)
        parts: dict[str, list[np.ndarray]] = {"test": [], "val": [], "train": []}
        for c in range(len(classes)):
            idx = rng.permutation(np.flatnonzero(inverse == c))
            parts["test"].append(idx[: test_k[c]])
            parts["val"].append(idx[test_k[c] : test_k[c] + val_k[c]])
            parts["train"].append(idx[test_k[c] + val_k[c] :])
        # Shuffle within each split so classes are not in blocks.
        test_idx, val_idx, train_idx = (rng.permutation(np.concatenate(parts[k])) for k in ("test", "val", "train"))

    def take(idx):
        return X[idx], (None if y is None else y[idx])

    return take(train_idx), take(val_idx), take(test_idx)


# IDX format (MNIST): 0x00 0x00, a dtype code, the number of dimensions, then
# each dimension as a big-endian uint32, then the data, big-endian.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, told apart by content) into an ndarray.

    The array has the file's dimensions and the dtype its code gives, in native
    byte order. A bad magic number, unknown dtype code, truncated or overlong
    file raises ValueError naming the file.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"read_idx: {path}: corrupt or truncated gzip data ({exc})") from exc

    if len(raw) < 4:
        raise ValueError(f"read_idx: {path}: truncated file, {len(raw)} bytes is shorter than the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"read_idx: {path}: bad magic number 0x{raw[:4].hex()}; expected 0x0000 then a dtype code "
            f"({', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}) and the number of dimensions"
        )
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path}: truncated header, {len(raw)} bytes for {ndim} dimensions")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) < expected:
        raise ValueError(
            f"read_idx: {path}: truncated file, {len(raw)} bytes but shape {shape} of {dtype.name} needs {expected}"
        )
    if len(raw) > expected:
        raise ValueError(
            f"read_idx: {path}: {len(raw) - expected} unexpected trailing bytes after shape {shape} of {dtype.name}"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header)
    # Copy into native byte order: a writable array that arithmetic treats normally.
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _find_mnist_file(directory, base):
    # The official names, gzip-compressed or not; some mirrors write ".idx3" for "-idx3".
    dotted = base.replace("-idx", ".idx")
    candidates = [base, base + ".gz", dotted, dotted + ".gz"]
    for name in candidates:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"load_mnist: none of {candidates} found in {directory}")


def load_mnist(
    directory: str | os.PathLike[str], dtype: npt.DTypeLike = np.float32
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST from the four standard IDX files in ``directory`` (each may be gzipped).

    Returns ``(X_train, y_train), (X_test, y_test)``: X flattened to ``(n, 784)``
    and scaled to [0, 1] (``dtype``, float32 by default to halve the memory),
    y as int64 class labels.
    """
    directory = os.fspath(directory)
    arrays = {k: read_idx(_find_mnist_file(directory, base)) for k, base in _MNIST_FILES.items()}

    def prepare(images_key, labels_key):
        images, labels = arrays[images_key], arrays[labels_key]
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"load_mnist: {_MNIST_FILES[images_key]} has shape {images.shape} and "
                f"{_MNIST_FILES[labels_key]} has shape {labels.shape}; expected (n, rows, cols) and (n,)"
            )
        X = images.reshape(images.shape[0], -1).astype(dtype)
        if np.issubdtype(images.dtype, np.integer):
            X /= 255.0  # pixel bytes 0..255 -> [0, 1]
        return X, labels.astype(np.int64)

    return prepare("train_images", "train_labels"), prepare("test_images", "test_labels")
