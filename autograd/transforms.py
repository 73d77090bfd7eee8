"""Function transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian.

Each takes a function `f` of Tensors (or Values) and returns its derivative as
a function of the same arguments. Arguments may be Tensors, Values, ndarrays
or numbers; the differentiated ones that are arrays or numbers reach `f` as
float Tensors, the others are passed to `f` unchanged.

Nesting. A transform called while another transform is evaluating its `f` is
*inner*: it differentiates with `create_graph=True` and returns graph nodes,
so the outer transform can differentiate the result again (`grad(grad(f))`,
`hessian`, `jvp(grad(f))`). Only the outermost transform hands back raw
ndarrays and floats.

Each differentiated argument reaches `f` as a node of its own: a fresh leaf
at the outermost level, or, when nested and the argument is itself followed
by an outer transform, an identity op on it. The gradient collected at that
node is then the partial derivative for that argument alone, even when two
arguments depend on each other in the outer graph.

Forward mode (`jvp`) sets a tangent on each input and lets `engine.apply`
push it through every op's `jvp` rule; no backward pass runs. The tangents
are plain arrays, not graph nodes, so `jvp` must be the outermost transform
(forward over reverse, `jvp(grad(f))`, works; reverse over forward does not).
"""

import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

from .engine import MODE, Op, apply, backward_pass, enable_grad, no_grad
from .hints import AnyFunction, Argnums
from .node import Node
from .tensor import Tensor, stack
from .value import Value


class _State(threading.local):
    depth = 0  # how many transforms are evaluating their f right now, in this thread


_STATE = _State()


@contextmanager
def _inside():
    _STATE.depth += 1
    try:
        yield
    finally:
        _STATE.depth -= 1


class _Identity(Op):
    """y = x: an inner transform's own node for an argument an outer transform follows."""

    name = "input"
    forward = staticmethod(lambda ns, p, x: x)
    vjp = staticmethod(lambda ns, p, g, out, x: (g,))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0])


