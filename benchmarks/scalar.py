"""Target 3: the scalar engine. One SGD step of a 2-16-16-1 nn.scalar.MLP (tanh) on 100
samples with hinge loss and L2, against a closure-per-node reference engine written
here; and a 1,000,000-node Value chain, forward and backward."""

import math
import random
import time

from autograd import Value

N_SAMPLES, ALPHA, LR = 100, 1e-4, 0.05


class ClosureValue:
    """The classic micrograd-style design, for comparison: one closure per node, recursive sort."""

    __slots__ = ("data", "grad", "_backward", "_prev")

    def __init__(self, data, prev=()):
        self.data, self.grad, self._prev = data, 0.0, prev
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, ClosureValue) else ClosureValue(other)
        out = ClosureValue(self.data + other.data, (self, other))

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, ClosureValue) else ClosureValue(other)
        out = ClosureValue(self.data * other.data, (self, other))

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1.0

    def tanh(self):
        t = math.tanh(self.data)
        out = ClosureValue(t, (self,))

        def backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = backward
        return out

    def relu(self):
        out = ClosureValue(max(self.data, 0.0), (self,))

        def backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(v):  # recursive, as in the classic design
            if v not in seen:
                seen.add(v)
                for p in v._prev:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


def closure_mlp(sizes=(2, 16, 16, 1), seed=0):
    rnd = random.Random(seed)
    return [
        [([ClosureValue(rnd.uniform(-1, 1)) for _ in range(n_in)], ClosureValue(0.0)) for _ in range(n_out)]
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]


def closure_forward(layers, x):
    for k, layer in enumerate(layers):
        x = [sum((w * xi for w, xi in zip(ws, x)), b) for ws, b in layer]
        if k < len(layers) - 1:
            x = [v.tanh() for v in x]
    return x[0]


def make_samples(seed=1):
    rnd = random.Random(seed)
    return [((rnd.uniform(-1, 1), rnd.uniform(-1, 1)), rnd.choice((-1.0, 1.0))) for _ in range(N_SAMPLES)]


def hinge_l2_step(forward, params, samples):
    """micrograd's demo objective: mean hinge loss + alpha * sum of squared parameters, then SGD."""
    losses = [(1 + -y * forward(x)).relu() for x, y in samples]
    total = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)
    for p in params:
        p.grad = 0.0
    total.backward()
    for p in params:
        p.data -= LR * p.grad
    return total.data


def closure_step(layers, samples):
    params = [p for layer in layers for ws, b in layer for p in ws + [b]]
    return hinge_l2_step(lambda x: closure_forward(layers, x), params, samples)


def chainrule_step(model, samples):
    return hinge_l2_step(lambda x: model(list(x)), model.parameters(), samples)


def million_chain(n=1_000_000):
    """Seconds to build and back-propagate an n-node chain of sin ops."""
    start = time.perf_counter()
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y.sin()
    y.backward()
    return time.perf_counter() - start


def figures(repeats=5):
    import nn
    from benchmarks.harness import interleaved_medians

    samples = make_samples()
    model, layers = nn.scalar.MLP([2, 16, 16, 1]), closure_mlp()
    return interleaved_medians(
        {"closure": lambda: closure_step(layers, samples), "chainrule": lambda: chainrule_step(model, samples)},
        repeats=repeats,
    )
