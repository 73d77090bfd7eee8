"""Layers: Linear, the MLP, Dropout, Maxout, PReLU, RBF and the activation modules."""

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from autograd import Tensor, linear
from autograd.engine import apply
from autograd.hints import ArrayLike
from autograd.ops import Relu
from autograd.trace import refuse_random

from . import functional as F
from .init import DType, Seed, as_generator
from .module import Module, Parameter, Sequential


def as_input(x: ArrayLike, dtype: npt.DTypeLike | None = None) -> Tensor:
    """An input as a Tensor: arrays become constants (of `dtype`, the layer's, when given)."""
    if isinstance(x, Tensor):
        return x
    if type(x) is np.ndarray and (dtype is None or x.dtype == dtype):  # a batch as it usually comes
        return Tensor(x)
    return Tensor(np.asarray(x, dtype=dtype))


def check_sizes(where: str, **sizes: object) -> None:
    """ValueError naming the first of `sizes` (name=value) that is not a positive int."""
    for name, n in sizes.items():
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{where}: {name} must be a positive int, got {n!r}")


def _uniform_parameter(rng, bound, shape, dtype):
    return Parameter(rng.uniform(-bound, bound, size=shape), dtype=dtype)


class Linear(Module):
    """y = x W^T + b with `weight` (out_features, in_features) and `bias` (out_features,).

    Initialised as PyTorch does: both uniform on (-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, rng: Seed = None, dtype: DType = np.float64
    ) -> None:
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        rng = as_generator(rng)
        bound = 1.0 / math.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _uniform_parameter(rng, bound, (out_features, in_features), dtype)
        self.bias = _uniform_parameter(rng, bound, (out_features,), dtype) if bias else None

    def forward(self, x: ArrayLike) -> Tensor:
        if not isinstance(x, Tensor):  # checked here: the dtype lookup is per batch
            x = as_input(x, self.weight._data.dtype)  # the slot, not the property: one Python call less
        return linear(x, self.weight, self.bias)  # one op: x W^T + b

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Dropout(Module):
    """Zeroes each unit with probability p in training and scales the rest by 1/(1-p); identity in eval().

    The masks come from the module's own Generator (`rng`: None, a seed or a Generator).
    """

    def __init__(self, p: float = 0.5, rng: Seed = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = as_generator(rng)

    def forward(self, x: ArrayLike) -> Tensor:
        x = as_input(x)
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * np.zeros(x.shape, dtype=x.dtype)
        refuse_random("Dropout")  # inside trace(): one mask would be replayed forever
        keep = self.rng.random(x.shape) >= self.p
        return x * (keep * (1.0 / (1.0 - self.p))).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Maxout(Module):
    """out_features maxout units, each the max of k affine pieces: max_j (w_j^T x + b_j).

    The pieces are one Linear layer, `pieces` (parameters `pieces.weight`
    (out_features * k, in_features) and `pieces.bias`); its outputs
    i k .. i k + k - 1 belong to unit i.
    """

    def __init__(
        self, in_features: int, out_features: int, k: int, rng: Seed = None, dtype: DType = np.float64
    ) -> None:
        if k < 1:
            raise ValueError(f"Maxout: k must be at least 1, got {k}")
        self.k = k
        self.pieces = Linear(in_features, out_features * k, rng=rng, dtype=dtype)

    def forward(self, x: ArrayLike) -> Tensor:
        return F.maxout(self.pieces(x), self.k)

    def extra_repr(self) -> str:
        return f"k={self.k}"


class PReLU(Module):
    """Leaky ReLU with learned slopes: `weight` (num_parameters,), all starting at `init`."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: DType = np.float64) -> None:
        self.weight = Parameter(np.full(num_parameters, init), dtype=dtype)

    def forward(self, x: ArrayLike) -> Tensor:
        return F.prelu(as_input(x, self.weight.dtype), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.size}"


