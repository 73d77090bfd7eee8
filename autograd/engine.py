"""The graph core shared by `Value` and `Tensor`.

A node is a `Value` or a `Tensor`. A node made by an operation remembers the
operation (`_op`), the operation's parameters (`_params`, e.g. an axis) and its
input nodes (`_parents`); a leaf has `_op = None`. Every operation is an `Op`
subclass with three rules side by side:

    forward(ns, params, *xs)           the result
    vjp(ns, params, g, out, *xs)       vector-Jacobian products, one per input
    jvp(ns, params, ts, out, *xs)      Jacobian-vector product (forward mode)

`ns` is a small namespace of elementary functions. In an ordinary backward
pass it works on raw numbers (floats for `Value`, ndarrays for `Tensor`) and
nothing is recorded; with `create_graph=True` it works on nodes, so the
backward pass is itself a graph that can be differentiated again. The same
rule serves both, which is why rules are written with `ns.*` and operators.

Everything a rule should not care about happens once, here: summing a
broadcast gradient back to its input's shape and dtype (`fit_grad`), gradient
accumulation, the topological order (iterative, never recursive), releasing
the graph, version checks, forward-mode tangents and anomaly checks.
"""

import gc
import sys
import weakref
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import anomaly

# re-exported: other modules read them as engine.MODE and engine.PER_THREAD
from .mode import MODE as MODE
from .mode import PER_THREAD as PER_THREAD
from .mode import SwitchBlock, _Mode, switched

if TYPE_CHECKING:  # node.py imports this module
    from .node import Node

_N = TypeVar("_N", bound="Node")  # apply makes a node of its parents' family
_A = TypeVar("_A")  # scope.call's argument
_R = TypeVar("_R")  # and its result
_REQUIRES_GRAD_OF = attrgetter("_requires_grad")

# How many times any node's data has been replaced (by the `data` setter). A node
# stamps the count when its op runs; backward compares stamps to spot data that
# changed under a pending graph with one integer test per node.
DATA_WRITES = [0]

# The tensors whose saved arrays were handed out writable (Tensor.data) and may have been
# written since (see saved.py); while any is out, backward checks every node, not only stamped ones.
# Keyed by id (a WeakSet compares its members with ==, which is elementwise for tensors), each a
# weak reference whose callback removes the entry when the tensor goes (saved.hand_out): a plain
# dict, as the test for an empty one then runs no Python code (a WeakValueDictionary's len does).
HANDED_OUT: dict[int, "weakref.ref[Node]"] = {}

# Where the backward pass itself holds a node it is done with: the `node` variable, the key of
# `entries`, the entry list, and sys.getrefcount's argument. One more reference than these and
# the node's children is someone else's (the caller's variable, another graph, a tracer).
_PASS_REFERENCES = 4


def no_grad() -> SwitchBlock:
    """Record no graph inside the block (this thread only)."""
    return switched("grad_enabled", False)


def enable_grad() -> SwitchBlock:
    """Record the graph inside the block, even within `no_grad()`."""
    return switched("grad_enabled", True)


def is_grad_enabled() -> bool:
    return bool(MODE.grad_enabled)


class scope:  # lower case: used like the function no_grad
    """Tag every node made inside the block with `name` (draw_graph groups by it).

    `with scope(name) as path:` gives the names of the enclosing blocks, outermost
    first, ending with `name`. A class rather than a generator: nn's modules enter
    one per call, so it should cost little.

    Entering pushes `name` onto the calling thread's path and leaving pops the last
    name. With-blocks nest within a thread, so the name popped is the one this block
    pushed, and the object keeps nothing per entry: one scope object can be entered
    again, inside its own block or from several threads at once. nn's modules make
    theirs once and enter it on every call.
    """

    __slots__ = ("name",)

    def __init__(self, name: object) -> None:
        self.name = str(name)

    def __enter__(self) -> tuple[str, ...]:
        mode = PER_THREAD.mode
        mode.scope = path = mode.scope + (self.name,)
        return path

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        mode = PER_THREAD.mode
        mode.scope = mode.scope[:-1]

    def call(self, function: Callable[[_A], _R], argument: _A, /) -> _R:
        """function(argument) inside this block: `with self: return function(argument)` as one
        Python call, for callers that enter a block on every call (nn's modules, model(x))."""
        mode = PER_THREAD.mode
        previous = mode.scope
        mode.scope = previous + (self.name,)
        try:
            return function(argument)
        finally:
            mode.scope = previous


