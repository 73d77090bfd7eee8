"""Module.__call__ re-raises the exception its forward raised (same object, type and traceback),
with a note naming the module; Sequential indexing and slicing as PyTorch's."""

import json
import sys
import traceback

import numpy as np
import pytest

import nn
from autograd import IndexOutOfRange, Tensor


class Picky(nn.Module):
    def __init__(self, error):
        self.error = error

    def forward(self, x):
        raise self.error  # the user's line


class Outer(nn.Module):
    def __init__(self, error):
        self.inner = Picky(error)

    def forward(self, x):
        return self.inner(x)


@pytest.mark.parametrize(
    "error",
    [
        IndexOutOfRange("take: index 7 is out of range for axis 0 with size 3"),
        json.JSONDecodeError("Expecting value", "{", 1),
        ValueError("plain"),
        TypeError("typed"),
        KeyError("k"),
        ZeroDivisionError(),
    ],
)
def test_forward_errors_keep_their_type_object_and_traceback(error):
    with pytest.raises(type(error)) as caught:
        Outer(error)(np.ones(2))
    assert caught.value is error and type(caught.value) is type(error)
    assert str(caught.value) == str(error)  # the message is the user's own
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "forward" and "__call__" in frames
    lines = [frame.line for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert lines[-1].startswith("raise self.error") and lines[-1].endswith("# the user's line")
    if sys.version_info >= (3, 11):
        assert caught.value.__notes__ == ["in module Outer > inner (Picky), in forward()"]


def test_an_engine_error_inside_a_layer_keeps_its_type_and_names_the_layer():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 5\)") as caught:
        model(np.ones((4, 5)))
    if sys.version_info >= (3, 11):
        assert caught.value.__notes__ == ["in module Sequential > 0 (Linear), in forward()"]

    class Indexing(nn.Module):
        def forward(self, x):
            return x[5]

    with pytest.raises(IndexOutOfRange):
        Indexing()(Tensor(np.ones(3)))


def test_sequential_index_errors():
    with pytest.raises(IndexError, match=r"Sequential: index 3 is out of range for 0 modules"):
        nn.Sequential()[3]
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with pytest.raises(IndexError, match=r"Sequential: index -3 is out of range for 2 modules"):
        model[-3]
    with pytest.raises(TypeError, match="Sequential: indices must be integers or slices, not str"):
        model["0"]
    assert model[-1] is model[1] and model[np.int64(0)] is model[0]


def test_sequential_slices_are_sequentials_that_keep_the_names():
    first, act, last = nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1)
    model = nn.Sequential(first, act, last)
    head = model[0:2]
    assert type(head) is nn.Sequential and list(head) == [first, act] and len(head) == 2
    assert list(head.state_dict()) == ["0.weight", "0.bias"]
    tail = model[1:]
    assert list(tail) == [act, last] and list(tail.state_dict()) == ["2.weight", "2.bias"]  # PyTorch's keys
    x = np.random.default_rng(0).normal(size=(4, 2))
    np.testing.assert_array_equal(tail(head(x)).data, model(x).data)
    assert list(model[::-1]) == [last, act, first] and len(model[5:]) == 0
