"""trace(): the static replay gives bit-identical results to eager execution."""

import importlib
import sys

import numpy as np
import pytest

from autograd import Tensor, linear, trace
from autograd.tensor_ops import CrossEntropyParams, SoftmaxCrossEntropy
from benchmarks.mlp import make_arrays, make_batch, sgd_update, tensor_loss, tensor_params

pytestmark = pytest.mark.numerics  # values at inf/nan and exact bits: CI reruns them under a second BLAS kernel


def _mlp(dtype=np.float64, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    arrays = make_arrays(rng, dtype, sizes=(20, 16, 8, 5))
    x, onehot = make_batch(rng, batch, dtype, sizes=(20, 16, 8, 5))
    return arrays, x, onehot


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_traced_training_matches_eager_bit_for_bit(dtype):
    arrays, x, onehot = _mlp(dtype)
    eager, traced = tensor_params(arrays), tensor_params(arrays)
    step = trace(lambda xb, yb: tensor_loss(traced, xb, yb), x, onehot)
    rng = np.random.default_rng(1)
    for _ in range(5):
        xb = rng.normal(size=x.shape).astype(dtype)
        loss_eager = tensor_loss(eager, xb, onehot)
        loss_eager.backward()
        grads_eager = [p.grad.copy() for pair in eager for p in pair]
        loss_traced = step(xb, onehot)
        grads_traced = [p.grad.copy() for pair in traced for p in pair]
        assert loss_traced.item() == loss_eager.item()
        for a, b in zip(grads_eager, grads_traced):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_array_equal(a, b)
        sgd_update(eager)
        sgd_update(traced)
    for (we, be), (wt, bt) in zip(eager, traced):
        np.testing.assert_array_equal(we.data, wt.data)
        np.testing.assert_array_equal(be.data, bt.data)


def test_every_kind_of_op_replays_identically():
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True)

    def f(x):
        h = (x @ w).tanh() * 2.0 - x.sum(axis=1, keepdims=True).exp() / 3.0
        h = h.reshape(-1)[1:].relu() + h.T.reshape(-1)[:-1].sigmoid() ** 2
        return h.logsumexp() + h.max() - (h.abs() + 1).log().mean() + h.clip(-0.5, 0.5).sum()

    x = rng.normal(size=(2, 3))
    traced = trace(f, x)
    for _ in range(3):
        x = rng.normal(size=(2, 3))
        w.grad = None
        eager = f(Tensor(x))
        eager.backward()
        g_eager = w.grad.copy()
        w.grad = None
        assert traced(x).item() == eager.item()
        np.testing.assert_array_equal(w.grad, g_eager)


def test_new_shapes_retrace_or_raise():
    w = Tensor(np.ones(3), requires_grad=True)
    traced = trace(lambda x: (x * w).sum(), np.ones((2, 3)))
    assert traced(np.ones((4, 3))).item() == 12.0
    strict = trace(lambda x: (x * w).sum(), np.ones((2, 3)), retrace=False)
    with pytest.raises(ValueError, match=r"trace: inputs changed from \(2, 3\) float64 to \(4, 3\) float64"):
        strict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="float32"):
        strict(np.ones((2, 3), dtype=np.float32))


def test_backward_false_and_non_scalar_results_only_run_forward():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    traced = trace(lambda x: x * w, np.ones(2))
    out = traced(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [3.0, 8.0])
    assert w.grad is None
    scalar = trace(lambda x: (x * w).sum(), np.ones(2))
    scalar(np.ones(2), backward=False)
    assert w.grad is None
    scalar(np.ones(2))
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


def test_parameter_updates_between_calls_are_seen():
    w = Tensor(np.array([1.0]), requires_grad=True)
    traced = trace(lambda x: (x * w).sum(), np.array([2.0]))
    assert traced(np.array([2.0])).item() == 2.0
    w.data = np.array([5.0])
    assert traced(np.array([2.0])).item() == 10.0


def test_bad_functions_and_inputs_are_reported():
    with pytest.raises(TypeError, match="trace: the function must return a Tensor"):
        trace(lambda x: 3.0, np.ones(2))
    with pytest.raises(TypeError, match="trace: inputs must be numeric"):
        trace(lambda x: x, np.array(["a"]))


# The compiled backward (buffers, eager order, parameter .grad arrays) -------------------------
def _identical(a, b):
    """Equal dtype, shape and values, NaN where NaN, and the same sign on every zero."""
    a, b = np.asarray(a), np.asarray(b)
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(a, b, equal_nan=True)
        and np.array_equal(np.signbit(a), np.signbit(b))
    )


