"""Finite differences and gradient checks.

    numerical_grad(f, *inputs, eps, method)   the gradient by finite differences
    gradcheck(f, *inputs, ...)                the engine's Jacobians against finite differences
    gradgradcheck(f, *inputs, ...)            the same for second derivatives

Which inputs are differentiated: the floating-point ones (float Tensors and
ndarrays, Python floats, Values), always on float64 copies. Anything else
(integer labels, index arrays, Python ints, options) reaches f unchanged.

Speed: the finite differences evaluate f under `no_grad()` on constant
Tensors that share the float64 copies, and move one element at a time in
place, so a difference costs two calls of f and no copying. For big Tensor
inputs, f is traced once (`autograd.trace`) and the differences replay the
recorded NumPy calls, after checking that the replay reproduces f bit for bit
at the input and at two random nearby points (else f runs eagerly). The
reverse-mode Jacobian takes one backward pass per output element; forward
mode is checked against it along random directions, entry by entry only when
a direction disagrees. `fast_mode` replaces all of it by u^T J v for one
random u and one random v per input.
"""

import functools
import sys
import warnings
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from .engine import no_grad
from .function import NoForwardMode
from .hints import AnyFunction
from .node import Node
from .tensor import Tensor
from .tensor_ops import COMPLEX_STEP
from .trace import trace
from .transforms import grad, jacobian, jvp, vjp
from .value import Value

if TYPE_CHECKING:  # keyword arguments typed by a TypedDict: typing.Unpack from Python 3.11
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack


class GradcheckError(RuntimeError):
    """An analytic derivative disagrees with finite differences."""


METHODS = ("central", "forward", "complex")


def _float_copy(x):
    """A float64 copy of x's data if x is a floating-point input, else None."""
    if isinstance(x, Value):
        return np.array(x._data, dtype=np.float64)
    if isinstance(x, (float, np.floating)):
        return np.array(x, dtype=np.float64)
    if isinstance(x, (Tensor, np.ndarray)):
        data = x._data if isinstance(x, Tensor) else x
        if data.dtype.kind == "f":
            return data.astype(np.float64)
    return None


class _Problem:
    """f and its inputs as the checks see them: float64 copies of the differentiated inputs."""

    def __init__(self, where, f, inputs, warn_float32=False):
        self.f, self.inputs = f, inputs
        self.arrays = {}  # position -> float64 ndarray (0-d for floats and Values)
        for i, x in enumerate(inputs):
            copy = _float_copy(x)
            if copy is None:
                continue
            self.arrays[i] = copy
            if warn_float32 and getattr(x, "dtype", np.float64) != np.float64:
                warnings.warn(
                    f"{where}: input {i} has dtype {x.dtype}; the check runs on a float64 "
                    f"copy, as finite differences in lower precision are too coarse",
                    UserWarning,
                    stacklevel=3,
                )
        if not self.arrays:
            raise ValueError(
                f"{where}: no floating-point input to differentiate among {[type(x).__name__ for x in inputs]}"
            )
        self.positions = sorted(self.arrays)
        self.values = {i for i in self.positions if isinstance(inputs[i], Value)}
        self.replay = None
        with no_grad():
            self.out_shape = np.shape(_raw(f(*self.args())))

    def args(self):
        """f's arguments: constants sharing the (possibly perturbed) arrays."""
        args = list(self.inputs)
        for i, a in self.arrays.items():
            args[i] = Value._wrap(float(a)) if i in self.values else Tensor._wrap(a)
        return args

    def evaluate(self):
        """f at the current arrays, flattened (a copy: f may return an input itself)."""
        if self.replay is not None:
            return np.array(self.replay()).reshape(-1)
        with no_grad():
            return np.array(_raw(self.f(*self.args()))).reshape(-1)

    def speed_up(self, min_elements=256):
        """Evaluate f by replaying a trace, when that is safe and worth it (see the module doc)."""
        arrays = [self.arrays[i] for i in self.positions]
        if self.values or sum(a.size for a in arrays) < min_elements:
            return
        try:
            traced = trace(self.of_primals(), *arrays, retrace=False)
        except (TypeError, ValueError):
            return  # not a function of Tensors alone: stay eager
        replay = lambda: traced(*arrays, backward=False).data  # noqa: E731
        rng = np.random.default_rng(1)
        for step in (0.0, 1e-3, -1e-3):
            saved = [a.copy() for a in arrays]
            for a in arrays:
                a += step * rng.standard_normal(a.shape)
            agree = np.array_equal(np.array(replay()).reshape(-1), self.evaluate(), equal_nan=True)
            for a, old in zip(arrays, saved):
                a[...] = old
            if not agree:
                return  # control flow or constants depend on the data
        self.replay = replay

    def primals(self):
        """The differentiated inputs as the transforms take them."""
        return [Value(float(self.arrays[i])) if i in self.values else self.arrays[i] for i in self.positions]

    def of_primals(self):
        """f as a function of the differentiated inputs only."""

        def f(*xs):
            args = list(self.inputs)
            for i, x in zip(self.positions, xs):
                args[i] = x
            return self.f(*args)

        return f

    def index(self, j, i=None):
        """Flat index j of input i (or of the output) as a shape index, for messages."""
        shape = self.out_shape if i is None else self.arrays[i].shape
        return tuple(int(n) for n in np.unravel_index(j, shape)) if shape else "()"


