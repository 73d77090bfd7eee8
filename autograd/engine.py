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
import threading
from contextlib import contextmanager


class _Mode(threading.local):
    """Per-thread switches; class attributes are each new thread's defaults."""

    grad_enabled = True
    tangents = 0          # > 0 while a jvp() is being evaluated
    anomaly = False
    scope = ()            # names of the enclosing scope() blocks, outermost first
    tracer = None         # set by trace() while it records a function


MODE = _Mode()


@contextmanager
def no_grad():
    """Record no graph inside the block (this thread only)."""
    previous = MODE.grad_enabled
    MODE.grad_enabled = False
    try:
        yield
    finally:
        MODE.grad_enabled = previous


@contextmanager
def enable_grad():
    """Record the graph inside the block, even within `no_grad()`."""
    previous = MODE.grad_enabled
    MODE.grad_enabled = True
    try:
        yield
    finally:
        MODE.grad_enabled = previous


def is_grad_enabled():
    return MODE.grad_enabled


@contextmanager
def scope(name):
    """Tag every node made inside the block with `name` (draw_graph groups by it)."""
    previous = MODE.scope
    MODE.scope = previous + (str(name),)
    try:
        yield
    finally:
        MODE.scope = previous


class Op:
    """An elementary operation. Subclasses define forward, vjp and jvp."""

    name = "op"

    @staticmethod
    def forward(ns, params, *xs):
        raise NotImplementedError

    @staticmethod
    def vjp(ns, params, g, out, *xs):
        raise NotImplementedError

    @staticmethod
    def jvp(ns, params, ts, out, *xs):
        raise NotImplementedError


def apply(op, params, *parents):
    """Run `op` forward on nodes `parents` and record it in the graph when needed."""
    family = parents[0]._family
    out = family._wrap(op.forward(family.raw_ns, params, *[p._data for p in parents]))
    mode = MODE
    if mode.grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._op = op
                out._params = params
                out._parents = parents
                out._versions = family._versions_of(parents)
                out._scope = mode.scope
                break
    if mode.tangents or mode.anomaly or mode.tracer is not None:
        _forward_hooks(mode, op, params, out, parents)
    return out


def _forward_hooks(mode, op, params, out, parents):
    if mode.tangents:
        ts = [p._tangent for p in parents]
        if any(t is not None for t in ts):
            ns = out._family.raw_ns
            ts = tuple(ns.zeros_like(p._data) if t is None else t for p, t in zip(parents, ts))
            with no_grad():
                t = op.jvp(ns, params, ts, out._data, *[p._data for p in parents])
            out._tangent = out._family.fit_tangent(t, out._data)
    if mode.anomaly:
        from .anomaly import check_forward
        check_forward(op, out, parents)
    if mode.tracer is not None:
        mode.tracer.record(op, params, out, parents)


def toposort(root):
    """Nodes that need a gradient, each after all of its parents (iterative DFS)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def backward_pass(root, seed, retain_graph=False, create_graph=False, wrt=None):
    """Back-propagate `seed` (d root / d root) through root's graph.

    With `wrt=None` gradients accumulate into `.grad` of the leaves (and of
    every node for families that keep all gradients). Otherwise the gradients
    of the nodes in `wrt` are returned (None where no path) and no `.grad` is
    touched.
    """
    family = root._family
    order = toposort(root)
    for node in order:
        if node._op is not None and node._versions is None:
            raise RuntimeError(
                f"backward: trying to go through the graph a second time (at op "
                f"'{node._op.name}'); its saved values were released by the first "
                f"backward(). Pass retain_graph=True to the first call if you need this.")
    ns = family.graph_ns if create_graph else family.raw_ns
    wanted = None if wrt is None else {id(n): i for i, n in enumerate(wrt)}
    found = [None] * (0 if wrt is None else len(wrt))
    grads = {id(root): seed}
    deposited = set()
    previous = MODE.grad_enabled
    MODE.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if wanted is not None:
                if id(node) in wanted:
                    found[wanted[id(node)]] = g
            elif node._op is None or family.keeps_all_grads or node._retains_grad:
                family.deposit(node, g, deposited, seed)
            op = node._op
            if op is None:
                continue
            parents = node._parents
            family.check_versions(node)
            if create_graph:
                pgs = op.vjp(ns, node._params, g, node, *parents)
            else:
                try:
                    pgs = op.vjp(ns, node._params, g, node._data, *[p._data for p in parents])
                except ZeroDivisionError:   # Python floats raise where IEEE gives inf/nan
                    pgs = family.ieee_vjp(op, node, g)
            if MODE.anomaly:
                from .anomaly import check_backward
                check_backward(op, pgs, node, parents)
            for p, pg in zip(parents, pgs):
                if pg is None or not p.requires_grad:
                    continue
                pg = family.fit_grad(ns, pg, p)
                key = id(p)
                if key in grads:
                    grads[key] = grads[key] + pg
                else:
                    grads[key] = pg
            if not retain_graph:
                node._versions = None
    finally:
        MODE.grad_enabled = previous
    return found


def release(root):
    """Mark root's graph as consumed, as backward() without retain_graph does."""
    for node in toposort(root):
        if node._op is not None:
            node._versions = None
