"""Bad input, fuzzed: every public function and operator on wrong types, shapes, dtypes and values.

The allowed outcomes of a call are a correct result (checked against NumPy,
and for the elementwise ops its gradient against the closed form) or a
ValueError/TypeError/RuntimeError/FloatingPointError whose message names the
operation. Any other exception fails the test, and no input array is ever
changed by the forward or the backward pass.
"""

import contextlib
import copy
import math
import operator
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import nn
from autograd import Tensor, Value, broadcast_to, concatenate, matmul, maximum, minimum, stack, where
from nn import functional as F

pytestmark = pytest.mark.numerics  # values at inf/nan and exact bits: CI reruns them under a second BLAS kernel

ALLOWED = (ValueError, TypeError, RuntimeError, FloatingPointError)


# The pool of arguments ---------------------------------------------------------


def _read_only(a):
    a.flags.writeable = False
    return a


# Array data a Tensor can be made from: each factory returns a fresh array.
ARRAYS = {
    "float64": lambda: np.linspace(-3, 3, 12).reshape(3, 4),
    "float32": lambda: np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4),
    "float16": lambda: np.array([0.5, -60000.0, 1e-5], dtype=np.float16),
    "nan_inf": lambda: np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]),
    "huge": lambda: np.array([1e308, -1e308, 1e-308, 5e-324]),
    "huge32": lambda: np.array([3e38, -3e38, 1e-45, 0.0], dtype=np.float32),
    "empty": lambda: np.zeros(0),
    "empty_2d": lambda: np.zeros((0, 4)),
    "zero_d": lambda: np.array(1.5),
    "int64": lambda: np.arange(-6, 6).reshape(3, 4),
    "int8": lambda: np.array([127, -128, 0, 3], dtype=np.int8),
    "uint8": lambda: np.array([0, 1, 255, 7], dtype=np.uint8),
    "bool": lambda: np.arange(12).reshape(3, 4) % 3 == 0,
    "complex": lambda: np.array([1 + 2j, -1j, 0j, 3.0]),
    "non_contiguous": lambda: np.linspace(-3, 3, 24).reshape(3, 8)[:, ::2],
    "transposed": lambda: np.linspace(-3, 3, 12).reshape(4, 3).T,
    "read_only": lambda: _read_only(np.linspace(-3, 3, 12).reshape(3, 4)),
    "one_by_one": lambda: np.array([[2.0]]),
}

# Everything else a caller might pass where a tensor, array or number is expected.
OTHERS = {
    "list": lambda: [[1.0, 2.0, 3.0, 4.0]],
    "ragged_list": lambda: [[1.0], [2.0, 3.0]],
    "int": lambda: 3,
    "negative_int": lambda: -2,
    "float": lambda: 2.5,
    "nan": lambda: math.nan,
    "inf": lambda: math.inf,
    "huge_float": lambda: 1e308,
    "huge_int": lambda: 10**400,
    "bool_scalar": lambda: True,
    "complex_scalar": lambda: 1 + 2j,
    "numpy_float32": lambda: np.float32(2.0),
    "numpy_int": lambda: np.int64(2),
    "none": lambda: None,
    "str": lambda: "abc",
    "dict": lambda: {},
    "object_array": lambda: np.array([object(), object()]),
    "string_array": lambda: np.array(["a", "b"]),
    "value": lambda: Value(2.0),
}


def make_tensor(kind):
    """A Tensor of ARRAYS[kind] (or of an array); floating-point data requires grad (other data cannot)."""
    arr = ARRAYS[kind]() if isinstance(kind, str) else kind
    return Tensor(arr, requires_grad=arr.dtype.kind == "f")


def operand(kind):
    """A fresh argument: "tensor:<ARRAYS key>", "value:<float>", "float:<float>", an ARRAYS or OTHERS key."""
    if not isinstance(kind, str):
        return kind  # an argument made by hypothesis
    prefix, _, rest = kind.partition(":")
    if rest:
        return {"tensor": make_tensor, "value": lambda r: Value(float(r)), "float": float}[prefix](rest)
    return ARRAYS[kind]() if kind in ARRAYS else OTHERS[kind]()


OPERANDS = sorted(["tensor:" + k for k in ARRAYS] + list(ARRAYS) + list(OTHERS))


# Snapshots: nothing the caller passed may change ------------------------------


def _snapshot(x):
    if isinstance(x, Tensor):
        return ("tensor", x, x._data, x._data.copy())
    if isinstance(x, np.ndarray):
        return ("array", x, None, x.copy())
    if isinstance(x, (list, tuple)):
        return ("seq", x, [_snapshot(i) for i in x], copy.deepcopy(x) if isinstance(x, list) else None)
    return ("other", x, None, None)


def _assert_unchanged(snap):
    kind, x, inner, before = snap
    if kind == "tensor":
        assert x._data is inner, "a Tensor's data was replaced"
        _assert_same_array(inner, before)
    elif kind == "array":
        _assert_same_array(x, before)
    elif kind == "seq":
        for s in inner:
            _assert_unchanged(s)
        if before is not None and not any(isinstance(i, (Tensor, np.ndarray)) for i in x):
            assert x == before, "a list argument was changed"