def _raw(out):
    return out._data if isinstance(out, Node) else out


# Finite differences ------------------------------------------------------
def _at(problem, x, j, step):
    """f with element j of x moved by step, in place (x is restored exactly)."""
    old = x.flat[j]
    x.flat[j] = old + step
    try:
        return problem.evaluate()
    finally:
        x.flat[j] = old


def _along(problem, x, d, step):
    """f with all of x moved by step * d, in place."""
    old = x.copy()
    x += step * d
    try:
        return problem.evaluate()
    finally:
        x[...] = old


def _difference(shifted, eps, method, f0):
    """The derivative along a direction from f at shifted points (shifted(step) = f(x + step d))."""
    if method == "central":
        return (shifted(eps) - shifted(-eps)) / (2 * eps)
    if method == "forward":
        return (shifted(eps) - f0) / eps
    return shifted(1j * eps).imag / eps  # complex step: no subtraction, no round-off


def _one_sided(shifted, eps, f0):
    """(left, right) differences: they differ where f has a kink."""
    return (f0 - shifted(-eps)) / eps, (shifted(eps) - f0) / eps


def _numerical_jacobian(problem, i, eps, method, f0):
    """d f / d input i by finite differences, shape (output size, input size)."""
    x = problem.arrays[i]
    if method == "complex":
        x = problem.arrays[i] = x.astype(np.complex128)
        COMPLEX_STEP.active = True  # abs refuses: it would drop the step silently
    try:
        columns = [_difference(functools.partial(_at, problem, x, j), eps, method, f0) for j in range(x.size)]
    finally:
        if method == "complex":
            problem.arrays[i] = x.real.copy()
            COMPLEX_STEP.active = False
    return np.stack(columns, axis=1) if columns else np.zeros((f0.size, 0))


def _check_method(where, method, eps, problem):
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {METHODS}, got {method!r}")
    if not eps > 0:
        raise ValueError(f"{where}: eps must be positive, got {eps!r}")
    if method == "complex" and problem.values:
        raise ValueError(
            f"{where}: method='complex' needs Tensor inputs; input(s) "
            f"{sorted(problem.values)} are Values, which hold real floats"
        )


def numerical_grad(f: AnyFunction, *inputs: Any, eps: float = 1e-6, method: str = "central") -> Any:
    """The gradient of scalar f by finite differences: "central", "forward" or "complex" (step).

    One array per input (a float for a float or Value input, None for an input
    that is not floating-point); a tuple when there are several inputs.
    """
    problem = _Problem("numerical_grad", f, inputs)
    _check_method("numerical_grad", method, eps, problem)
    if int(np.prod(problem.out_shape)) != 1:
        raise ValueError(
            f"numerical_grad: f must return a scalar (one element), got shape "
            f"{problem.out_shape}; use gradcheck or jacobian for vector functions"
        )
    f0 = problem.evaluate()
    grads: list[Any] = [None] * len(inputs)
    for i in problem.positions:
        g = _numerical_jacobian(problem, i, eps, method, f0)[0].reshape(problem.arrays[i].shape)
        grads[i] = float(g) if isinstance(inputs[i], (Value, float, np.floating)) else g
    return grads[0] if len(inputs) == 1 else tuple(grads)


# Comparing -----------------------------------------------------------------
def _mismatches(analytic, numeric, atol, rtol):
    """Indices of the entries where analytic and numeric disagree, worst first."""
    err = np.abs(analytic - numeric)
    tol = atol + rtol * np.abs(numeric)
    bad = ~(err <= tol)  # NaN counts as a mismatch
    excess = np.where(np.isnan(err), np.inf, err - tol)[bad]
    return [tuple(e) for e in np.argwhere(bad)[np.argsort(-excess, kind="stable")]]


def _at_kink(a, left, right, atol, rtol):
    """True when the one-sided derivatives differ and a lies between them (a valid subgradient)."""
    lo, hi = min(left, right), max(left, right)
    tol = atol + rtol * max(abs(lo), abs(hi))
    return hi - lo > tol and lo - tol <= a <= hi + tol


