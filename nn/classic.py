"""Classic threshold units: the McCulloch-Pitts neuron and Rosenblatt's perceptron.

Plain NumPy; no gradients are involved. The examples in the course notes
("Worked examples") are the tests of this module.
"""

import numpy as np
import numpy.typing as npt

__all__ = ["MPNeuron", "Perceptron"]


def _as_samples(fn, X, n_inputs):
    """Return (2-d float array, was_single_sample) or raise a ValueError naming fn."""
    X = np.asarray(X, dtype=np.float64)
    given = X.shape
    single = X.ndim == 1
    if single:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise ValueError(f"{fn}: input has shape {given}, expected (n, {n_inputs}) or ({n_inputs},)")
    return X, single


class MPNeuron:
    """McCulloch-Pitts threshold unit: ``step(w . x + b)``.

    ``step(s)`` is 1 for ``s > 0``, 0 for ``s < 0`` and ``value_at_zero`` at 0
    (the course notes' AND unit ``x1 + x2 - 2`` needs ``f(0) = 1``).
    The default ``value_at_zero=1`` follows 西瓜书 (fire when ``w . x >= threshold``);
    ``value_at_zero=0`` is the lecture notes' perceptron, "output 0 when ``w . x <= threshold``".
    A threshold ``t`` is the bias ``-t``; see :meth:`from_threshold`.
    """

    def __init__(self, weights: npt.ArrayLike, bias: float, value_at_zero: int = 1) -> None:
        self.weight = np.atleast_1d(np.asarray(weights, dtype=np.float64))
        if self.weight.ndim != 1:
            raise ValueError(f"MPNeuron: weights must be 1-d, got shape {self.weight.shape}")
        self.bias = float(bias)
        if value_at_zero not in (0, 1):
            raise ValueError(f"MPNeuron: value_at_zero must be 0 or 1, got {value_at_zero!r}")
        self.value_at_zero = int(value_at_zero)

    @classmethod
    def from_threshold(cls, weights: npt.ArrayLike, threshold: float, value_at_zero: int = 1) -> "MPNeuron":
        """Unit that fires when ``w . x`` exceeds ``threshold`` (bias = -threshold)."""
        return cls(weights, -float(threshold), value_at_zero=value_at_zero)

    @property
    def n_inputs(self) -> int:
        return self.weight.shape[0]

    def __call__(self, x: npt.ArrayLike) -> int | np.ndarray:
        """0/1 outputs: an int64 array ``(n,)`` for ``x`` of shape ``(n, in)``, an int for ``(in,)``."""
        X, single = _as_samples("MPNeuron", x, self.n_inputs)
        s = X @ self.weight + self.bias
        out = np.where(s > 0, 1, np.where(s < 0, 0, self.value_at_zero)).astype(np.int64)
        return int(out[0]) if single else out

    def __repr__(self) -> str:
        return f"MPNeuron(weights={self.weight.tolist()}, bias={self.bias}, value_at_zero={self.value_at_zero})"


