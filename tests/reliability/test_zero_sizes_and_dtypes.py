"""Sizes of zero give a ValueError naming the function (never ZeroDivisionError), an empty
initialisation is PyTorch's no-op, and float32 layers stay float32 for float64 arrays and h0."""

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import init


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: nn.l2_penalty(nn.Linear(2, 1), 0.1, 0),
            r"l2_penalty: n, the size of the training set, must be positive, got 0",
        ),
        (lambda: nn.l2_penalty(nn.Linear(2, 1), 0.1, -5), r"l2_penalty: n, .* got -5"),
        (lambda: nn.RBF(2, 0), r"RBF: n_centers must be a positive int, got 0"),
        (lambda: nn.RBF(0, 3), r"RBF: in_features must be a positive int, got 0"),
        (lambda: nn.ElmanRNN(2, 0), r"ElmanRNN: hidden_size must be a positive int, got 0"),
        (lambda: nn.ElmanRNN(0, 2), r"ElmanRNN: input_size must be a positive int, got 0"),
        (lambda: nn.ElmanRNN(2, 1.5), r"ElmanRNN: hidden_size must be a positive int, got 1.5"),
        (lambda: nn.Linear(2, 0), r"Linear: out_features must be a positive int, got 0"),
    ],
)
def test_zero_sizes_raise_value_error_naming_the_function(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "initialise", [init.kaiming_normal_, init.kaiming_uniform_, init.xavier_normal_, init.xavier_uniform_]
)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3)])
def test_initialising_an_empty_parameter_is_a_no_op_with_a_warning(initialise, shape):
    p = nn.Parameter(np.zeros(shape))
    version = p._version
    with pytest.warns(
        UserWarning,
        match=rf"{initialise.__name__}: initializing a zero-element tensor "
        rf"\(shape \({shape[0]}, .*\)\) is a no-op",
    ):
        assert initialise(p, rng=0) is p
    assert p.shape == shape and p._version == version


def test_l2_penalty_with_a_positive_n_is_lam_over_2n_sum_w2():
    model = nn.Linear(2, 1, rng=0)
    w = model.weight.data
    assert nn.l2_penalty(model, 0.5, 4).item() == pytest.approx(0.5 / 8 * np.sum(w * w), rel=1e-14)


def test_prelu_keeps_its_dtype_for_float64_arrays():
    layer = nn.PReLU(3, dtype=np.float32)
    x = np.array([[-1.0, 2.0, -3.0]])
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.array([[-0.25, 2.0, -0.75]], np.float32))
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32


@pytest.mark.parametrize("as_tensor", [False, True])
def test_elman_rnn_casts_a_float64_h0_to_a_float32_layer(as_tensor):
    rnn = nn.ElmanRNN(2, 3, rng=0, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(4, 2, 2)).astype(np.float32)
    h0 = np.random.default_rng(1).normal(size=(2, 3))  # float64
    h0_given = Tensor(h0, requires_grad=True) if as_tensor else h0
    out = rnn(x, h0=h0_given)
    assert out.dtype == np.float32 and out.shape == (4, 2, 3)
    expected = rnn(x, h0=h0.astype(np.float32))
    np.testing.assert_array_equal(out.data, expected.data)
    if as_tensor:
        out.sum().backward()
        assert h0_given.grad.dtype == np.float64 and np.all(np.isfinite(h0_given.grad))