def _eager_and_traced(fn, make_params, inputs, steps=3):
    """Run fn eagerly and traced on fresh copies of the parameters; assert bit-identical results."""
    eager, traced = make_params(), make_params()
    step = trace(lambda *xs: fn(traced, *xs), *inputs[0])
    assert step.fast_rules  # the rules here reproduced the ops' own at trace time
    for xs in inputs[:steps]:
        for p in eager + traced:
            p.grad = None
        out_e = fn(eager, *[Tensor(x) for x in xs])
        out_e.backward()
        out_t = step(*xs)
        assert _identical(out_t.data, out_e.data)
        for pe, pt in zip(eager, traced):
            assert (pe.grad is None) == (pt.grad is None)
            if pe.grad is not None:
                assert _identical(pt.grad, pe.grad)
    return eager, traced, step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_benchmark_mlp_at_batch_16_matches_eager_bit_for_bit(dtype):
    rng = np.random.default_rng(3)
    arrays = make_arrays(rng, dtype)  # 784-256-128-10, as benchmarks/mlp.py
    x, onehot = make_batch(rng, 16, dtype)
    eager, traced = tensor_params(arrays), tensor_params(arrays)
    step = trace(lambda xb, yb: tensor_loss(traced, xb, yb), x, onehot)
    assert step.fast_rules
    for _ in range(3):
        xb = rng.normal(size=x.shape).astype(dtype)
        loss_e = tensor_loss(eager, xb, onehot)
        loss_e.backward()
        loss_t = step(xb, onehot)
        assert loss_t.dtype == dtype and np.array_equal(loss_t.data, loss_e.data)
        for pe, pt in zip([p for pair in eager for p in pair], [p for pair in traced for p in pair]):
            assert pt.grad.dtype == dtype
            assert np.array_equal(pt.grad, pe.grad)
            assert _identical(pt.grad, pe.grad)  # signs of zeros too
        sgd_update(eager)
        sgd_update(traced)


