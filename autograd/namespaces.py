"""The namespaces `ns` that op rules are written against, and their contract.

A rule (forward, vjp, jvp of an `Op`) calls only operators and the functions listed in
`ElementwiseNamespace` (the ops of ops.py, shared by `Value` and `Tensor`) or `Namespace`
(tensor ops add shapes, reductions and indexing). Four namespaces implement them:

| namespace  | values           | used by                                             |
|------------|------------------|-----------------------------------------------------|
| `FloatNS`  | Python floats    | Value's forward and ordinary backward pass          |
| `ValueNS`  | `Value` nodes    | Value's backward pass with create_graph=True        |
| `NumpyNS`  | ndarrays         | Tensor's forward and ordinary backward pass         |
| `TensorNS` | `Tensor` nodes   | Tensor's backward pass with create_graph=True       |

In the two graph namespaces every differentiable function records an op, so a backward
pass written with them is itself a graph. Their elementwise functions are not written here:
they come from the method table on `Node` (ns.exp(x) is x.exp()).
"""

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

import numpy as np

from . import tensor_ops as T
from .engine import Op, apply
from .node import Node, shared_elementwise


class ElementwiseNamespace(Protocol):
    """What a rule of ops.py may call; every namespace has these, each with this one meaning.

    "Raw" is the data kind of the family: a float for `Value`, an ndarray for `Tensor`.
    """

    # the differentiable functions: recorded as ops in the graph namespaces
    def exp(self, x: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...  # log 0 = -inf, log of a negative number is nan
    def log1p(self, x: Any) -> Any: ...  # log(1 + x), exact for tiny x
    def sqrt(self, x: Any) -> Any: ...
    def sin(self, x: Any) -> Any: ...
    def cos(self, x: Any) -> Any: ...
    def tanh(self, x: Any) -> Any: ...
    def sigmoid(self, x: Any) -> Any: ...  # 1 / (1 + exp(-x)), without overflow
    def relu(self, x: Any) -> Any: ...  # max(x, 0), nan stays nan
    def abs(self, x: Any) -> Any: ...
    def power(self, a: Any, b: Any) -> Any: ...  # a ** b, IEEE inf/nan where Python would raise
    def divide(self, a: Any, b: Any) -> Any: ...  # a / b, IEEE inf/nan where b = 0 (Python raises)

    # constants: raw values, never differentiated, also in the graph namespaces
    def positive(self, x: Any) -> Any: ...  # the mask x > 0 as 1/0: 1.0/0.0 for a float, a bool ndarray
    def sign(self, x: Any) -> Any: ...  # -1, 0 or 1 (nan at nan) of x's raw kind and dtype
    def zeros_like(self, x: Any) -> Any: ...  # a raw zero of x's shape and dtype (a constant's tangent)
    def raw(self, x: Any) -> Any: ...  # the data of a node; a raw value as it is

    # the raw namespace of this family, for constants computed from raw(x) (masks, weights)
    raw_ns: Any


class Namespace(ElementwiseNamespace, Protocol):
    """What a tensor op's rule may call besides (NumpyNS and TensorNS)."""

    def maximum(self, a: Any, b: Any) -> Any: ...  # elementwise; ties give half to each
    def minimum(self, a: Any, b: Any) -> Any: ...
    def where(self, cond: Any, a: Any, b: Any) -> Any: ...  # cond: a constant bool array
    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any: ...
    def transpose(self, x: Any, axes: Sequence[int]) -> Any: ...
    def swap_last(self, x: Any) -> Any: ...  # the last two axes swapped
    def broadcast_to(self, x: Any, shape: tuple[int, ...]) -> Any: ...
    def sum_to(self, x: Any, shape: tuple[int, ...]) -> Any: ...  # broadcast_to's adjoint
    # reductions over `axes` (None: all, else a sorted tuple of non-negative ints)
    def sum(self, x: Any, axes: tuple[int, ...] | None, keepdims: bool = False) -> Any: ...
    def max(self, x: Any, axes: tuple[int, ...] | None, keepdims: bool = False) -> Any: ...
    def min(self, x: Any, axes: tuple[int, ...] | None, keepdims: bool = False) -> Any: ...
    def logsumexp(self, x: Any, axes: tuple[int, ...] | None, keepdims: bool = False) -> Any: ...
    def astype(self, x: Any, dtype: Any) -> Any: ...
    def scatter(self, g: Any, index: Any, shape: tuple[int, ...]) -> Any: ...  # zeros, g added at index
    def concatenate(self, xs: Sequence[Any], axis: int) -> Any: ...
    def stack(self, xs: Sequence[Any], axis: int) -> Any: ...
    def clip(self, x: Any, lo: Any, hi: Any) -> Any: ...


# Floats ------------------------------------------------------------------------------


def _safe(fn: Callable[[float], float]) -> Callable[[float], float]:
    """Wrap a math function so it returns IEEE inf/nan instead of raising, like NumPy."""

    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan

    wrapped.__name__ = fn.__name__
    return wrapped


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _log1p(x: float) -> float:
    """log(1 + x), exact for tiny x; -inf at -1 and nan below, as NumPy's."""
    if x > -1:
        return math.log1p(x)
    return -math.inf if x == -1 else math.nan


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _power(a: float, b: float) -> float:
    try:
        r = a**b
    except (ZeroDivisionError, OverflowError):  # 0.0 ** -1, 10.0 ** 400: IEEE gives +-inf
        b = float(b)  # what Python computed with
        if a < 0 and not b.is_integer():
            return math.nan  # (-1e308) ** 2.5
        return math.copysign(math.inf, a) if b % 2 == 1 else math.inf
    return math.nan if isinstance(r, complex) else r


def _divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:  # IEEE: +-inf, or nan for 0 / 0 and nan / 0
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Node) else x