class RBF(Module):
    """Radial-basis network phi(x) = sum_i w_i exp(-beta_i ||x - c_i||^2), output (batch,).

    Parameters: `centers` (n_centers, in_features), `beta` (n_centers,), the
    widths themselves (starting at 1), and `weight` (n_centers,).
    """

    def __init__(self, in_features: int, n_centers: int, rng: Seed = None, dtype: DType = np.float64) -> None:
        check_sizes("RBF", in_features=in_features, n_centers=n_centers)
        rng = as_generator(rng)
        self.in_features = in_features
        self.centers = Parameter(rng.normal(size=(n_centers, in_features)), dtype=dtype)
        self.beta = Parameter(np.ones(n_centers), dtype=dtype)
        self.weight = _uniform_parameter(rng, 1.0 / math.sqrt(n_centers), (n_centers,), dtype)

    def forward(self, x: ArrayLike) -> Tensor:
        x = as_input(x, self.centers.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"RBF: input must have shape (batch, {self.in_features}), got {x.shape}")
        diff = x.reshape(x.shape[0], 1, self.in_features) - self.centers  # (batch, centers, in)
        radial = (-(diff * diff).sum(axis=2) * self.beta).exp()  # (batch, centers)
        return radial @ self.weight

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, n_centers={self.weight.size}"


class _Activation(Module):
    """A module calling `fn` of nn.functional; it takes fn's options: LeakyReLU(0.2), GELU("tanh")."""

    fn: Callable[..., Any]  # the function of nn.functional, set by each subclass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            bound = inspect.signature(type(self).fn).bind(None, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__}: {exc}") from None
        bound.apply_defaults()
        self.options = dict(list(bound.arguments.items())[1:])  # all but the input

    def forward(self, x: ArrayLike) -> Tensor:
        return type(self).fn(x, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class Identity(Module):
    def forward(self, x: Any) -> Any:
        return x


class Sigmoid(_Activation):
    fn = staticmethod(F.sigmoid)


class Tanh(_Activation):
    fn = staticmethod(F.tanh)


class ReLU(_Activation):
    fn = staticmethod(F.relu)

    def forward(self, x):
        # a Tensor goes straight to the op x.relu() applies: an MLP calls this per hidden layer and step
        return apply(Relu, None, x) if isinstance(x, Tensor) else F.relu(x)


class HardSigmoid(_Activation):
    fn = staticmethod(F.hard_sigmoid)


class HardTanh(_Activation):
    fn = staticmethod(F.hard_tanh)


class Softplus(_Activation):
    fn = staticmethod(F.softplus)


class LeakyReLU(_Activation):
    fn = staticmethod(F.leaky_relu)


class ELU(_Activation):
    fn = staticmethod(F.elu)


class SiLU(_Activation):
    fn = staticmethod(F.silu)


class GELU(_Activation):
    fn = staticmethod(F.gelu)


class Softmax(_Activation):
    fn = staticmethod(F.softmax)


class LogSoftmax(_Activation):
    fn = staticmethod(F.log_softmax)


ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "softplus": Softplus,
    "silu": SiLU,
    "swish": SiLU,
    "gelu": GELU,
    "hard_sigmoid": HardSigmoid,
    "hard_tanh": HardTanh,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "identity": Identity,
    "linear": Identity,
}


def activation_module(where: str, name: str | None) -> Module | None:
    """A new activation module for `name` (a key of ACTIVATIONS); None means none."""
    if name is None:
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)} or None")
    return ACTIVATIONS[name]()


class MLP(Sequential):
    """Linear layers for `sizes` = [in, hidden..., out] with `activation` between them.

    `output_activation` (None: linear output) follows the last layer. Layers
    are numbered as in a Sequential: `0.weight`, `2.weight`, ... with the
    activations at the odd positions.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        rng: Seed = None,
        dtype: DType = np.float64,
    ) -> None:
        if not isinstance(sizes, (list, tuple, np.ndarray)):
            raise TypeError(f"MLP: sizes must be a list of layer widths like [784, 128, 10], got {sizes!r}")
        sizes = list(sizes)
        if len(sizes) < 2 or any(not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise ValueError(f"MLP: sizes must list at least two positive ints (in, ..., out), got {sizes}")
        activation_module("MLP", activation)  # an unknown name fails even with no hidden layer
        rng = as_generator(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, rng=rng, dtype=dtype))
            last = i == len(sizes) - 2
            act = activation_module("MLP", output_activation if last else activation)
            if act is not None:
                layers.append(act)
        super().__init__(*layers)
        # a tuple, handed out as a list by `sizes`: a list attribute would make every call check
        # it for modules added in place (Sequential._modules_in_order), and it never holds one
        self._sizes = tuple(sizes)

    @property
    def sizes(self) -> list[int]:
        """The layer widths given, [in, hidden..., out]."""
        return list(self._sizes)
