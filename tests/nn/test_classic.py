"""nn.classic: the course notes' threshold-unit and perceptron examples."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.classic import MPNeuron, Perceptron

BITS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def test_nand():
    unit = MPNeuron([-2, -2], 3)
    np.testing.assert_array_equal(unit(BITS), [1, 1, 1, 0])


def test_and_needs_step_of_zero_to_be_one():
    # x1 + x2 - 2 is exactly 0 at (1, 1): AND only works with f(0) = 1.
    np.testing.assert_array_equal(MPNeuron([1, 1], -2)(BITS), [0, 0, 0, 1])
    np.testing.assert_array_equal(MPNeuron([1, 1], -2, value_at_zero=0)(BITS), [0, 0, 0, 0])


def test_or_and_not():
    np.testing.assert_array_equal(MPNeuron([1, 1], -0.5)(BITS), [0, 1, 1, 1])
    not_unit = MPNeuron([-0.6], 0.5)
    np.testing.assert_array_equal(not_unit(np.array([[0], [1]])), [1, 0])


def test_two_layer_xor():
    h1 = MPNeuron([1, 1], -0.5)
    h2 = MPNeuron([-1, -1], 1.5)
    out = MPNeuron([1, 1], -1.5)
    hidden = np.stack([h1(BITS), h2(BITS)], axis=1)
    np.testing.assert_array_equal(out(hidden), [0, 1, 1, 0])


def test_perceptron_with_threshold():
    # Weights (6, 2, 2), threshold 5: 6 > 5 fires, 4 < 5 does not; threshold 3 fires on 4.
    unit = MPNeuron([6, 2, 2], -5)
    assert unit([1, 0, 0]) == 1
    assert unit([0, 1, 1]) == 0
    assert MPNeuron([6, 2, 2], -3)([0, 1, 1]) == 1
    assert MPNeuron.from_threshold([6, 2, 2], 5)([0, 1, 1]) == 0
    assert MPNeuron.from_threshold([6, 2, 2], 3)([0, 1, 1]) == 1


def test_mp_output_types():
    unit = MPNeuron([1, 1], -0.5)
    single = unit(np.array([1, 0]))
    assert isinstance(single, int) and single == 1
    batch = unit(BITS)
    assert batch.shape == (4,) and batch.dtype == np.int64
    assert set(np.unique(batch)) <= {0, 1}


def test_mp_errors():
    with pytest.raises(ValueError, match=r"MPNeuron: input has shape \(4, 3\), expected \(n, 2\)"):
        MPNeuron([1, 1], 0)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="MPNeuron: value_at_zero must be 0 or 1"):
        MPNeuron([1, 1], 0, value_at_zero=0.5)


PM = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


@pytest.mark.parametrize("name,y", [("AND", [-1, -1, -1, 1]), ("OR", [-1, 1, 1, 1]), ("NAND", [1, 1, 1, -1])])
def test_perceptron_learns_separable_gates(name, y):
    p = Perceptron(2)
    assert p.fit(PM, y) is True
    assert p.converged
    np.testing.assert_array_equal(p.predict(PM), y)
    # Every training point is strictly on its side (the <= 0 rule counts ties as errors).
    assert np.all(np.array(y) * (PM @ p.weight + p.bias) > 0)
    assert p.errors_[-1] == 0 and all(e > 0 for e in p.errors_[:-1])
    assert isinstance(p.bias, float) and p.weight.shape == (2,)


def test_perceptron_not():
    p = Perceptron(1, lr=0.5)
    assert p.fit([[0], [1]], [1, -1])
    np.testing.assert_array_equal(p.predict([[0], [1]]), [1, -1])
    # Traced by hand: both w and b move by lr * y on each error.
    np.testing.assert_array_equal(p.weight, [-1.0])
    assert p.bias == 0.5
    assert p.errors_ == [2, 2, 1, 0]


def test_perceptron_fails_on_xor():
    p = Perceptron(2)
    assert p.fit(PM, [-1, 1, 1, -1], max_epochs=50) is False
    assert p.converged is False
    assert len(p.errors_) == 50 and min(p.errors_) > 0
    assert np.any(p.predict(PM) != [-1, 1, 1, -1])


def test_perceptron_rule_by_hand():
    # First epoch from w = 0 on AND, sample by sample.
    p = Perceptron(2, lr=1.0)
    p.fit(PM, [-1, -1, -1, 1], max_epochs=1)
    # (0,0),-1: 0 <= 0 error -> w=(0,0), b=-1; (0,1): -1*(-1)=1 ok; (1,0): ok;
    # (1,1),+1: 1*(-1) <= 0 error -> w=(1,1), b=0.
    np.testing.assert_array_equal(p.weight, [1.0, 1.0])
    assert p.bias == 0.0
    assert p.errors_ == [2]


def test_predict_maps_zero_to_minus_one():
    p = Perceptron(2)
    assert p.predict([0.0, 0.0]) == -1  # w = 0, b = 0: on the boundary
    np.testing.assert_array_equal(p.predict(PM), [-1, -1, -1, -1])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), d=st.integers(1, 4))
def test_perceptron_converges_on_separable_data(seed, n, d):
    # Labels from a random hyperplane with a margin: the convergence theorem applies.
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=d)
    w_true /= np.linalg.norm(w_true)
    b_true = rng.uniform(-1, 1)
    X = rng.normal(size=(n, d)) * 3
    s = X @ w_true + b_true
    keep = np.abs(s) > 0.5
    X, y = X[keep], np.where(s[keep] > 0, 1, -1)
    if len(y) == 0:
        return
    p = Perceptron(d, lr=0.1)
    assert p.fit(X, y, max_epochs=5000)
    np.testing.assert_array_equal(p.predict(X), y)


def test_perceptron_errors():
    with pytest.raises(ValueError, match=r"Perceptron.fit: labels must be -1 or \+1, found \[0, 1\]"):
        Perceptron(2).fit(PM, [0, 0, 0, 1])
    with pytest.raises(ValueError, match=r"Perceptron.fit: input has shape \(4, 2\), expected \(n, 3\)"):
        Perceptron(3).fit(PM, [1, 1, 1, -1])
    with pytest.raises(ValueError, match=r"Perceptron.fit: y has shape \(3,\)"):
        Perceptron(2).fit(PM, [1, 1, -1])
    with pytest.raises(ValueError, match="Perceptron: n_inputs"):
        Perceptron(0)