def _verify(where, mode, place, analytic, numeric, atol, rtol, one_sided):
    """Raise GradcheckError at the worst disagreement that a kink does not explain.

    place(entry) words where an entry is; one_sided(entry) gives its (left,
    right) differences when kinks are looked for (nondiff_check), else it is None.
    """
    kinks = []
    for entry in _mismatches(analytic, numeric, atol, rtol):
        a, n = analytic[entry], numeric[entry]
        sides = None if one_sided is None else one_sided(entry)
        text = _words(where, mode, place(entry), a, n, atol, rtol, sides)
        if sides is not None and _at_kink(a, *sides, atol, rtol):
            kinks.append(text)
            continue
        hint = "" if one_sided is not None else " (if f has a kink here, nondiff_check=True tells)"
        raise GradcheckError(text + hint)
    if kinks:
        warnings.warn(
            f"{len(kinks)} entr{'y' if len(kinks) == 1 else 'ies'} at a kink, accepted "
            f"because the analytical value lies between the one-sided derivatives; "
            f"first: {kinks[0]}",
            UserWarning,
            stacklevel=4,
        )


def _words(where, mode, place, a, n, atol, rtol, sides):
    err, tol = abs(a - n), atol + rtol * abs(n)
    text = (
        f"{where}: {mode}-mode mismatch for {place}: analytical {a:.10g}, numerical {n:.10g}, "
        f"error {err:.3g} > tolerance {tol:.3g} (atol + rtol * |numerical|)"
    )
    if sides is not None:
        left, right = sides
        kink = "a kink" if abs(left - right) > tol else "no kink"
        text += f"; one-sided derivatives left {left:.10g}, right {right:.10g} ({kink})"
    return text


# The checks ------------------------------------------------------------------
def _full_check(problem, eps, atol, rtol, check_forward, nondiff_check):
    """Every entry of each Jacobian (reverse and, if asked, forward mode) against central differences."""
    m = int(np.prod(problem.out_shape))
    analytic = _analytic_jacobians(problem, "reverse", m)
    problem.speed_up()
    f0 = problem.evaluate()
    for n, i in enumerate(problem.positions):
        numeric = _numerical_jacobian(problem, i, eps, "central", f0)
        one_sided = _element_sides(problem, i, eps, f0) if nondiff_check else None
        _verify("gradcheck", "reverse", _placer(problem, i), analytic[n], numeric, atol, rtol, one_sided)
    if check_forward and not _forward_mode(_forward_agrees, problem, analytic, atol, rtol, default=True):
        # some direction disagrees: compare every entry to say which
        for n, (fwd, i) in enumerate(zip(_analytic_jacobians(problem, "forward", m), problem.positions)):
            _verify("gradcheck", "forward", _placer(problem, i), fwd, analytic[n], atol, rtol, None)


def _forward_mode(check, *args, default=None):
    """check(*args), or `default` with a warning when f uses a custom Function without a jvp:
    the README calls jvp optional, so its forward mode is skipped, not failed."""
    try:
        return check(*args)
    except NoForwardMode as exc:
        warnings.warn(
            f"gradcheck: {exc.function_name} defines no jvp, so forward mode was not checked (reverse mode was)",
            UserWarning,
            stacklevel=4,
        )
        return default


def _placer(problem, i):
    def place(entry):
        k, j = entry
        return f"input {i} at element {problem.index(j, i)} (output element {problem.index(k)})"

    return place


def _forward_agrees(problem, reverse, atol, rtol, directions=3):
    """Forward mode's J v against the (checked) reverse-mode J v for random v: n jvps become 3."""
    rng = np.random.default_rng(2)
    f = problem.of_primals()
    primals = problem.primals()
    for _ in range(directions):
        vs = [rng.standard_normal(problem.arrays[i].shape) for i in problem.positions]
        forward = np.ravel(jvp(f, primals, vs)[1])
        expected = sum(j @ v.reshape(-1) for j, v in zip(reverse, vs))
        if not np.all(np.abs(forward - expected) <= atol + rtol * np.abs(expected)):
            return False
    return True


def _element_sides(problem, i, eps, f0):
    """entry (k, j) -> one-sided differences of output k along element j of input i (cached per j)."""
    cache = {}

    def sides(entry):
        k, j = entry
        if j not in cache:
            cache[j] = _one_sided(functools.partial(_at, problem, problem.arrays[i], j), eps, f0)
        left, right = cache[j]
        return left[k], right[k]

    return sides


