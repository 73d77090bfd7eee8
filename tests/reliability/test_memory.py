"""Memory: training does not leak, and a graph is freed the moment its last reference goes.

Resident memory is read from /proc/self/status (Linux); the peak is reset by
writing 5 to /proc/self/clear_refs, so a block's peak growth can be measured.
"""

import contextlib
import gc
import weakref

import numpy as np
import pytest

from autograd import Function, Tensor, Value
from tests.support.memory import needs_proc, status_mb

pytestmark = pytest.mark.slow  # resident memory and the garbage collector, over thousands of steps


@contextlib.contextmanager
def gc_disabled():
    """Whatever is freed inside is freed by reference counting alone: no cycle collector."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# 10,000 training steps -------------------------------------------------------------


@needs_proc
def test_ten_thousand_sgd_steps_leave_resident_memory_flat():
    import nn

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)
    model = nn.MLP([4, 16, 3], rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step():
        loss = nn.functional.cross_entropy(model(Tensor(X)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    first = [step() for _ in range(500)][0]  # warm-up: caches, allocator pools
    gc.collect()
    before = status_mb("VmRSS")
    for _ in range(10_000):
        last = step()
    growth = status_mb("VmRSS") - before
    assert growth < 5, f"10,000 SGD steps grew resident memory by {growth:.1f} MB"
    assert last < 0.1 * first, "the steps did not train the model"


# Freed by reference counting alone ---------------------------------------------------


class Tracked:
    """Weak references to a computation's intermediate results (and their arrays)."""

    def __init__(self):
        self.refs = []

    def __call__(self, obj):
        self.refs.append(weakref.ref(obj))
        data = getattr(obj, "_data", None)
        if isinstance(data, np.ndarray):
            self.refs.append(weakref.ref(data))
        return obj

    def alive(self):
        return [r() for r in self.refs if r() is not None]


def _leaf(*shape):
    return Tensor(np.random.default_rng(len(shape)).normal(size=shape), requires_grad=True)


def mlp_graph(keep):
    x, w1, w2 = Tensor(np.ones((8, 4))), _leaf(4, 5), _leaf(5, 3)
    h = keep(keep(x @ w1).tanh())
    loss = keep((keep(h @ w2) ** 2).mean())
    loss.backward()
    return loss, w1, w2


def tensor_op_zoo(keep):
    from autograd import concatenate, maximum, stack, where

    a, b = _leaf(3, 4), _leaf(4)
    parts = [keep(a[np.array([0, 0, 2])]), keep(a[1:, ::2].T.reshape(1, 4)), keep(a + b)]
    joined = keep(concatenate([parts[0], parts[1]], axis=0))
    mixed = keep(stack([keep(maximum(parts[2], 0.5)), keep(where(a.data > 0, a, b))]))
    root = keep(keep(joined.softmax().sum() + mixed.logsumexp(axis=1).sum()) * keep(a.max()))
    root.backward()
    return root, a, b


def value_expression(keep):
    a, b = Value(2.0), Value(-3.0)
    c = keep(keep(a * b) + keep(keep(a**2) / b) - keep(keep(-a).exp()))
    d = keep(keep(c.tanh()) * keep(c.sigmoid()) + keep(keep(a.relu()) ** b))
    d.backward()
    return d, a, b


def retained_twice(keep):
    x = _leaf(3)
    y = keep(keep(keep(x * x).exp()).sum())
    y.backward(retain_graph=True)
    y.backward()
    return y, x


def second_order(keep):
    x = _leaf(3)
    y = keep(keep(keep(x**3).sin()).sum())
    y.backward(create_graph=True)
    keep(x.grad).sum().backward()  # x.grad is a graph node; zero_grad lets it go
    x.zero_grad()
    return y, x


def never_differentiated(keep):
    x = _leaf(2, 2)
    return keep(keep(x @ x).relu().sum()), x


class Softsign(Function):
    """x / (1 + |x|), a user-defined op that saves its input for backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (x.abs() + 1)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x.abs() + 1) ** 2


def custom_function(keep):
    x = _leaf(3)
    y = keep(keep(Softsign.apply(keep(x * 2))).sum())
    y.backward()
    return y, x


def transforms(keep):
    from autograd import grad, jvp, value_and_grad, vjp

    def f(x):
        return keep(keep(keep(x * x).tanh()).sum())

    x = np.array([0.5, -1.0])
    out, pullback = vjp(f, x)
    return grad(f)(x), value_and_grad(f)(x), jvp(f, (x,), (np.ones(2),)), pullback(1.0)


def with_anomaly_checks(keep):
    from autograd import detect_anomaly

    with detect_anomaly():
        return mlp_graph(keep)


def nn_training_step(keep):
    import nn

    model = keep(nn.MLP([4, 8, 2], rng=0))
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    logits = keep(model(Tensor(np.ones((5, 4)))))
    loss = keep(nn.functional.cross_entropy(logits, np.array([0, 1, 0, 1, 1])))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return (loss,)


GRAPHS = [
    mlp_graph,
    tensor_op_zoo,
    value_expression,
    retained_twice,
    second_order,
    never_differentiated,
    custom_function,
    transforms,
    with_anomaly_checks,
    nn_training_step,
]


@pytest.mark.parametrize("build", GRAPHS, ids=[g.__name__ for g in GRAPHS])
def test_a_graph_is_freed_when_its_last_reference_goes(build):
    build(Tracked())  # first calls import modules and fill caches: garbage of their own
    keep = Tracked()
    with gc_disabled():
        held = build(keep)
        assert keep.alive(), "the held results keep nothing alive: the test tracks the wrong objects"
        del held
        alive = keep.alive()
    assert not alive, f"still alive without the cycle collector: {[type(o).__name__ for o in alive]}"
    assert gc.collect() == 0, "the computation made reference cycles"
