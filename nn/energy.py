"""Energy-based memories of the course: the Hopfield network and the restricted Boltzmann machine.

`Hopfield` is plain NumPy (Hebb's rule stores, threshold updates recall; nothing is
differentiated). `RBM` is a Module whose contrastive-divergence loss is an ordinary 0-d Tensor,
so chainrule's backward pass computes the CD-k estimate and any optimiser trains it.
"""

import numpy as np

from autograd import Tensor, linear, no_grad
from autograd.hints import ArrayLike

from . import functional as F
from .init import DType, Seed, as_generator
from .layers import as_input
from .module import Module, Parameter

__all__ = ["Hopfield", "RBM"]


def _positive_int(where, name, n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {n!r}")
    return int(n)


class Hopfield:
    """A Hopfield network of `n_units` units with states +1/-1 and symmetric weights.

    `store` adds patterns by Hebb's rule, W += (1/n) sum_p p p^T with a zero diagonal (storing
    twice adds up, as Hebbian learning does). A unit's update is s_i <- sign(W_i . s), and a unit
    whose input is exactly 0 keeps its state. The energy E(s) = -1/2 s^T W s never rises under
    asynchronous updates (one unit at a time), which is why recall ends at a fixed point;
    synchronous updates (all units at once) can instead cycle between two states.

    The network keeps the Hebbian sums sum_p p p^T, which are integers, and decides every update
    and energy with them (W = sums / n): a unit's input that is exactly 0 then comes out as 0,
    whatever order the sum is added in, so recall does not depend on the machine's BLAS.
    """

    def __init__(self, n_units: int, dtype: DType = np.float64) -> None:
        self.n_units = _positive_int("Hopfield", "n_units", n_units)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Hopfield: dtype must be a floating-point type, got {self.dtype}")
        self._hebb = np.zeros((self.n_units, self.n_units), dtype=self.dtype)  # sum_p p p^T, zero diagonal
        self._weight = self._read_only(self._hebb / self.n_units)

    @staticmethod
    def _read_only(a: np.ndarray) -> np.ndarray:
        a.flags.writeable = False
        return a

    @property
    def weight(self) -> np.ndarray:
        """W = (1/n) sum_p p p^T with a zero diagonal, (n_units, n_units); read-only (use store)."""
        return self._weight

    def _states(self, where: str, x) -> np.ndarray:
        s = np.asarray(x, dtype=self.dtype)
        if s.ndim not in (1, 2) or s.shape[-1] != self.n_units:
            raise ValueError(f"{where}: states have shape {s.shape}, expected ({self.n_units},) or (n, {self.n_units})")
        if not np.all(np.abs(s) == 1):
            raise ValueError(f"{where}: states must be +1 or -1, found {np.unique(s)[:6].tolist()}")
        return s

    def store(self, patterns: ArrayLike) -> None:
        """Add rows of +1/-1 (shape (n_patterns, n_units) or (n_units,)) by Hebb's rule."""
        p = np.atleast_2d(self._states("Hopfield.store", patterns))
        self._hebb += p.T @ p
        np.fill_diagonal(self._hebb, 0.0)
        self._weight = self._read_only(self._hebb / self.n_units)

    def energy(self, x: ArrayLike):
        """E(s) = -1/2 s^T W s: a float for one state, an array (n,) for rows of states."""
        s = self._states("Hopfield.energy", x)
        e = self._energy_sums(s) / self.n_units
        return float(e) if s.ndim == 1 else e

    def _energy_sums(self, s):
        """-1/2 s^T (sum_p p p^T) s, an exact half-integer."""
        return -0.5 * np.einsum("...i,ij,...j->...", s, self._hebb, s)

    def recall(
        self,
        x: ArrayLike,
        steps: int = 100,
        mode: str = "async",
        rng: Seed = None,
        energies: list | None = None,
    ):
        """The state reached from `x` (one state or rows of states, each recalled on its own).

        `steps` counts sweeps: in one sweep every unit is updated once, in a random order for
        "async" (a new order each sweep, from `rng`: None, a seed or a Generator; rows share
        it) or all at once for "sync". Recall stops early at a fixed point (a sweep that
        changes nothing in any row).
        `energies`, a list, receives the energy after every update (one state only): after each
        unit in "async" mode, after each sweep in "sync" mode, the starting energy first.
        """
        if mode not in ("async", "sync"):
            raise ValueError(f"Hopfield.recall: mode must be 'async' or 'sync', got {mode!r}")
        steps = _positive_int("Hopfield.recall", "steps", steps)
        s = self._states("Hopfield.recall", x).copy()
        if energies is not None and s.ndim != 1:
            raise ValueError(f"Hopfield.recall: energies are recorded for one state, got shape {s.shape}")
        rows = np.atleast_2d(s)  # a view: updating rows updates s
        sums = None if energies is None else [self._energy_sums(s)]
        rng = as_generator(rng)
        for _ in range(steps):
            changed = self._sweep(rows, mode, rng, sums)
            if not changed:
                break
        if energies is not None and sums is not None:
            energies.extend(float(e) / self.n_units for e in sums)
        return s.astype(np.int64)

    def _sweep(self, rows: np.ndarray, mode: str, rng, sums) -> bool:
        """One sweep, in place; `sums` (a list, or None) gets -1/2 s^T (n W) s after each update."""
        if mode == "sync":
            field = rows @ self._hebb
            new = np.where(field > 0, 1.0, np.where(field < 0, -1.0, rows))
            changed = bool(np.any(new != rows))
            rows[...] = new
            if sums is not None:
                sums.append(self._energy_sums(rows[0]))
            return changed
        changed = False
        for i in rng.permutation(self.n_units):
            field = rows @ self._hebb[i]
            new = np.where(field > 0, 1.0, np.where(field < 0, -1.0, rows[:, i]))
            flipped = np.any(new != rows[:, i])
            if sums is not None:  # flipping s_i changes the sum by -(new - old) * field
                sums.append(sums[-1] - (new[0] - rows[0, i]) * field[0])
            if flipped:
                changed = True
                rows[:, i] = new
        return changed

    def __repr__(self) -> str:
        return f"Hopfield(n_units={self.n_units})"


class RBM(Module):
    """A restricted Boltzmann machine with binary visible and hidden units.

    Energy E(v, h) = -v . b_v - h . b_h - h^T W v; parameters `weight` (n_hidden, n_visible),
    `visible_bias` (n_visible,) and `hidden_bias` (n_hidden,). Summing h out gives the free energy
    F(v) = -v . b_v - sum_j softplus(b_h,j + W_j . v), and p(v) is proportional to exp(-F(v)).
    Weights start as N(0, 0.01^2), biases at 0 (Hinton's practical guide). Sampling uses the
    module's own Generator (`rng`: None, a seed or a Generator) unless a call passes one.
    """

    def __init__(self, n_visible: int, n_hidden: int, rng: Seed = None, dtype: DType = np.float64) -> None:
        self.n_visible = _positive_int("RBM", "n_visible", n_visible)
        self.n_hidden = _positive_int("RBM", "n_hidden", n_hidden)
        self.rng = as_generator(rng)
        self.weight = Parameter(self.rng.normal(0.0, 0.01, size=(self.n_hidden, self.n_visible)), dtype=dtype)
        self.visible_bias = Parameter(np.zeros(self.n_visible), dtype=dtype)
        self.hidden_bias = Parameter(np.zeros(self.n_hidden), dtype=dtype)

    def _visible(self, where: str, v) -> Tensor:
        v = as_input(v, self.weight.dtype)
        if v.ndim != 2 or v.shape[1] != self.n_visible:
            raise ValueError(f"{where}: visible units have shape {v.shape}, expected (N, {self.n_visible})")
        if not np.all((v.data >= 0) & (v.data <= 1)):
            raise ValueError(f"{where}: visible units must lie in [0, 1] (binary, or probabilities)")
        return v

    def free_energy(self, v: ArrayLike) -> Tensor:
        """F(v) for each row of v (N, n_visible): a Tensor (N,)."""
        v = self._visible("RBM.free_energy", v)
        hidden_input = linear(v, self.weight, self.hidden_bias)  # (N, n_hidden)
        return -(v @ self.visible_bias) - F.softplus(hidden_input).sum(axis=1)

    def hidden_probability(self, v: ArrayLike) -> Tensor:
        """p(h_j = 1 | v) = sigmoid(b_h + W v), (N, n_hidden)."""
        return linear(self._visible("RBM.hidden_probability", v), self.weight, self.hidden_bias).sigmoid()

    def visible_probability(self, h: ArrayLike) -> Tensor:
        """p(v_i = 1 | h) = sigmoid(b_v + W^T h), (N, n_visible)."""
        h = as_input(h, self.weight.dtype)
        if h.ndim != 2 or h.shape[1] != self.n_hidden:
            raise ValueError(
                f"RBM.visible_probability: hidden units have shape {h.shape}, expected (N, {self.n_hidden})"
            )
        return (h @ self.weight + self.visible_bias).sigmoid()

    def sample_hidden(self, v: ArrayLike, rng: Seed = None) -> Tensor:
        """A binary sample of h given v (a constant Tensor (N, n_hidden) of 0s and 1s)."""
        with no_grad():
            p = self.hidden_probability(v).data
        return Tensor(self._bernoulli(p, rng))

    def sample_visible(self, h: ArrayLike, rng: Seed = None) -> Tensor:
        """A binary sample of v given h (a constant Tensor (N, n_visible) of 0s and 1s)."""
        with no_grad():
            p = self.visible_probability(h).data
        return Tensor(self._bernoulli(p, rng))

    def _bernoulli(self, p: np.ndarray, rng) -> np.ndarray:
        rng = self.rng if rng is None else as_generator(rng)
        return (rng.random(p.shape) < p).astype(p.dtype)

    def gibbs(self, v: ArrayLike, k: int = 1, rng: Seed = None) -> Tensor:
        """v after k steps of block Gibbs sampling (h ~ p(h | v), then v ~ p(v | h)), no gradient."""
        k = _positive_int("RBM.gibbs", "k", k)
        sample = self.sample_visible(self.sample_hidden(v, rng), rng)
        for _ in range(k - 1):
            sample = self.sample_visible(self.sample_hidden(sample, rng), rng)
        return sample

    def contrastive_divergence(self, v: ArrayLike, k: int = 1) -> Tensor:
        """The CD-k loss, mean over the batch of F(v) - F(v_k), a 0-d Tensor.

        v_k is the end of a k-step Gibbs chain started at the data and is held constant, so the
        loss's gradient is the CD-k estimate of the negative log-likelihood's gradient:
        for the weight, <p(h|v) v^T>_model - <p(h|v) v^T>_data.
        """
        v = self._visible("RBM.contrastive_divergence", v)
        v_model = self.gibbs(v, k)  # sampled without recording: detached
        return (self.free_energy(v) - self.free_energy(v_model)).mean()

    def reconstruct(self, v: ArrayLike) -> Tensor:
        """The mean-field reconstruction p(v | h = p(h | v)): one pass up and down, (N, n_visible)."""
        return self.visible_probability(self.hidden_probability(v))

    def forward(self, v: ArrayLike) -> Tensor:
        return self.free_energy(v)

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"