class FloatNS:
    """Elementary functions on Python floats."""

    exp = staticmethod(_safe(math.exp))
    log = staticmethod(_log)
    log1p = staticmethod(_log1p)
    sqrt = staticmethod(_safe(math.sqrt))
    sin = staticmethod(_safe(math.sin))
    cos = staticmethod(_safe(math.cos))
    tanh = staticmethod(math.tanh)
    sigmoid = staticmethod(_sigmoid)
    relu = staticmethod(lambda x: x if x > 0 or x != x else 0.0)  # relu(nan) is nan, as in NumPy
    abs = staticmethod(abs)
    power = staticmethod(_power)
    divide = staticmethod(_divide)
    positive = staticmethod(lambda x: 1.0 if x > 0 else 0.0)
    sign = staticmethod(lambda x: float((x > 0) - (x < 0)) if x == x else x)  # sign(nan) is nan
    zeros_like = staticmethod(lambda x: 0.0)
    raw = staticmethod(lambda x: x)


FloatNS.raw_ns = FloatNS  # type: ignore[attr-defined]


# Arrays ------------------------------------------------------------------------------


class NumpyNS:
    """Elementary functions on ndarrays."""

    exp, log, sqrt, sin, cos, tanh = np.exp, np.log, np.sqrt, np.sin, np.cos, np.tanh
    log1p = np.log1p
    sigmoid = staticmethod(T._sigmoid)
    relu = staticmethod(lambda x: np.maximum(x, 0))
    abs = staticmethod(T._abs)
    power, divide = np.power, np.divide
    positive = partial(np.less, 0)  # 0 < x, the mask x > 0: a C callable, not a Python frame, per relu backward
    sign = np.sign
    zeros_like = np.zeros_like
    raw = staticmethod(lambda x: x)
    maximum, minimum, where = np.maximum, np.minimum, np.where
    reshape, transpose, broadcast_to = np.reshape, np.transpose, np.broadcast_to
    swap_last = staticmethod(lambda x: np.swapaxes(x, -1, -2))
    sum_to = staticmethod(T.sum_to)
    # ufunc.reduce is what np.sum calls, without np.sum's Python dispatch
    sum = staticmethod(lambda x, axes, keepdims=False: np.add.reduce(x, axis=axes, keepdims=keepdims))
    max = staticmethod(lambda x, axes, keepdims=False: np.maximum.reduce(x, axis=axes, keepdims=keepdims))
    min = staticmethod(lambda x, axes, keepdims=False: np.minimum.reduce(x, axis=axes, keepdims=keepdims))
    logsumexp = staticmethod(lambda x, axes, keepdims=False: T._logsumexp(x, axes, keepdims))
    astype = staticmethod(lambda x, dtype: x.astype(dtype))
    scatter = staticmethod(T._scatter)
    concatenate = staticmethod(lambda xs, axis: np.concatenate(xs, axis=axis))
    stack = staticmethod(lambda xs, axis: np.stack(xs, axis=axis))
    clip = staticmethod(np.clip)