class Perceptron:
    """Rosenblatt's perceptron, with labels in {-1, +1} (default) or in {0, 1}.

    ``labels=(-1, 1)``, the lecture notes' and slides' form: a sample with
    ``y (w . x + b) <= 0`` is an error (a point exactly on the boundary counts as
    wrong, so learning starts from w = 0), and then ``w <- w + lr y x``,
    ``b <- b + lr y``.

    ``labels=(0, 1)``, 西瓜书's form: the output is ``y_hat = 1`` when
    ``w . x + b >= 0`` (its step has f(0) = 1), else 0, and every sample updates
    ``w <- w + lr (y - y_hat) x``, ``b <- b + lr (y - y_hat)`` (nothing when it is
    right). Off the boundary the two forms make the same updates: y - y_hat is
    +-1 exactly where the +-1 form errs, and equal to its label there. On the
    boundary they differ: the +-1 form counts every boundary point as an error,
    the 0/1 form only those labelled 0.
    """

    def __init__(self, n_inputs: int, lr: float = 1.0, labels: tuple[int, int] = (-1, 1)) -> None:
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, (int, np.integer)) or n_inputs < 1:
            raise ValueError(f"Perceptron: n_inputs must be a positive int, got {n_inputs!r}")
        if not lr > 0:
            raise ValueError(f"Perceptron: lr must be positive, got {lr!r}")
        if tuple(labels) not in ((-1, 1), (0, 1)):
            raise ValueError(f"Perceptron: labels must be (-1, 1) or (0, 1), got {labels!r}")
        self.labels = tuple(labels)
        self.n_inputs = int(n_inputs)
        self.lr = float(lr)
        self.weight = np.zeros(self.n_inputs)
        self.bias = 0.0
        self.converged = False
        self.errors_: list[int] = []  # number of errors in each epoch of the last fit()

    def decision_function(self, X: npt.ArrayLike) -> float | np.ndarray:
        """``w . x + b`` for each sample (a float for a single sample)."""
        samples, single = _as_samples("Perceptron.decision_function", X, self.n_inputs)
        s = samples @ self.weight + self.bias
        return float(s[0]) if single else s

    def predict(self, X: npt.ArrayLike) -> int | np.ndarray:
        """+1 where ``w . x + b > 0``, else -1 (0 maps to -1, matching the ``<= 0`` error rule);
        with ``labels=(0, 1)``: 1 where ``w . x + b >= 0``, else 0."""
        samples, single = _as_samples("Perceptron.predict", X, self.n_inputs)
        s = samples @ self.weight + self.bias
        out = (np.where(s > 0, 1, -1) if self.labels == (-1, 1) else np.where(s >= 0, 1, 0)).astype(np.int64)
        return int(out[0]) if single else out

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, max_epochs: int = 100) -> bool:
        """Apply the rule sample by sample, in the given order, for up to ``max_epochs`` passes.

        Training continues from the current ``weight`` and ``bias`` (zeros for a
        new perceptron). Returns True, and sets ``converged``, as soon as an
        epoch makes no error; ``errors_`` holds the error count of each epoch.
        """
        samples, _ = _as_samples("Perceptron.fit", X, self.n_inputs)
        if samples.shape[0] == 0:
            raise ValueError(f"Perceptron.fit: X has shape {samples.shape}; need at least one sample")
        targets = np.asarray(y)
        if targets.shape != (samples.shape[0],):
            raise ValueError(
                f"Perceptron.fit: y has shape {targets.shape}, expected ({samples.shape[0]},) "
                f"to match X {samples.shape}"
            )
        labels = np.unique(targets)
        if not np.all(np.isin(labels, self.labels)):
            allowed = "-1 or +1" if self.labels == (-1, 1) else "0 or 1 (labels=(0, 1))"
            raise ValueError(f"Perceptron.fit: labels must be {allowed}, found {labels.tolist()}")
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) or max_epochs < 1:
            raise ValueError(f"Perceptron.fit: max_epochs must be a positive int, got {max_epochs!r}")
        targets = targets.astype(np.float64)

        self.errors_ = []
        self.converged = False
        for _ in range(max_epochs):
            errors = 0
            for xi, yi in zip(samples, targets):
                step = self._correction(yi, xi @ self.weight + self.bias)
                if step:
                    self.weight = self.weight + self.lr * step * xi
                    self.bias = float(self.bias + self.lr * step)
                    errors += 1
            self.errors_.append(errors)
            if errors == 0:
                self.converged = True
                break
        return self.converged

    def _correction(self, y, s):
        """The factor of lr x in the update: y on an error (+-1 form), y - y_hat (0/1 form)."""
        if self.labels == (-1, 1):
            return y if y * s <= 0 else 0.0
        return y - (1.0 if s >= 0 else 0.0)

    def __repr__(self) -> str:
        labels = "" if self.labels == (-1, 1) else f", labels={self.labels}"
        return f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr}{labels})"
