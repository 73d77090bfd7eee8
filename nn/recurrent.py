"""Recurrent layers with PyTorch's layout: RNN, LSTM, GRU, their cells, and Embedding.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a state_dict moves
between the two libraries unchanged. A layer of T steps is, per layer of the stack, one
`linear` for the input projection of all steps and one `autograd.recurrent.Scan` op for the
recurrence (see there why); the cells are the same op over one step.

Truncated back-propagation through time: feed a long sequence in chunks and `detach()` the
state carried from one chunk to the next, so each backward() stops at the chunk's start.
"""

import math
from typing import Any, cast

import numpy as np

from autograd import Tensor, linear, stack
from autograd.engine import apply
from autograd.hints import ArrayLike
from autograd.recurrent import CELLS, SavedSteps, Scan, ScanParams, TakeRows
from autograd.tensor import IndexOutOfRange

from .init import DType, Seed, as_generator
from .module import Module, Parameter


def _positive_int(where, name, n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {n!r}")
    return int(n)


def _as_float(x: ArrayLike, dtype: DType) -> Tensor:
    """x as a Tensor of the layer's dtype: arrays are converted, tensors of another dtype cast."""
    if not isinstance(x, Tensor):
        return Tensor(np.asarray(x, dtype=dtype))
    return x if x.dtype == dtype else x.astype(dtype)


def _projection(x, w_ih, b_ih):
    """x W_ih^T + b_ih for all T steps at once, (T, N, G*H); x (T, N, in) is flattened to rows first,
    as one (T*N, in) matmul runs faster than NumPy's T matmuls of a 3-D product."""
    steps, batch, n_in = x.shape
    return linear(x.reshape(steps * batch, n_in), w_ih, b_ih).reshape(steps, batch, w_ih.shape[0])


def scan(cell, gates_in, w_hh, b_hh, h0, c0=None):
    """The recurrence of `cell` (a class of autograd.recurrent.CELLS) over gates_in (T, N, G*H) as
    one op: (T + 1, N, H), the hidden states after h0; an LSTM's last row more is c_T."""
    parents = (gates_in, w_hh) + ((b_hh,) if b_hh is not None else ()) + (h0,)
    if c0 is not None:
        parents += (c0,)
    needs = tuple(p.requires_grad for p in parents)
    return apply(Scan, ScanParams(cell, b_hh is not None, needs, SavedSteps()), *parents)


def _layer(cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0):
    """One layer over x (T, N, in): Scan's output (see scan)."""
    if b_ih is not None and not cell.separate_hh_bias:
        b_ih, b_hh = b_ih + b_hh, None  # both biases add to the same pre-activation: add them once
    return scan(cell, _projection(x, w_ih, b_ih), w_hh, b_hh, h0, c0)


def _state(module, name, layout, shape, state, dtype):
    """An initial state of `shape` (described as `layout`) in the module's dtype, zeros when None."""
    if state is None:
        return Tensor(np.zeros(shape, dtype=dtype))
    state = _as_float(state, dtype)
    if state.shape != shape:
        raise ValueError(f"{type(module).__name__}: {name} must have shape {layout} = {shape}, got {state.shape}")
    return state


def _pair(where, names, hx):
    """An LSTM's state: (h, c), or (None, None) for zeros."""
    if hx is None:
        return None, None
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{where}: hx must be a pair {names}, got {type(hx).__name__}")
    return hx


class _Weights:
    """Draws one layer's weight_ih, weight_hh, bias_ih, bias_hh, uniform on +-1/sqrt(hidden_size)."""

    def __init__(
        self, where: str, input_size: int, hidden_size: int, blocks: int, bias: bool, rng: Seed, dtype: DType
    ) -> None:
        self.input_size = _positive_int(where, "input_size", input_size)
        self.hidden_size = _positive_int(where, "hidden_size", hidden_size)
        self.rows, self.bias, self.dtype = blocks * self.hidden_size, bool(bias), dtype
        self.bound, self.rng = 1.0 / math.sqrt(self.hidden_size), as_generator(rng)

    def draw(self, n_in):
        """(weight_ih, weight_hh, bias_ih, bias_hh) for a layer with n_in inputs (biases None without)."""
        shapes = [(self.rows, n_in), (self.rows, self.hidden_size)] + [(self.rows,)] * 2 * self.bias
        params = [Parameter(self.rng.uniform(-self.bound, self.bound, size=s), dtype=self.dtype) for s in shapes]
        return params + [None] * (4 - len(params))


def _cell_and_weights(module, nonlinearity, input_size, hidden_size, bias, rng, dtype):
    """(the cell class, a _Weights drawing its parameters) for a recurrent layer or cell `module`."""
    where = type(module).__name__
    cell = _cell_kind(where, module.kind, nonlinearity)
    return cell, _Weights(where, input_size, hidden_size, cell.blocks, bias, rng, dtype)


def _cell_kind(where, kind, nonlinearity):
    if kind != "rnn":
        return CELLS[kind]
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{where}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return CELLS["rnn_" + nonlinearity]


class _Recurrent(Module):
    """What RNN, LSTM and GRU share; `kind` is the cell's name."""

    kind: str  # the cell's name, set by each subclass
    weight_ih_l0: Parameter  # and the other layers' parameters, set by name (PyTorch's names)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        rng: Seed = None,
        dtype: DType = np.float64,
    ) -> None:
        self.step_rule, w = _cell_and_weights(self, nonlinearity, input_size, hidden_size, bias, rng, dtype)
        self.input_size, self.hidden_size = w.input_size, w.hidden_size
        self.num_layers = _positive_int(type(self).__name__, "num_layers", num_layers)
        self.bias, self.batch_first, self.nonlinearity = bool(bias), bool(batch_first), nonlinearity
        for k in range(self.num_layers):  # PyTorch's names, in its order
            w_ih, w_hh, b_ih, b_hh = w.draw(self.input_size if k == 0 else self.hidden_size)
            setattr(self, f"weight_ih_l{k}", w_ih)
            setattr(self, f"weight_hh_l{k}", w_hh)
            if self.bias:
                setattr(self, f"bias_ih_l{k}", b_ih)
                setattr(self, f"bias_hh_l{k}", b_hh)

    def _layer(self, k):
        get = lambda name: getattr(self, f"{name}_l{k}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _check_input(self, x):
        where, layout = type(self).__name__, "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
        if x.ndim != 3:
            raise ValueError(
                f"{where}: input must be 3-D {layout} with input_size {self.input_size}, got shape {x.shape}"
            )
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"{where}: input has {x.shape[2]} features (shape {x.shape}), expected input_size {self.input_size}"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{where}: input of shape {x.shape} has no time steps or no samples")

    def _initial(self, name, state, batch, dtype):
        return _state(
            self, name, "(num_layers, N, hidden_size)", (self.num_layers, batch, self.hidden_size), state, dtype
        )

    def _states(self, hx, batch, dtype):
        return self._initial("hx", hx, batch, dtype), None

    def forward(self, x: ArrayLike, hx: Any = None) -> tuple[Tensor, Any]:
        """(output, h_n), for an LSTM (output, (h_n, c_n)); see the class of the layer."""
        seq = _as_float(x, self.weight_ih_l0.dtype)
        self._check_input(seq)
        if self.batch_first:
            seq = seq.transpose(1, 0, 2)
        steps = seq.shape[0]
        h0, c0 = self._states(hx, seq.shape[1], seq.dtype)
        h_last, c_last = [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            states = _layer(self.step_rule, seq, w_ih, w_hh, b_ih, b_hh, h0[k], None if c0 is None else c0[k])
            seq = states[1 : steps + 1]
            h_last.append(states[steps])
            if c0 is not None:
                c_last.append(states[steps + 1])
        output = seq.transpose(1, 0, 2) if self.batch_first else seq
        h_n = stack(h_last, 0)
        return (output, h_n) if c0 is None else (output, (h_n, stack(c_last, 0)))

    def extra_repr(self) -> str:
        options = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            options.append(f"num_layers={self.num_layers}")
        if self.kind == "rnn" and self.nonlinearity != "tanh":
            options.append(f"nonlinearity={self.nonlinearity!r}")
        if not self.bias:
            options.append("bias=False")
        if self.batch_first:
            options.append("batch_first=True")
        return ", ".join(options)


class RNN(_Recurrent):
    """Elman network of `num_layers` layers: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh).

    forward(x, hx=None): x (T, N, input_size) ((N, T, input_size) with batch_first), hx
    (num_layers, N, hidden_size) or None for zeros; returns (output, h_n): the last layer's
    states (T, N, hidden_size) and every layer's last state (num_layers, N, hidden_size).
    Parameters weight_ih_l{k} (hidden, in), weight_hh_l{k} (hidden, hidden), bias_ih_l{k},
    bias_hh_l{k} (hidden,), uniform on +-1/sqrt(hidden_size), as PyTorch's.
    """

    kind = "rnn"


class _GatedRecurrent(_Recurrent):
    """LSTM and GRU: RNN's arguments but nonlinearity (their gates fix it)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        rng: Seed = None,
        dtype: DType = np.float64,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, "tanh", bias, batch_first, rng, dtype)


class LSTM(_GatedRecurrent):
    """Long short-term memory, PyTorch's equations and gate order i, f, g, o (autograd.recurrent.LSTMCell).

    forward(x, hx=None) with hx = (h_0, c_0), each (num_layers, N, hidden_size), or None for
    zeros; returns (output, (h_n, c_n)). Parameters as RNN's with 4 * hidden_size rows.
    """

    kind = "lstm"

    def _states(self, hx, batch, dtype):
        hx = _pair("LSTM", "(h_0, c_0)", hx)
        return self._initial("h_0", hx[0], batch, dtype), self._initial("c_0", hx[1], batch, dtype)


class GRU(_GatedRecurrent):
    """Gated recurrent unit, PyTorch's equations and gate order r, z, n (autograd.recurrent.GRUCell):
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)), h' = (1 - z) n + z h.

    forward(x, hx=None) as RNN's. Parameters as RNN's with 3 * hidden_size rows.
    """

    kind = "gru"


class _RecurrentCell(Module):
    """One step of RNN, LSTM or GRU: parameters weight_ih, weight_hh, bias_ih, bias_hh."""

    kind: str  # the cell's name, set by each subclass

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        rng: Seed = None,
        dtype: DType = np.float64,
    ) -> None:
        self.step_rule, w = _cell_and_weights(self, nonlinearity, input_size, hidden_size, bias, rng, dtype)
        self.input_size, self.hidden_size, self.bias, self.nonlinearity = (
            w.input_size,
            w.hidden_size,
            bool(bias),
            nonlinearity,
        )
        self.weight_ih, self.weight_hh, b_ih, b_hh = w.draw(self.input_size)
        if self.bias:
            self.bias_ih, self.bias_hh = b_ih, b_hh

    def _state(self, name, state, batch, dtype):
        return _state(self, name, "(N, hidden_size)", (batch, self.hidden_size), state, dtype)

    def _step(self, x, h, c=None):
        """(x, h, c) -> scan's output over one step: [h, h'] (2, N, H), for an LSTM [h, h', c']."""
        x = _as_float(x, self.weight_ih.dtype)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: input must have shape (N, input_size) with "
                f"input_size {self.input_size}, got {x.shape}"
            )
        h = self._state("h", h, x.shape[0], x.dtype)
        c = None if not self.step_rule.has_cell_state else self._state("c", c, x.shape[0], x.dtype)
        return _layer(
            self.step_rule,
            x.reshape(1, *x.shape),
            self.weight_ih,
            self.weight_hh,
            getattr(self, "bias_ih", None),
            getattr(self, "bias_hh", None),
            h,
            c,
        )

    def forward(self, x: ArrayLike, h: ArrayLike | None = None) -> Tensor:
        """The next hidden state (N, hidden_size); h (N, hidden_size) or None for zeros."""
        return self._step(x, h)[1]

    def extra_repr(self) -> str:
        extra = "" if self.bias else ", bias=False"
        if self.kind == "rnn" and self.nonlinearity != "tanh":
            extra += f", nonlinearity={self.nonlinearity!r}"
        return f"{self.input_size}, {self.hidden_size}{extra}"


class RNNCell(_RecurrentCell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); x (N, input_size)."""

    kind = "rnn"


