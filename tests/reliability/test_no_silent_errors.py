"""Issue 12: results that were wrong without an error, each pinned to its exact value.

Each test failed before the fix. The `numerics` ones assert values at inf/nan or exact
bits; CI runs them a second time under another OpenBLAS kernel.
"""

import functools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import nn
import nn.functional as F
from autograd import Tensor, Value, grad, gradcheck, jvp, numerical_grad

numerics = pytest.mark.numerics


# 1. cross_entropy: integer probabilities are refused; infinities follow IEEE, not BLAS ------


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint8, np.bool_])
def test_cross_entropy_refuses_integer_class_probabilities(dtype):
    logits = np.array([1e308, -1e308, 1e-308, 5e-324])
    target = np.array([1, 0, 0, 1]).astype(dtype)
    with pytest.raises(TypeError, match=r"cross_entropy: .*\(4,\).*floating point.*" + np.dtype(dtype).name):
        F.cross_entropy(logits, target)
    with pytest.raises(TypeError, match="cross_entropy"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.eye(3, dtype=np.int64)[:2]))


@numerics
def test_cross_entropy_at_infinities_is_ieee_arithmetic():
    # log softmax is [0, -inf, -1e308, -1e308]; t * logp = [0, inf, -0, -inf], whose sum is nan
    logits = np.array([1e308, -1e308, 1e-308, 5e-324])
    with np.errstate(all="ignore"):
        loss = F.cross_entropy(logits, np.array([127.0, -128.0, 0.0, 3.0]))
        assert np.isnan(loss.item())
        # an -inf logit where the target is 0 adds nothing: exactly log 2 for two equal logits
        z = Tensor(np.array([[0.0, 0.0, -np.inf]]), requires_grad=True)
        loss = F.cross_entropy(z, np.array([[1.0, 0.0, 0.0]]))
        loss.backward()
    assert loss.item() == np.log(2.0)
    np.testing.assert_array_equal(z.grad, [[-0.5, 0.5, 0.0]])
    z = Tensor(np.array([[np.inf, 1.0], [2.0, 3.0]]), requires_grad=True)
    with np.errstate(all="ignore"):
        losses = F.cross_entropy(z, np.array([0, 1]), reduction="sum")
    assert np.isnan(losses.item())


_KERNEL_PROBE = """
import numpy as np, nn.functional as F
from autograd import Tensor
np.seterr(all="ignore")
rows = np.array([[1e308, -1e308, 1e-308, 5e-324], [np.inf, 0.0, 1.0, 2.0],
                 [-np.inf, -np.inf, 0.0, 1.0], [3.0, 1.0, -2.0, 0.5]] * 9)
targets = np.array([[127.0, -128.0, 0.0, 3.0], [1.0, 0.0, 0.0, 0.0],
                    [0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]] * 9)
cases = [(rows[i:i + 1], targets[i:i + 1]) for i in range(4)]          # each row alone
rng = np.random.default_rng(0)
wide, soft = rng.normal(size=(64, 40)) * 30, rng.random((64, 40))    # finite, rows of 40 classes
cases += [(rows, targets), (rows, np.arange(36) % 4), (wide, soft), (wide, np.arange(64) % 40)]
for z_data, target in cases:
    for reduction in ("mean", "sum"):
        z = Tensor(z_data.copy(), requires_grad=True)
        loss = F.cross_entropy(z, target, reduction=reduction)
        loss.backward()
        print(loss.data.tobytes().hex(), z.grad.tobytes().hex())
"""


def _kernels():
    kernels = ["Prescott", "Sandybridge", "Haswell"]
    with open("/proc/cpuinfo") as f:
        if "avx512f" in f.read():
            kernels.append("SkylakeX")
    return kernels


@numerics
def test_cross_entropy_is_bit_identical_under_every_openblas_kernel():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    outputs = {}
    for kernel in _kernels():
        env = dict(os.environ, OPENBLAS_CORETYPE=kernel)
        run = subprocess.run(
            [sys.executable, "-c", _KERNEL_PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        outputs[kernel] = run.stdout
    assert len(set(outputs.values())) == 1, f"results differ between kernels: {sorted(outputs)}"


# 3. np.array(t) and np.copy(t) copy -----------------------------------------------------


def test_numpy_copies_of_a_tensor_do_not_alias_its_data():
    t = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = (t * t).sum()
    for copy in (np.array(t), np.copy(t), np.array(t, copy=True), np.array(t, dtype=np.float32)):
        copy[...] = 100
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])
    y.backward()
    np.testing.assert_array_equal(t.grad, [2.0, 4.0, 6.0])
    assert np.asarray(t) is t.data and np.array(t, copy=False) is t.data
    assert np.array(t, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"Tensor.__array__: .*float64 to float32.*copy=False"):
        np.array(t, dtype=np.float32, copy=False)


