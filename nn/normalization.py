"""Batch and layer normalisation (nn.functional.batch_norm, layer_norm), composed from engine ops.

Both are composites: mean, subtraction, a power and products, so forward mode,
create_graph and every other transform work on them without rules of their own.
They are not on a hot path that would justify a fused primitive.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Tensor, no_grad
from autograd.hints import ArrayLike

from ._errors import names_errors


def _tensor(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _normalize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance), with the batch mean and variance."""
    mean = x.mean(axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axes, keepdims=True)
    return centered * (var + eps) ** -0.5, mean, var


def _raw(stat: Any) -> Any:
    return stat._data if isinstance(stat, Tensor) else stat


def _check_statistic(name, stat, channels, x):
    if stat is not None and np.shape(_raw(stat)) != (channels,):
        raise ValueError(
            f"{name} of shape {np.shape(_raw(stat))} does not fit an input of shape {x.shape} "
            f"with {channels} channels; expected ({channels},)"
        )


@names_errors
def batch_norm(
    x: ArrayLike,
    running_mean: np.ndarray | Tensor | None,
    running_var: np.ndarray | Tensor | None,
    weight: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of x (N, C, ...) to zero mean and unit variance, then scale and shift.

    training=True: with the batch's statistics, and the running ones (ndarrays or Tensors,
    or None) are updated in place: r = (1 - momentum) r + momentum s, the variance unbiased
    (n / (n - 1) times the batch's), as PyTorch. training=False: with the running statistics.
    """
    x = _tensor(x)
    if x.ndim < 2:
        raise ValueError(f"expected an input (N, C, ...) with at least 2 dimensions, got shape {x.shape}")
    channels = x.shape[1]
    for name, stat in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_statistic(name, stat, channels, x)
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        if momentum is None:  # nn.BatchNorm's momentum=None (a cumulative average) is its own to resolve
            raise ValueError("momentum must be a number when training=True, got None")
        axes = (0,) + tuple(range(2, x.ndim))
        n = x.size // channels
        if n < 2:
            raise ValueError(f"expected more than 1 value per channel in training, got an input of shape {x.shape}")
        out, mean, var = _normalize(x, axes, eps)
        with no_grad():
            for stat, batch in ((running_mean, mean.data), (running_var, var.data * (n / (n - 1)))):
                if stat is not None:
                    r = _raw(stat)
                    r *= 1 - momentum
                    r += momentum * batch.reshape(channels)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are needed when training=False")
        mean = _raw(running_mean).reshape(shape).astype(x.dtype, copy=False)
        scale = ((_raw(running_var) + eps) ** -0.5).reshape(shape).astype(x.dtype, copy=False)
        out = (x - mean) * scale
    if weight is not None:
        out = out * _tensor(weight).reshape(shape)
    if bias is not None:
        out = out + _tensor(bias).reshape(shape)
    return out


def normalized_shape_of(where, normalized_shape):
    """An int or a sequence of ints as a tuple (PyTorch's `normalized_shape`)."""
    items = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not items or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in items):
        raise ValueError(
            f"{where}: normalized_shape must be a positive int or a non-empty sequence of them, "
            f"got {normalized_shape!r}"
        )
    return tuple(int(n) for n in items)


@names_errors
def layer_norm(
    x: ArrayLike,
    normalized_shape: int | Sequence[int],
    weight: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample over its last len(normalized_shape) axes (biased variance), then
    multiply by weight and add bias (both of normalized_shape)."""
    x = _tensor(x)
    shape = normalized_shape_of("layer_norm", normalized_shape)
    if x.shape[x.ndim - len(shape) :] != shape or x.ndim < len(shape):
        raise ValueError(f"an input of shape {x.shape} does not end in normalized_shape {shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(np.shape(_raw(p))) != shape:
            raise ValueError(f"{name} of shape {np.shape(_raw(p))} does not match normalized_shape {shape}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    out = _normalize(x, axes, eps)[0]
    if weight is not None:
        out = out * _tensor(weight)
    if bias is not None:
        out = out + _tensor(bias)
    return out