def _assert_same_array(a, before):
    assert a.shape == before.shape and a.dtype == before.dtype, "an input array changed shape or dtype"
    if a.dtype == object:
        assert all(p is q for p, q in zip(a.ravel(), before.ravel())), "an object array was changed"
    else:
        np.testing.assert_array_equal(a, before, err_msg="an input array was changed in place")


# The check --------------------------------------------------------------------


def _raw(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, Value):
        return np.float64(x._data)  # a NumPy scalar: float64 arithmetic, like the Value's
    if isinstance(x, (list, tuple)):
        return type(x)(_raw(i) for i in x)
    if isinstance(x, np.ndarray) and x.dtype == object and all(isinstance(v, Value) for v in x.flat):
        return np.array([v._data for v in x.flat]).reshape(x.shape)  # ndarray + Value: Values
    return x


@contextlib.contextmanager
def ieee_quiet(complex_casts="error"):
    """NaN/inf arithmetic without warnings; a complex value silently cast to real is an error."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter(complex_casts, np.exceptions.ComplexWarning)
        yield


def _weak(x):
    """A NumPy scalar as the Python number it holds: chainrule follows PyTorch's rule that a
    scalar does not promote a tensor (README, Conventions), where NumPy 2 lets np.float64(2)
    promote a float32 array."""
    return x.item() if isinstance(x, np.generic) and x.dtype.kind in "biufc" else _raw(x)


def _reference(ref, args):
    """NumPy's answer, or None when NumPy itself refuses the arguments."""
    if ref is None:
        return None
    with ieee_quiet(complex_casts="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            weak = any(isinstance(a, Tensor) for a in args)  # an operation on a tensor
            return np.asarray(ref(*[_weak(a) if weak else _raw(a) for a in args]))
        except Exception:  # noqa: BLE001 - NumPy refusing is information, not a failure
            return None


def _tolerance(dtype):
    return {"f": {2: 1e-2, 4: 2e-6}.get(dtype.itemsize, 1e-12), "c": 1e-6 if dtype.itemsize == 8 else 1e-12}.get(
        dtype.kind, 0.0
    )


def _input_rounding(args):
    """How much coarser than float64 the roughest floating-point input is (1: none is)."""
    dtypes = [np.asarray(_raw(a)).dtype for a in args if isinstance(a, (Tensor, np.ndarray))]
    return max([_tolerance(d) / _tolerance(np.dtype(np.float64)) for d in dtypes if d.kind in "fc"], default=1)


def assert_close(got, expected, what, slack=1, magnitude=0.0):
    """Equal to within the rounding of the lower precision (times `slack`), nan where nan.

    `magnitude`: also allow rounding errors of values that large, for results that cancel
    them, as 1 - tanh(x)**2 near 0 (magnitude 1) or softmax's gradient at x = 1e7.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, NumPy gives {expected.shape}"
    if expected.dtype.kind in "fc":
        rtol = slack * max(_tolerance(got.dtype), _tolerance(expected.dtype))
        with ieee_quiet():
            np.testing.assert_allclose(
                got, expected, rtol=rtol, atol=rtol * max(magnitude, 1e-300), equal_nan=True, err_msg=what
            )
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


EXPLICIT_CASTS = ("astype", "astype(dtype)", "Tensor(dtype)")  # complex -> real is asked for here


def check_call(name, fn, args, ref=None, derivative=None, words=(), magnitude=0.0):
    """Call fn(*args) and hold the outcome to the rules in the module docstring.

    `ref` gives NumPy's result from the raw arguments; `derivative` maps the raw
    arguments to the closed-form gradient of sum(out) for each argument (None: not
    checked). Returns the result, or None when an allowed error naming the operation
    (`name` or one of `words`; words=None: the message is not checked) was raised.
    `magnitude` is passed to assert_close for the result.
    """
    snaps = [_snapshot(a) for a in args]
    expected = _reference(ref, args)
    with ieee_quiet("ignore" if name in EXPLICIT_CASTS else "error"):
        try:
            out = fn(*args)
        except ALLOWED as exc:
            # a Module adds its name as a note (the exception itself is kept, as PyTorch users expect)
            message = "\n".join([str(exc), *getattr(exc, "__notes__", ())])
            assert words is None or any(w in message for w in (name, *words)), (
                f"{name}: {type(exc).__name__} does not name the operation: {message!r}"
            )
            for s in snaps:
                _assert_unchanged(s)
            return None
    if expected is not None and isinstance(out, (Tensor, Value, np.ndarray, float, int, bool, complex)):
        assert_close(
            _raw(out), expected, f"{name}: result differs from NumPy", slack=_input_rounding(args), magnitude=magnitude
        )
        if expected.dtype in (np.float32, np.float64) and isinstance(out, Tensor):
            assert out.dtype == expected.dtype, f"{name}: dtype {out.dtype}, NumPy gives {expected.dtype}"
    if isinstance(out, (Tensor, Value)) and out.requires_grad and not out.is_leaf:
        _check_backward(name, out, args, derivative)
    for s in snaps:
        _assert_unchanged(s)
    return out


def _float64(x):
    """The raw data of x for computing reference gradients, in float64 unless complex."""
    x = np.asarray(_raw(x))
    return x if x.dtype.kind == "c" else x.astype(np.float64)


def _check_backward(name, out, args, derivative):
    seed = None if isinstance(out, Value) else np.ones(out.shape, dtype=out.dtype)
    with ieee_quiet():
        try:
            out.backward(seed)
        except ALLOWED as exc:
            assert name in str(exc) or "complex gradient" in str(exc), (
                f"{name}: backward's {type(exc).__name__} does not name it: {exc}"
            )
            return
    flat = [t for a in args for t in (a if isinstance(a, list) else [a])]
    for leaf in flat:
        if isinstance(leaf, Tensor) and leaf.requires_grad:
            assert leaf.grad is not None, f"{name}: backward left an input's grad None"
            assert leaf.grad.shape == leaf.shape and leaf.grad.dtype == leaf.dtype, (
                f"{name}: grad {leaf.grad.shape} {leaf.grad.dtype} for input {leaf.shape} {leaf.dtype}"
            )
        elif isinstance(leaf, Value):
            assert type(leaf.grad) is float, f"{name}: a Value's grad is {type(leaf.grad).__name__}"
    if derivative is None or np.isnan(out._data).any():
        return  # where the function itself is nan, its derivative is anyone's guess
    with ieee_quiet():
        raw = [_float64(a) for a in args]
        expected = derivative(*raw)
    finite = [np.abs(r[np.isfinite(r)]).max(initial=1.0) for r in raw if r.dtype.kind == "f"]
    for i, (arg, want) in enumerate(zip(args, expected)):
        if want is not None and isinstance(arg, (Tensor, Value)) and arg.requires_grad:
            with ieee_quiet():
                want = np.broadcast_to(np.asarray(want, dtype=np.asarray(arg._data).dtype), np.shape(arg._data))
            assert_close(
                arg.grad,
                want,
                f"{name}: gradient of argument {i} differs from the closed form",
                slack=100,
                magnitude=max(finite, default=1.0),
            )


# The operations ---------------------------------------------------------------


def _floating(x):
    """Integers and booleans as the float type NumPy's exp gives them."""
    x = np.asarray(x)
    return x if x.dtype.kind in "fc" else x.astype(np.result_type(x.dtype, np.float16))


def _sigmoid(x):
    x = _floating(x)
    if x.dtype.kind == "c":
        return 1 / (1 + np.exp(-x))
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def _logsumexp(x, axis=None, keepdims=False):
    x = _floating(x)
    axis = tuple(range(x.ndim)) if axis is None else axis
    return np.logaddexp.reduce(x, axis=axis, keepdims=keepdims) if x.ndim else x


def _log_softmax(x, axis=-1):
    x = _floating(x)
    if x.size and x.dtype.kind == "f":  # shifted: equal large entries give exactly -log n
        peak = np.max(x, axis=axis, keepdims=True)
        x = x - np.where(np.isfinite(peak), peak, 0)
    return x - _logsumexp(x, axis, keepdims=True)


# name: (method, NumPy reference, derivative of the output w.r.t. the input)
ELEMENTWISE = {
    "neg": (operator.neg, np.negative, lambda x: -np.ones_like(x)),
    "abs": (abs, np.abs, np.sign),
    "exp": (Tensor.exp, np.exp, np.exp),
    "log": (Tensor.log, np.log, lambda x: 1 / x),
    "sqrt": (Tensor.sqrt, np.sqrt, lambda x: 1 / (2 * np.sqrt(x))),
    "sin": (Tensor.sin, np.sin, np.cos),
    "cos": (Tensor.cos, np.cos, lambda x: -np.sin(x)),
    "tanh": (Tensor.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "sigmoid": (Tensor.sigmoid, _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "relu": (Tensor.relu, lambda x: np.maximum(x, 0), lambda x: x > 0),
    "clip": (lambda t: t.clip(-1, 1), lambda x: np.clip(x, -1, 1), lambda x: (x > -1) & (x < 1)),
}

# name: (method, NumPy reference); each is also called with every axis in AXES
REDUCTIONS = {
    "sum": (Tensor.sum, np.sum),
    "mean": (Tensor.mean, np.mean),
    "max": (Tensor.max, np.max),
    "min": (Tensor.min, np.min),
    "logsumexp": (Tensor.logsumexp, _logsumexp),
}

OTHER_METHODS = {
    "softmax": (lambda t: t.softmax(), lambda x: np.exp(_log_softmax(x))),
    "log_softmax": (lambda t: t.log_softmax(), _log_softmax),
    "transpose": (lambda t: t.transpose(), np.transpose),
    "T": (lambda t: t.T, np.transpose),
    "astype": (lambda t: t.astype(np.float32), lambda x: x.astype(np.float32)),
    "detach": (Tensor.detach, lambda x: x),
    "numpy": (Tensor.numpy, lambda x: x),
    "item": (Tensor.item, lambda x: x.item()),
    "len": (len, len),
    "repr": (repr, None),
}

# Parameters passed where an axis, a shape, an index, a bound or a dtype is expected.
PARAMS = [
    0,
    1,
    -1,
    2,
    -3,
    5,
    (0, 1),
    (1, 0),
    (0, 0),
    (),
    None,
    1.5,
    "axis",
    True,
    [0, 1],
    [[0, 1]],
    np.array([0, 2]),
    np.array([True, False, True]),
    np.array([5]),
    np.array(1.5),
    slice(None),
    slice(None, None, -1),
    Ellipsis,
    (Ellipsis, None),
    (None, 0),
    np.int64(1),
    (0, 0, 0),
    (3, 4),
    (4, 3),
    (12,),
    (-1,),
    (2, -1),
    (-1, -1),
    (2, 6),
    math.nan,
    math.inf,
    {},
    "float32",
    np.float32,
    object,
    1 + 2j,
]

# name: (call with a tensor and a parameter, NumPy reference, extra words its errors may use)
WITH_PARAM = {
    **{
        f"{name}(axis)": (lambda t, p, f=f: f(t, axis=p), lambda x, p, r=r: r(x, axis=p), (name,))
        for name, (f, r) in REDUCTIONS.items()
    },
    "softmax(axis)": (lambda t, p: t.softmax(p), lambda x, p: np.exp(_log_softmax(x, p)), ("softmax",)),
    "log_softmax(axis)": (lambda t, p: t.log_softmax(p), _log_softmax, ("log_softmax",)),
    "reshape": (lambda t, p: t.reshape(p), lambda x, p: np.reshape(x, p), ()),
    "transpose(axes)": (lambda t, p: t.transpose(p), lambda x, p: np.transpose(x, p), ("transpose",)),
    "getitem": (lambda t, p: t[p], lambda x, p: x[p], ()),
    "clip(lo)": (lambda t, p: t.clip(p, None), lambda x, p: np.clip(x, p, None), ("clip",)),
    "clip(hi)": (lambda t, p: t.clip(None, p), lambda x, p: np.clip(x, None, p), ("clip",)),
    "astype(dtype)": (lambda t, p: t.astype(p), lambda x, p: x.astype(p), ("astype",)),
    "broadcast_to": (broadcast_to, np.broadcast_to, ()),
    "Tensor(dtype)": (lambda t, p: Tensor(t.data, dtype=p), lambda x, p: np.asarray(x, dtype=p), ("Tensor",)),
    "concatenate(axis)": (
        lambda t, p: concatenate([t, t], axis=p),
        lambda x, p: np.concatenate([x, x], axis=p),
        ("concatenate",),
    ),
    "stack(axis)": (lambda t, p: stack([t, t], axis=p), lambda x, p: np.stack([x, x], axis=p), ("stack",)),
}

MASK = np.array([True, False, False, True])

# name: (function of two arguments, NumPy reference, words of Python's own operator errors)
BINARY = {
    "+": (operator.add, np.add, ("add", "concatenate")),
    "-": (operator.sub, np.subtract, ("subtract",)),
    "*": (operator.mul, np.multiply, ("multiply",)),
    "/": (operator.truediv, np.true_divide, ("divide",)),
    "**": (operator.pow, np.power, ("pow",)),
    "@": (operator.matmul, np.matmul, ("matmul",)),
    "<": (operator.lt, np.less, ("less", "greater", ">")),  # reflected, a < b is b > a
    ">=": (operator.ge, np.greater_equal, ("greater", "less", "<=")),
    "maximum": (maximum, np.maximum, ()),
    "minimum": (minimum, np.minimum, ()),
    "matmul": (matmul, np.matmul, ()),
    "concatenate": (lambda a, b: concatenate([a, b]), lambda a, b: np.concatenate([a, b]), ()),
    "stack": (lambda a, b: stack([a, b], axis=-1), lambda a, b: np.stack([a, b], axis=-1), ()),
    "where": (lambda a, b: where(MASK, a, b), lambda a, b: np.where(MASK, a, b), ()),
    "where(cond)": (lambda a, b: where(b, a, 0.0), lambda a, b: np.where(b, a, 0.0), ("where",)),
}


def _flipped(fn):
    return lambda a, b: fn(b, a)


def check_unary(name, kind):
    method, ref, derivative = ELEMENTWISE[name]
    check_call(name, method, [make_tensor(kind)], ref, lambda x: (derivative(x),))


def _magnitude(name):
    """A sum of exponentials in float16 is exact to eps, not to eps relative: log(1 + e^-4)."""
    return 1.0 if name.startswith(("logsumexp", "softmax", "log_softmax")) else 0.0


def check_method(name, kind):
    method, ref = {**OTHER_METHODS, **{k: v[:2] for k, v in REDUCTIONS.items()}}[name]
    check_call(
        name, method, [make_tensor(kind)], ref, words=("tensor",) if name == "len" else (), magnitude=_magnitude(name)
    )


def check_with_param(name, kind, param):
    fn, ref, words = WITH_PARAM[name]
    check_call(name, fn, [make_tensor(kind), param], ref, words=words, magnitude=_magnitude(name))


def check_binary(name, kind, other, flipped=False):
    fn, ref, words = BINARY[name]
    if flipped:
        fn, ref = _flipped(fn), _flipped(ref)
    check_call(name, fn, [make_tensor(kind), operand(other)], ref, words=words)


def _backward_with(t, grad):
    (t * 2.0).backward(grad)
    return t.grad


def _set_data(t, new):
    t = Tensor(t.data.copy(), requires_grad=t.requires_grad)  # the caller's tensor stays as it was
    t.data = new
    return t.data


def _expected_grad(x, grad):
    """x.grad after (x * 2).backward(grad); grad=None means ones (for one element)."""
    grad = np.ones_like(x) if grad is None else np.asarray(grad)
    return 2 * grad.astype(np.result_type(grad, x))


def _expected_data(x, new):
    """A parameter keeps its dtype: new data of the same kind is cast to it."""
    new = np.asarray(new)
    return new.astype(x.dtype) if x.dtype.kind == "f" and np.can_cast(new, x.dtype, "same_kind") else new


# name: (function of a tensor and an operand, NumPy reference, extra words of its errors)
WITH_OPERAND = {
    "backward": (_backward_with, _expected_grad, ()),
    "Tensor.data": (_set_data, _expected_data, ()),
}

# name: (function of the operand alone, NumPy reference, extra words of its errors)
OF_OPERAND = {
    "Tensor": (Tensor, np.asarray, ()),
    "Tensor(requires_grad)": (lambda d: Tensor(d, requires_grad=True), np.asarray, ("Tensor",)),
    "concatenate(tensors)": (concatenate, np.concatenate, ("concatenate",)),
    "stack(tensors)": (stack, np.stack, ("stack",)),
    "Value": (Value, float, ()),
}


def check_with_operand(name, kind, other):
    fn, ref, words = WITH_OPERAND[name]
    check_call(name, fn, [make_tensor(kind), operand(other)], ref, words=words)


def check_of_operand(name, other):
    fn, ref, words = OF_OPERAND[name]
    check_call(name, fn, [operand(other)], ref, words=words)


# Values: the same elementwise functions and operators on Python floats -------------

VALUE_DATA = [0.0, -0.0, 0.5, 1.0, -1.0, 2.0, -8.0, 1e308, -1e308, 710.0, -710.0, 5e-324, math.nan, math.inf, -math.inf]

VALUE_UNARY = {
    name: (method if name in ("neg", "abs") else getattr(Value, name), ref, derivative)
    for name, (method, ref, derivative) in ELEMENTWISE.items()
    if name != "clip"
}


def _c99_pow(a, b):
    """np.power, except pow(-inf, b) for non-integer b, where C99 (and Python) give pow(inf, b), NumPy nan."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == b.dtype.kind == "f":
        a = np.where(np.isneginf(a) & (b != np.round(b)), np.inf, a)
    return np.power(a, b)


def _pow_derivatives(a, b):
    """(b a**(b-1), a**b log a), exact at a = 0 as in PyTorch: the first is 0 where b = 0 too
    (a**0 is constant), the second 0 where b >= 0 (0**b is 0 or 1 for all such b)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    at_zero = a == 0
    d_a = np.where(at_zero & (b == 0), 0.0, b * _c99_pow(a, b - 1))
    d_b = np.where(at_zero & (b >= 0), 0.0, _c99_pow(a, b) * np.log(a))
    return d_a, d_b


# name: the gradients of a op b with respect to (a, b)
VALUE_BINARY = {
    "+": lambda a, b: (1.0, 1.0),
    "-": lambda a, b: (1.0, -1.0),
    "*": lambda a, b: (b, a),
    "/": lambda a, b: (1 / b, -a / (b * b)),
    "**": lambda a, b: _pow_derivatives(a, b),
    "<": None,
}


def check_value_unary(name, x):
    method, ref, derivative = VALUE_UNARY[name]
    check_call(name, method, [Value(x)], ref, lambda x: (derivative(x),))


def check_value_binary(name, x, other, flipped=False):
    fn, ref, words = BINARY[name]
    ref = _c99_pow if name == "**" else ref
    derivative = VALUE_BINARY[name]
    if flipped:
        fn, ref = _flipped(fn), _flipped(ref)
        derivative = derivative and (lambda a, b, d=derivative: d(b, a)[::-1])
    check_call(name, fn, [Value(x), operand(other)], ref, derivative, words)


VALUE_OPERANDS = [f"value:{y!r}" for y in VALUE_DATA] + [f"float:{y!r}" for y in VALUE_DATA] + OPERANDS


ORDINARY = "float64"  # the array kind other arguments keep in the short run
ORDINARY_PARAMS = [0, -1, None, ()]


def every_case(full=False):
    """Each operation with each pooled argument in each position, the others ordinary.

    `full=True` gives the whole cross product instead (about 60,000 calls), a superset.
    """
    for kind in ARRAYS:
        for name in ELEMENTWISE:
            yield check_unary, (name, kind)
        for name in {**OTHER_METHODS, **REDUCTIONS}:
            yield check_method, (name, kind)
        ordinary = full or kind == ORDINARY
        for name in WITH_PARAM:
            for param in PARAMS if ordinary else ORDINARY_PARAMS:
                yield check_with_param, (name, kind, param)
        for other in OPERANDS if ordinary else ["tensor:" + ORDINARY, ORDINARY, kind, "tensor:" + kind]:
            for name in BINARY:
                yield check_binary, (name, kind, other)
                yield check_binary, (name, kind, other, True)
            for name in WITH_OPERAND:
                yield check_with_operand, (name, kind, other)
    for x in VALUE_DATA:
        for name in VALUE_UNARY:
            yield check_value_unary, (name, x)
        for name in VALUE_BINARY:
            for other in VALUE_OPERANDS if full or x == 2.0 else VALUE_OPERANDS[: len(VALUE_DATA)]:
                yield check_value_binary, (name, x, other)
                yield check_value_binary, (name, x, other, True)
    for other in OPERANDS + ["value:2.0", "float:nan"]:
        for name in OF_OPERAND:
            yield check_of_operand, (name, other)


def _word(arg):
    return arg if isinstance(arg, str) else repr(arg)


def case_id(case):
    """The test id of a case: its check, then its arguments, as `binary-+-float64-tensor:int8-flipped`."""
    check, args = case
    flipped = check in (check_binary, check_value_binary) and len(args) == 4
    return "-".join([check.__name__.removeprefix("check_"), *map(_word, args[:3] if flipped else args)]) + (
        "-flipped" if flipped else ""
    )


def parametrize_cases(cases):
    """One test per case, so that a failing case hides no other."""
    return pytest.mark.parametrize("case", cases, ids=[case_id(c) for c in cases])


def run_case(case):
    check, args = case
    check(*args)


def run_cases(cases):
    """Every case, then one failure listing every case that failed."""
    failures = []
    for case in cases:
        try:
            run_case(case)
        except Exception as exc:  # noqa: BLE001 - collected so one run lists them all
            failures.append(f"{case_id(case)}: {type(exc).__name__}: {str(exc)[:300]}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])


SHORT_CASES = list(every_case())
FULL_CASES = list(every_case(full=True))


@parametrize_cases(SHORT_CASES)
def test_every_operation_with_every_pooled_argument(case):
    run_case(case)


@pytest.mark.parametrize("text", ["3.5", b"3.5", "nan"])
def test_a_value_is_made_from_a_number_not_from_text(text):
    with pytest.raises(TypeError, match="Value: data must be a real number"):
        Value(text)


def _by_operation(cases):
    """{"binary-+": [cases], ...}: the cases grouped by check and operation, in their order."""
    groups = {}
    for case in cases:
        check, (name, *_) = case
        groups.setdefault(f"{check.__name__.removeprefix('check_')}-{name}", []).append(case)
    return groups


# The rest of the cross product (the short run's cases are in it too): about 50,000 calls,
# as one test per operation, whose failure lists each failing case by its id.
_SHORT_IDS = {case_id(c) for c in SHORT_CASES}
REST_BY_OPERATION = _by_operation([c for c in FULL_CASES if case_id(c) not in _SHORT_IDS])


@pytest.mark.slow
@pytest.mark.parametrize("operation", sorted(REST_BY_OPERATION))
def test_every_operation_on_every_combination_of_pooled_arguments(operation):
    run_cases(REST_BY_OPERATION[operation])


# nn: activations, losses and layers -----------------------------------------------------
# Known and not held against nn here: integer inputs wrap around (softplus of uint8 1 is inf),
# so results are compared for floating-point inputs only; layers cast complex input to real
# (ComplexWarning) and raise OverflowError for 10 ** 400. Messages must name the nn function
# or layer (nn/_errors.py puts its name first).
LAYER_INPUTS = [k for k in OPERANDS if k not in ("complex", "huge_int")]

_erf = np.vectorize(math.erf, otypes=[float])


def _real(x):
    """nn computes integers and booleans in float64 (x * 1.0); floats keep their type."""
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind in "biu" else x


def _gelu(x):
    x = _real(x)
    return (0.5 * x * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)


def _gelu_slope(x):
    return 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _softplus(x):
    x = _real(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _nn(fn):
    """A reference on _real(x)."""
    return lambda x, *rest: fn(_real(x), *rest)


# name: (nn.functional function, NumPy reference, derivative of the output w.r.t. the input)
NN_ACTIVATIONS = {
    "sigmoid": (F.sigmoid, _nn(_sigmoid), lambda x: _sigmoid(x) * _sigmoid(-x)),
    "tanh": (F.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (F.relu, lambda x: np.maximum(x, 0), lambda x: x > 0),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1, 0.01)),
    "elu": (
        F.elu,
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        lambda x: np.where(x > 0, 1, np.exp(np.minimum(x, 0))),
    ),
    "softplus": (F.softplus, _softplus, _sigmoid),
    "silu": (F.silu, _nn(lambda x: x * _sigmoid(x)), lambda x: _sigmoid(x) * (1 + x * _sigmoid(-x))),
    "gelu": (F.gelu, _gelu, _gelu_slope),
    "hard_sigmoid": (F.hard_sigmoid, lambda x: np.clip(0.25 * x + 0.5, 0, 1), lambda x: 0.25 * (np.abs(x) < 2)),
    "hard_tanh": (F.hard_tanh, lambda x: np.clip(x, -1, 1), lambda x: np.abs(x) < 1),
    "softmax": (F.softmax, _nn(lambda x: np.exp(_log_softmax(x))), lambda x: 0 * np.exp(_log_softmax(x))),
    "log_softmax": (F.log_softmax, _nn(_log_softmax), lambda x: 1 - np.shape(x)[-1] * np.exp(_log_softmax(x))),
}


def _labels_for(x):
    """Class labels that fit logits x: one per row of (rows, classes), one for a vector."""
    x = np.asarray(x)
    rows = 1 if x.ndim < 2 else x.shape[0]
    return np.arange(rows) % max(x.shape[-1] if x.ndim else 1, 1)


def _rows(x):
    x = _real(x)
    return x.reshape(1, -1) if x.ndim == 1 else x


def _cross_entropy(x, t):
    z = _rows(x)
    t = np.asarray(t)
    if t.shape == np.shape(x):  # class probabilities
        return -(t.reshape(z.shape) * _log_softmax(z)).sum(axis=1).mean()
    return -_log_softmax(z)[np.arange(len(z)), t.reshape(-1)].mean()


def _nll_loss(x, t):
    z = _rows(x)
    return -z[np.arange(len(z)), np.asarray(t).reshape(-1)].mean()


def _binary_cross_entropy(p, t):
    """PyTorch's: each log clamped at -100 (probabilities outside [0, 1] are refused)."""
    p = np.asarray(p)
    return -(t * np.maximum(np.log(p), -100) + (1.0 - t) * np.maximum(np.log(1.0 - p), -100)).mean()


# name: (loss, NumPy reference, a fitting target for an input x)
NN_LOSSES = {
    "mse_loss": (F.mse_loss, lambda x, t: ((np.asarray(x) - t) ** 2).mean(), lambda x: np.ones(np.shape(x)) / 2),
    "cross_entropy": (F.cross_entropy, _cross_entropy, _labels_for),
    "nll_loss": (F.nll_loss, _nll_loss, _labels_for),
    "binary_cross_entropy": (
        F.binary_cross_entropy,
        _binary_cross_entropy,
        lambda x: (np.arange(np.size(x)) % 2).reshape(np.shape(x)),
    ),
    "binary_cross_entropy_with_logits": (
        F.binary_cross_entropy_with_logits,
        lambda x, t: (_softplus(x) - _real(x) * t).mean(),
        lambda x: (np.arange(np.size(x)) % 2).reshape(np.shape(x)),
    ),
}

LINEAR = nn.Linear(4, 3, rng=0)
MLP = nn.MLP([4, 5, 3], rng=0)
DROPOUT = nn.Dropout(0.5).eval()


def _mlp(x):
    (w0, b0), (w2, b2) = [(m.weight.data, m.bias.data) for m in (MLP[0], MLP[2])]
    return np.maximum(_floating(x) @ w0.T + b0, 0) @ w2.T + b2


# name: (layer, NumPy reference, derivative of the summed output w.r.t. the input)
NN_LAYERS = {
    "Linear": (
        LINEAR,
        lambda x: _floating(x) @ LINEAR.weight.data.T + LINEAR.bias.data,
        lambda x: np.broadcast_to(LINEAR.weight.data.sum(axis=0), np.shape(x)),
    ),
    "MLP": (MLP, _mlp, None),
    "Dropout(eval)": (DROPOUT, lambda x: x, np.ones_like),
}


def _floating_input(x, finite=False):
    data = np.asarray(_raw(x)) if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x, dtype=object)
    return data.dtype.kind == "f" and (not finite or bool(np.all(np.isfinite(data))))


def check_nn_activation(name, kind):
    fn, ref, derivative = NN_ACTIVATIONS[name]
    x = operand(kind)
    check_call(
        name, fn, [x], ref if _floating_input(x) else None, lambda x: (derivative(x),), magnitude=1.0
    )  # elu's exp(x) - 1 near 0, softplus's log(1 + e): exact to eps, not relative


def check_nn_loss(name, kind, target_kind="fitting"):
    fn, ref, fitting = NN_LOSSES[name]
    x, labels = make_tensor(kind), name in ("cross_entropy", "nll_loss")
    target = fitting(x.data) if target_kind == "fitting" else operand(target_kind)
    if labels and isinstance(target, Tensor):
        target = target.detach()  # class labels: no gradient goes to them
    data = np.abs(x.data[np.isfinite(x.data)]) if x.dtype.kind == "f" else np.zeros(0)
    # exact to eps times the largest input, not to eps relative: softplus is log(1 + exp(-|x|)),
    # cross_entropy logsumexp(z) - z_label (both reported)
    check_call(
        name, fn, [x, target], ref if _floating_input(x, finite=labels) else None, magnitude=data.max(initial=1.0)
    )


def check_nn_layer(name, kind):
    layer, ref, derivative = NN_LAYERS[name]
    x = operand(kind)
    check_call(
        name,
        layer,
        [x],
        ref if _floating_input(x) else None,
        derivative and (lambda x: (derivative(x),)),
        words=(name.split("(")[0],),
    )


def nn_cases():
    """Each activation, loss and layer on each pooled argument (losses: fitting and pooled targets)."""
    for kind in OPERANDS:
        for name in NN_ACTIVATIONS:
            yield check_nn_activation, (name, kind)
    for kind in LAYER_INPUTS:
        for name in NN_LAYERS:
            yield check_nn_layer, (name, kind)
    for kind in ARRAYS:
        for name in NN_LOSSES:
            for target in ["fitting"] + OPERANDS:
                yield check_nn_loss, (name, kind, target)


NN_CASES = list(nn_cases())


@parametrize_cases(NN_CASES)
def test_nn_functions_and_layers_with_every_pooled_argument(case):
    run_case(case)


# Hypothesis: the pooled arguments in any combination, and generated arrays and floats ----

ALL_CASES = FULL_CASES + NN_CASES


@settings(max_examples=300)
@given(case=st.sampled_from(ALL_CASES))
def test_pooled_arguments_in_any_combination(case):
    run_case(case)


LAYOUTS = ["contiguous", "reversed", "strided", "fortran", "read_only"]


@st.composite
def odd_arrays(draw, shape=None):
    """Arrays of any dtype we meet (and some we refuse), any layout, NaN/inf/huge/subnormal values."""
    dtype = draw(
        st.sampled_from([np.float64, np.float32, np.float16, np.int8, np.int64, np.uint8, np.bool_, np.complex128])
    )
    shape = draw(array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)) if shape is None else shape
    arr = draw(arrays(dtype, shape))
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "reversed" and arr.ndim:
        arr = arr[::-1]
    elif layout == "strided" and arr.ndim:
        arr = np.repeat(arr, 2, axis=-1)[..., ::2]
    elif layout == "fortran":
        arr = np.asfortranarray(arr)
    elif layout == "read_only":
        arr = _read_only(arr)
    return arr


AXES = st.one_of(st.sampled_from(PARAMS), st.integers(-4, 4), st.tuples(st.integers(-3, 3), st.integers(-3, 3)))


@settings(max_examples=200)
@given(
    arr=odd_arrays(),
    name=st.sampled_from(sorted({**ELEMENTWISE, **OTHER_METHODS, **REDUCTIONS, **WITH_PARAM})),
    param=AXES,
)
def test_generated_arrays_through_every_tensor_method(arr, name, param):
    if name in ELEMENTWISE:
        check_unary(name, arr)
    elif name in WITH_PARAM:
        check_with_param(name, arr, param)
    else:
        check_method(name, arr)


@settings(max_examples=200)
@given(
    data=st.data(),
    name=st.sampled_from(sorted(BINARY)),
    flipped=st.booleans(),
    shapes=st.one_of(
        mutually_broadcastable_shapes(num_shapes=2, min_side=0, max_side=3).map(lambda s: s.input_shapes),
        st.tuples(array_shapes(min_dims=0, max_side=3), array_shapes(min_dims=0, max_side=3)),
    ),
)
def test_generated_arrays_through_every_binary_operation(data, name, flipped, shapes):
    first, second = (data.draw(odd_arrays(shape)) for shape in shapes)
    if data.draw(st.booleans(), label="second is a tensor"):
        second = make_tensor(second)
    check_binary(name, first, second, flipped)


ANY_FLOAT = st.one_of(st.floats(), st.sampled_from(VALUE_DATA), st.integers(-10, 10).map(float))


@settings(max_examples=300)
@given(
    x=ANY_FLOAT,
    y=st.one_of(ANY_FLOAT, st.integers(-(2**53), 2**53), st.sampled_from(OPERANDS)),
    name=st.sampled_from(sorted({**VALUE_UNARY, **VALUE_BINARY})),
    as_value=st.booleans(),
    flipped=st.booleans(),
)
def test_generated_floats_through_every_value_operation(x, y, name, as_value, flipped):
    if name in VALUE_UNARY:
        check_value_unary(name, x)
    else:
        check_value_binary(name, x, Value(y) if as_value and isinstance(y, float) else y, flipped)


@settings(max_examples=200)
@given(arr=odd_arrays(), name=st.sampled_from(sorted({**NN_ACTIVATIONS, **NN_LOSSES})), as_tensor=st.booleans())
def test_generated_arrays_through_nn_activations_and_losses(arr, name, as_tensor):
    if name in NN_ACTIVATIONS:
        check_nn_activation(name, make_tensor(arr) if as_tensor else arr)
    else:
        check_nn_loss(name, arr)