# 4. x ** c at x = 0: every order exact -----------------------------------------------------


def _nth_derivative(f, n):
    for _ in range(n):
        f = grad(f)
    return f


@pytest.mark.parametrize("c", [0, 1, 2, 3, 4])
def test_every_derivative_of_a_power_at_zero_is_exact(c):
    for order in range(1, c + 3):
        expected = float(math.factorial(c)) if order == c else 0.0  # x**c = c! x**c / c!
        assert float(_nth_derivative(lambda x: x**c, order)(0.0)) == expected, (c, order)
        f = lambda x: (x ** float(c)).sum()  # noqa: E731
        for _ in range(order - 1):
            f = lambda x, f=f: grad(f)(x).sum()  # noqa: E731
        np.testing.assert_array_equal(grad(f)(np.zeros(2)), [expected, expected])


@pytest.mark.parametrize("c", [0, 1, 2])
def test_power_at_zero_for_values_forward_mode_and_create_graph(c):
    x = Value(0.0)
    y = x**c
    y.backward(create_graph=True)
    first = x.grad
    assert float(first) == (1.0 if c == 1 else 0.0)
    x.grad = 0.0
    first.backward()
    assert x.grad == (2.0 if c == 2 else 0.0)
    _, tangent = jvp(lambda t: t**c, (np.zeros(3),), (np.ones(3),))
    np.testing.assert_array_equal(tangent, np.full(3, 1.0 if c == 1 else 0.0))
    _, tangent = jvp(grad(lambda t: (t**c).sum()), (np.zeros(3),), (np.ones(3),))
    np.testing.assert_array_equal(tangent, np.full(3, 2.0 if c == 2 else 0.0))


def test_derivative_of_zero_to_a_differentiable_power():
    a = Tensor(np.zeros(4), requires_grad=True)
    b = Tensor(np.array([0.0, 1.0, 2.0, -1.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 0.0, -np.inf])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 0.0, -np.inf])
    a, b = Value(0.0), Value(2.0)
    (a**b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    _, tangent = jvp(lambda a, b: a**b, (np.zeros(2), np.array([0.0, 3.0])), (np.ones(2), np.ones(2)))
    np.testing.assert_array_equal(tangent, [0.0, 0.0])


# 5. binary_cross_entropy learns from confident wrong predictions -----------------------------


def test_binary_cross_entropy_gradient_is_large_where_the_prediction_is_confidently_wrong():
    p = Tensor(np.array([1e-9, 0.5, 1.0, 0.0, 1.0 - 1e-9]), requires_grad=True)
    y = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    with np.errstate(divide="ignore"):
        loss = F.binary_cross_entropy(p, y, reduction="sum")
    loss.backward()
    expected_grad = (p.data - y) / np.maximum(p.data * (1 - p.data), 1e-12)
    np.testing.assert_array_equal(p.grad, expected_grad)
    assert p.grad[0] == (1e-9 - 1.0) / (1e-9 * (1 - 1e-9)) and p.grad[3] == -1e12
    # each log clamped at -100 (log 0 at p = 0), summed as the formula says
    with np.errstate(divide="ignore"):
        log_p, log_q = np.maximum(np.log(p.data), -100), np.maximum(np.log(1 - p.data), -100)
    assert loss.item() == np.add.reduce(-(y * log_p + (1 - y) * log_q))
    assert log_p[3] == -100.0
    with pytest.raises(ValueError, match=r"binary_cross_entropy: probabilities must lie in \[0, 1\], got 1.5"):
        F.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=2, max_side=4), data=st.data())