def _rule_not_defined(*args: Any) -> Any:
    raise NotImplementedError


class Op:
    """An elementary operation. Subclasses define forward, vjp and jvp.

    The rules are static functions whose arguments are spelled per op (`x`, or
    `a, b`), so they are typed as callables: forward(ns, params, *xs),
    vjp(ns, params, g, out, *xs) and jvp(ns, params, ts, out, *xs).
    """

    name = "op"
    forward: Callable[..., Any] = staticmethod(_rule_not_defined)
    vjp: Callable[..., Any] = staticmethod(_rule_not_defined)
    jvp: Callable[..., Any] = staticmethod(_rule_not_defined)

    split = False  # True for BinaryOp
    # True when the rules give each input a gradient of that input's shape (given g of the output's
    # shape): no broadcast to sum back. The backward pass then tests only the dtype per edge.
    exact_shapes = False
    # reads(params): per parent, whether the backward rules read its data; None: all of them.
    # A leaf whose data they never read need not be locked while the node is pending (saved.py).
    reads: Callable[[Any], tuple[bool, ...]] | None = None


class BinaryOp(Op):
    """Two inputs, each with its own backward rule: vjp_a and vjp_b.

    The engine calls only the rule whose input needs a gradient, so `x * w`
    with a constant w costs one product backward, not two. `vjp` gives both.
    """

    split = True

    vjp_a: Callable[..., Any] = staticmethod(_rule_not_defined)  # (ns, params, g, out, a, b)
    vjp_b: Callable[..., Any] = staticmethod(_rule_not_defined)

    @classmethod
    def vjp(cls, ns: Any, params: Any, g: Any, out: Any, a: Any, b: Any) -> Any:
        return cls.vjp_a(ns, params, g, out, a, b), cls.vjp_b(ns, params, g, out, a, b)


def apply(op: type[Op], params: Any, *parents: _N) -> _N:
    """Run `op` forward on nodes `parents` and record it in the graph when needed: the one
    way a node is made from an op."""
    first = parents[0]
    family = first._family
    arity = len(parents)
    if arity == 1:  # spelled out: a list of the parents' data per op is a measurable share
        data = op.forward(family.raw_ns, params, first._data)
    elif arity == 2:
        data = op.forward(family.raw_ns, params, first._data, parents[1]._data)
    elif arity == 3:  # a layer's linear(x, W, b)
        data = op.forward(family.raw_ns, params, first._data, parents[1]._data, parents[2]._data)
    else:
        data = op.forward(family.raw_ns, params, *[p._data for p in parents])
    mode = PER_THREAD.mode
    out: _N
    # any parent requiring grad, tested by C calls (no Python function): a first layer's input does not
    if mode.grad_enabled and (first._requires_grad or any(map(_REQUIRES_GRAD_OF, parents))):
        out = family._wrap(data, op, params, parents, DATA_WRITES[0], mode.scope)
    else:
        out = family._wrap(data)
    if mode.hooked:
        _forward_hooks(mode, op, params, out, parents)
    return out


def _forward_hooks(mode: _Mode, op: type[Op], params: Any, out: "Node", parents: tuple["Node", ...]) -> None:
    if mode.tangents:
        given = [p._tangent for p in parents]
        if any(t is not None for t in given):
            ns = out._family.raw_ns
            ts = tuple(ns.zeros_like(p._data) if t is None else t for p, t in zip(parents, given))
            with no_grad():
                try:
                    t = op.jvp(ns, params, ts, out._data, *[p._data for p in parents])
                except ZeroDivisionError:  # Python floats raise where IEEE gives inf/nan
                    t = out._family.ieee_jvp(op, params, ts, out, parents)
            out._tangent = out._family.fit_tangent(t, out._data)
    if mode.anomaly:
        anomaly.check_forward(op, out, parents)
    if mode.tracer is not None:
        mode.tracer.record(op, params, out, parents)


