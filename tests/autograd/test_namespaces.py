"""The namespace contract (autograd/namespaces.py): every namespace has every function its
Protocol lists, each with one meaning, and the graph namespaces record what they compute."""

import math

import numpy as np
import pytest

from autograd import Tensor, Value
from autograd.namespaces import ElementwiseNamespace, FloatNS, Namespace, NumpyNS, TensorNS, ValueNS
from autograd.node import Node, shared_elementwise


def members(protocol):
    names = set()
    for cls in protocol.__mro__:
        if cls.__name__ in ("Protocol", "Generic", "object"):
            continue
        names |= {n for n in vars(cls) if not n.startswith("_")} | set(getattr(cls, "__annotations__", {}))
    return names


@pytest.mark.parametrize("ns", [FloatNS, ValueNS, NumpyNS, TensorNS], ids=lambda ns: ns.__name__)
def test_every_namespace_has_every_elementwise_function(ns):
    missing = {name for name in members(ElementwiseNamespace) if not hasattr(ns, name)}
    assert not missing, f"{ns.__name__} lacks {sorted(missing)}"


@pytest.mark.parametrize("ns", [NumpyNS, TensorNS], ids=lambda ns: ns.__name__)
def test_array_namespaces_have_every_array_function(ns):
    missing = {name for name in members(Namespace) if not hasattr(ns, name)}
    assert not missing, f"{ns.__name__} lacks {sorted(missing)}"


def test_the_method_table_gives_every_shared_function_to_both_families_and_graph_namespaces():
    table = shared_elementwise()
    assert {"exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs"} <= set(table)
    for name, op in table.items():
        for node in (Value(0.5), Tensor(np.array([0.5, 2.0]))):
            out = getattr(node, name)()
            assert type(out) is type(node)
            raw = node._family.raw_ns
            np.testing.assert_array_equal(out.data, getattr(raw, name)(node.data))
        for ns, node in ((ValueNS, Value(0.5)), (TensorNS, Tensor(np.array([0.5]), requires_grad=True))):
            assert getattr(ns, name)(node)._op is op  # recorded, so a backward pass can be differentiated
        assert getattr(ElementwiseNamespace, name), f"the Protocol does not list {name}"


def test_positive_is_a_raw_constant_mask_of_the_familys_kind():
    assert FloatNS.positive(2.0) == 1.0 and FloatNS.positive(-2.0) == 0.0 and FloatNS.positive(0.0) == 0.0
    assert type(FloatNS.positive(2.0)) is float
    assert ValueNS.positive(Value(2.0)) == 1.0 and type(ValueNS.positive(Value(-1.0))) is float
    x = np.array([-1.0, 0.0, 3.0])
    for mask in (NumpyNS.positive(x), TensorNS.positive(Tensor(x))):
        assert type(mask) is np.ndarray and mask.dtype == np.bool_
        np.testing.assert_array_equal(mask, [False, False, True])
    assert not isinstance(TensorNS.positive(Tensor(x, requires_grad=True)), Node)  # never differentiated


def test_sign_zeros_like_and_raw_agree_across_namespaces():
    assert [FloatNS.sign(v) for v in (-2.0, 0.0, 3.0)] == [-1.0, 0.0, 1.0]
    assert type(FloatNS.sign(3.0)) is float and math.isnan(FloatNS.sign(math.nan))
    assert ValueNS.sign(Value(-2.0)) == -1.0
    x = np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    for sign in (NumpyNS.sign(x), TensorNS.sign(Tensor(x))):
        assert sign.dtype == np.float32
        np.testing.assert_array_equal(sign, [-1.0, 0.0, 1.0])
    assert FloatNS.zeros_like(3.0) == 0.0 and ValueNS.zeros_like(Value(3.0)) == 0.0
    assert TensorNS.zeros_like(Tensor(x)).dtype == np.float32 and not isinstance(TensorNS.zeros_like(Tensor(x)), Node)
    assert ValueNS.raw(Value(3.0)) == 3.0 and ValueNS.raw(2.0) == 2.0
    assert TensorNS.raw(Tensor(x)) is not None and TensorNS.raw(x) is x
    assert FloatNS.raw_ns is FloatNS and ValueNS.raw_ns is FloatNS
    assert NumpyNS.raw_ns is NumpyNS and TensorNS.raw_ns is NumpyNS


def test_graph_where_makes_numbers_constants_of_the_tensors_dtype():
    a = Tensor(np.array([1.0, -1.0], dtype=np.float32), requires_grad=True)
    out = TensorNS.where(np.array([True, False]), a, 0.0)
    assert out._op is not None and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [1.0, 0.0])