def test_binary_cross_entropy_matches_central_differences(shape, data):
    p = data.draw(arrays(np.float64, shape, elements=st.floats(0.05, 0.95)))
    y = data.draw(arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    gradcheck(lambda p, y: F.binary_cross_entropy(p, y, reduction="sum"), p, y)
    p_t, y_t = Tensor(p, requires_grad=True), Tensor(y, requires_grad=True)
    F.binary_cross_entropy(p_t, y_t, reduction="sum").backward()
    np.testing.assert_allclose(p_t.grad, (p - y) / (p * (1 - p)), rtol=1e-12)  # closed form
    np.testing.assert_allclose(y_t.grad, np.log(1 - p) - np.log(p), rtol=1e-12)
    _, forward = jvp(lambda p: F.binary_cross_entropy(p, y, reduction="sum"), (p,), (np.ones(shape),))
    np.testing.assert_allclose(forward, p_t.grad.sum(), rtol=1e-12)  # forward mode agrees


# 6. requires_grad on integer data ----------------------------------------------------------


def test_setting_requires_grad_on_integer_data_raises_the_constructors_error():
    with pytest.raises(TypeError) as from_constructor:
        Tensor(np.arange(3), requires_grad=True)
    t = Tensor(np.arange(3))
    with pytest.raises(TypeError) as from_setter:
        t.requires_grad = True
    assert str(from_setter.value) == str(from_constructor.value).replace("Tensor:", "Tensor.requires_grad:", 1)
    assert t.requires_grad is False
    f = Tensor(np.arange(3.0))
    f.requires_grad = True
    (f * f).sum().backward()
    np.testing.assert_array_equal(f.grad, [0.0, 2.0, 4.0])


# 7. complex step refuses non-holomorphic abs ----------------------------------------------


@pytest.mark.parametrize(
    "f, name",
    [
        (lambda x: x.abs().sum(), "abs"),
        (lambda x: F.softplus(x).sum(), "softplus"),
        (lambda x: F.binary_cross_entropy_with_logits(x, np.ones(2)), "binary_cross_entropy_with_logits"),
    ],
)
def test_complex_step_through_abs_raises_naming_the_op(f, name):
    with pytest.raises(TypeError, match=name):
        numerical_grad(f, np.array([-0.3, 0.7]), method="complex")
    np.testing.assert_allclose(
        numerical_grad(lambda x: (x * x).sum(), np.array([-0.3]), method="complex"), [-0.6], rtol=1e-12
    )
    assert Tensor(np.array([3 + 4j])).abs().item() == 5.0  # complex data can still be computed with


# 10. fit's threshold, float16 mean, complex inputs, bad tangents and seeds -----------------


def _two_blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, (40, 2)), rng.normal(2, 0.5, (40, 2))])
    return X, np.repeat([0.0, 1.0], 40)[:, None]


def test_fit_accuracy_does_not_depend_on_how_the_loss_is_wrapped():
    X, y = _two_blobs()
    histories = []
    for loss in (
        F.binary_cross_entropy_with_logits,
        lambda out, t: F.binary_cross_entropy_with_logits(out, t),
        functools.partial(F.binary_cross_entropy_with_logits, reduction="mean"),
    ):
        model = nn.MLP([2, 4, 1], rng=0)
        histories.append(
            nn.fit(
                model, loss, nn.optim.SGD(model.parameters(), lr=0.5), (X, y), epochs=5, progress=False, shuffle=False
            )
        )
    assert histories[0]["accuracy"] == histories[1]["accuracy"] == histories[2]["accuracy"]
    assert histories[0]["accuracy"][-1] == 1.0
    model = nn.MLP([2, 4, 1], rng=0)
    explicit = nn.fit(
        model,
        lambda o, t: F.binary_cross_entropy_with_logits(o, t),
        nn.optim.SGD(model.parameters(), lr=0.5),
        (X, y),
        epochs=5,
        progress=False,
        shuffle=False,
        threshold=0.0,
    )
    assert explicit["accuracy"] == histories[0]["accuracy"]


def test_fit_reports_no_accuracy_for_a_regression_and_asks_when_outputs_are_ambiguous():
    X, _ = _two_blobs()
    model = nn.MLP([2, 4, 1], rng=0)
    history = nn.fit(
        model, F.mse_loss, nn.optim.SGD(model.parameters(), lr=0.01), (X, X[:, :1] * 0.3), epochs=1, progress=False
    )
    assert set(history) == {"loss", "val_loss"}
    # hard_sigmoid's outputs lie in [0, 1] but are not a sigmoid's: probabilities or logits?
    squashed = nn.Sequential(nn.Linear(2, 1, rng=0), nn.HardSigmoid())
    with pytest.raises(ValueError, match="fit: cannot tell whether .* threshold="):
        nn.fit(
            squashed,
            F.mse_loss,
            nn.optim.SGD(squashed.parameters(), lr=0.1),
            (X, np.ones((80, 1))),
            epochs=1,
            progress=False,
        )


@numerics
def test_float16_mean_accumulates_as_numpy_does():
    x = Tensor(np.full(10000, 10, np.float16), requires_grad=True)
    m = x.mean()
    assert m.dtype == np.float16 and m.item() == 10.0 == np.full(10000, 10, np.float16).mean()
    m.backward()
    assert x.grad.dtype == np.float16 and np.all(x.grad == np.float16(1e-4))
    assert F.mse_loss(np.full(10000, 10, np.float16), np.zeros(10000, np.float16)).item() == 100.0


