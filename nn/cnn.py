"""Layers of convolutional networks: Conv2d, Conv1d, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d,
BatchNorm2d and LayerNorm, with PyTorch's arguments, defaults, initialisation, parameter names and
state_dict layout (weights move between the two as NumPy arrays)."""

import math
from collections.abc import Callable

import numpy as np

from autograd import Tensor
from autograd.conv import avg_pool2d, conv1d, conv2d, max_pool2d
from autograd.hints import ArrayLike

from . import init
from .init import DType, Seed, as_generator
from .layers import as_input
from .module import Module, Parameter
from .normalization import batch_norm, layer_norm, normalized_shape_of


def _positive_int(where, name, n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {n!r}")
    return int(n)


class _Conv(Module):
    """What Conv1d and Conv2d share; `dims` spatial dimensions, `convolve` the op."""

    dims = 2
    convolve: Callable[..., Tensor] = staticmethod(conv2d)

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias: bool = True,
        rng: Seed = None,
        dtype: DType = np.float64,
    ) -> None:
        where = type(self).__name__
        in_channels = _positive_int(where, "in_channels", in_channels)
        out_channels = _positive_int(where, "out_channels", out_channels)
        groups = _positive_int(where, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{where}: groups={groups} must divide in_channels ({in_channels}) and out_channels ({out_channels})"
            )
        kernel = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * self.dims
        if len(kernel) != self.dims:
            raise ValueError(f"{where}: kernel_size must be an int or {self.dims} ints, got {kernel_size!r}")
        kernel = tuple(_positive_int(where, "kernel_size", k) for k in kernel)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        rng = as_generator(rng)
        # PyTorch's reset_parameters: Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        # fan_in = in_channels / groups * kernel area; the bias on the same interval
        self.weight = Parameter(np.zeros((out_channels, in_channels // groups) + kernel), dtype=dtype)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        bound = 1 / math.sqrt(in_channels // groups * math.prod(kernel))
        self.bias = Parameter(rng.uniform(-bound, bound, out_channels), dtype=dtype) if bias else None

    def forward(self, x: ArrayLike) -> Tensor:
        return self.convolve(
            as_input(x, self.weight.dtype),
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, default in (("padding", 0), ("dilation", 1), ("groups", 1)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W): `weight` (out_channels, in_channels / groups, kH, kW), `bias`
    (out_channels,). kernel_size, stride, padding, dilation: an int or a pair."""


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L): `weight` (out_channels, in_channels / groups, k), `bias` (out_channels,)."""

    dims = 1
    convolve = staticmethod(conv1d)


class _Pool(Module):
    """`dtype`, as every layer's: the type that array (not Tensor) inputs are converted to."""

    pool = staticmethod(max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dtype: DType = np.float64) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.dtype = dtype

    def forward(self, x: ArrayLike) -> Tensor:
        return self.pool(as_input(x, self.dtype), self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """The maximum of each window of (N, C, H, W); stride defaults to kernel_size, padding adds -inf."""


class AvgPool2d(_Pool):
    """The mean of each window; zero padding counts in the mean (PyTorch's default)."""

    pool = staticmethod(avg_pool2d)


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): dimensions start_dim..end_dim merged into one."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, dtype: DType = np.float64) -> None:
        self.start_dim, self.end_dim, self.dtype = start_dim, end_dim, dtype

    def forward(self, x: ArrayLike) -> Tensor:
        x = as_input(x, self.dtype)  # arrays (not Tensors) become constants of `dtype`
        start, end = (d % max(x.ndim, 1) for d in (self.start_dim, self.end_dim))
        if x.ndim == 0 or start > end:
            raise ValueError(
                f"Flatten: start_dim {self.start_dim} and end_dim {self.end_dim} do not select "
                f"dimensions of an input of shape {x.shape}"
            )
        return x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class _BatchNorm(Module):
    """Parameters `weight` (ones) and `bias` (zeros) of (num_features,); buffers `running_mean`
    (zeros), `running_var` (ones) and `num_batches_tracked`, as PyTorch's. Training mode
    normalises with the batch's statistics and updates the running ones (momentum None: their
    cumulative average); eval mode uses the running statistics."""

    input_dims: tuple[int, ...] = (4,)
    running_mean: np.ndarray  # buffers (register_buffer)
    running_var: np.ndarray
    num_batches_tracked: np.ndarray

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, dtype: DType = np.float64
    ) -> None:
        self.num_features = _positive_int(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.weight = Parameter(np.ones(num_features), dtype=dtype)
        self.bias = Parameter(np.zeros(num_features), dtype=dtype)
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    def forward(self, x: ArrayLike) -> Tensor:
        x = as_input(x, self.weight.dtype)
        if x.ndim not in self.input_dims:
            shapes = " or ".join(f"{d}-D" for d in self.input_dims)
            raise ValueError(f"{type(self).__name__}: expected a {shapes} input, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: the input of shape {x.shape} has {x.shape[1]} channels, expected num_features="
                f"{self.num_features}"
            )
        momentum = self.momentum
        if self.training:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked)
        return batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, self.training, momentum, self.eps
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""

    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""


class LayerNorm(Module):
    """Normalises each sample over its last dimensions (normalized_shape), then `weight` (ones) and
    `bias` (zeros), both of normalized_shape."""

    def __init__(self, normalized_shape, eps: float = 1e-5, dtype: DType = np.float64) -> None:
        self.normalized_shape = normalized_shape_of("LayerNorm", normalized_shape)
        self.eps = eps
        self.weight = Parameter(np.ones(self.normalized_shape), dtype=dtype)
        self.bias = Parameter(np.zeros(self.normalized_shape), dtype=dtype)

    def forward(self, x: ArrayLike) -> Tensor:
        return layer_norm(as_input(x, self.weight.dtype), self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
