"""Convolution and pooling: conv2d, conv1d, max_pool2d, avg_pool2d.

Convolution is im2col and one batched BLAS product: the input's (C, kH, kW)
windows are copied into columns, one column per output position, and the
weight matrix multiplies them. Its backward pass is two more such products and
col2im, which adds each column back onto the window it came from.

Why primitives: a composite (one getitem per kernel offset, products and sums)
would make kH * kW nodes per layer, each holding an input-sized array, and
scatter every gradient back through its own zero-filled copy of the input. The
three products below are a layer's whole cost.

Second order. conv2d is bilinear in (input, weight), and so are its two
derivatives, the input gradient (a transposed convolution) and the weight
gradient. Each of the three ops' vjp and jvp is written with the other two
(see `_Bilinear`), so with `create_graph=True` a backward pass records them as
ordinary nodes and can be differentiated again, as often as one likes. Pooling
is linear once the pooling weights are fixed (1 / (kH kW) for the average, the
share of each window's maximum for max-pool), so `WindowSum` and its adjoint
`WindowScatter` serve both, with the weights kept in params.
"""

import math
from typing import NamedTuple, TypeAlias, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .engine import Op, apply, is_grad_enabled
from .hints import ArrayLike
from .saved import ForwardScratch
from .tensor import Tensor, _as_array

IntPair: TypeAlias = int | tuple[int, int]  # a size for both spatial axes, or one per axis


class Geometry(NamedTuple):
    """Where a kernel's windows lie in an input of spatial size `size` (all pairs of ints)."""

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    size: tuple  # (H, W) of the unpadded input: its gradient has that shape
    groups: int = 1

    @property
    def out_size(self):
        return tuple(
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, s, p, d in zip(self.size, self.kernel, self.stride, self.padding, self.dilation)
        )

    def offsets(self):
        """For each kernel entry (i, j): the slices of the padded input that it meets, one per output."""
        (oh, ow), (sh, sw), (dh, dw) = self.out_size, self.stride, self.dilation
        for i in range(self.kernel[0]):
            for j in range(self.kernel[1]):
                yield (
                    i,
                    j,
                    (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)),
                )

    def unpadded_offsets(self):
        """offsets() clipped to the unpadded input: for each kernel entry (i, j) that meets it, the
        slices of the input it meets and the slices of the outputs that meet it there."""
        for i, j, _ in self.offsets():
            spans = [
                _inside(k * d, s, p, n, m)
                for k, d, s, p, n, m in zip((i, j), self.dilation, self.stride, self.padding, self.size, self.out_size)
            ]
            if all(first < end for _, first, end in spans):
                yield i, j, tuple(span[0] for span in spans), tuple(slice(first, end) for _, first, end in spans)


