"""The Elman recurrent network: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh).

Back-propagation through time needs no code of its own: the loop below
unrolls the recurrence into the dynamic graph, and backward() walks it.
"""

import math
from typing import Any

import numpy as np

from autograd import Tensor, stack
from autograd.hints import ArrayLike

from .init import DType, Seed, as_generator
from .layers import as_input, check_sizes
from .module import Module, Parameter


class ElmanRNN(Module):
    """tanh RNN; input (T, batch, input_size), returns the hidden states (T, batch, hidden_size).

    Parameters as PyTorch's RNN cell: `weight_ih` (hidden, input), `weight_hh`
    (hidden, hidden), `bias_ih` and `bias_hh` (hidden,), all uniform on
    (-1/sqrt(hidden_size), 1/sqrt(hidden_size)). The initial state is zero
    unless `h0` (batch, hidden_size) is given; it is cast to the input's dtype, so
    a float64 h0 keeps a float32 layer float32.

    The course's name for `nn.RNN` with one layer: `nn.RNN(input_size, hidden_size)` computes
    the same states from the same parameters, named with the layer's suffix (`weight_ih_l0`,
    ...), and returns `(output, h_n)` where this returns the output alone; its recurrence is
    one op (faster over many steps), where this loop shows the unrolled graph op by op:
        rnn = nn.RNN(i, h); rnn.load_state_dict({k + "_l0": v for k, v in elman.state_dict().items()})
    """

    def __init__(self, input_size: int, hidden_size: int, rng: Seed = None, dtype: DType = np.float64) -> None:
        check_sizes("ElmanRNN", input_size=input_size, hidden_size=hidden_size)
        rng = as_generator(rng)
        bound = 1.0 / math.sqrt(hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size

        def uniform(*shape: Any):
            return Parameter(rng.uniform(-bound, bound, size=shape), dtype=dtype)

        self.weight_ih = uniform(hidden_size, input_size)
        self.weight_hh = uniform(hidden_size, hidden_size)
        self.bias_ih = uniform(hidden_size)
        self.bias_hh = uniform(hidden_size)

    def forward(self, x: ArrayLike, h0: ArrayLike | None = None) -> Tensor:
        x = as_input(x, self.weight_ih.dtype)
        if x.ndim != 3 or x.shape[0] == 0 or x.shape[2] != self.input_size:
            raise ValueError(
                f"ElmanRNN: input must have shape (T, batch, {self.input_size}) with T >= 1, got {x.shape}"
            )
        batch = x.shape[1]
        h = Tensor(np.zeros((batch, self.hidden_size), dtype=x.dtype)) if h0 is None else as_input(h0, x.dtype)
        if h.dtype != x.dtype:
            h = h.astype(x.dtype)  # a Tensor h0 of another dtype: cast, gradient included
        if h.shape != (batch, self.hidden_size):
            raise ValueError(f"ElmanRNN: h0 must have shape {(batch, self.hidden_size)}, got {h.shape}")
        w_ih, w_hh = self.weight_ih.T, self.weight_hh.T  # transposed once, used at every step
        bias = self.bias_ih + self.bias_hh
        states = []
        for t in range(x.shape[0]):
            h = (x[t] @ w_ih + h @ w_hh + bias).tanh()
            states.append(h)
        return stack(states, axis=0)

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"