def _analytic_jacobians(problem, mode, m):
    jacs = jacobian(problem.of_primals(), tuple(range(len(problem.positions))), mode=mode)(*problem.primals())
    return [np.reshape(j, (m, problem.arrays[i].size)) for j, i in zip(jacs, problem.positions)]


def _unit(rng, shape):
    v = rng.standard_normal(shape)
    return v / np.linalg.norm(v)


def _fast_check(problem, eps, atol, rtol, check_forward, nondiff_check):
    """u^T J v for a random unit u and a random unit v per input, instead of every entry."""
    rng = np.random.default_rng(0)
    f0 = problem.evaluate()
    u = _unit(rng, f0.size)
    vs = [_unit(rng, problem.arrays[i].shape) for i in problem.positions]
    analytic = {"reverse": _reverse_directional(problem, u, vs)}
    forward = _forward_mode(_forward_directional, problem, u, vs) if check_forward else None
    if forward is not None:
        analytic["forward"] = forward
    for n, i in enumerate(problem.positions):
        shifted = functools.partial(_along, problem, problem.arrays[i], vs[n])
        numeric = np.array(u @ _difference(shifted, eps, "central", f0))

        def one_sided(entry, shifted=shifted):
            return tuple(u @ d for d in _one_sided(shifted, eps, f0))

        def place(entry, i=i):
            return f"input {i} along a random direction (u^T J v; rerun with fast_mode=False to find the element)"

        for mode, values in analytic.items():
            _verify(
                "gradcheck (fast mode)",
                mode,
                place,
                np.array(values[n]),
                numeric,
                atol,
                rtol,
                one_sided if nondiff_check else None,
            )


def _reverse_directional(problem, u, vs):
    """u^T J_i v_i for each input i from one vjp."""
    _, vjp_fn = vjp(problem.of_primals(), *problem.primals())
    grads = vjp_fn(u.reshape(problem.out_shape))
    return [float(np.sum(np.asarray(g) * v)) for g, v in zip(grads, vs)]


def _forward_directional(problem, u, vs):
    """u^T J_i v_i for each input i from one jvp each."""
    primals = problem.primals()
    out = []
    for n in range(len(vs)):
        tangents = [v if k == n else np.zeros_like(v) for k, v in enumerate(vs)]
        out.append(float(u @ np.ravel(jvp(problem.of_primals(), primals, tangents)[1])))
    return out


class CheckOptions(TypedDict, total=False):
    """The options gradgradcheck passes on to gradcheck (see gradcheck for their defaults)."""

    eps: float
    atol: float
    rtol: float
    check_forward: bool
    fast_mode: bool
    nondiff_check: bool


def gradcheck(
    f: AnyFunction,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    check_forward: bool = True,
    fast_mode: bool = False,
    nondiff_check: bool = False,
) -> bool:
    """Check the engine's derivatives of f against central differences, in float64.

    f may return a Tensor of any shape (the whole Jacobian is checked) or a
    Value. Reverse mode is always checked, forward mode with check_forward.
    Returns True, or raises GradcheckError naming the input's position, the
    element, the analytical and numerical values and the error (returns False
    instead with raise_exception=False). fast_mode checks random directions
    (for big inputs); nondiff_check accepts, with a warning, an entry where f
    has a kink and the analytical value lies between the one-sided derivatives.
    """
    problem = _Problem("gradcheck", f, inputs, warn_float32=True)
    _check_method("gradcheck", "central", eps, problem)
    check = _fast_check if fast_mode else _full_check
    try:
        check(problem, eps, atol, rtol, check_forward, nondiff_check)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _dot(out, v):
    """<out, v> as a node: the scalar whose gradient is v^T J."""
    return out * float(v) if isinstance(out, Value) else (out * v).sum()


def gradgradcheck(
    f: AnyFunction, *inputs: Any, raise_exception: bool = True, **options: "Unpack[CheckOptions]"
) -> bool:
    """Check second derivatives: gradcheck of x -> grad <f(x), v> for a fixed random v, per input.

    `options` are gradcheck's (eps, atol, rtol, check_forward, fast_mode, nondiff_check)."""
    problem = _Problem("gradgradcheck", f, inputs, warn_float32=True)
    v = np.random.default_rng(1).standard_normal(problem.out_shape)
    primals = list(inputs)
    for i, x in zip(problem.positions, problem.primals()):
        primals[i] = x  # float64 copies: gradcheck need not warn again
    for i in problem.positions:
        first = grad(lambda *args: _dot(f(*args), v), argnums=i)
        try:
            gradcheck(first, *primals, **options)
        except GradcheckError as exc:
            if not raise_exception:
                return False
            raise GradcheckError(
                f"gradgradcheck: the gradient with respect to input {i}, differentiated again, fails: {exc}"
            ) from None
    return True
