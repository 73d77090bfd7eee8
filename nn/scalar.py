"""The course notes' neuron, one number at a time, on `Value`s (micrograd style).

A neuron computes act(sum_i w_i x_i + b); a layer is a list of neurons; an
MLP is a list of layers whose last one is linear. They share `Module` with
the tensor layers: `parameters()` returns the `Value`s, `zero_grad()`,
`state_dict()` and the optimisers of nn.optim work on them too.
"""

from collections.abc import Sequence
from typing import Any

from autograd import Value

from .init import Seed, as_generator
from .module import Module

_ACTIVATIONS = {"tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu, None: None}


def _activation(where, name):
    if name not in _ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; expected 'tanh', 'sigmoid', 'relu' or None")
    return _ACTIVATIONS[name]


class Neuron(Module):
    """act(w . x + b) with weights uniform on (-1, 1) and bias 0; activation None is linear."""

    def __init__(self, n_inputs: int, activation: str | None = "tanh", rng: Seed = None) -> None:
        rng = as_generator(rng)
        self._act = _activation("Neuron", activation)
        self.activation = activation
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(n_inputs)]
        self.b = Value(0.0)

    def forward(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        z = Value.weighted_sum(self.w, x, self.b)  # one node: see WeightedSum
        return z if self._act is None else self._act(z)

    def extra_repr(self) -> str:
        return f"{len(self.w)}, activation={self.activation!r}"


class Layer(Module):
    """n_outputs neurons on the same inputs; returns a list of Values (one Value when n_outputs = 1)."""

    def __init__(self, n_inputs: int, n_outputs: int, activation: str | None = "tanh", rng: Seed = None) -> None:
        rng = as_generator(rng)
        self.neurons = [Neuron(n_inputs, activation, rng) for _ in range(n_outputs)]

    def forward(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out


class MLP(Module):
    """Layers for `sizes` = [in, hidden..., out] with `activation` on all but the last (linear) layer."""

    def __init__(self, sizes: Sequence[int], activation: str | None = "tanh", rng: Seed = None) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"scalar.MLP: sizes needs at least an input and an output size, got {sizes}")
        _activation("scalar.MLP", activation)
        rng = as_generator(rng)
        last = len(sizes) - 2
        self.layers = [
            Layer(n_in, n_out, activation if i < last else None, rng)
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        ]

    def forward(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Any = x
        for layer in self.layers:
            out = layer(out)
            out = [out] if isinstance(out, Value) else out
        return out[0] if len(out) == 1 else out