def _params(*shapes, dtype=np.float64):
    """A function making fresh parameters of these shapes, the same values on every call."""
    return lambda: [
        Tensor(np.random.default_rng(7 + i).normal(size=s).astype(dtype), requires_grad=True)
        for i, s in enumerate(shapes)
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_broadcasting_ops_fit_gradients_as_eager(dtype):
    rng = np.random.default_rng(0)

    def f(ps, x):
        w, b_row, b_col, s, m = ps
        h = x * w + b_row  # (5, 4) * (4,) + (1, 4)
        h = h - b_col  # - (5, 1)
        h = h / s + s * h  # a (,) parameter on both sides
        h = (h * m).relu() + h.exp() * 0.1 - (m - h).tanh()
        return h.logsumexp(axis=0).sum() + (h * h).mean()

    make = _params((4,), (1, 4), (5, 1), (), (5, 4), dtype=dtype)
    inputs = [(rng.normal(size=(5, 4)).astype(dtype),) for _ in range(3)]
    _eager_and_traced(f, make, inputs)


def test_a_parameter_used_many_times_adds_its_gradients_in_eager_order():
    rng = np.random.default_rng(1)

    def f(ps, x):
        (w,) = ps
        a = x * w
        b = (a + w) * w - w.exp() * a + w * w
        return (b * x).sum() + (w * 3.0).sum() + (a * a).sum()

    make = _params((3, 6))
    _eager_and_traced(f, make, [(rng.normal(size=(3, 6)) * 10.0**k,) for k in range(-3, 4)], steps=7)


def test_ops_without_a_buffered_rule_and_non_finite_values_replay_identically():
    rng = np.random.default_rng(2)

    def f(ps, x, y):
        w, v = ps
        h = linear(x.reshape(2, 3, 4), w, v)  # 3-D input: the op's own vjp
        h = (h / w.sum()).sigmoid() * (x @ w.T).reshape(2, 3, 5) / (v + 10.0)
        z = h.reshape(6, 5) + y  # y has -inf entries
        return z.logsumexp(axis=1).sum() + z.max() + h.abs().sum()

    make = _params((5, 4), (5,))
    y = np.zeros((6, 5))
    y[2] = -np.inf  # a whole row: logsumexp's fallback
    y[4, 1] = -np.inf
    inputs = [(rng.normal(size=(6, 4)), y) for _ in range(3)]
    with np.errstate(all="ignore"):  # -inf - -inf, log 0: nan and -inf, as eager
        _eager_and_traced(f, make, inputs)


def test_matmul_and_transposed_layouts_replay_identically():
    rng = np.random.default_rng(4)

    def f(ps, x):
        a, b = ps
        h = (x.T @ a).tanh() @ b  # x.T: a transposed (F-ordered) operand
        return (h.T * h.T).sum() + (x @ (a @ b)).sum(axis=0).sum()

    make = _params((6, 5), (5, 6))
    _eager_and_traced(f, make, [(rng.normal(size=(6, 6)),) for _ in range(3)])


def test_gradients_accumulate_across_calls_like_backward():
    rng = np.random.default_rng(5)
    make = _params((4, 3), (3,))
    eager, traced = make(), make()

    def f(ps, x):
        return linear(x, ps[0].T, ps[1]).relu().sum()

    step = trace(lambda x: f(traced, x), np.ones((2, 4)))
    held = []
    for _ in range(4):  # no zero_grad: .grad accumulates
        x = rng.normal(size=(2, 4))
        f(eager, Tensor(x)).backward()
        step(x)
        held.append([p.grad.copy() for p in traced] + [p.grad for p in traced])
        for pe, pt in zip(eager, traced):
            assert np.array_equal(pt.grad, pe.grad)
    for snapshot in held:  # a .grad array, once replaced, is never written again
        n = len(snapshot) // 2
        for copy, array in zip(snapshot[:n], snapshot[n:]):
            assert np.array_equal(copy, array)


def test_grad_arrays_still_held_are_never_overwritten():
    w = Tensor(np.ones(3), requires_grad=True)
    step = trace(lambda x: (x * w).sum(), np.ones(3))
    step(np.full(3, 1.0))
    first = w.grad
    w.grad = None
    step(np.full(3, 2.0))
    view = w.grad[1:]  # only a view of the second .grad is kept
    w.zero_grad()
    step(np.full(3, 3.0))
    transposed = w.grad.reshape(3, 1).T  # a view of a view
    w.grad = None
    step(np.full(3, 4.0))
    step(np.full(3, 5.0))  # accumulates: 4 + 5, a new array
    np.testing.assert_array_equal(first, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(view, [2.0, 2.0])
    np.testing.assert_array_equal(transposed, [[3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(w.grad, [9.0, 9.0, 9.0])


def test_dropped_grad_arrays_are_recycled():
    assert hasattr(sys, "getrefcount"), "recycling needs CPython's reference counts (sys.getrefcount)"
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    step = trace(lambda x: (x @ w).sum(), np.ones((4, 3)))
    step(np.ones((4, 3)))
    address = w.grad.__array_interface__["data"][0]
    for k in range(3):
        w.grad = None  # nothing else holds it: the next call may reuse it
        step(np.full((4, 3), float(k)))
        assert w.grad.__array_interface__["data"][0] == address
        np.testing.assert_array_equal(w.grad, np.full((3, 2), 4.0 * k))


def test_a_grad_that_is_not_a_matching_array_is_added_to_as_eager_does():
    w = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    step = trace(lambda x: (x * w).sum(), np.ones(2, dtype=np.float32))
    w.grad = 0.5  # a Python float, as a user may set
    step(np.array([1.0, 2.0], dtype=np.float32))
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, [1.5, 2.5])
    w.grad = np.zeros(2)  # float64: the sum is float64, as with backward()
    step(np.array([1.0, 2.0], dtype=np.float32))
    assert w.grad.dtype == np.float64


def test_results_are_fresh_arrays_and_parameters_updates_are_seen():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    step = trace(lambda x: x * w, np.ones(2))
    first = step(np.array([1.0, 1.0]))
    second = step(np.array([3.0, 3.0]))
    np.testing.assert_array_equal(first.data, [1.0, 2.0])
    np.testing.assert_array_equal(second.data, [3.0, 6.0])
    w.data = np.array([5.0, 5.0])  # a new array: read on the next call
    np.testing.assert_array_equal(step(np.array([1.0, 1.0])).data, [5.0, 5.0])


def test_a_constant_whose_shape_changes_is_retraced_or_refused():
    c = Tensor(np.ones(3))
    w = Tensor(np.ones(1), requires_grad=True)
    step = trace(lambda x: (x * c * w).sum(), np.ones(3))
    c._data = np.ones(4)  # a constant may change shape: trace again
    assert step(np.ones(4)).item() == 4.0
    strict = trace(lambda x: (x * c * w).sum(), np.ones(4), retrace=False)
    c._data = np.ones(2)
    with pytest.raises(ValueError, match="changed shape"):
        strict(np.ones(4))


def test_a_tensor_computed_outside_the_function_is_refused_when_gradients_go_through_it():
    w = Tensor(np.ones(3), requires_grad=True)
    doubled = w * 2.0
    with pytest.raises(ValueError, match="outside the function"):
        trace(lambda x: (x * doubled).sum(), np.ones(3))
    forward_only = trace(lambda x: x * doubled, np.ones(3))  # no backward: fine
    np.testing.assert_array_equal(forward_only(np.ones(3)).data, [2.0, 2.0, 2.0])


def test_backward_false_leaves_grads_alone_across_repeated_calls():
    rng = np.random.default_rng(6)
    arrays, x, onehot = _mlp(np.float32, batch=4)
    params = tensor_params(arrays)
    step = trace(lambda xb, yb: tensor_loss(params, xb, yb), x, onehot)
    losses = [step(x, onehot, backward=False).item() for _ in range(3)]
    assert all(p.grad is None for pair in params for p in pair)
    assert losses[0] == losses[1] == losses[2] == tensor_loss(params, x, onehot).item()
    step(rng.normal(size=x.shape).astype(np.float32), onehot)
    assert all(p.grad is not None for pair in params for p in pair)


def test_gradients_reaching_one_parameter_are_added_in_the_engines_order():
    # the engine visits x * w, then x - w, then w / x: not the reverse of the recording order,
    # and (a + b) + c differs from (c + a) + b in the last bit for most values
    rng = np.random.default_rng(8)

    def f(ps, x):
        (w,) = ps
        a, b, c = (x * w).sum(), (x - w).sum(), (w / x).sum()
        return c + (a + b)

    make = _params((50,))
    _eager_and_traced(f, make, [(rng.uniform(0.1, 10.0, size=50),) for _ in range(3)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_softmax_cross_entropy_replays_identically(dtype):
    from autograd.engine import apply
    from nn import functional as F

    rng = np.random.default_rng(9)

    def mlp_loss(ps, x, onehot):
        w1, b1, w2, b2 = ps
        h = linear(linear(x, w1, b1).relu(), w2, b2)
        return F.cross_entropy(h, onehot)  # the op with (1/n, reduce)

    make = _params((16, 12), (16,), (10, 16), (10,), dtype=dtype)
    onehot = np.eye(10, dtype=dtype)[rng.integers(0, 10, 8)]
    _eager_and_traced(mlp_loss, make, [(rng.normal(size=(8, 12)).astype(dtype), onehot) for _ in range(3)])

    def per_row(ps, z, t):  # (scale, not reduced), soft targets with a gradient
        w, soft = ps
        logits = z * w
        logits = logits + Tensor(np.where(np.arange(5) == 2, -np.inf, 0.0).astype(dtype))  # an -inf logit
        return (apply(SoftmaxCrossEntropy, CrossEntropyParams(0.5, False), logits, soft.exp() * t) * 3.0).sum()

    make = _params((4, 5), (4, 5), dtype=dtype)
    _eager_and_traced(
        per_row, make, [(rng.normal(size=(4, 5)).astype(dtype), np.full((4, 5), 0.2, dtype)) for _ in range(3)]
    )

    onehot = np.eye(40, dtype=dtype)[rng.integers(0, 40, 6)]
    mask = Tensor(np.where((onehot == 0) & (rng.random((6, 40)) < 0.2), -np.inf, 0.0).astype(dtype))

    def many_classes(ps, z, onehot):  # rows of 32 classes or more reduce directly
        (w,) = ps
        return F.cross_entropy(z * w + mask, onehot, reduction="sum")  # -inf logits, target 0

    make = _params((6, 40), dtype=dtype)
    _eager_and_traced(many_classes, make, [(rng.normal(size=(6, 40)).astype(dtype) * 30, onehot) for _ in range(3)])


def test_a_fast_rule_that_drifts_from_its_op_is_caught_at_trace_time(monkeypatch):
    module = importlib.import_module("autograd.trace")
    from autograd import ops

    def drifted_exp(r, p, buf, o, srcs):  # as if ops.Exp had changed and the rule had not
        v, (x,) = r.vals, srcs
        return lambda: np.exp(v[x] * (1 + 2.0**-30), out=buf)

    monkeypatch.setitem(module._FORWARD, ops.Exp, drifted_exp)
    rng = np.random.default_rng(10)
    make = _params((4,))
    eager, traced = make(), make()
    step = trace(lambda x: (x * traced[0]).exp().sum(), np.ones(4))
    assert not step.fast_rules  # replays the ops' own rules instead
    x = rng.normal(size=4)
    (Tensor(x) * eager[0]).exp().sum().backward()
    step(x)
    assert np.array_equal(traced[0].grad, eager[0].grad)


def test_fused_softmax_cross_entropy_with_a_row_of_minus_inf_logits():
    from nn import functional as F

    rng = np.random.default_rng(11)
    rows = np.zeros((5, 6))
    rows[1] = -np.inf  # a whole row: _row_shift leaves it unshifted
    mask = Tensor(rows)
    soft = np.full((5, 6), 1 / 6)
    soft[1] = 0.0  # ... and no target weight there

    def f(ps, z, t):
        (w,) = ps
        return F.cross_entropy(z * w + mask, t)

    make = _params((5, 6))
    with np.errstate(all="ignore"):
        _eager_and_traced(f, make, [(rng.normal(size=(5, 6)), soft) for _ in range(3)])
