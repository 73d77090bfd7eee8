"""Graphs the walkthrough tests share (the unit tests and the browser tests)."""

import numpy as np

import nn
from autograd import Tensor, Value
from examples.worked_example import notes_example


def paths_meet():
    """y = a * a + tanh(a) * a: three paths from a meet at the root (a.grad sums them)."""
    a = Value(0.6, label="a")
    y = a * a + a.tanh() * a
    y.label = "y"
    return y, [a]


def tensor_mlp():
    """A 3-4-2 tanh MLP on a batch of 5, cross-entropy loss: a small graph of Tensors."""
    rng = np.random.default_rng(0)
    model = nn.MLP([3, 4, 2], activation="tanh", rng=rng)
    x = Tensor(rng.normal(size=(5, 3)), label="x")
    loss = nn.functional.cross_entropy(model(x), np.array([0, 1, 1, 0, 1]))
    loss.label = "loss"
    return loss, list(model.parameters())


def worked_example():
    f, x, w, b = notes_example()
    return f, [x, w, b]


CASES = {"worked_example": worked_example, "paths_meet": paths_meet, "tensor_mlp": tensor_mlp}
