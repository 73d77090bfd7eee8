"""`Function`: user-defined operations with their own derivative rules.

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

        @staticmethod
        def jvp(ctx, t):                      # optional: forward mode
            (x,) = ctx.saved_tensors
            return t * 3 * x * x

    y = Cube.apply(x)

`forward` runs once, under `no_grad()`, on the arguments as given. The
result becomes one node of the graph through an engine `Op` whose params is
the ctx. `backward` and `jvp` always receive Tensors (or Values): in the
ordinary backward pass the raw gradient is wrapped in a constant and the
result unwrapped, and with `create_graph=True` they get graph nodes and their
Tensor operations are recorded. So one backward, written with Tensor
operations, also gives second derivatives.

Tensor and Value arguments are the op's graph inputs; any other argument is
passed to forward as a constant. `backward` returns one gradient per argument
of forward (None for a constant or where there is none), a bare gradient when
forward has one argument; `jvp` gets one tangent per argument (None for the
constants) and returns the output's tangent.
"""

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .engine import MODE, Op, apply, no_grad
from .node import Node

_OUTPUT = object()  # stands in ctx._saved for the op's own output node


class FunctionCtx:
    """What forward leaves for backward: `save_for_backward(*xs)` and any other attribute."""

    needs_input_grad: tuple[bool, ...]  # per argument of forward: a node that requires grad
    # set by Function.apply for the engine
    _saved: tuple[Any, ...]
    _output_ref: Callable[[], Any]
    _function: type["Function"]
    _family: Any
    _is_node: list[bool]
    _output: Any

    if TYPE_CHECKING:  # forward may keep anything for backward as an attribute of ctx

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def save_for_backward(self, *xs: Any) -> None:
        self._saved = xs

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        # the output is held weakly: output -> ctx -> output would be a reference cycle
        return tuple(self._output_ref() if s is _OUTPUT else s for s in getattr(self, "_saved", ()))


def _constant(family, x):
    """x as a node: raw numbers and arrays become constants."""
    return x if x is None or isinstance(x, Node) else family._wrap(x)


def _raw(family, x):
    """x as raw data of `family` (an ndarray for Tensor, a float for Value)."""
    data = x._data if isinstance(x, Node) else x
    return family._wrap(data)._data


class NoForwardMode(NotImplementedError):
    """Forward mode met a Function that defines no jvp (gradcheck then skips its forward check)."""

    def __init__(self, function_name: str) -> None:
        super().__init__(
            f"{function_name}: forward mode needs a static jvp(ctx, *tangents); define it "
            f"or, in gradcheck, pass check_forward=False"
        )
        self.function_name = function_name


class _FunctionOp(Op):
    """The engine's view of a Function: params is the ctx of one call."""

    @staticmethod
    def forward(ns, ctx, *xs):
        return ctx._output  # Function.apply already ran the user's forward

    @staticmethod
    def vjp(ns, ctx, g, out, *xs):
        recorded = isinstance(g, Node)  # create_graph: keep everything on the graph
        grads = ctx._function.backward(ctx, g if recorded else ctx._family._wrap(g))
        grads = _per_input(ctx, grads)
        if recorded:
            return tuple(_constant(ctx._family, g) for g in grads)
        return tuple(None if g is None else _raw(ctx._family, g) for g in grads)

    @staticmethod
    def jvp(ns, ctx, ts, out, *xs):
        function = ctx._function
        if function.jvp is Function.jvp:
            raise NoForwardMode(function.__name__)
        tangents = iter(ts)
        per_arg = [ctx._family._wrap(next(tangents)) if is_node else None for is_node in ctx._is_node]
        return _raw(ctx._family, function.jvp(ctx, *per_arg))


def _per_input(ctx, grads):
    """The gradients of the graph inputs, from backward's one gradient per argument of forward."""
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(ctx._is_node):
        raise TypeError(
            f"{ctx._function.__name__}.backward returned {len(grads)} gradient(s) for "
            f"{len(ctx._is_node)} argument(s) of forward"
        )
    return [g for g, is_node in zip(grads, ctx._is_node) if is_node]


class Function:
    """User-defined ops: static forward(ctx, *args), backward(ctx, *grads), jvp(ctx, *tangents)."""

    _op: type[Op]  # the engine op made for each subclass

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._op = type(f"{cls.__name__}Op", (_FunctionOp,), {"name": cls.__name__})

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        raise NotImplementedError("Function subclasses define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError("Function subclasses define a static backward(ctx, *grads)")

    @staticmethod
    def jvp(ctx: Any, *tangents: Any) -> Any:
        raise NotImplementedError("Function subclasses may define a static jvp(ctx, *tangents)")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward and record the result as one node of the graph."""
        nodes = [a for a in args if isinstance(a, Node)]
        if any(n._family is not nodes[0]._family for n in nodes):
            raise TypeError(f"{cls.__name__}.apply: arguments mix Values and Tensors")
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Node) and a.requires_grad for a in args)
        tangents, MODE.tangents = MODE.tangents, 0  # the op's own jvp gives the output's tangent
        try:
            with no_grad():
                result = cls.forward(ctx, *args)
        finally:
            MODE.tangents = tangents
        if not nodes:
            return result
        family = nodes[0]._family
        ctx._function, ctx._family = cls, family
        ctx._is_node = [isinstance(a, Node) for a in args]
        ctx._output = _raw(family, result)
        out = apply(cls._op, ctx, *nodes)
        if not any(result is a for a in args):
            # a saved output must be the recorded node, so create_graph can differentiate through it
            ctx._output_ref = weakref.ref(out)
            ctx._saved = tuple(_OUTPUT if s is result else s for s in ctx._saved) if hasattr(ctx, "_saved") else ()
        return out
