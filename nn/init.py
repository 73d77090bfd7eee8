"""Weight initialisation, in place on a `Parameter` (PyTorch's names and formulas).

For a weight of shape (out_features, in_features) fan_in is in_features and
fan_out is out_features. Every function takes `rng`: None (fresh entropy), an
int seed or an `np.random.Generator`, and returns the tensor it filled.
"""

import math
import warnings
from typing import TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

from autograd import Tensor

# where random numbers come from, as NumPy's default_rng(seed) takes it: None (fresh entropy), an int,
# or a Generator (shared: it advances)
Seed: TypeAlias = int | np.random.Generator | None
DType: TypeAlias = npt.DTypeLike  # a layer's parameter dtype: np.float64, np.float32, "float32", ...
TensorT = TypeVar("TensorT", bound=Tensor)  # a Tensor or a Parameter, returned as given


def as_generator(rng: Seed) -> np.random.Generator:
    """An `np.random.Generator` from None, a seed or a Generator (passed through, so it advances)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through `nonlinearity` (as PyTorch)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected linear, "
        f"identity, sigmoid, tanh, relu or leaky_relu"
    )


def _fans(where, tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"{where}: fan_in and fan_out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])  # 1 for a Linear weight
    return shape[1] * receptive, shape[0] * receptive


def _no_elements(where, tensor):
    """True, with PyTorch's warning, for a tensor with no elements: initialising it is a no-op
    (its fans may be 0, and the formulas would divide by 0)."""
    if tensor.size:
        return False
    warnings.warn(
        f"{where}: initializing a zero-element tensor (shape {tensor.shape}) is a no-op", UserWarning, stacklevel=3
    )
    return True


def _fill(tensor: TensorT, values: np.ndarray) -> TensorT:
    # through the .data setter: it keeps the dtype, checks the shape and bumps the version
    tensor.data = values
    return tensor


def uniform_(tensor: TensorT, a: float = 0.0, b: float = 1.0, rng: Seed = None) -> TensorT:
    """Uniform on (a, b); the default (0, 1) is 西瓜书's initialisation."""
    return _fill(tensor, as_generator(rng).uniform(a, b, size=tensor.shape))


def normal_(tensor: TensorT, mean: float = 0.0, std: float = 1.0, rng: Seed = None) -> TensorT:
    return _fill(tensor, as_generator(rng).normal(mean, std, size=tensor.shape))


def zeros_(tensor: TensorT) -> TensorT:
    return _fill(tensor, np.zeros(tensor.shape))


def xavier_uniform_(tensor: TensorT, gain: float = 1.0, rng: Seed = None) -> TensorT:
    """Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans("xavier_uniform_", tensor)
    if _no_elements("xavier_uniform_", tensor):
        return tensor
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, rng)


def xavier_normal_(tensor: TensorT, gain: float = 1.0, rng: Seed = None) -> TensorT:
    """Glorot: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans("xavier_normal_", tensor)
    if _no_elements("xavier_normal_", tensor):
        return tensor
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(where, tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(where, tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_normal_(
    tensor: TensorT, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng: Seed = None
) -> TensorT:
    """He: N(0, std^2) with std = gain / sqrt(fan); the defaults give gain sqrt(2) (ReLU)."""
    if _no_elements("kaiming_normal_", tensor):
        return tensor
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, rng)


def kaiming_uniform_(
    tensor: TensorT, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng: Seed = None
) -> TensorT:
    """He: U(-bound, bound) with bound = sqrt(3) gain / sqrt(fan) (the same variance as the normal form)."""
    if _no_elements("kaiming_uniform_", tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, rng)
