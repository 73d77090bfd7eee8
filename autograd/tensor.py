"""`Tensor`: a NumPy array per node, with broadcasting.

The class only checks arguments and picks the op; the rules live in ops.py
(elementwise, shared with `Value`) and tensor_ops.py (the rest). What every
op needs (summing gradients over broadcast axes, keeping the dtype) is done
once, in `Tensor.fit_grad`, which the engine calls for every gradient.
"""

import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

import numpy as np

from . import engine, ops, saved
from . import tensor_ops as T
from .engine import apply
from .namespaces import NumpyNS, TensorNS
from .node import Node

_new = object.__new__
_ndarray = np.ndarray  # read per gradient deposited: one global lookup instead of two
_hold, _HOLDS = saved.hold, saved.HOLDS
_ALL_READ = repeat(True)  # an op without `reads`: its rules may read every input


class IndexOutOfRange(IndexError, ValueError):
    """An index outside a tensor's shape (an IndexError, and a ValueError for callers that expect one)."""


def _as_array(where, data, dtype=None):
    """`data` as an ndarray of a supported dtype, or a TypeError naming `where`."""
    if isinstance(data, Tensor):
        data = data._data
    try:
        arr = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: cannot make an array of numbers from {type(data).__name__}: {exc}") from None
    except OverflowError as exc:  # e.g. 10 ** 400, or 1000 for an int8 tensor
        raise ValueError(f"{where}: {exc}") from None
    if arr.dtype.kind not in "fiubc":
        raise TypeError(f"{where}: unsupported dtype {arr.dtype} (numbers or booleans only)")
    return arr


def _check_differentiable(where, arr):
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{where}: requires_grad=True needs floating-point data, got dtype {arr.dtype} "
            f"(shape {arr.shape}); convert first, e.g. dtype=np.float64"
        )


def _python_number(x):
    """A NumPy scalar as the Python number it holds; anything else unchanged.

    PyTorch's rule, for every operator: a scalar does not promote a tensor, so x32 * np.float64(2)
    and x32 ** np.float64(2) are float32 like x32 * 2.0 (NumPy 2 would make the second float64).
    """
    if isinstance(x, np.generic) and x.dtype.kind in "biufc":
        return x.item()
    return x


def _normalize_axes(where, axis, ndim):
    """None, or a sorted tuple of distinct non-negative axes."""
    if axis is None:
        return None
    items = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in items:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{where}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{where}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{where}: repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else None


