"""detect_anomaly(): the op that first makes a NaN or inf is named, with its phase and input shapes."""

import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value, anomaly, detect_anomaly, grad, scope
from autograd.engine import MODE


@pytest.fixture(autouse=True)
def quiet_numpy():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@settings(max_examples=25, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_log_of_zero_is_caught_in_the_forward_pass(shape, data):
    x = np.ones(shape)
    x[data.draw(st.tuples(*[st.integers(0, n - 1) for n in shape]))] = 0.0
    t = Tensor(x, requires_grad=True)
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            (t.log() * 0).sum().backward()
    message = str(info.value)
    assert message.startswith("detect_anomaly: op 'log' produced -inf")
    assert "forward pass" in message and f"inputs of shapes {shape}" in message


def test_sqrt_of_zero_is_caught_in_the_backward_pass():
    t = Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with detect_anomaly():
        y = t.sqrt().sum()  # sqrt(0) = 0 is fine going forward
        with pytest.raises(
            FloatingPointError,
            match=r"op 'sqrt' produced inf at index \(1,\) in the backward pass, in "
            r"the gradient for its input 0 \(its inputs of shapes \(2,\)\)",
        ):
            y.backward()


def test_values_are_checked_too():
    with detect_anomaly():
        with pytest.raises(
            FloatingPointError, match="op 'log' produced -inf in the forward pass from finite scalar inputs"
        ):
            Value(0.0).log()
        y = Value(0.0).sqrt() * 3
        with pytest.raises(FloatingPointError, match="op 'sqrt' produced inf in the backward pass"):
            y.backward()


def test_recorded_backward_passes_are_checked():
    with detect_anomaly():
        with pytest.raises(
            FloatingPointError,
            match="op '/' produced inf .* forward pass .*, "
            "while the backward pass of op 'sqrt' was "
            r"recorded \(create_graph\)",
        ):
            grad(lambda x: grad(lambda y: y.sqrt().sum())(x).sum())(np.array([1.0, 0.0]))


def test_non_finite_inputs_are_not_blamed_on_the_op():
    x = Tensor(np.array([np.inf, 1.0]), requires_grad=True)
    with detect_anomaly():
        y = (x.exp() * 0).sum()  # inf * 0 = nan, but the inf came with the data
        y.backward()
    assert np.isnan(y.data)


def test_the_scope_is_named():
    x = Tensor(np.array([-1.0]), requires_grad=True)
    with detect_anomaly(), scope("encoder"), pytest.raises(FloatingPointError, match="in scope 'encoder'"):
        x.log()


def test_off_by_default_restored_after_errors_and_per_thread():
    assert MODE.anomaly is False
    assert np.isneginf(Tensor(np.zeros(1)).log().data).all()  # no check outside the block
    with pytest.raises(FloatingPointError):
        with detect_anomaly():
            with detect_anomaly():
                pass
            assert MODE.anomaly is True
            Tensor(np.zeros(1)).log()
    assert MODE.anomaly is False
    seen = []
    with detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(MODE.anomaly))
        thread.start()
        thread.join()
    assert seen == [False]


def test_checks_cost_nothing_when_off(monkeypatch):
    calls = []
    monkeypatch.setattr(anomaly, "check_forward", lambda *a: calls.append(a))
    monkeypatch.setattr(anomaly, "check_backward", lambda *a: calls.append(a))
    x = Tensor(np.ones(3), requires_grad=True)
    (x.exp() * x).sum().backward()
    assert calls == []
    with detect_anomaly():
        (x.exp() * x).sum().backward()
    assert len(calls) == 3 + 3  # three ops forward, three vjps


def test_value_division_by_zero_is_checked():
    """Python refuses 1.0 / 0.0, so Value records the IEEE result itself; it is checked all the same."""
    with detect_anomaly(), pytest.raises(FloatingPointError, match="op '/' produced inf in the forward"):
        Value(1.0) / Value(0.0)


def test_recorded_backward_of_a_value_names_the_op_and_the_mode_forgets_it_afterwards():
    y = Value(0.0).sqrt()  # d sqrt(x)/dx = 1 / (2 sqrt(x)): a '/' by 0 at x = 0
    with detect_anomaly():
        with pytest.raises(
            FloatingPointError, match="op '/' produced inf .* while the backward pass of op 'sqrt' was recorded"
        ):
            y.backward(create_graph=True)
        assert MODE.backward_op is None  # restored when the pass ends, even by an error
        with pytest.raises(FloatingPointError) as info:
            Value(-1.0).log()  # outside any backward pass: no outer op named
    assert "while the backward pass" not in str(info.value)
