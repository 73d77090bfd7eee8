"""Target 2: per-op overhead on a chain of (multiply, add, tanh) ops on a (10,) tensor.

Beside the hand-written NumPy chain, a bare engine of chainrule's design (one
object per node, Kahn's order over counted children, one vjp per op) runs the
same chain: the floor for that design in CPython, without chainrule's checks,
dtype handling, modes and hooks.
"""

import numpy as np

from autograd import Tensor

N_OPS = 999  # 333 rounds of (multiply, add, tanh)


def make_inputs(seed=0, size=10):
    rng = np.random.default_rng(seed)
    return rng.normal(size=size), rng.uniform(0.5, 1.5, size), rng.normal(0, 0.1, size)


def tensor_chain(x0, w, c):
    x = Tensor(x0, requires_grad=True)
    y = x
    for _ in range(N_OPS // 3):
        y = (y * w + c).tanh()
    y.sum().backward()
    return x.grad


def numpy_chain(x0, w, c):
    """The same chain by hand: forward keeps the tanh outputs, backward applies each local rule."""
    y, outs = x0, []
    for _ in range(N_OPS // 3):
        y = np.tanh(y * w + c)
        outs.append(y)
    g = np.ones_like(y)
    for t in reversed(outs):
        g = g * (1 - t * t)  # tanh
        g = g * w  # the add passes g on; the multiply scales it
    return g


class _BareNode:
    __slots__ = ("data", "rule", "parents")

    def __init__(self, data, rule=None, parents=()):
        self.data, self.rule, self.parents = data, rule, parents


# each rule: (gradient, output, input data...) -> one gradient per parent (None: a constant)
_TIMES_CONST = lambda g, out, a, b: (g * b, None)
_PLUS_CONST = lambda g, out, a, b: (g, None)
_TANH = lambda g, out, a: (g * (1 - out * out),)


def _bare_backward(root):
    """Gradients of the leaves, in Kahn's order over counted children (no recursion)."""
    children, stack = {root: 0}, [root]
    while stack:
        for p in stack.pop().parents:
            children[p] = children.get(p, 0) + 1
            if children[p] == 1:
                stack.append(p)
    grads, leaves, ready = {root: np.ones_like(root.data)}, {}, [root]
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        if node.rule is None:
            leaves[node] = g
            continue
        for p, pg in zip(node.parents, node.rule(g, node.data, *[q.data for q in node.parents])):
            if pg is not None:
                grads[p] = grads[p] + pg if p in grads else pg
            children[p] -= 1
            if not children[p]:
                ready.append(p)
    return leaves


def bare_chain(x0, w, c):
    """The chain on a bare engine of the same design: the floor of one Python object per op."""
    x, wn, cn = _BareNode(x0), _BareNode(w), _BareNode(c)
    y = x
    for _ in range(N_OPS // 3):
        y = _BareNode(y.data * w, _TIMES_CONST, (y, wn))
        y = _BareNode(y.data + c, _PLUS_CONST, (y, cn))
        y = _BareNode(np.tanh(y.data), _TANH, (y,))
    return _bare_backward(y)[x]


def figures(repeats=7):
    from benchmarks.harness import interleaved_medians

    x0, w, c = make_inputs()
    wt, ct = Tensor(w), Tensor(c)
    expected = numpy_chain(x0, w, c)
    np.testing.assert_allclose(tensor_chain(x0, wt, ct), expected, rtol=1e-12)
    np.testing.assert_allclose(bare_chain(x0, w, c), expected, rtol=1e-12)
    return interleaved_medians(
        {
            "numpy": lambda: numpy_chain(x0, w, c),
            "bare": lambda: bare_chain(x0, w, c),
            "tensor": lambda: tensor_chain(x0, wt, ct),
        },
        repeats=repeats,
    )