def _inside(offset, stride, pad, size, outputs):
    """(input slice, first, end): the outputs r in [first, end) whose input position
    offset + stride r - pad lies inside [0, size), and the slice of those positions."""
    first = max(0, -((offset - pad) // stride))
    end = min(outputs, (size - 1 + pad - offset) // stride + 1)
    start = offset - pad + stride * first
    return slice(start, start + stride * (end - first - 1) + 1, stride), first, end


def _lowest(dtype):
    """What max-pool pads with: -inf, an integer type's least value, or False."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min if dtype.kind in "iu" else False


def _pad(x, g, value=0):
    (ph, pw), (h, w) = g.padding, x.shape[2:]
    if not (ph or pw):
        return x
    out = np.full(x.shape[:2] + (h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _columns(x, g):
    """im2col: (N, groups, C/groups * kH * kW, H_out * W_out), a contiguous copy.

    A sliding_window_view copied once. Measured against as_strided, a loop over the kernel
    offsets filling a buffer, tensordot on the windows, and columns laid out (C kH kW, N H_out W_out)
    for one 2-D product, this was as fast as the best or faster: its product's result is already in
    (N, C_out, H_out, W_out) order, with no transposing copy."""
    (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
    windows = sliding_window_view(_pad(x, g), ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, H_out, W_out, kH, kW)
    n, c = x.shape[:2]
    cols = np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3))
    return cols.reshape(n, g.groups, c // g.groups * kh * kw, -1)


def _col2im(cols, g, channels):
    """The adjoint of _columns: each column added back onto its window (what falls on padding is
    dropped), into a fresh (N, C, H, W) array."""
    n = cols.shape[0]
    cols = cols.reshape((n, channels) + g.kernel + g.out_size)
    out = np.zeros((n, channels) + g.size, dtype=cols.dtype)
    for i, j, (rows, columns), (out_rows, out_columns) in g.unpadded_offsets():
        out[:, :, rows, columns] += cols[:, :, i, j, out_rows, out_columns]
    return out


def _grouped_weight(w, groups):
    """(C_out, C_in/groups, kH, kW) as (groups, C_out/groups, C_in/groups * kH * kW)."""
    return w.reshape(groups, w.shape[0] // groups, -1)


class SavedColumns(ForwardScratch):
    """A conv2d node's input columns, kept by its forward for the weight gradient (its params'
    `saved`), as the hand-written im2col layer keeps them: the backward then makes no second copy."""

    __slots__ = ("x", "cols")


class BilinearParams(NamedTuple):
    """The params of the three convolution ops: the windows, which inputs need a gradient, and
    the forward's SavedColumns (conv2d only, when the weight needs a gradient)."""

    geometry: Geometry
    a_needs_grad: bool
    b_needs_grad: bool
    saved: SavedColumns | None = None


def _convolve(x, w, g, saved=None):
    n, k = x.shape[0], w.shape[0]
    cols = _columns(x, g)
    if saved is not None:
        saved.x, saved.cols = x, cols
    out = _grouped_weight(w, g.groups) @ cols  # (N, groups, C_out/groups, L)
    return out.reshape((n, k) + g.out_size)


def _input_gradient(gy, w, g):
    n, k = gy.shape[:2]
    gy = gy.reshape(n, g.groups, k // g.groups, -1)
    cols = np.swapaxes(_grouped_weight(w, g.groups), -1, -2) @ gy
    return _col2im(cols, g, w.shape[1] * g.groups)


def _weight_gradient(x, gy, g, saved=None):
    n, k = gy.shape[:2]
    gy = gy.reshape(n, g.groups, k // g.groups, -1)
    cols = saved.cols if saved is not None and saved.x is x else _columns(x, g)
    per_sample = gy @ np.swapaxes(cols, -1, -2)  # (N, groups, C_out/groups, C/groups kH kW)
    return np.add.reduce(per_sample, axis=0).reshape((k, x.shape[1] // g.groups) + g.kernel)


def _call(ns, op, g, a, b, saved=None):
    """op on raw arrays in an ordinary pass, or recorded on the graph with create_graph."""
    if ns is Tensor.graph_ns:
        return apply(op, BilinearParams(g, a.requires_grad, b.requires_grad), a, b)
    return op.forward(ns, BilinearParams(g, False, False, saved), a, b)


class _Bilinear(Op):
    """An op f(a, b) linear in each input; params a BilinearParams.

    `adjoints` gives, for each input, the op and its arguments ("h" the upstream gradient,
    "a"/"b" the inputs) that make <h, f(a, b)>'s gradient to that input: f being bilinear,
    that gradient is again one of the three convolution ops (see below the classes).
    """

    adjoints: tuple[tuple[type[Op], str], ...] = ()

    @classmethod
    def vjp(cls, ns, p, h, out, a, b):
        (op_a, order_a), (op_b, order_b) = cls.adjoints
        args = {"a": a, "b": b, "h": h}
        ga = _call(ns, op_a, p.geometry, *(args[k] for k in order_a), p.saved) if p.a_needs_grad else None
        gb = _call(ns, op_b, p.geometry, *(args[k] for k in order_b), p.saved) if p.b_needs_grad else None
        return ga, gb

    @classmethod
    def jvp(cls, ns, p, ts, out, a, b):
        return _call(ns, cls, p.geometry, ts[0], b) + _call(ns, cls, p.geometry, a, ts[1])


class Conv2d(_Bilinear):
    """y = conv(x, w) [+ b]: x (N, C, H, W), w (C_out, C/groups, kH, kW), b (C_out,).

    The bias is a third, optional input, added into the product's fresh buffer in place (as
    tensor_ops.Linear does): a layer keeps one output-sized array instead of two."""

    name = "conv2d"

    @staticmethod
    def forward(ns, p, x, w, *b):
        out = _convolve(x, w, p.geometry, p.saved)
        if b:
            out += b[0].reshape(1, -1, 1, 1)
        return out

    @classmethod
    def vjp(cls, ns, p, h, out, x, w, *b):
        gx, gw = super().vjp(ns, p, h, out, x, w)
        return (gx, gw, ns.sum(h, (0, 2, 3))) if b else (gx, gw)

    @classmethod
    def jvp(cls, ns, p, ts, out, x, w, *b):
        t = super().jvp(ns, p, ts, out, x, w)
        return t + ns.reshape(ts[2], (1, -1, 1, 1)) if b else t


class Conv2dInputGrad(_Bilinear):
    """d <gy, conv(x, w)> / dx = the transposed convolution of gy with w (x's shape)."""

    name = "conv2d_input_grad"
    forward = staticmethod(lambda ns, p, gy, w: _input_gradient(gy, w, p.geometry))


class Conv2dWeightGrad(_Bilinear):
    """d <gy, conv(x, w)> / dw (w's shape)."""

    name = "conv2d_weight_grad"
    forward = staticmethod(lambda ns, p, x, gy: _weight_gradient(x, gy, p.geometry, p.saved))


# With B(x, w, gy) = <gy, conv(x, w)>, the three ops are B's partial derivatives: conv = dB/dgy,
# T = dB/dx, W = dB/dw. B is linear in each argument, so for an upstream h:
#   <h, conv(x, w)> = B(x, w, h):   d/dx = T(h, w),   d/dw = W(x, h)
#   <h, T(gy, w)>   = B(h, w, gy):  d/dgy = conv(h, w), d/dw = W(h, gy)
#   <h, W(x, gy)>   = B(x, h, gy):  d/dx = T(gy, h),  d/dgy = conv(x, h)
Conv2d.adjoints = ((Conv2dInputGrad, "hb"), (Conv2dWeightGrad, "ah"))
Conv2dInputGrad.adjoints = ((Conv2d, "hb"), (Conv2dWeightGrad, "ha"))
Conv2dWeightGrad.adjoints = ((Conv2dInputGrad, "bh"), (Conv2d, "ah"))


# Pooling ----------------------------------------------------------------------
def _tiles(g):
    """True when the windows cover the input exactly once (stride = kernel, no padding, nothing left over)."""
    return (
        g.stride == g.kernel
        and g.padding == (0, 0)
        and all(n == k * m for n, k, m in zip(g.size, g.kernel, g.out_size))
    )


class WindowParams(NamedTuple):
    """WindowSum's and WindowScatter's params: mask None (all ones) or booleans
    (kH, kW, N, C, H_out, W_out), scale a number or an output-shaped array."""

    geometry: Geometry
    mask: np.ndarray | None
    scale: np.ndarray | float


class WindowSum(Op):
    """scale * (sum over each window of mask * x), params a WindowParams.

    Linear in x, so its vjp is its adjoint WindowScatter and its jvp itself. avg-pool is
    (None, 1 / (kH kW)); max-pool's derivative is (the window's maxima, 1 / their number)."""

    name = "window_sum"

    @staticmethod
    def forward(ns, p, x):
        g, mask, scale = p.geometry, p.mask, p.scale
        xp = _pad(x, g)
        out = None
        for i, j, (rows, columns) in g.offsets():
            term = xp[:, :, rows, columns]
            if mask is not None:
                term = term * mask[i, j]
            if out is None:
                out = term.copy() if mask is None else term
            else:
                out += term
        out *= scale
        return out

    vjp = staticmethod(lambda ns, p, h, out, x: (_call_linear(ns, WindowScatter, p, h),))
    jvp = staticmethod(lambda ns, p, ts, out, x: WindowSum.forward(ns, p, ts[0]))


class WindowScatter(Op):
    """WindowSum's adjoint: each output's gradient, scaled and masked, added onto its window."""

    name = "window_scatter"

    @staticmethod
    def forward(ns, p, h):
        g, mask, scale = p.geometry, p.mask, p.scale
        shape = h.shape[:2] + g.size
        tiles = mask is not None and _tiles(g)  # then each entry is written once: no zeros, no sums
        out = np.empty(shape, dtype=h.dtype) if tiles else np.zeros(shape, dtype=h.dtype)
        scaled = h * scale
        for i, j, (rows, columns), outputs in g.unpadded_offsets():
            window, part = out[:, :, rows, columns], scaled[(slice(None), slice(None)) + outputs]
            if mask is None:
                window += part
            elif tiles:
                np.multiply(part, mask[i, j], out=window)
            else:
                window += part * mask[i, j][(slice(None), slice(None)) + outputs]
        return out

    vjp = staticmethod(lambda ns, p, h, out, x: (_call_linear(ns, WindowSum, p, h),))
    jvp = staticmethod(lambda ns, p, ts, out, x: WindowScatter.forward(ns, p, ts[0]))


def _call_linear(ns, op, p, x):
    return apply(op, p, x) if ns is Tensor.graph_ns else op.forward(ns, p, x)


def _max_pooling_derivative(g, x, out):
    """WindowSum's params for max-pooling's derivative: the entries equal to their window's
    maximum, and 1 / their number, so ties split the gradient evenly as the engine's `max` does.
    Overlapping windows each count on their own: an entry that is two windows' maximum gets both shares."""
    xp = _pad(x, g, _lowest(x.dtype))
    hits = np.empty(g.kernel + out.shape, dtype=bool)
    count = None
    for i, j, (rows, columns) in g.offsets():
        np.equal(xp[:, :, rows, columns], out, out=hits[i, j])
        if count is None:
            count = hits[i, j].astype(out.dtype)
        else:
            count += hits[i, j]
    with np.errstate(divide="ignore"):  # a window holding NaN has no maximum: a NaN gradient
        return WindowParams(g, hits, np.reciprocal(count, out=count))


class MaxPool2d(Op):
    """The maximum of each window; params = Geometry (padding adds -inf, never chosen)."""

    name = "max_pool2d"

    @staticmethod
    def forward(ns, g, x):
        xp = _pad(x, g, _lowest(x.dtype))
        out = None
        for _, _, (rows, columns) in g.offsets():
            out = xp[:, :, rows, columns].copy() if out is None else np.maximum(out, xp[:, :, rows, columns], out=out)
        return out

    @staticmethod
    def vjp(ns, g, h, out, x):
        # the derivative's mask and scale are constants, as in tensor_ops.Max
        return (_call_linear(ns, WindowScatter, _max_pooling_derivative(g, ns.raw(x), ns.raw(out)), h),)

    @staticmethod
    def jvp(ns, g, ts, out, x):
        return WindowSum.forward(ns, _max_pooling_derivative(g, x, out), ts[0])


# The public functions ------------------------------------------------------------
def _pair(where, name, value, minimum):
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{where}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{where}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def _tensor(where: str, x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(_as_array(where, x))


def _check_fits(where, g, x):
    """The dilated kernel must fit in the padded input."""
    reach = tuple(d * (k - 1) + 1 for k, d in zip(g.kernel, g.dilation))
    padded = tuple(n + 2 * p for n, p in zip(g.size, g.padding))
    if any(r > n for r, n in zip(reach, padded)):
        raise ValueError(
            f"{where}: the kernel {g.kernel} (spanning {reach} with dilation {g.dilation}) is "
            f"larger than the padded input {padded} (input shape {x.shape}, padding {g.padding})"
        )


def conv2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch): x (N, C_in, H, W), weight
    (C_out, C_in / groups, kH, kW), bias (C_out,) -> (N, C_out, H_out, W_out).

    stride, padding (zeros) and dilation are ints or (height, width) pairs."""
    return _conv2d("conv2d", x, weight, bias, stride, padding, dilation, groups)


def _conv2d(where, x, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x, weight = _tensor(where, x), _tensor(where, weight)
    if x.ndim != 4:
        raise ValueError(f"{where}: expected a 4-D input (N, C_in, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(f"{where}: expected a 4-D weight (C_out, C_in / groups, kH, kW), got shape {weight.shape}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    c_in, c_out = x.shape[1], weight.shape[0]
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{where}: groups={groups} must divide both the input's channels ({c_in}, input "
            f"shape {x.shape}) and the weight's out channels ({c_out}, weight shape {weight.shape})"
        )
    if weight.shape[1] * groups != c_in:
        raise ValueError(
            f"{where}: the input of shape {x.shape} has {c_in} channels, but the weight of shape "
            f"{weight.shape} with groups={groups} expects {weight.shape[1] * groups}"
        )
    g = Geometry(
        weight.shape[2:],
        _pair(where, "stride", stride, 1),
        _pair(where, "padding", padding, 0),
        _pair(where, "dilation", dilation, 1),
        x.shape[2:],
        int(groups),
    )
    _check_fits(where, g, x)
    inputs: tuple[Tensor, ...] = (x, weight)
    if bias is not None:
        bias = _tensor(where, bias)
        if bias.shape != (c_out,):
            raise ValueError(
                f"{where}: bias of shape {bias.shape} does not fit a weight of shape "
                f"{weight.shape}; expected ({c_out},)"
            )
        inputs += (bias,)
    saved = SavedColumns() if weight.requires_grad and is_grad_enabled() else None
    return cast(Tensor, apply(Conv2d, BilinearParams(g, x.requires_grad, weight.requires_grad, saved), *inputs))


def conv1d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution: x (N, C_in, L), weight (C_out, C_in / groups, k) -> (N, C_out, L_out).

    A composite: conv2d on images of height 1, viewed back (the reshapes copy nothing)."""
    x, weight = _tensor("conv1d", x), _tensor("conv1d", weight)
    if x.ndim != 3:
        raise ValueError(f"conv1d: expected a 3-D input (N, C_in, L), got shape {x.shape}")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: expected a 3-D weight (C_out, C_in / groups, k), got shape {weight.shape}")
    stride, padding, dilation = (
        _single("conv1d", name, value)
        for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation))
    )
    (n, c, length), (k, c_w, width) = x.shape, weight.shape
    out = _conv2d(
        "conv1d",
        x.reshape(n, c, 1, length),
        weight.reshape(k, c_w, 1, width),
        bias,
        (1, stride),
        (0, padding),
        (1, dilation),
        groups,
    )
    return out.reshape(n, out.shape[1], out.shape[3])


def _single(where, name, value):
    """An int, or a 1-tuple of one (PyTorch accepts both)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    return int(value)


def _pool_geometry(where, x, kernel_size, stride, padding) -> tuple[Tensor, Geometry]:
    x = _tensor(where, x)
    if x.ndim != 4:
        raise ValueError(f"{where}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    kernel = _pair(where, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(where, "stride", stride, 1)
    padding = _pair(where, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{where}: padding {padding} must be at most half the kernel size {kernel}")
    g = Geometry(kernel, stride, padding, (1, 1), x.shape[2:])
    _check_fits(where, g, x)
    return x, g


def max_pool2d(x: ArrayLike, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """The maximum of each kH x kW window (N, C, H, W) -> (N, C, H_out, W_out); stride None: kernel_size.

    The gradient goes to each window's maximum, split evenly among ties (as `max`)."""
    tensor, g = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    return cast(Tensor, apply(MaxPool2d, g, tensor))


def avg_pool2d(x: ArrayLike, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """The mean of each window; zero padding counts in the mean (PyTorch's count_include_pad=True)."""
    tensor, g = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
    if tensor.dtype.kind != "f":
        tensor = tensor.astype(np.float64)
    scale = np.asarray(1 / math.prod(g.kernel), dtype=tensor.dtype)
    return cast(Tensor, apply(WindowSum, WindowParams(g, None, scale), tensor))