def toposort(root: "Node") -> list["Node"]:
    """Every node of root's graph, constants included, each after all of its parents.

    Iterative DFS, never recursive. (backward does not need the full order: see
    _pending_entries.)
    """
    order, seen = [], {root}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p not in seen:
                seen.add(p)
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def raw_vjp(node: "Node", g: Any) -> Any:
    """What node's op sends each parent for gradient g, computed on raw data (None: no gradient).

    Not yet fitted to the parents' shapes. A division by zero that Python floats refuse
    gives IEEE inf/nan instead, as NumPy would. The backward loop spells out its common
    cases (one to three parents) for speed and comes here for the others.
    """
    op, family = node._op, node._family
    if op is None:
        raise ValueError("raw_vjp: a leaf has no rule to run")
    try:
        return op.vjp(family.raw_ns, node._params, g, node._data, *[p._data for p in node._parents])
    except ZeroDivisionError:  # Python floats raise where IEEE gives inf/nan
        return family.ieee_vjp(op, node, g)


def _pending_entries(root: "Node") -> dict["Node", list[Any]]:
    """For each node of root's graph that needs a gradient: [children left, gradient so far,
    node, children].

    The backward pass visits a node once all its children are done (Kahn's
    algorithm), so it needs these counts, not a full ordering. One list per node
    holds everything the pass updates, so an edge costs one dict lookup. The
    last count stays as it is: the pass compares it with the node's references
    to tell a node only the graph holds (see backward_pass).
    """
    entries: dict[Node, list[Any]] = {root: [0, None, root, 0]}
    count_edges = root.release_data is not None  # only families that release need it
    stack = [root]
    while stack:
        node = stack.pop()
        if node._stamp is None and node._op is not None:
            raise RuntimeError(
                f"backward: trying to go through the graph a second time (at op "
                f"'{node._op.name}'); its saved values were released by the first "
                f"backward(). Pass retain_graph=True to the first call if you need this."
            )
        for p in node._parents:
            if p._requires_grad:
                entry = entries.get(p)
                if entry is None:
                    entries[p] = [1, None, p, 1]
                    if p._op is not None:  # a leaf has no parents to visit
                        stack.append(p)
                else:
                    entry[0] += 1
                    if count_edges:
                        entry[3] += 1
    return entries


getrefcount = sys.getrefcount