# Arguments ---------------------------------------------------------------
def _argnums(where, argnums, nargs):
    """(one gradient wanted?, tuple of non-negative positions)."""
    single = not isinstance(argnums, (tuple, list))
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"{where}: argnums is empty")
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -nargs <= n < nargs:
            raise ValueError(f"{where}: argnums {n} is out of range for a function called with {nargs} argument(s)")
    nums = tuple(int(n) % nargs for n in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{where}: repeated position in argnums {argnums!r}")
    return single, nums


def _node(where, i, x):
    """Argument i as a node with floating-point data (numbers and arrays become Tensors)."""
    if isinstance(x, Value):
        return x
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind in "iu" and not isinstance(x, Tensor):
        data = data.astype(np.float64)  # grad(f)(3) means the derivative at 3.0
    if data.dtype.kind != "f":
        raise TypeError(
            f"{where}: argument {i} must hold real floating-point numbers to be "
            f"differentiated, got dtype {data.dtype} (shape {data.shape})"
        )
    return x if isinstance(x, Tensor) else Tensor._wrap(data)


def _input(where, i, x, nested):
    """The node f receives for differentiated argument i (see the module docstring)."""
    x = _node(where, i, x)
    if nested and x.requires_grad:
        with enable_grad():
            return apply(_Identity, None, x)
    leaf = x._family._wrap(x._data)
    leaf.requires_grad = True
    leaf._tangent = x._tangent  # keeps a jvp's tangent on a constant input
    return leaf


def _number_dtype(args):
    """The dtype a float argument gets: that of the floating-point arrays and tensors among the
    arguments when they agree (as a number in an expression takes the tensor's dtype), else float64.

    So f(x, 0.5) with a float32 x computes in float32, as f(x) with the 0.5 written inside would.
    """
    dtypes = {x.dtype for x in args if isinstance(x, (np.ndarray, Tensor, np.floating)) and x.dtype.kind == "f"}
    return dtypes.pop() if len(dtypes) == 1 else np.float64


def _call(where, f, args, nums):
    """Run f with the differentiated arguments replaced by their input nodes."""
    nested = _STATE.depth > 0
    # floats and floating-point arrays reach f as Tensors (the API contract), differentiated or not, in
    # their own dtype; integer and boolean arrays (labels, indices, masks) arrive unchanged
    number_dtype = _number_dtype(args)
    args = [
        Tensor._wrap(np.asarray(x, dtype=number_dtype))
        if isinstance(x, float)
        else Tensor._wrap(np.asarray(x))
        if isinstance(x, np.floating) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")
        else x
        for x in args
    ]
    inputs = [_input(where, i, args[i], nested) for i in nums]
    for i, x in zip(nums, inputs):
        args[i] = x
    with enable_grad(), _inside():
        out = f(*args)
    if not isinstance(out, Node):
        raise TypeError(f"{where}: f must return a Tensor or a Value, got {type(out).__name__}")
    return out, inputs, nested


# Results -----------------------------------------------------------------
def _data(x):
    return x._data if isinstance(x, Node) else x


def _finish(result, arg, nested):
    """What a transform hands back for argument `arg`: a node when nested, else raw data."""
    if nested:
        return result
    data = _data(result)
    if isinstance(arg, (Value, float, int)) and np.ndim(data) == 0:
        return float(data)
    return np.array(data)  # a copy: raw gradients may be views of seeds or broadcasts


def _value(out, nested):
    """f's output as a transform returns it: the node when nested, else a float or an ndarray."""
    if nested:
        return out
    return out._data if isinstance(out, Tensor) else float(out._data)


def _pullback(out, cotangent, inputs, nested):
    """Gradients of <out, cotangent> with respect to each input node (zeros where no path)."""
    seed = out._family.seed(out, cotangent, nested)
    grads = backward_pass(out, seed, retain_graph=True, create_graph=nested, wrt=inputs)
    return [_zeros_like(x, nested) if g is None else g for g, x in zip(grads, inputs)]


def _zeros_like(x, nested):
    zero = np.zeros_like(x._data) if isinstance(x, Tensor) else 0.0
    return x._family._wrap(zero) if nested else zero


def _scalar_output(where, out):
    if isinstance(out, Tensor) and out._data.size != 1:
        raise ValueError(
            f"{where}: f must return a scalar (one element) to be differentiated, got "
            f"shape {out.shape}; use jacobian or vjp for vector outputs"
        )


# Reverse mode --------------------------------------------------------------
def _value_and_grad(where, f, argnums, args):
    single, nums = _argnums(where, argnums, len(args))
    out, inputs, nested = _call(where, f, args, nums)
    _scalar_output(where, out)
    grads = _pullback(out, None, inputs, nested)
    grads = tuple(_finish(g, args[i], nested) for g, i in zip(grads, nums))
    value = out if nested else float(np.ravel(out._data)[0])
    return value, grads[0] if single else grads


def value_and_grad(f: AnyFunction, argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """A function returning `(f(*args), gradient)`; f returns one element (a float when outermost)."""

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        return _value_and_grad("value_and_grad", f, argnums, args)

    return value_and_grad_f


def grad(f: AnyFunction, argnums: Argnums = 0) -> AnyFunction:
    """The gradient of scalar f with respect to argnums (an int gives one, a tuple a tuple)."""

    def grad_f(*args: Any) -> Any:
        return _value_and_grad("grad", f, argnums, args)[1]

    return grad_f


def vjp(f: AnyFunction, *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """`(f(*primals), vjp_fn)`: vjp_fn(cotangent) gives the tuple of cotangent^T J, one per primal."""
    nums = tuple(range(len(primals)))
    out, inputs, nested = _call("vjp", f, primals, nums)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        grads = _pullback(out, cotangent, inputs, nested)
        return tuple(_finish(g, p, nested) for g, p in zip(grads, primals))

    return _value(out, nested), vjp_fn


def _rows(out, inputs, nested):
    """d out[k] / d input for every element k of Tensor out (one backward pass each)."""
    rows = [[] for _ in inputs]
    for k in range(out._data.size):
        seed = np.zeros(out._data.size, dtype=out._data.dtype)
        seed[k] = 1
        for row, g in zip(rows, _pullback(out, seed.reshape(out.shape), inputs, nested)):
            row.append(g)
    return rows


def _assemble(rows, out_shape, x, arg, nested):
    """Stack input x's per-output-element gradients into the Jacobian (out_shape + x's shape)."""
    shape = out_shape + x.shape
    if not rows:  # an empty output
        jac = np.zeros(shape, dtype=x._data.dtype)
        return Tensor._wrap(jac) if nested else jac
    if nested:
        return stack(rows, 0).reshape(shape)
    return _finish(np.stack([_data(r) for r in rows]).reshape(shape), arg, nested)


def _jacobian_reverse(f, args, nums):
    out, inputs, nested = _call("jacobian", f, args, nums)
    if isinstance(out, Value):  # one output: the Jacobian is the gradient
        grads = _pullback(out, None, inputs, nested)
        return [_finish(g, args[i], nested) for g, i in zip(grads, nums)]
    return [
        _assemble(rows, out.shape, x, args[i], nested) for rows, x, i in zip(_rows(out, inputs, nested), inputs, nums)
    ]


# Forward mode --------------------------------------------------------------
def _tangent_input(i, primal, tangent):
    """A leaf for primal i carrying `tangent` (checked to have the primal's shape)."""
    x = _node("jvp", i, primal)
    raw = _data(tangent)
    kind = None if raw is None or isinstance(raw, (str, bytes)) else np.asarray(raw).dtype.kind
    if kind is None or kind not in "fiu":
        # None, text and complex tangents would become nan, numbers or a dropped imaginary part
        got = f"dtype {np.asarray(raw).dtype}" if kind is not None else type(raw).__name__
        raise TypeError(f"jvp: tangent {i} must hold real numbers like its primal, got {got}")
    if isinstance(x, Value):
        t = float(raw)
    else:
        t = np.asarray(raw, dtype=x._data.dtype)
        if t.shape != x.shape:
            raise ValueError(f"jvp: tangent {i} has shape {t.shape} but primal {i} has shape {x.shape}")
    leaf = x._family._wrap(x._data)
    leaf.requires_grad = True  # so ops treat it as a variable (e.g. a ** b differentiates b)
    leaf._tangent = t
    return leaf


def _as_tuple(xs):
    return tuple(xs) if isinstance(xs, (tuple, list)) else (xs,)


def jvp(f: AnyFunction, primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Forward mode: `(f(*primals), J @ tangents)`, the directional derivative, without a backward pass.

    `primals` and `tangents` are tuples (a single input may be given bare).
    """
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    if _STATE.depth:
        raise NotImplementedError(
            "jvp: forward mode must be the outermost transform (its tangents are not graph "
            "nodes, so an enclosing grad/vjp/jacobian could not differentiate them); use "
            "jvp(grad(f), ...) or grad(grad(f)) instead"
        )
    leaves = [_tangent_input(i, p, t) for i, (p, t) in enumerate(zip(primals, tangents))]
    MODE.tangents += 1
    try:
        with no_grad(), _inside():  # no graph: an inner grad turns recording back on
            out = f(*leaves)
    finally:
        MODE.tangents -= 1
    if not isinstance(out, Node):
        raise TypeError(f"jvp: f must return a Tensor or a Value, got {type(out).__name__}")
    t = out._tangent
    if t is None:  # out does not depend on the primals
        t = np.zeros_like(out._data) if isinstance(out, Tensor) else 0.0
    return _value(out, False), (np.array(t) if isinstance(out, Tensor) else float(t))


def _jacobian_forward(f, args, nums):
    """One jvp per element of each differentiated argument."""
    nodes = list(args)
    for i in nums:  # every differentiated argument reaches f as a Tensor or Value
        nodes[i] = _node("jacobian", i, args[i])
    jacs = []
    for i in nums:
        x = nodes[i]

        def f_i(xi, i=i):
            return f(*nodes[:i], xi, *nodes[i + 1 :])

        if isinstance(x, Value):
            jacs.append(jvp(f_i, (x,), (1.0,))[1])
            continue
        basis = np.zeros(x._data.size, dtype=x._data.dtype)
        out = jvp(f_i, (x,), (basis.reshape(x.shape),))[0]  # for the output's shape
        jac = np.zeros(np.shape(out) + (basis.size,), dtype=basis.dtype)
        for j in range(basis.size):
            basis[j] = 1
            jac[..., j] = jvp(f_i, (x,), (basis.reshape(x.shape),))[1]
            basis[j] = 0
        jacs.append(_finish(jac.reshape(np.shape(out) + x.shape), args[i], False))
    return jacs


def jacobian(f: AnyFunction, argnums: Argnums = 0, mode: str = "reverse") -> AnyFunction:
    """d f / d argument(s): an array of shape `out.shape + arg.shape` per argument.

    A float for a float or Value argument when f returns one element; a node
    inside another transform. mode="reverse" runs one backward pass per output
    element, mode="forward" one jvp per input element: pick the smaller side.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")
    compute = _jacobian_reverse if mode == "reverse" else _jacobian_forward

    def jacobian_f(*args: Any) -> Any:
        single, nums = _argnums("jacobian", argnums, len(args))
        jacs = compute(f, args, nums)
        return jacs[0] if single else tuple(jacs)

    return jacobian_f


def hessian(f: AnyFunction, argnums: Argnums = 0) -> AnyFunction:
    """Second derivatives of scalar f: shape `arg.shape + arg.shape`.

    With a tuple argnums, a tuple of tuples of blocks: `H[i][j] = d/d arg_j (d f / d arg_i)`.
    """
    if not isinstance(argnums, (tuple, list)):
        return jacobian(grad(f, argnums), argnums)

    def hessian_f(*args: Any) -> Any:
        return tuple(tuple(jacobian(grad(f, i), j)(*args) for j in argnums) for i in argnums)

    return hessian_f