NumpyNS.raw_ns = NumpyNS  # type: ignore[attr-defined]


# Nodes -------------------------------------------------------------------------------


def _from_method_table(namespace: type) -> type:
    """Give a graph namespace the shared elementwise functions: ns.exp(x) is x.exp()."""
    for name in shared_elementwise():
        setattr(namespace, name, staticmethod(getattr(Node, name)))
    return namespace


@_from_method_table
class ValueNS:
    """The functions on `Value`s, so a backward pass can be recorded."""

    raw_ns = FloatNS
    power = staticmethod(lambda a, b: a**b)
    divide = staticmethod(lambda a, b: a / b)
    positive = staticmethod(lambda x: FloatNS.positive(x._data))
    sign = staticmethod(lambda x: FloatNS.sign(x._data))
    zeros_like = staticmethod(lambda x: 0.0)
    raw = staticmethod(_raw)


def _where(cond: Any, a: Any, b: Any) -> Any:
    """where(cond, a, b) recorded; a number among a and b (a rule's 0.0) becomes a constant."""
    like: Any = a if isinstance(a, Node) else b
    return apply(T.Where, cond, like._const(a, "where"), like._const(b, "where"))


def _reduction(op: type[Op]) -> Callable[..., Any]:
    return lambda x, axes, keepdims=False: apply(op, T.Reduction(axes, keepdims), x)


@_from_method_table
class TensorNS:
    """The functions on `Tensor`s, so a backward pass can be recorded."""

    raw_ns = NumpyNS
    power = staticmethod(lambda a, b: a**b)
    divide = staticmethod(lambda a, b: a / b)
    positive = staticmethod(lambda x: x._data > 0)
    sign = staticmethod(lambda x: np.sign(x._data))
    zeros_like = staticmethod(lambda x: np.zeros_like(x._data))
    raw = staticmethod(_raw)
    maximum = staticmethod(lambda a, b: apply(T.Maximum, None, a, b))
    minimum = staticmethod(lambda a, b: apply(T.Minimum, None, a, b))
    where = staticmethod(_where)
    reshape = staticmethod(lambda x, shape: apply(T.Reshape, shape, x))
    transpose = staticmethod(lambda x, axes: apply(T.Transpose, tuple(axes), x))
    swap_last = staticmethod(lambda x: apply(T.Transpose, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2), x))
    broadcast_to = staticmethod(lambda x, shape: x if x.shape == shape else apply(T.BroadcastTo, shape, x))
    sum_to = staticmethod(lambda x, shape: x if x.shape == shape else apply(T.SumTo, shape, x))
    sum = staticmethod(_reduction(T.Sum))
    max = staticmethod(_reduction(T.Max))
    min = staticmethod(_reduction(T.Min))
    logsumexp = staticmethod(_reduction(T.LogSumExp))
    astype = staticmethod(lambda x, dtype: apply(T.Cast, dtype, x))
    scatter = staticmethod(lambda g, index, shape: apply(T.Scatter, T.Placement(index, shape), g))
    concatenate = staticmethod(lambda xs, axis: apply(T.Concatenate, axis, *xs))
    stack = staticmethod(lambda xs, axis: apply(T.Stack, axis, *xs))
    clip = staticmethod(lambda x, lo, hi: apply(T.Clip, T.Bounds(lo, hi), x))
