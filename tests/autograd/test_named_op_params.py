"""Op parameters with names: the ops outside the graph core keep theirs in NamedTuples, and a
traced replay that rebuilds params from a call's values keeps the NamedTuple (its rules read
fields by name, so a plain tuple would fail)."""

from typing import NamedTuple

import numpy as np

import nn
from autograd import Tensor, conv2d, trace
from autograd.conv import BilinearParams, WindowParams, max_pool2d
from autograd.recurrent import ScanParams
from autograd.trace import _live_params
from nn.functional import OneHot, OneHotParams, nll_loss


def test_the_ops_record_named_params():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 2, 2)))
    conv = conv2d(x, w)
    assert isinstance(conv._params, BilinearParams)
    assert (conv._params.a_needs_grad, conv._params.b_needs_grad) == (True, False)
    assert conv._params.geometry.kernel == (2, 2)

    pooled = nn.AvgPool2d(2)(x)
    assert isinstance(pooled._params, WindowParams) and pooled._params.mask is None
    assert max_pool2d(x, 2)._op.name == "max_pool2d"  # its params are the Geometry itself

    states = nn.GRU(3, 4, rng=0)(Tensor(rng.standard_normal((5, 2, 3))))[0]
    (scan,) = _ops_named(states, "scan")
    assert isinstance(scan._params, ScanParams) and scan._params.cell.name == "gru"
    assert scan._params.has_bias and len(scan._params.needs_grad) == len(scan._parents)


def _ops_named(root, name):
    """The nodes of root's graph made by the op called `name`."""
    seen, stack, found = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            found += [node] if node._op is not None and node._op.name == name else []
            stack.extend(node._parents)
    return found


class _Picked(NamedTuple):
    rows: np.ndarray
    size: int


def test_live_params_keep_their_named_tuple():
    rows = np.array([0, 2])
    live, read = _live_params(_Picked(rows, 3), {id(rows): 5})
    assert read == [5]
    values = [None] * 6
    values[5] = np.array([1, 1])
    rebuilt = live(values)
    assert type(rebuilt) is _Picked
    assert rebuilt.rows is values[5] and rebuilt.size == 3
    plain, _ = _live_params((rows, 3), {id(rows): 5})
    assert type(plain(values)) is tuple  # a plain tuple stays one


def test_one_hot_reads_its_named_params():
    params = OneHotParams("nll_loss", (3, 4), (3, 4), np.dtype(np.float32))
    rows = OneHot.forward(None, params, np.array([3, 0, 1]))
    assert rows.dtype == np.float32 and rows.tolist() == [[0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]


def test_a_traced_loss_with_named_params_replays_new_labels():
    rng = np.random.default_rng(1)
    logits = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    labels = np.array([0, 1, 2, 1])
    step = trace(lambda z, y: nll_loss(z.log_softmax(axis=1), y), logits, Tensor(labels))
    new_labels = np.array([2, 2, 0, 1])
    replayed = step(logits, Tensor(new_labels)).item()
    eager = nll_loss(logits.log_softmax(axis=1), new_labels).item()
    assert replayed == eager
