"""What `Value` and `Tensor` have in common: the node fields, backward(), the family hooks
(`Family`) and the method table of the elementwise ops both have."""

from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, Protocol, TypeVar, cast

from . import engine, ops
from .mode import PER_THREAD

_N = TypeVar("_N", bound="Node")


class Family(Protocol):
    """What the engine and the shared methods ask of a family of nodes (Value, Tensor).

    Everything else about a node is the same for both; a family is the class itself,
    `node._family`.
    """

    raw_ns: ClassVar[Any]  # the namespace of rules on raw data (namespaces.FloatNS, NumpyNS)
    graph_ns: ClassVar[Any]  # the namespace of rules on nodes (create_graph=True)
    keeps_all_grads: ClassVar[bool]  # True: every node's .grad is filled, by adding (Value)
    zero_grad_value: ClassVar[Any]  # what .grad holds before any backward (Value: 0.0)

    @staticmethod
    def _wrap(
        x: Any,
        op: type[engine.Op] | None = None,
        params: Any = None,
        parents: tuple["Node", ...] = (),
        stamp: int | None = 0,
        scope: tuple[str, ...] = (),
    ) -> Any:
        """A node around raw `x`: a constant leaf, or the output of `op` when op is given."""

    def _const(self, other: Any, where: str) -> Any:
        """`other` as an operand of this node: a node as it is, a number or array as a constant
        node (in this node's dtype where the family has dtypes), None when it cannot be one."""

    @staticmethod
    def _operator(op: type[engine.Op], reflected: bool) -> Callable[..., Any]:
        """The method for `node op other` (`other op node` when reflected), made once per
        entry of Node's operator table: where the families differ (Tensor's fast path for
        two tensors, Value's IEEE x / 0)."""

    @staticmethod
    def seed(node: Any, grad: Any, create_graph: bool) -> Any:
        """backward()'s starting gradient d node / d node (`grad`, checked; None: 1)."""

    @staticmethod
    def ieee_vjp(op: type[engine.Op], node: Any, g: Any) -> Any:
        """Redo a backward rule that Python refused (x / 0) in IEEE arithmetic, or raise."""

    @staticmethod
    def ieee_jvp(op: type[engine.Op], params: Any, ts: Any, out: Any, parents: Any) -> Any:
        """The same for a tangent rule."""

    @staticmethod
    def fit_tangent(t: Any, out: Any) -> Any:
        """A tangent fitted to its node's data (shape and dtype)."""

    # Optional hooks, None in Node unless the family needs them (read through a node):
    # deposit(node, g, deposited, seed) fills a leaf's .grad (or a retained one's) when
    # keeps_all_grads is False; check_versions(node), for data that can change in place;
    # release_data(node) drops a consumed node's data of release_min_size elements or more;
    # fit_grad(ns, g, parent) fits a gradient to a parent, for families that broadcast.


# The method table ---------------------------------------------------------------------
# Node's class body below lists the methods Value and Tensor share, one line per op.

_SHARED: dict[Callable[..., Any], type[engine.Op]] = {}


def elementwise(op: type[engine.Op]) -> Callable[[_N], _N]:
    """The method `x.name()` = op(x); the graph namespaces take it as `ns.name` too."""

    apply = engine.apply

    def method(self: _N) -> _N:
        return apply(op, None, self)

    method.__name__ = method.__qualname__ = op.name
    _SHARED[method] = op
    return method


class _Operator(NamedTuple):
    """An operator's entry in the table; each family makes its method from it (Family._operator)."""

    op: type[engine.Op]
    reflected: bool


def operator(op: type[engine.Op], reflected: bool = False) -> Callable[[_N, Any], _N]:
    """`node op other` (or `other op node`), made by each family from this entry."""
    return cast(Callable[[_N, Any], _N], _Operator(op, reflected))


def shared_elementwise() -> dict[str, type[engine.Op]]:
    """The table's elementwise methods, by name."""
    return {
        name: _SHARED[fn]
        for name, fn in vars(Node).items()
        if callable(fn) and fn in _SHARED and not name.startswith("__")
    }


