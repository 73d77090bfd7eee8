"""The graph core through Tensor: semantics, closed forms, errors, deep graphs, threads."""

import threading

import numpy as np
import pytest

from autograd import Tensor, Value, concatenate, maximum, no_grad, stack, where


def test_contract_example():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    (x @ w).tanh().sum().backward()
    dt = 1 - np.tanh(x.data @ w.data) ** 2
    np.testing.assert_allclose(x.grad, dt @ w.data.T)
    np.testing.assert_allclose(w.grad, x.data.T @ dt)
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == (4, 3)


def test_notes_worked_example_matches_value():
    x, w, b = (Tensor(np.array(v), requires_grad=True) for v in (1.0, 0.0, 0.0))
    f = 1 / ((-(w * x + b)).exp() + 1)
    f.backward()
    assert f.item() == 0.5
    assert (w.grad, b.grad, x.grad) == (0.25, 0.25, 0.0)


def test_sigmoid_and_tanh_closed_forms():
    x = Tensor(np.linspace(-4, 4, 9), requires_grad=True)
    x.sigmoid().sum().backward()
    assert x.grad[4] == 0.25
    np.testing.assert_allclose(x.tanh().data, (2 * (2 * x).sigmoid() - 1).data, atol=1e-15)


def test_sum_of_squares_and_reused_node():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x**2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    a = Tensor(np.array(3.0), requires_grad=True)
    b = a + a
    (b * b).backward()
    assert a.grad == 24.0


def test_relu_derivative_at_zero_is_zero():
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


@pytest.mark.numerics
def test_stable_softmax_log_softmax_logsumexp_at_1000():
    x = Tensor(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0]]), requires_grad=True)
    outs = [x.softmax(axis=1), x.log_softmax(axis=1), x.logsumexp(axis=1)]
    for out in outs:
        assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(outs[2].data, [1000.0, 1000 + np.log(2 + np.exp(-1))])
    (outs[0][:, 0].sum() + outs[1].sum() + outs[2].sum()).backward()
    assert np.all(np.isfinite(x.grad))


def test_gradients_accumulate_until_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_grads_of_two_leaves_never_share_memory():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 0
    np.testing.assert_array_equal(b.grad, [1, 1, 1])


def test_non_scalar_backward_needs_grad_of_the_right_shape():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"one element.*\(3, 4\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(2,\).*\(3, 4\)"):
        y.backward(np.ones(2))
    y.backward(np.full((3, 4), 0.5))
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))


def test_second_backward_raises_unless_graph_retained():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_no_grad_and_detach():
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    z = (x * 2).detach()
    assert z.is_leaf and not z.requires_grad
    np.testing.assert_array_equal(z.data, [2.0, 2.0])


def test_no_grad_is_per_thread():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def other_thread():
        inside.wait()
        x = Tensor(np.ones(2), requires_grad=True)
        seen["other"] = (x * 2).requires_grad
        release.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with no_grad():
        inside.set()
        release.wait()
        seen["here"] = (Tensor(np.ones(2), requires_grad=True) * 2).requires_grad
    t.join()
    assert seen == {"other": True, "here": False}


def test_non_leaf_grad_warns_and_retain_grad_keeps_it():
    x = Tensor(np.ones(2), requires_grad=True)
    h = x * 3
    kept = (x * 2).retain_grad()
    (h.sum() + kept.sum()).backward()
    with pytest.warns(UserWarning, match="not a leaf"):
        assert h.grad is None
    np.testing.assert_array_equal(kept.grad, [1.0, 1.0])


def test_tensor_chain_of_ten_thousand_ops():
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000] * 2, rtol=1e-9)


def test_ndarray_on_the_left_uses_tensor_operators():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = np.array([3.0, 4.0]) * x + np.array([1.0, 1.0])
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_inputs_are_never_mutated():
    a = np.array([[1.0, -2.0], [3.0, 0.5]])
    before = a.copy()
    x = Tensor(a, requires_grad=True)
    y = (x.relu() * x).sum() + x[np.array([0, 0])].sum() + x.max()
    y.backward()
    np.testing.assert_array_equal(a, before)


# Errors ----------------------------------------------------------------------


def test_broadcast_mismatch_names_op_and_both_shapes():
    a, b = Tensor(np.ones((3, 4))), Tensor(np.ones((5,)))
    with pytest.raises(ValueError, match=r"\+: shapes \(3, 4\) and \(5,\)"):
        a + b
    with pytest.raises(ValueError, match=r"maximum: shapes \(3, 4\) and \(5,\)"):
        maximum(a, b)
    with pytest.raises(ValueError, match=r"where: shapes"):
        where(np.ones(2, dtype=bool), a, b)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"matmul"):
        Tensor(np.ones(3)) @ Tensor(np.array(2.0))


def test_reshape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"reshape: .*\(3, 4\).*\(5,\)"):
        Tensor(np.ones((3, 4))).reshape(5)


def test_joins_and_axes_are_checked():
    with pytest.raises(ValueError, match=r"concatenate: shapes \[\(2, 3\), \(2, 4\)\]"):
        concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], axis=0)
    with pytest.raises(ValueError, match="stack: all tensors need the same shape"):
        stack([Tensor(np.ones(2)), Tensor(np.ones(3))])
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0,\)"):
        Tensor(np.ones(0)).max()


def test_getitem_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"getitem: .*\(3,\)"):
        Tensor(np.ones(3))[5]
    with pytest.raises(ValueError):
        Tensor(np.ones(3))[5]


@pytest.mark.parametrize("data", [np.arange(3), np.array([True, False]), [1, 2]])
def test_requires_grad_on_integer_or_boolean_data_is_a_type_error(data):
    with pytest.raises(TypeError, match=r"requires_grad=True needs floating-point data"):
        Tensor(data, requires_grad=True)


@pytest.mark.parametrize("data", [np.array(["a", "b"]), np.array([object()]), None, "text"])
def test_unsupported_dtypes_are_type_errors(data):
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(data)


def test_default_dtypes():
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32


def test_modifying_data_needed_by_a_pending_backward_raises():
    w = Tensor(np.ones(2), requires_grad=True, label="w")
    y = (w * w).sum()
    w.data = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"'w' was modified after op '\*'"):
        y.backward()


def test_value_and_tensor_do_not_mix_silently():
    with pytest.raises(TypeError):
        Tensor(np.ones(2)) + Value(1.0)