class _GatedCell(_RecurrentCell):
    """GRUCell and LSTMCell: RNNCell's arguments but nonlinearity."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, rng: Seed = None, dtype: DType = np.float64
    ) -> None:
        super().__init__(input_size, hidden_size, bias, "tanh", rng, dtype)


class GRUCell(_GatedCell):
    """One GRU step (see GRU); forward(x, h=None) -> h'."""

    kind = "gru"


class LSTMCell(_GatedCell):
    """One LSTM step (see LSTM); forward(x, hx=None) with hx = (h, c) returns (h', c')."""

    kind = "lstm"

    def forward(  # type: ignore[override]  # an LSTM's state is a pair (h, c), as PyTorch's LSTMCell
        self, x: ArrayLike, hx: tuple[ArrayLike, ArrayLike] | None = None
    ) -> tuple[Tensor, Tensor]:
        states = self._step(x, *_pair("LSTMCell", "(h, c)", hx))
        return states[1], states[2]


def _indices(where, indices, num_embeddings):
    """Integer indices as a Tensor, each in [0, num_embeddings); a Tensor passes through (a traced
    function's input stays its input)."""
    arr = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{where}: indices must be integers, got dtype {arr.dtype} (shape {arr.shape})")
    if arr.size and (arr.min() < 0 or arr.max() >= num_embeddings):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise IndexOutOfRange(
            f"{where}: index {bad} is out of range for {num_embeddings} embeddings (indices of shape {arr.shape})"
        )
    return indices if isinstance(indices, Tensor) else Tensor(arr)


def embedding(indices: ArrayLike, weight: Tensor) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) at integer `indices` of any shape:
    (*indices.shape, embedding_dim). Rows picked more than once add their gradients."""
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be a 2-D Tensor (num_embeddings, embedding_dim), "
            f"got {getattr(weight, 'shape', type(weight).__name__)}"
        )
    return cast(Tensor, apply(TakeRows, None, weight, _indices("embedding", indices, weight.shape[0])))


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim` (`weight`, N(0, 1) as PyTorch's);
    called on integer indices of any shape, returns (*shape, embedding_dim)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        rng: Seed = None,
        dtype: DType = np.float64,
    ) -> None:
        self.num_embeddings = _positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _positive_int("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(as_generator(rng).normal(size=(self.num_embeddings, self.embedding_dim)), dtype=dtype)

    def forward(self, indices: ArrayLike) -> Tensor:
        return cast(Tensor, apply(TakeRows, None, self.weight, _indices("Embedding", indices, self.num_embeddings)))

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