def _shape_args(where, shape):
    """reshape(2, 3), reshape((2, 3)) and reshape([2, 3]) all mean (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"{where}: dimensions must be ints, got {shape!r}")
    return tuple(int(n) for n in shape)


class Tensor(Node):
    """A node holding an ndarray: `Tensor(data, requires_grad=False, dtype=None, label="")`.

    `data` is anything `np.asarray` takes (the array is shared, not copied).
    Gradients need floating-point data: `requires_grad=True` on integer or
    boolean data raises TypeError. relu'(0) = 0, abs'(0) = 0, clip's
    derivative is 0 at its bounds, and max/min/maximum/minimum split the
    gradient evenly among ties.
    """

    __slots__ = ()
    __array_ufunc__ = None  # `ndarray + Tensor` calls Tensor.__radd__ instead of looping
    raw_ns = NumpyNS
    graph_ns = TensorNS
    # what pending graphs saved (see saved.py): class defaults until set
    _saved_copy = None  # [(DATA_WRITES when handed out by .data, its array then)] (saved.py)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, label: str = "") -> None:
        arr = _as_array("Tensor", data, dtype)
        if requires_grad:
            _check_differentiable("Tensor", arr)
        self._init_leaf(arr, bool(requires_grad), label)

    # Data and gradient -------------------------------------------------
    def _set_requires_grad(self, flag):
        if flag:
            _check_differentiable("Tensor.requires_grad", self._data)
        self._requires_grad = bool(flag)

    # setting it is checked as the constructor checks
    requires_grad = property(Node.requires_grad.fget, _set_requires_grad)  # type: ignore[attr-defined]

    @property
    def data(self):
        if self._op is not None or id(self._data) in _HOLDS:
            if type(self._data) is saved.ReleasedData:
                raise saved.released_error("Tensor.data", self)
            if saved.pending(self):
                saved.hand_out(self)  # writable, and backward() checks it was not written
            else:
                saved.forget_copy(self)
        return self._data

    @data.setter
    def data(self, new):
        if new is not self._data:
            saved.forget_copy(self)  # the version below tells backward() instead
        # `p.data -= step` hands back the same array, changed in place: nothing to check
        self._data = new if new is self._data else self._checked(new)
        # a pending backward that used the old data will refuse (see engine.DATA_WRITES)
        engine.DATA_WRITES[0] += 1
        self._version = engine.DATA_WRITES[0]

    def _checked(self, new):
        arr = _as_array("Tensor.data", new)
        if self.requires_grad and self._op is None:
            if arr.shape != self._data.shape:
                raise ValueError(
                    f"Tensor.data: new data has shape {arr.shape}, the parameter has shape {self._data.shape}"
                )
            if not np.can_cast(arr.dtype, self._data.dtype, "same_kind"):
                raise TypeError(f"Tensor.data: cannot store {arr.dtype} data in a {self._data.dtype} parameter")
            arr = arr.astype(self._data.dtype, copy=False)
        return arr

    @property
    def grad(self):
        if self._op is not None and not self._retains_grad:
            warnings.warn(
                f"Tensor.grad: this tensor was made by '{self._op.name}' (not a leaf), so its "
                f"gradient is not kept and .grad is None; call .retain_grad() before "
                f"backward() to keep it",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, g):
        self._grad = g

    def retain_grad(self) -> "Tensor":
        """Keep this non-leaf tensor's gradient in `.grad` during backward()."""
        self._retains_grad = True
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set `requires_grad` of this leaf in place and return it (PyTorch's spelling)."""
        if self._op is not None:
            if requires_grad:
                return self  # a result of ops on tensors that require grad already does
            raise RuntimeError(
                f"requires_grad_: only a leaf's flag can change; this tensor was made by "
                f"'{self._op.name}'. Use .detach() for a copy outside the graph"
            )
        if requires_grad:
            _check_differentiable("requires_grad_", self._data)
        self.requires_grad = bool(requires_grad)
        return self

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = property(lambda self: self._data.size)
    T = property(lambda self: self.transpose())

    def item(self) -> Any:
        return self._one("item")

    def _one(self, where):
        """The only element, as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"{where}: only a tensor with one element can be converted to a Python number; shape is {self.shape}"
            )
        return self._data.item()

    # Truth values and conversions, as PyTorch: one element, or a ValueError naming the shape
    # (`if loss < best:` then works, and `if t:` on many elements is refused, not always True).
    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous "
                f"(only a one-element tensor has one); reduce it first, e.g. "
                f"np.any(t.data) or np.all(t.data)"
            )
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self._one("float"))

    def __int__(self) -> int:
        value = self._one("int")
        try:
            return int(value)
        except OverflowError:  # int(inf)
            raise ValueError(f"int: cannot convert {value} to an integer") from None

    def __iter__(self):
        """The subtensors along the first axis (each a graph node, like t[i])."""
        if self._data.ndim == 0:
            raise TypeError("iter: iteration over a 0-d tensor (shape ())")
        return (self[i] for i in range(len(self._data)))

    def __contains__(self, element) -> bool:
        """`x in t`: whether some element of t equals x (PyTorch's (t == x).any())."""
        equal = self._compare(np.equal, element)
        if equal is NotImplemented:
            raise TypeError(f"in: cannot look for {type(element).__name__} in a tensor of shape {self.shape}")
        return bool(equal._data.any())

    def argmax(self, axis=None, keepdims: bool = False) -> np.ndarray:
        """Index of the largest element (of the flattened tensor when axis is None); no gradient."""
        return self._arg_reduce(np.argmax, "argmax", axis, keepdims)

    def argmin(self, axis=None, keepdims: bool = False) -> np.ndarray:
        """Index of the smallest element (of the flattened tensor when axis is None); no gradient."""
        return self._arg_reduce(np.argmin, "argmin", axis, keepdims)

    def _arg_reduce(self, fn, where, axis, keepdims):
        if isinstance(axis, tuple):
            raise TypeError(f"{where}: axis must be None or an int, got {axis!r}")
        axes = _normalize_axes(where, axis, self.ndim)
        axis = None if axes is None else axes[0]
        if self._data.size == 0 and (axis is None or self.shape[axis] == 0):
            raise ValueError(f"{where}: cannot take {where} of an empty tensor of shape {self.shape} over axis {axis}")
        return np.asarray(fn(self._data, axis=axis, keepdims=bool(keepdims)))

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype=None, copy=None):
        """NumPy 2's protocol: copy=True always copies (np.array(t), np.copy(t) must not alias
        the data a graph saved), copy=False never does, None copies only to change dtype."""
        data = self.data  # a pending tensor's array is handed out (backward checks it), as by .data
        if dtype is not None and np.dtype(dtype) != data.dtype:
            if copy is False:
                raise ValueError(
                    f"Tensor.__array__: converting dtype {data.dtype} to {np.dtype(dtype)} "
                    f"needs a copy, but copy=False (shape {data.shape})"
                )
            return data.astype(dtype)
        return data.copy() if copy else data

    def detach(self) -> "Tensor":
        """The same data as a new leaf that is not part of any graph."""
        return Tensor._wrap(self._data)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __repr__(self) -> str:
        extra = ""
        if self._op is not None:
            extra = f", op={self._op.name!r}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.label:
            extra += f", label={self.label!r}"
        if type(self._data) is saved.ReleasedData:
            body = repr(self._data)
        else:
            body = np.array2string(self._data, separator=", ", precision=4, threshold=20)
        return f"Tensor({body}{extra})"

    # Family hooks used by the engine -------------------------------------
    @staticmethod
    def _wrap(
        x: Any,
        op: type[engine.Op] | None = None,
        params: Any = None,
        parents: tuple[Node, ...] = (),
        stamp: int | None = 0,
        scope: tuple[str, ...] = (),
    ) -> "Tensor":
        """A node around array `x`: a constant leaf, or the output of `op` when op is given."""
        if type(x) is not np.ndarray:
            x = np.asarray(x)  # NumPy returns scalars, not 0-d arrays, from reductions
        # Node._set's stores, inlined (one statement each: a tuple assignment costs more): this
        # runs once per op, and a call costs as much as the hold
        t = _new(Tensor)
        t._data = x
        t._grad = None
        if scope:
            t._scope = scope
        t._op = op
        t._params = params
        t._parents = parents
        t._stamp = stamp
        if op is None:
            t._requires_grad = False
            return t
        t._requires_grad = True
        # a leaf's array may be the caller's: it stays locked while t is pending (saved.py)
        if len(parents) == 2:  # the common cases spelled out
            a, b = parents
            if a._op is None:
                t._held = (_hold(a), _hold(b)) if b._op is None else _hold(a)
            elif b._op is None:  # a constant operand: _hold(b), its lookup inlined
                ref = _HOLDS.get(id(b._data))
                held = None if ref is None else ref()
                t._held = held if held is not None and held.copied is None else _hold(b)
        elif len(parents) == 1:
            if parents[0]._op is None:
                t._held = _hold(parents[0])
        else:  # three or more parents, as a layer's linear(x, W, b): only what its rules read
            held = []
            for p, read in zip(parents, _ALL_READ if op.reads is None else op.reads(params)):
                if read and p._op is None:  # a bias its rules never read needs no lock
                    held.append(_hold(p))
            t._held = held
        return t

    @staticmethod
    def check_versions(node: Any) -> None:
        for p in node._parents:
            if (
                p._version > node._stamp
                or (_WRITTEN_MEMORY and _written_since(p._data, node._stamp))
                or saved.changed_since_forward(p, node._stamp)
            ):
                raise _modified_error(p, node)
        if saved.changed_since_forward(node, node._stamp):  # rules that reuse the output read it too
            raise _modified_error(node, node)

    release_data = staticmethod(saved.release_data)
    release_min_size = saved.RELEASE_MIN_SIZE

    @staticmethod
    def fit_grad(ns: Any, g: Any, parent: Node) -> Any:
        """Sum a gradient back over the axes its input was broadcast along, in its dtype."""
        data = parent._data
        if g.shape != data.shape:
            g = ns.sum_to(g, data.shape)
        if g.dtype != data.dtype:
            if g.dtype.kind == "c" and data.dtype.kind != "c":
                # dropping the imaginary part would give wrong gradients (e.g. through abs)
                raise TypeError(
                    f"backward: a complex gradient reached a {data.dtype} tensor of shape "
                    f"{data.shape}; gradients through complex values are not supported"
                )
            g = ns.astype(g, data.dtype)
        return g

    @staticmethod
    def fit_tangent(t: Any, out: Any) -> np.ndarray:
        t = np.asarray(t)
        if t.shape != out.shape:
            t = np.broadcast_to(t, out.shape)
        return t.astype(out.dtype, copy=False)

    @staticmethod
    def deposit(node: Node, g: Any, deposited: set[int], seed: Any) -> None:
        # never hand out an array that another .grad (or the caller's seed) also holds
        if type(g) is _ndarray:
            key = id(g)
            if key in deposited or g.base is not None or g is seed:
                g = np.array(g)
                key = id(g)
            deposited.add(key)
        elif not isinstance(g, Tensor):  # an ndarray subclass or a NumPy scalar
            g = np.array(g)
            deposited.add(id(g))
        node._grad = g if node._grad is None else node._grad + g

    @staticmethod
    def seed(node: Node, grad: Any, create_graph: bool) -> Any:
        data = node._data
        if grad is None:
            if data.size != 1:
                raise ValueError(
                    f"backward: grad can be omitted only for a tensor with one element; this one "
                    f"has shape {data.shape}. Reduce it first (e.g. .sum()) or pass grad= of "
                    f"shape {data.shape}"
                )
            g = np.array(1, data.dtype, ndmin=data.ndim)  # ones_like's shape, as data has one element
        elif isinstance(grad, Tensor) and create_graph:
            return grad
        else:
            g = _as_array("backward", grad)
            if g.shape != data.shape:
                raise ValueError(f"backward: grad has shape {g.shape} but the tensor has shape {data.shape}")
            if not np.can_cast(g.dtype, data.dtype, "same_kind"):
                raise TypeError(f"backward: grad of dtype {g.dtype} for a tensor of dtype {data.dtype}")
            g = g.astype(data.dtype, copy=False)
        return Tensor._wrap(g) if create_graph else g

    @staticmethod
    def ieee_vjp(op: type[engine.Op], node: Node, g: Any) -> Any:
        raise ZeroDivisionError(f"backward: division by zero in op '{op.name}'")

    @staticmethod
    def ieee_jvp(op: type[engine.Op], params: Any, ts: Any, out: Any, parents: Any) -> Any:
        raise ZeroDivisionError(f"jvp: division by zero in op '{op.name}'")

    # Operators ---------------------------------------------------------
    def _const(self, other: Any, where: str = "Tensor") -> "Tensor | None":
        """Wrap a number or array; Python numbers take this tensor's dtype where NumPy keeps it."""
        if isinstance(other, Tensor):
            return other
        if type(other) is np.ndarray:
            return Tensor._wrap(_as_array(where, other))
        if isinstance(other, np.generic):
            other = _python_number(other)
        if isinstance(other, (int, float)) and self._data.dtype.kind == "f":
            try:
                return Tensor._wrap(np.asarray(other, dtype=self._data.dtype))
            except OverflowError:
                pass  # an int beyond float range: _as_array names the op
        if isinstance(other, (int, float, complex)) and not isinstance(other, bool):
            # NumPy's weak promotion: int8 tensor + 1 stays int8, float32 + 1j is complex64
            return Tensor._wrap(_as_array(where, other, np.result_type(self._data.dtype, other)))
        if isinstance(other, (bool, np.ndarray, np.generic, list)):
            return Tensor._wrap(_as_array(where, other))
        return None

    def _binary(self, op, other, reflected=False):
        other = self._const(other, op.name)
        if other is None:
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        try:
            return apply(op, None, a, b)
        except ValueError as exc:
            raise _operand_error(op.name, a, b, exc) from None

    @staticmethod
    def _operator(op: type[engine.Op], reflected: bool) -> Callable[..., Any]:
        """`a op b` with a Tensor: two tensors go straight to the op; numbers and arrays are
        wrapped as constants first (_const), and errors name the op and the shapes."""
        if reflected:
            return lambda self, other: self._binary(op, other, reflected=True)

        def operator(self, other):
            if type(other) is Tensor:  # the common case first: no conversion, no checks
                try:
                    return apply(op, None, self, other)
                except ValueError:
                    pass  # _binary raises the error naming the shapes
            return self._binary(op, other)

        return operator

    def __pow__(self, other):
        if isinstance(other, Tensor) and other.requires_grad:
            return self._binary(ops.Pow, other)
        exponent = other._data if isinstance(other, Tensor) else other
        const = self._const(exponent, "**")
        if const is None:
            return NotImplemented
        if isinstance(exponent, list):
            exponent = const._data  # the rules compute c - 1: an array, not a list
        elif isinstance(exponent, np.generic):
            exponent = _python_number(exponent)
        try:
            return apply(ops.PowConst, exponent, self)
        except ValueError as exc:
            raise _operand_error("**", self, const, exc) from None

    def __matmul__(self, other):
        other = self._const(other, "matmul")
        if other is None:
            return NotImplemented
        return matmul(self, other)

    def __rmatmul__(self, other):
        other = self._const(other, "matmul")
        if other is None:
            return NotImplemented
        return matmul(other, self)

    def _compare(self, fn, other):
        """Comparisons give boolean tensors; they are never differentiated."""
        other = self._const(other, fn.__name__)
        if other is None:
            return NotImplemented
        try:
            return Tensor._wrap(fn(self._data, other._data))
        except ValueError as exc:
            raise _operand_error(fn.__name__, self, other, exc) from None

    __lt__ = lambda self, other: self._compare(np.less, other)
    __le__ = lambda self, other: self._compare(np.less_equal, other)
    __gt__ = lambda self, other: self._compare(np.greater, other)
    __ge__ = lambda self, other: self._compare(np.greater_equal, other)

    # elementwise, as NumPy's, so not object's bool-valued signature
    def __eq__(self, other: object) -> "Tensor":  # type: ignore[override]
        return self._compare(np.equal, other)

    def __ne__(self, other: object) -> "Tensor":  # type: ignore[override]
        return self._compare(np.not_equal, other)

    # Needed: a class that defines __eq__ gets __hash__ = None, and the engine keeps nodes in
    # dicts and sets. Identity, as in PyTorch; dicts compare hashes (unique per live object)
    # before they would call __eq__, and nothing puts nodes in lists to search.
    __hash__ = object.__hash__

    # In-place operators ------------------------------------------------
    def __iadd__(self, other):
        return self._inplace(ops.Add, np.add, other)

    def __isub__(self, other):
        return self._inplace(ops.Sub, np.subtract, other)

    def __imul__(self, other):
        return self._inplace(ops.Mul, np.multiply, other)

    def __itruediv__(self, other):
        return self._inplace(ops.Div, np.true_divide, other)

    def _inplace(self, op, ufunc, other):
        """`self op= other` writing into self's array, as PyTorch's in-place operators do.

        The data keeps its array (views and the caller's array see the change) and its dtype,
        and its version moves on, so a pending graph that saved it refuses backward(). With
        grad mode on and a gradient involved, the write is recorded: self becomes the op's
        output and its former value a node of its own.
        """
        where = op.name + "="
        other = self._const(other, where)
        if other is None:
            return NotImplemented
        mode = engine.PER_THREAD.mode
        if mode.tracer is not None:
            raise RuntimeError(
                f"{where}: in-place operators cannot be traced (the replay would not "
                f"repeat the write); write x = x {op.name} y inside a traced function"
            )
        records = mode.grad_enabled and (self.requires_grad or other.requires_grad)
        if records and self.requires_grad and self._op is None:
            raise RuntimeError(
                f"{where}: a leaf Variable that requires grad is being used in an in-place "
                f"operation (the tensor {_describe(self)}); change its data inside `with no_grad():` "
                f"(as an optimiser does), or write x = x {op.name} y for a new tensor"
            )
        with saved.lifted(self._data):  # the version check below takes over from the lock
            if not self._data.flags.writeable:
                raise RuntimeError(
                    f"{where}: the data of the tensor {_describe(self)} is read-only (a view of an array "
                    f"a graph waiting for backward() holds, or given read-only); write x = x {op.name} y"
                )
            if records or mode.hooked:  # the op's rules give the gradient, tangent and checks
                self._record_inplace(op, ufunc, other, where)
            else:
                try:
                    ufunc(self._data, other._data, out=self._data, casting="same_kind")
                except TypeError:
                    raise _inplace_dtype_error(where, ufunc, self, other) from None
                except ValueError:
                    raise _inplace_shape_error(where, self, other) from None
        _note_write(self)
        return self

    def _record_inplace(self, op, ufunc, other, where):
        before = Tensor._wrap(self._data.copy(), self._op, self._params, self._parents, self._stamp, self._scope)
        before.requires_grad = self.requires_grad
        before._tangent = self._tangent
        result = before._binary(op, before if other is self else other)
        if result.shape != self.shape:
            raise _inplace_shape_error(where, self, other)
        if not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise _inplace_dtype_error(where, ufunc, self, other)
        np.copyto(self._data, result._data, casting="same_kind")
        if result._op is not None:
            self._op, self._params, self._parents = result._op, result._params, result._parents
            self.requires_grad = True
            # the count before this write: an operand viewing self's memory was overwritten,
            # and check_versions must refuse it (before holds a copy)
            self._stamp = engine.DATA_WRITES[0]
        self._tangent = result._tangent

    # Elementwise functions: the shared ones come from Node's method table -------
    def clip(self, lo: Any = None, hi: Any = None) -> "Tensor":
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        for bound in (lo, hi):
            if bound is not None and (
                not isinstance(bound, (int, float, np.integer, np.floating)) or isinstance(bound, bool)
            ):
                raise TypeError(f"clip: the bounds must be numbers or None, got {bound!r}")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo ({lo}) is greater than hi ({hi})")
        lo, hi = _python_number(lo), _python_number(hi)
        try:
            return apply(T.Clip, T.Bounds(lo, hi), self)
        except OverflowError as exc:  # a bound outside an integer dtype's range
            raise ValueError(f"clip: {exc}") from None

    def astype(self, dtype: Any) -> "Tensor":
        try:
            dtype = np.dtype(dtype)
        except TypeError as exc:
            raise TypeError(f"astype: {dtype!r} is not a dtype ({exc})") from None
        if dtype.kind not in "fiubc":
            raise TypeError(f"astype: unsupported dtype {dtype} (numbers or booleans only)")
        if dtype == self._data.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            raise TypeError(f"astype: cannot cast a tensor that requires grad to {dtype}")
        return apply(T.Cast, dtype, self)

    # Reductions --------------------------------------------------------
    def _reduce(self, op, axis, keepdims, where=None):
        where = where or op.name
        axes = _normalize_axes(where, axis, self.ndim)
        if self.size == 0 and op is not T.Sum and (axes is None or 0 in [self.shape[a] for a in axes]):
            raise ValueError(f"{where}: cannot reduce an empty tensor of shape {self.shape} over axis {axis}")
        return apply(op, T.Reduction(axes, bool(keepdims)), self)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return self._reduce(T.Sum, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        axes = _normalize_axes("mean", axis, self.ndim)
        count = self.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"mean: cannot average over zero elements (shape {self.shape})")
        dtype = self._data.dtype
        if dtype == np.float16:
            # as NumPy: float16 adds up in float32 (10,000 tens would overflow float16 to inf)
            return (self.astype(np.float32).sum(axes, keepdims) * (1.0 / count)).astype(np.float16)
        x = self if dtype.kind in "fc" else self.astype(np.float64)  # as NumPy: no int overflow
        return x.sum(axes, keepdims) * (1.0 / count)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return self._reduce(T.Max, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return self._reduce(T.Min, axis, keepdims)

    def logsumexp(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return self._reduce(T.LogSumExp, axis, keepdims)

    def log_softmax(self, axis: int | tuple[int, ...] | None = -1) -> "Tensor":
        x = self
        if x._data.dtype.kind in "biu":  # the float type NumPy's exp gives, as logsumexp does
            x = x.astype(np.result_type(x._data.dtype, np.float16))
        if x._data.size and x._data.dtype.kind == "f":
            # minus the max first (a constant: neither the result nor its gradient changes), so a
            # row of equal large entries gives exactly -log n, not x - (x + log n) rounded at x
            peak = np.max(x._data, axis=_normalize_axes("log_softmax", axis, x.ndim), keepdims=True)
            x = x - np.where(np.isfinite(peak), peak, 0).astype(x._data.dtype)
        return x - x._reduce(T.LogSumExp, axis, True, "log_softmax")

    def softmax(self, axis: int | tuple[int, ...] | None = -1) -> "Tensor":
        return self.log_softmax(axis).exp()

    # Shape -------------------------------------------------------------
    def reshape(self, *shape: Any) -> "Tensor":
        shape = _shape_args("reshape", shape)
        try:
            return apply(T.Reshape, shape, self)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {self.shape} ({self.size} elements) into shape {shape}"
            ) from None

    def transpose(self, *axes: Any) -> "Tensor":
        axes = _shape_args("transpose", axes) if axes else tuple(range(self.ndim))[::-1]
        for a in axes:
            if not -self.ndim <= a < self.ndim:
                raise ValueError(
                    f"transpose: axis {a} is out of range for a tensor with {self.ndim} dimensions (shape {self.shape})"
                )
        if sorted(a % self.ndim for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the axes of shape {self.shape}")
        return apply(T.Transpose, tuple(a % self.ndim for a in axes), self)

    def __getitem__(self, index: Any) -> "Tensor":
        index = _raw_index(index)
        try:
            return apply(T.GetItem, index, self)
        except IndexError as exc:
            bad = _invalid_index_part(index)
            if bad is not None:  # NumPy says IndexError; the README promises TypeError
                raise TypeError(
                    f"getitem: {bad!r} is not an index (ints, slices, None, Ellipsis, "
                    f"integer or boolean arrays are; tensor of shape {self.shape})"
                ) from None
            raise IndexOutOfRange(f"getitem: {exc} (tensor of shape {self.shape})") from None


def _invalid_index_part(index):
    """The first part of `index` of a type NumPy cannot index with, or None."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, np.ndarray):
            if part.dtype.kind not in "iub":
                return part
        elif not (part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer, np.bool_))):
            return part
    return None


def _raw_index(index):
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _operand_error(name, a, b, exc):
    """The ValueError NumPy raised for operands a and b, named after op `name` with their shapes."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together")
    # not the shapes: NumPy's own reason, e.g. integers to negative integer powers
    return ValueError(
        f"{name}: {str(exc).rstrip('.')} (operands of dtypes {a.dtype} and {b.dtype}, shapes {a.shape} and {b.shape})"
    )


def _describe(t):
    return repr(t.label) if t.label else f"of shape {t.shape}"


def _modified_error(t, node):
    return RuntimeError(
        f"backward: the data of the tensor {_describe(t)} was modified after op '{node._op.name}' "
        f"used it; the gradient would be wrong. Recompute the forward pass after changing data."
    )


def _inplace_shape_error(where, t, other):
    return ValueError(
        f"{where}: the result of shapes {t.shape} and {other.shape} broadcast together "
        f"does not fit the tensor's shape {t.shape}"
    )


def _inplace_dtype_error(where, ufunc, t, other):
    result = ufunc.resolve_dtypes((t.dtype, other.dtype, None))[-1]
    return TypeError(
        f"{where}: the result for dtypes {t.dtype} and {other.dtype} is {result}, which "
        f"cannot be stored in the tensor's dtype {t.dtype} (shape {t.shape}); convert "
        f"with .astype first"
    )


# Memory an in-place operator wrote into, by the array that owns it: id -> (weak reference to that
# array, DATA_WRITES count of the write). A tensor whose data is a view of the same memory (x and x.T,
# x[0], x.reshape(...)) changed too, though only the written tensor's _version moved: check_versions
# looks here as well.
_WRITTEN_MEMORY: dict[int, tuple[weakref.ref, int]] = {}


def _memory_owner(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _note_write(node):
    engine.DATA_WRITES[0] += 1
    node._version = count = engine.DATA_WRITES[0]
    owner = _memory_owner(node._data)
    key = id(owner)

    def forget(ref):  # the owner is gone: its id may be reused
        if _WRITTEN_MEMORY.get(key, (None,))[0] is ref:
            del _WRITTEN_MEMORY[key]

    _WRITTEN_MEMORY[key] = (weakref.ref(owner, forget), count)


def _written_since(arr, stamp):
    owner = _memory_owner(arr)
    entry = _WRITTEN_MEMORY.get(id(owner))
    return entry is not None and entry[1] > stamp and entry[0]() is owner


def subtract_scaled_grads(nodes: Iterable[Node], rate: Any) -> list[Node]:
    """`t.data -= rate * t.grad` for each leaf Tensor t whose `.grad` is an array and whose array
    no pending graph saved, written straight into the array; returns the other nodes whose
    `.grad` is not None (Values, gradients that are graphs, saved arrays), for the caller to
    update through `.data` and its checks.

    What the `data` property does for such a tensor (its getter hands the array out as it is,
    its setter moves the version), without its two Python calls per tensor: a plain SGD step
    over a model's parameters. One version serves every write, as no graph is made between them.
    """
    engine.DATA_WRITES[0] += 1
    version = engine.DATA_WRITES[0]
    ndarray, others = np.ndarray, []
    for t in nodes:
        g, data = t._grad, t._data  # the slots: the properties are Python calls
        if type(g) is ndarray and type(data) is ndarray and t._op is None and id(data) not in _HOLDS:
            data -= rate * g
            t._version = version
        elif g is not None:
            others.append(t)
    return others


def _tensor(where, x):
    """Tensors pass through; numbers and arrays become constant tensors."""
    return x if isinstance(x, Tensor) else Tensor._wrap(_as_array(where, x))


def matmul(a: Any, b: Any) -> Tensor:
    a, b = _tensor("matmul", a), _tensor("matmul", b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    k_left = a.shape[-1]
    k_right = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_left != k_right:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: {k_left} (last dim of the "
            f"left) != {k_right} ({'first' if b.ndim == 1 else 'second-to-last'} dim of the right)"
        )
    try:
        return apply(T.MatMul, None, a, b)
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight.T + bias, a layer's affine map, as one op (see tensor_ops.Linear).

    weight is (out_features, in_features), bias (out_features,), x (..., in_features).
    """
    # the Tensor test before any call: nn.Linear passes Tensors, once per layer and step
    if not isinstance(x, Tensor):
        x = _tensor("linear", x)
    if not isinstance(weight, Tensor):
        weight = _tensor("linear", weight)
    x_shape, w_shape = x._data.shape, weight._data.shape  # not the properties: this runs per layer
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit a weight of shape "
            f"{weight.shape} (out_features, in_features)"
        )
    wanted = T.GRADIENTS_WANTED[x._requires_grad, weight._requires_grad]
    if bias is None:
        return apply(T.Linear, wanted, x, weight)
    if not isinstance(bias, Tensor):
        bias = _tensor("linear", bias)
    if bias._data.shape != (w_shape[0],):
        raise ValueError(
            f"linear: bias of shape {bias.shape} does not fit a weight of shape "
            f"{weight.shape}; expected ({weight.shape[0]},)"
        )
    return apply(T.Linear, wanted, x, weight, bias)


def _binary_fn(op, a, b):
    first = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if first is None:
        a = Tensor._wrap(_as_array(op.name, _python_number(a)))
        first = a
    a, b = first._const(a, op.name), first._const(b, op.name)
    if a is None or b is None:
        raise TypeError(f"{op.name}: expected tensors, arrays or numbers")
    try:
        return apply(op, None, a, b)
    except ValueError as exc:
        raise _operand_error(op.name, a, b, exc) from None


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max of a and b (Tensors, arrays or numbers); ties share the gradient."""
    return _binary_fn(T.Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min of a and b (Tensors, arrays or numbers); ties share the gradient."""
    return _binary_fn(T.Minimum, a, b)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where cond else b; cond is a boolean array or Tensor and is never differentiated."""
    cond = cond._data if isinstance(cond, Tensor) else _as_array("where", cond)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be boolean, got dtype {cond.dtype}")
    first = (
        a
        if isinstance(a, Tensor)
        else b
        if isinstance(b, Tensor)
        else Tensor._wrap(_as_array("where", _python_number(a)))
    )
    a, b = first._const(a, "where"), first._const(b, "where")
    if a is None or b is None:
        raise TypeError("where: a and b must be tensors, arrays or numbers")
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where: shapes {cond.shape} (condition), {a.shape} and {b.shape} cannot be broadcast together"
        ) from None
    return apply(T.Where, cond, a, b)


def _joinable(where, tensors, axis):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{where}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{where}: axis must be an int, got {axis!r}")
    tensors = [_tensor(where, t) for t in tensors]
    if not tensors:
        raise ValueError(f"{where}: needs at least one tensor")
    return tensors


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = _joinable("concatenate", tensors, axis)
    shapes = [t.shape for t in tensors]
    if any(t.ndim == 0 for t in tensors):
        raise ValueError(f"concatenate: 0-d tensors cannot be concatenated (shapes {shapes})")
    axis = _normalize_axes("concatenate", axis, tensors[0].ndim)[0]
    ref = shapes[0]
    for s in shapes:
        if len(s) != len(ref) or any(n != m for i, (n, m) in enumerate(zip(s, ref)) if i != axis):
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return apply(T.Concatenate, axis, *tensors)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = _joinable("stack", tensors, axis)
    shapes = [t.shape for t in tensors]
    if len(set(shapes)) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {shapes}")
    axis = _normalize_axes("stack", axis, tensors[0].ndim + 1)[0]
    return apply(T.Stack, axis, *tensors)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    x = _tensor("broadcast_to", x)
    shape = _shape_args("broadcast_to", (shape,))
    if x.shape == shape:
        return x
    try:
        return apply(T.BroadcastTo, shape, x)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None


def sum_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x if x.shape == tuple(shape) else apply(T.SumTo, tuple(shape), x)


Tensor._family = Tensor