@pytest.mark.parametrize("name", ["softplus", "elu", "leaky_relu"])
def test_activations_refuse_complex_input(name):
    with pytest.raises(TypeError, match=f"{name}: input must be real numbers, got dtype complex128"):
        getattr(F, name)(np.array([1 + 1j, -2.0]))


def test_binary_losses_refuse_complex_input():
    for loss in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(TypeError, match=f"{loss.__name__}: input must be real"):
            loss(np.array([0.5 + 0.1j]), np.array([1.0]))


@pytest.mark.parametrize("tangent, got", [(None, "NoneType"), ("2", "str"), (np.array([1j, 2.0]), "complex128")])
def test_jvp_refuses_tangents_that_are_not_real_numbers(tangent, got):
    with pytest.raises(TypeError, match=f"jvp: tangent 0 must hold real numbers.*{got}"):
        jvp(lambda x: x * 2, (np.array([1.0, 2.0]),), (tangent,))
    with pytest.raises(TypeError, match="jvp: tangent 0"):
        jvp(lambda x: x * 2, (Value(1.0),), (tangent if tangent is not None else None,))


def test_value_backward_refuses_a_text_seed():
    y = Value(3.0) * 2
    with pytest.raises(TypeError, match=r"backward: grad must be a real number, got str '2'"):
        y.backward("2")
    x = Value(3.0)
    (x * 2).backward(2)
    assert x.grad == 4.0


# 2. trace keeps integer inputs live, refuses random ops, fills inputs' gradients ------------


def _grads(model):
    return [p.grad.copy() for p in model.parameters()]


@numerics
def test_trace_replays_each_calls_labels_bit_for_bit():
    from autograd import trace

    model = nn.MLP([3, 5, 4], rng=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    batches = [np.array([0, 1, 2, 3, 0, 1]), np.array([3, 3, 2, 1, 0, 0]), np.array([2, 0, 1, 1, 3, 2])]
    for loss in (
        lambda x, y: F.cross_entropy(model(x), y),
        lambda x, y: F.nll_loss(F.log_softmax(model(x)), y),
        lambda x, y: (model(x)[np.arange(6), y]).sum(),
    ):
        step = trace(loss, X, batches[0])
        for labels in batches:
            model.zero_grad()
            replayed = step(X, labels)
            traced_grads = _grads(model)
            model.zero_grad()
            eager = loss(Tensor(X), Tensor(labels))
            eager.backward()
            assert replayed.data.tobytes() == eager.data.tobytes()
            assert all(a.tobytes() == b.tobytes() for a, b in zip(traced_grads, _grads(model)))
    index_sum = trace(lambda x, i: x[i].sum(), X, np.array([0, 1]))
    assert index_sum(X, np.array([4, 5])).item() == X[[4, 5]].sum()
    with pytest.raises(ValueError, match=r"cross_entropy: label 9 is out of range for 4 classes"):
        trace(lambda x, y: F.cross_entropy(model(x), y), X, batches[0])(X, np.array([0, 1, 2, 3, 0, 9]))


def test_trace_refuses_random_ops_and_inputs_read_outside_the_graph():
    from autograd import trace

    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="trace: Dropout draws random numbers"):
        trace(lambda x: nn.Dropout(0.5, rng=0)(x).sum(), X)
    dropout = nn.Dropout(0.5, rng=0).eval()  # identity in eval(): traceable
    assert trace(lambda x: dropout(x).sum(), X)(X).item() == 12.0
    with pytest.raises(ValueError, match=r"trace: input 1 \(shape \(2,\), int64\) reaches no op"):
        trace(lambda x, k: x.sum() * float(k.data[0]), X, np.array([2, 3]))


def test_trace_fills_the_gradients_of_inputs_that_require_grad():
    from autograd import trace

    w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
    f = trace(lambda x: ((x @ w) ** 2).sum(), Tensor(np.ones((3, 2)), requires_grad=True))
    for data in (np.arange(6.0).reshape(3, 2), np.full((3, 2), -1.5)):
        x = Tensor(data, requires_grad=True)
        f(x)
        f(x)  # accumulates, as backward() twice
        expected = 2 * (2 * (data @ w.data) @ w.data.T)
        np.testing.assert_array_equal(x.grad, expected)
    plain = np.ones((3, 2))
    assert f(plain).item() == ((plain @ w.data) ** 2).sum()  # an array input gets no gradient
