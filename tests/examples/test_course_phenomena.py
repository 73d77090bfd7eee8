"""What the course texts state and these tests check exactly: linear stacks collapse, a step passes no
gradient, hardmax is softmax's limit with ties shared, the RBF network fitted by least squares, and the
threshold-unit and perceptron-label conventions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Tensor, no_grad
from examples.logic_gates import collapse_linear
from examples.universal_approximation import rbf_least_squares
from tests.support.gradients import central_difference


@settings(max_examples=20)
@given(sizes=st.lists(st.integers(1, 5), min_size=3, max_size=5), seed=st.integers(0, 2**16))
def test_stacked_linear_layers_are_one_linear_layer(sizes, seed):
    rng = np.random.default_rng(seed)
    stack = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
    for p in stack.parameters():  # small integers: every product and sum is exact
        p.data = rng.integers(-3, 4, size=p.shape).astype(float)
    x = Tensor(rng.integers(-3, 4, size=(4, sizes[0])).astype(float), requires_grad=True)
    W, b = collapse_linear(stack)
    out = stack(x)
    assert np.array_equal(out.data, x.data @ W.T + b)
    out.sum().backward()
    assert np.array_equal(x.grad, np.tile(W.sum(axis=0), (4, 1)))  # its Jacobian is W, everywhere


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16))
def test_a_step_activation_passes_no_gradient(seed):
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(10, 3)), rng.integers(0, 2, 10), rng.normal(size=3)

    def loss(w):
        return float(np.mean((np.where(X @ w > 0, 1.0, 0.0) - y) ** 2))

    (numeric,) = central_difference(loss, [w])
    assert np.all(numeric == 0.0)  # piecewise constant: no slope anywhere
    w_t = Tensor(w, requires_grad=True)
    out = autograd.where(Tensor(X) @ w_t > 0, 1.0, 0.0)
    assert not out.requires_grad  # no path back to w
    with pytest.raises(RuntimeError, match="does not require grad"):
        ((out - y) ** 2).mean().backward()


def test_hardmax_is_the_limit_of_softmax_with_ties_shared():
    z = Tensor(np.array([1.0, 3.0, 3.0, 0.0, 2.5]))
    hardmax = np.array([0, 0.5, 0.5, 0, 0])
    distances = []
    for beta in (1.0, 10.0, 100.0, 1e3, 1e4):
        a = nn.functional.softmax(z, beta=beta).data
        assert a[1] == a[2]  # tied maxima share equally at every beta
        distances.append(np.abs(a - hardmax).max())
    assert all(d1 > d2 for d1, d2 in zip(distances, distances[1:4]))
    assert distances[-1] == 0.0  # exactly hardmax in float64
    assert np.array_equal(nn.functional.softmax(Tensor(np.array([2.0, 2.0, 2.0])), beta=1e6).data, np.full(3, 1 / 3))


@pytest.mark.parametrize("bias", [True, False])
def test_rbf_fitted_the_books_way(bias):
    x = np.linspace(0, 2 * np.pi, 40)[:, None]
    y = np.sin(x[:, 0]) + 0.3
    rbf = nn.RBF(1, 8, rng=0)
    rbf.centers.data = np.linspace(0, 2 * np.pi, 8)[:, None]
    rbf.beta.data = np.full(8, 0.5)
    b = rbf_least_squares(rbf, x, y, bias=bias)
    assert (b != 0.0) == bias
    # least squares: the gradient of the squared error in the output weights (and bias) is zero
    b_t = Tensor(np.array(b), requires_grad=True)
    loss = ((rbf(x) + b_t - y) ** 2).sum()
    loss.backward()
    assert np.abs(rbf.weight.grad).max() < 1e-9 and (not bias or abs(b_t.grad) < 1e-9)
    with no_grad():
        ls_error = float(((rbf(x).data + b - y) ** 2).sum())
    # the all-gradient fit of the same weights (centres and widths fixed) cannot beat it
    opt = nn.optim.Adam([rbf.weight, b_t] if bias else [rbf.weight], lr=0.05)
    rbf.weight.data = np.zeros(8)
    for _ in range(300):
        opt.zero_grad()
        ((rbf(x) + (b_t if bias else 0.0) - y) ** 2).sum().backward()
        opt.step()
    with no_grad():
        assert float(((rbf(x).data + (b_t.data if bias else 0.0) - y) ** 2).sum()) >= ls_error


def test_rbf_interpolates_with_one_centre_per_point():
    x = np.array([[0.0], [1.0], [2.5], [4.0]])
    y = np.array([1.0, -2.0, 0.5, 3.0])
    rbf = nn.RBF(1, 4, rng=0)
    rbf.centers.data = x.copy()
    rbf.beta.data = np.ones(4)
    rbf_least_squares(rbf, x, y, bias=False)
    with no_grad():
        np.testing.assert_allclose(rbf(x).data, y, atol=1e-12)


def test_threshold_unit_at_exactly_the_threshold():
    # the notes' perceptron: weights (6, 2, 2), threshold 5; (0, 1, 1) gives w.x = 4
    notes = nn.MPNeuron.from_threshold([6, 2, 2], 4, value_at_zero=0)  # "output 0 when w.x <= threshold"
    book = nn.MPNeuron.from_threshold([6, 2, 2], 4, value_at_zero=1)  # 西瓜书: f(0) = 1
    assert notes([0, 1, 1]) == 0 and book([0, 1, 1]) == 1
    assert notes([1, 0, 0]) == book([1, 0, 0]) == 1 and notes([0, 1, 0]) == book([0, 1, 0]) == 0
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert nn.MPNeuron([1, 1], -2, value_at_zero=1)(X).tolist() == [0, 0, 0, 1]  # AND needs f(0) = 1
    assert nn.MPNeuron([1, 1], -2, value_at_zero=0)(X).tolist() == [0, 0, 0, 0]


def test_perceptron_zero_one_rule():
    p = nn.Perceptron(2, lr=0.5, labels=(0, 1))
    p.weight, p.bias = np.array([1.0, -1.0]), 0.0
    x = np.array([2.0, 1.0])  # w.x + b = 1 >= 0: y_hat = 1
    p.fit(x[None], [0], max_epochs=1)  # delta w = eta (y - y_hat) x = -0.5 x
    assert p.weight.tolist() == [0.0, -1.5] and p.bias == -0.5
    assert p.predict(np.array([[0.0, 0.0], [0.0, 1.0]])).tolist() == [0, 0]
    on_boundary = nn.Perceptron(2, labels=(0, 1))
    assert on_boundary.predict([0.0, 0.0]) == 1  # its step has f(0) = 1
    with pytest.raises(ValueError, match=r"Perceptron.fit: labels must be 0 or 1 \(labels=\(0, 1\)\), found \[-1, 1\]"):
        on_boundary.fit(np.zeros((2, 2)), [-1, 1])


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16))
def test_both_label_forms_make_the_same_updates_off_the_boundary(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2))
    score = X @ np.array([1.0, -2.0]) + 0.3
    X = X[np.abs(score) > 0.5]  # separable with a margin: the rule converges
    y01 = (X @ np.array([1.0, -2.0]) + 0.3 > 0).astype(int)
    first_negative = np.argmin(y01)  # start on a 0 label: both forms update the same way
    order = np.r_[first_negative, np.delete(np.arange(len(X)), first_negative)]
    X, y01 = X[order], y01[order]
    pm, zo = nn.Perceptron(2, lr=0.7), nn.Perceptron(2, lr=0.7, labels=(0, 1))
    pm.fit(X, 2 * y01 - 1, max_epochs=1000)
    zo.fit(X, y01, max_epochs=1000)
    assert np.array_equal(pm.weight, zo.weight) and pm.bias == zo.bias and pm.errors_ == zo.errors_
    assert zo.converged and np.array_equal(zo.predict(X), y01) and np.array_equal(pm.predict(X), 2 * y01 - 1)