class Node:
    """A vertex of the computation graph (base of `Value` and `Tensor`)."""

    # The fields every node needs are slots, filled once by _set. Rare ones (a label, a
    # scope, a forward-mode tangent, retain_grad, a data version) are class defaults that
    # go into the instance's __dict__ only when set: a node made by an op fills 7 fields,
    # not 12, which matters both to build speed and to the cyclic collector, which visits
    # every field of every node of a large graph each time it runs.
    __slots__ = (
        "_data",
        "_grad",
        "_requires_grad",
        "_op",
        "_params",
        "_parents",
        "_stamp",
        "_held",
        "__dict__",
        "__weakref__",
    )
    # _held is written, never read: a family that protects saved inputs (Tensor: saved.py) puts
    # there what keeps them so, and backward clears it; left unset otherwise
    _data: Any  # a float (Value) or an ndarray (Tensor)
    _grad: Any
    _requires_grad: bool
    _op: type[engine.Op] | None
    _params: Any  # the op's parameters (an axis, a shape, ...)
    _parents: tuple["Node", ...]
    _stamp: int | None  # DATA_WRITES when the op ran; None once backward released the graph
    _held: Any
    label = ""
    _scope: tuple[str, ...] = ()  # names of the scope() blocks the node was made in
    _tangent: Any = None  # forward mode (jvp): d node / d inputs along the tangents
    _retains_grad = False  # a non-leaf Tensor keeps .grad (retain_grad())
    _version = 0  # the DATA_WRITES count of the last .data assignment

    def _init_leaf(self, data: Any, requires_grad: bool, label: str) -> None:
        self._set(data, requires_grad, None, None, (), 0, PER_THREAD.mode.scope)
        if label:
            self.label = label

    def _set(
        self,
        data: Any,
        requires_grad: bool,
        op: type[engine.Op] | None,
        params: Any,
        parents: tuple["Node", ...],
        stamp: int | None,
        scope: tuple[str, ...],
    ) -> None:
        self._data = data
        self._grad = self.zero_grad_value
        self._op = op
        self._requires_grad = requires_grad
        self._params = params
        self._parents = parents
        self._stamp = stamp
        if scope:
            self._scope = scope

    # The engine reads and writes the slot _requires_grad; users the property (Tensor's setter
    # checks the dtype), which would cost the engine a Python call per op and per edge.
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self._requires_grad = bool(flag)

    @property
    def grad(self) -> Any:
        return self._grad

    @grad.setter
    def grad(self, g: Any) -> None:
        self._grad = g

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def op_name(self) -> str:
        """The name of the operation that made this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    def zero_grad(self) -> None:
        self._grad = self.zero_grad_value

    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Back-propagate from this node; gradients accumulate into `.grad`."""
        if not self._requires_grad:
            raise RuntimeError(
                f"backward: this {type(self).__name__} does not require grad and has no "
                f"graph (was it made inside no_grad(), or from inputs without "
                f"requires_grad=True?)"
            )
        seed = self._family.seed(self, grad, create_graph)
        # as in PyTorch, create_graph keeps the graph: the gradients' graph runs through it.
        # Positional: errstate's wrapper passes keywords on through a dict of its own.
        engine.backward_pass(self, seed, retain_graph or create_graph, create_graph)

    # The family hooks (see Family): what the engine and the shared methods ask of Value and
    # Tensor, and the optional ones with their defaults. The family sets _family to itself.
    _family: ClassVar[type[Family]]
    raw_ns: ClassVar[Any]
    graph_ns: ClassVar[Any]
    keeps_all_grads: ClassVar[bool] = False
    zero_grad_value: ClassVar[Any] = None
    deposit: ClassVar[Callable[..., Any] | None] = None
    check_versions: ClassVar[Callable[..., Any] | None] = None
    release_data: ClassVar[Callable[..., Any] | None] = None
    release_min_size: ClassVar[int] = 0
    fit_grad: ClassVar[Callable[..., Any] | None] = None

    # The method table: the elementwise methods and operators Value and Tensor share, one line
    # per op. Adding an elementwise op adds its line here (see docs/design.md, "Adding an op").
    exp = elementwise(ops.Exp)
    log = elementwise(ops.Log)
    log1p = elementwise(ops.Log1p)
    sqrt = elementwise(ops.Sqrt)
    sin = elementwise(ops.Sin)
    cos = elementwise(ops.Cos)
    tanh = elementwise(ops.Tanh)
    sigmoid = elementwise(ops.Sigmoid)
    relu = elementwise(ops.Relu)
    abs = __abs__ = elementwise(ops.Abs)
    __neg__ = elementwise(ops.Neg)
    __add__, __radd__ = operator(ops.Add), operator(ops.Add, reflected=True)
    __sub__, __rsub__ = operator(ops.Sub), operator(ops.Sub, reflected=True)
    __mul__, __rmul__ = operator(ops.Mul), operator(ops.Mul, reflected=True)
    __truediv__, __rtruediv__ = operator(ops.Div), operator(ops.Div, reflected=True)
    # a family's own __pow__ keeps a constant exponent in params (PowConst)
    __pow__, __rpow__ = operator(ops.Pow), operator(ops.Pow, reflected=True)

    def __pos__(self: _N) -> _N:
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A family makes its operators from the table's entries it does not define itself."""
        super().__init_subclass__(**kwargs)
        for name, entry in vars(Node).items():
            if isinstance(entry, _Operator) and isinstance(getattr(cls, name), _Operator):
                setattr(cls, name, cast(type[Family], cls)._operator(entry.op, entry.reflected))