# inf and nan in gradients are IEEE results (data, as the README promises), not warnings. As a
# decorator errstate costs one Python call per pass; as a with block, three.
@np.errstate(all="ignore")
def backward_pass(
    root: "Node",
    seed: Any,
    retain_graph: bool = False,
    create_graph: bool = False,
    wrt: Sequence["Node"] | None = None,
    visit: Callable[..., None] | None = None,
) -> list[Any]:
    """Back-propagate `seed` (d root / d root) through root's graph.

    With `wrt=None` gradients accumulate into `.grad` of the leaves (and of
    every node for families that keep all gradients). Otherwise the gradients
    of the nodes in `wrt` are returned (None where no path) and no `.grad` is
    touched. `visit(node, g, pgs)`, if given, sees each node that receives a
    gradient g, in the order the pass handles them, with what its op's rules
    sent to its parents (before fitting; () for a leaf): trace() plans its
    replay from it.

    Kahn's algorithm: a node is handled once all its children have sent their gradients.
    Each node goes through four steps: keep its gradient where the caller reads it, run its
    op's rule, send the results to its parents, release what it saved. Every step stays in
    this one function, the rare passes' branches (wrt, create_graph, anomaly, visit) beside
    the common ones: a Python call per node, or per pass on the way in, is a measurable
    share of a small graph's pass.
    """
    family = root._family
    ns = family.graph_ns if create_graph else family.raw_ns
    wanted = None if wrt is None else {n: i for i, n in enumerate(wrt)}
    found = [None] * (0 if wrt is None else len(wrt))
    keep_all = family.keeps_all_grads
    # the optional hooks (Node's defaults are None)
    deposit, fit_grad, check_versions = root.deposit, root.fit_grad, root.check_versions
    deposited: set[Node] = set()
    ieee_vjp = family.ieee_vjp
    # A leaf's gradient is complete when its last child sends it; in the common pass (into
    # .grad, nothing watching) it is deposited then, not queued only to be popped for it.
    deposit_at_once = wrt is None and not keep_all and visit is None
    release_data = None if retain_graph else root.release_data
    release_size = root.release_min_size
    # arrays handed out writable since the forward pass: compare every node, whatever its stamp
    writes = DATA_WRITES[0] if not HANDED_OUT else None
    mode = PER_THREAD.mode
    checking = mode.anomaly
    pgs: Iterable[Any]
    previous = mode.grad_enabled, mode.backward_op
    # The pass makes many short-lived objects but never a reference cycle, so the cyclic
    # collector would only rescan the (possibly huge) graph: pause it, as a bulk loader would.
    collecting = gc.isenabled()
    gc.disable()
    mode.grad_enabled = create_graph
    try:
        entries = _pending_entries(root)
        ready = [entries[root]]
        ready[0][1] = seed
        while ready:
            entry = ready.pop()
            node, g = entry[2], entry[1]
            entry[1] = None  # free the gradient as soon as it is used
            op = node._op
            # 1. keep the gradient where the caller reads it
            if g is not None:
                if wanted is not None:
                    if node in wanted:
                        found[wanted[node]] = g
                elif keep_all:  # Value: every node keeps its gradient, a float sum
                    node._grad = node._grad + g
                elif op is None or node._retains_grad:
                    deposit(node, g, deposited, seed)  # type: ignore[misc]  # set where keep_all is False
            if op is None:
                if visit is not None and g is not None:
                    visit(node, g, ())
                continue
            # 2. run the op's rule: what each parent receives (none when no gradient came), after
            # the version check
            parents = node._parents
            if g is None:
                pgs = repeat(None)
            else:
                if check_versions is not None and node._stamp != writes:  # Value has no versions
                    check_versions(node)
                if create_graph:  # recorded on nodes
                    if checking:  # anomaly names the op whose backward made a bad op
                        mode.backward_op = op
                    pgs = op.vjp(ns, node._params, g, node, *parents)
                else:  # on raw data, spelled out for one to three parents, as in apply
                    try:
                        count = len(parents)
                        # (the parents get no local names: one left bound here would still hold
                        # a node at its release test, step 4, and keep its data)
                        if count == 2:
                            wants_first = parents[0]._requires_grad
                            if op.split and not (wants_first and parents[1]._requires_grad):
                                vjp = op.vjp_a if wants_first else op.vjp_b
                                pg = vjp(ns, node._params, g, node._data, parents[0]._data, parents[1]._data)
                                pgs = (pg, None) if wants_first else (None, pg)
                            else:
                                pgs = op.vjp(ns, node._params, g, node._data, parents[0]._data, parents[1]._data)
                        elif count == 1:
                            pgs = op.vjp(ns, node._params, g, node._data, parents[0]._data)
                        elif count == 3:  # a layer's linear(x, W, b)
                            pgs = op.vjp(
                                ns, node._params, g, node._data, parents[0]._data, parents[1]._data, parents[2]._data
                            )
                        else:
                            pgs = raw_vjp(node, g)
                    except ZeroDivisionError:  # Python floats raise where IEEE gives inf/nan
                        pgs = ieee_vjp(op, node, g)
                if checking:
                    anomaly.check_backward(op, pgs, node, parents)
                if visit is not None:
                    visit(node, g, pgs)
            # 3. send it on, summed per parent; a parent whose children are all done is ready
            exact_shapes = op.exact_shapes
            for p, pg in zip(parents, pgs):
                into = entries.get(p)  # None: p needs no gradient
                if into is None:
                    continue
                if pg is not None:
                    # Families with shapes: only a dtype change or a broadcast needs fitting. Every
                    # array of one native dtype shares its dtype object, so an identity test rules
                    # the first out (an equal dtype that is not the same object goes to fit_grad,
                    # which compares properly); shapes are new tuples per read, so they are compared
                    # only for ops whose rules may broadcast (not Op.exact_shapes).
                    if fit_grad is not None and (
                        pg.dtype is not p._data.dtype or not exact_shapes and pg.shape != p._data.shape
                    ):
                        pg = fit_grad(ns, pg, p)
                    into[1] = pg if into[1] is None else into[1] + pg
                into[0] -= 1
                if not into[0]:
                    if deposit_at_once and p._op is None:
                        if into[1] is not None:
                            deposit(p, into[1], deposited, seed)  # type: ignore[misc]  # set where keep_all is False
                            into[1] = None
                    else:
                        ready.append(into)
            # 4. release: the graph cannot be run through again, and saved inputs may be written
            if not retain_graph:
                node._stamp = None
                if release_data is not None:
                    node._held = None
                    # As PyTorch frees saved tensors at backward(): a node only this graph holds
                    # (not the caller, whose tensors keep their data) gives its big array back
                    # now, not when the caller drops the root (the next forward pass would run
                    # beside it).
                    if node._data.size >= release_size and getrefcount(node) == entry[3] + _PASS_REFERENCES:
                        release_data(node)
    finally:
        mode.grad_enabled, mode.backward_op = previous
        if collecting:
            gc.enable()
    return found
