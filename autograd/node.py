"""What `Value` and `Tensor` have in common: the node fields and backward()."""

from collections.abc import Callable
from typing import Any, ClassVar

from . import engine
from .mode import PER_THREAD


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
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this {type(self).__name__} does not require grad and has no "
                f"graph (was it made inside no_grad(), or from inputs without "
                f"requires_grad=True?)"
            )
        seed = self._family.seed(self, grad, create_graph)
        # as in PyTorch, create_graph keeps the graph: the gradients' graph runs through it
        engine.backward_pass(self, seed, retain_graph=retain_graph or create_graph, create_graph=create_graph)

    # Hooks the engine calls; each family overrides what differs.
    _family: ClassVar[Any]  # the family's class (Value or Tensor), set after each class:
    # its _wrap, seed, ieee_vjp, ieee_jvp and fit_tangent
    raw_ns: ClassVar[Any]  # the namespace of rules on raw data (floats, ndarrays)
    graph_ns: ClassVar[Any]  # the namespace of rules on nodes (create_graph=True)
    keeps_all_grads: ClassVar[bool] = False  # True: every node's .grad is filled, by adding (Value)
    zero_grad_value: ClassVar[Any] = None  # what .grad holds before any backward (Value: 0.0)
    # a function(node, g, deposited, seed) filling a leaf's .grad (or a retained one's) when
    # keeps_all_grads is False
    deposit: ClassVar[Callable[..., None] | None] = None

    # a function(node) for families whose data can change in place
    check_versions: ClassVar[Callable[..., None] | None] = None
    # a function(node) dropping a consumed node's data, for families whose data has a .size:
    # from release_min_size up (small arrays stay)
    release_data: ClassVar[Callable[..., None] | None] = None
    release_min_size: ClassVar[int] = 0
    # a function(ns, g, parent) for families that broadcast
    fit_grad: ClassVar[Callable[..., Any] | None] = None
