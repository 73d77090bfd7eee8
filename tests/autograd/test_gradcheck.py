"""numerical_grad, gradcheck and gradgradcheck: accuracy, verdicts, messages and speed."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Function, GradcheckError, Tensor, Value, grad, gradcheck, gradgradcheck, numerical_grad
from tests.support.transform_cases import TENSOR_CASES, VALUE_CASES, array

CASES = TENSOR_CASES + VALUE_CASES
IDS = [f"{'Value' if c in VALUE_CASES else 'Tensor'} {c.name}" for c in CASES]
SETTINGS = settings(max_examples=25, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


def sin_exp(x):
    return (x.sin() * x.exp()).sum()


def sin_exp_grad(x):
    return np.exp(x) * (np.sin(x) + np.cos(x))


class Scaled(Function):
    """y = x * c with a backward that multiplies by `wrong` instead of c at one element."""

    @staticmethod
    def forward(ctx, x, c, wrong_at):
        ctx.c, ctx.wrong_at = c, wrong_at
        return x * c

    @staticmethod
    def backward(ctx, g):
        factor = np.full(g.shape, ctx.c)
        factor[ctx.wrong_at] += 0.5  # the bug
        return g * factor, None, None

    @staticmethod
    def jvp(ctx, t, *_):
        return t * ctx.c


# numerical_grad ------------------------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_numerical_grad_methods_and_their_errors(data):
    x = array(data.draw, data.draw(SHAPES), -1.5, 1.5)
    exact = sin_exp_grad(x)
    central = numerical_grad(sin_exp, x)
    forward = numerical_grad(sin_exp, x, eps=1e-7, method="forward")
    complex_step = numerical_grad(sin_exp, x, eps=1e-20, method="complex")
    assert central.shape == x.shape and central.dtype == np.float64
    np.testing.assert_allclose(central, exact, rtol=1e-8, atol=1e-8)  # O(eps^2) + round-off
    np.testing.assert_allclose(forward, exact, rtol=1e-5, atol=1e-5)  # O(eps)
    np.testing.assert_allclose(complex_step, exact, rtol=4e-15, atol=4e-15)  # no subtraction


def test_complex_step_has_no_round_off_where_differences_collapse():
    x = np.array([0.7])
    exact = sin_exp_grad(x)
    assert abs(numerical_grad(sin_exp, x, eps=1e-20, method="complex")[0] - exact[0]) < 1e-15
    assert abs(numerical_grad(sin_exp, x, eps=1e-20, method="central")[0] - exact[0]) > 1  # 0 / eps


def test_complex_step_through_elementwise_ops():
    x = np.array([0.3, 1.2, 0.8])
    m = np.array([[0.5, -1.0, 0.2], [0.1, 0.3, -0.4], [1.0, 0.0, 0.7]])

    def f(x):
        smooth = (x.tanh() + x.sigmoid()) * x.sqrt() / x.cos() + x.log() ** 2 + (x @ m).exp()
        return smooth.sum() + x.logsumexp()

    np.testing.assert_allclose(numerical_grad(f, x, eps=1e-20, method="complex"), grad(f)(x), rtol=1e-14, atol=1e-15)


def test_numerical_grad_return_types():
    g = numerical_grad(lambda a: a.sin(), Value(0.3))
    assert isinstance(g, float) and g == pytest.approx(np.cos(0.3), rel=1e-9)
    ga, gb = numerical_grad(lambda a, b: a * b * b, 2.0, 3.0)
    assert isinstance(ga, float) and ga == pytest.approx(9.0, rel=1e-9)
    assert gb == pytest.approx(12.0, rel=1e-9)
    labels = np.array([1, 0])
    gx, glabels = numerical_grad(lambda x, y: x[np.arange(2), y].sum(), np.ones((2, 2)), labels)
    np.testing.assert_allclose(gx, [[0, 1], [1, 0]], atol=1e-9)
    assert glabels is None  # integer inputs are constants


def test_numerical_grad_leaves_inputs_untouched_and_runs_float64():
    x = np.array([0.1, 0.2], dtype=np.float32)
    before = x.copy()
    g = numerical_grad(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x, before)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * before.astype(np.float64), rtol=1e-8)


def test_numerical_grad_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"numerical_grad: f must return a scalar .* shape \(3,\)"):
        numerical_grad(lambda x: x * 2, x)
    with pytest.raises(ValueError, match="numerical_grad: method must be one of"):
        numerical_grad(sin_exp, x, method="backward")
    with pytest.raises(ValueError, match="numerical_grad: eps must be positive, got 0"):
        numerical_grad(sin_exp, x, eps=0)
    with pytest.raises(ValueError, match="numerical_grad: method='complex' needs Tensor inputs"):
        numerical_grad(lambda a: a.sin(), Value(1.0), method="complex")
    with pytest.raises(ValueError, match="numerical_grad: no floating-point input"):
        numerical_grad(lambda n: Tensor(1.0), 3)


# gradcheck: every op ----------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_every_op_passes_gradcheck(case, data):
    """Reverse and forward rules of every op against central differences, entry by entry."""
    f, args = case.build(data.draw)
    assert gradcheck(f, *args, atol=1e-7, rtol=1e-6)


# gradcheck: verdicts and messages ---------------------------------------------------
def test_gradcheck_names_input_element_and_values():
    x = np.linspace(0.5, 1.5, 6).reshape(2, 3)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: Scaled.apply(x, 2.0, (1, 2)).sum(), x)
    message = str(info.value)
    assert "reverse-mode mismatch for input 0 at element (1, 2)" in message
    assert "analytical 2.5, numerical " in message and "error 0.5" in message


def test_gradcheck_checks_the_whole_jacobian_of_a_vector_function():
    x = np.linspace(0.5, 1.5, 4)
    y = np.ones(3)
    with pytest.raises(GradcheckError, match=r"input 1 at element \(2,\) \(output element \(2,\)\)"):
        gradcheck(lambda x, y: x[:3] * Scaled.apply(y, 3.0, 2), x, y)


def test_gradcheck_returns_false_instead_of_raising():
    bad = lambda x: Scaled.apply(x, 2.0, 0).sum()
    assert gradcheck(bad, np.ones(3), raise_exception=False) is False
    assert gradcheck(lambda x: (x * 2.0).sum(), np.ones(3), raise_exception=False) is True


def test_gradcheck_checks_forward_mode_separately():
    class WrongJvp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * 3

        @staticmethod
        def jvp(ctx, t):
            return t * 4

    with pytest.raises(GradcheckError, match="forward-mode mismatch for input 0"):
        gradcheck(lambda x: WrongJvp.apply(x), np.ones(2))
    assert gradcheck(lambda x: WrongJvp.apply(x), np.ones(2), check_forward=False)


def test_gradcheck_warns_on_float32_and_checks_in_float64():
    x = Tensor(np.array([0.3, 0.4], dtype=np.float32))
    with pytest.warns(UserWarning, match="gradcheck: input 0 has dtype float32; the check runs on a float64"):
        assert gradcheck(lambda t: (t.exp() * t).sum(), x, atol=1e-8, rtol=1e-7)


def test_gradcheck_values_and_constants():
    labels = np.array([2, 0])
    f = lambda a, x, y, b: (x.log_softmax()[np.arange(2), y] * a + b).sum()
    assert gradcheck(f, Tensor(0.7), np.random.default_rng(0).standard_normal((2, 3)), labels, 0.5)
    assert gradcheck(lambda a, b: (a * b).tanh() / b, Value(0.4), Value(-1.3))


# fast mode -------------------------------------------------------------------------
def mlp_problem(batch=4):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784))
    labels = rng.integers(0, 10, batch)
    params = [
        rng.standard_normal((32, 784)) * 0.05,
        rng.standard_normal(32) * 0.1,
        rng.standard_normal((10, 32)) * 0.2,
        rng.standard_normal(10) * 0.1,
    ]

    def loss(w1, b1, w2, b2):
        h = (x @ w1.T + b1).relu()
        return (h @ w2.T + b2).log_softmax()[np.arange(batch), labels].sum()

    return loss, params


def _evaluations(fn, *inputs, **options):
    calls = [0]

    def counted(*args):
        calls[0] += 1
        return fn(*args)

    assert gradcheck(counted, *inputs, **options)
    return calls[0]


def test_fast_mode_cost_does_not_grow_with_the_number_of_entries():
    # what makes fast mode fast: the same few evaluations for 28,586 entries as for 4, where the
    # full check makes two per entry (its speed is measured in benchmarks/, not here)
    loss, params = mlp_problem()
    tiny = [np.array([0.3]), np.array([0.2]), np.array([-0.4]), np.array([0.1])]
    small = _evaluations(lambda a, b, c, d: (a * b + c).tanh().sum() * d.sum(), *tiny, fast_mode=True)
    assert _evaluations(loss, *params, fast_mode=True) == small
    assert small < 2 * sum(p.size for p in params)


def test_fast_mode_catches_a_wrong_entry():
    x = np.linspace(0.5, 1.5, 30)
    with pytest.raises(
        GradcheckError,
        match=r"gradcheck \(fast mode\): reverse-mode mismatch for "
        r"input 0 along a random direction",
    ):
        gradcheck(lambda x: Scaled.apply(x, 2.0, 17).sum(), x, fast_mode=True)


@SETTINGS
@given(data=st.data())
def test_fast_mode_agrees_with_full_mode_on_correct_functions(data):
    a = array(data.draw, data.draw(SHAPES))
    b = array(data.draw, a.shape)
    f = lambda a, b: (a.tanh() * b + b.exp() / (1 + a * a)) ** 2
    assert gradcheck(f, a, b, fast_mode=True, atol=1e-7, rtol=1e-6)
    assert gradcheck(f, a, b, atol=1e-7, rtol=1e-6)


# kinks -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "f, x",
    [
        (lambda x: x.relu().sum(), np.array([0.0, 1.0, -2.0])),
        (lambda x: x.abs(), np.array([1.0, 3e-7])),  # at 0 itself central differences agree
        (lambda x: x.max(), np.array([1.0, 1.0, 1.0, 0.5])),  # three-way tie: 1/3 each
        (lambda x: x.clip(-1.0, 1.0).sum(), np.array([1.0, 0.2])),
    ],
    ids=["relu", "abs", "max ties", "clip"],
)
def test_kinks_are_reported_as_kinks(f, x):
    with pytest.raises(GradcheckError, match="nondiff_check=True tells"):
        gradcheck(f, x)
    with pytest.warns(UserWarning, match="at a kink, accepted"):
        assert gradcheck(f, x, nondiff_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random direction may or may not see the kink
        assert gradcheck(f, x, nondiff_check=True, fast_mode=True)


def test_fast_mode_reports_kinks_too():
    f, x = (lambda x: x.relu().sum()), np.array([0.0, 1.0, -2.0])
    with pytest.raises(GradcheckError, match=r"fast mode.*nondiff_check=True tells"):
        gradcheck(f, x, fast_mode=True)
    with pytest.warns(UserWarning, match=r"at a kink, accepted.*fast mode.*one-sided"):
        assert gradcheck(f, x, fast_mode=True, nondiff_check=True)


def test_a_wrong_derivative_at_a_kink_is_still_an_error():
    class BadRelu(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.relu()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * np.where(x.data > 0, 1.0, np.where(x.data == 0, 2.0, 0.0))

    with pytest.raises(
        GradcheckError, match=r"at element \(0,\).*analytical 2.*left 0, right (1|0\.99999).*\(a kink\)"
    ):
        gradcheck(lambda x: BadRelu.apply(x).sum(), np.array([0.0, 1.0]), nondiff_check=True, check_forward=False)


# gradgradcheck -------------------------------------------------------------------------
def test_gradgradcheck_passes_smooth_functions():
    x = np.array([[0.3, -0.8], [1.1, 0.4]])
    assert gradgradcheck(lambda x, w: (x @ w).tanh() * x.sum(), x, np.array([[0.5], [-1.0]]))
    assert gradgradcheck(lambda a, b: (a * b).sin() / b, Value(0.4), Value(0.9))


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    class DetachedSin(Function):
        """First derivative right, but its cosine is computed from raw data: its own derivative is lost."""

        @staticmethod
        def forward(ctx, x):
            ctx.input = x
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            return g * Tensor(np.cos(ctx.input.data))

        @staticmethod
        def jvp(ctx, t):
            return t * np.cos(ctx.input.data)

    f = lambda x: DetachedSin.apply(x).sum()
    assert gradcheck(f, np.array([0.5, 1.5]))
    with pytest.raises(GradcheckError, match="gradgradcheck: the gradient with respect to input 0"):
        gradgradcheck(f, np.array([0.5, 1.5]))
    assert gradgradcheck(f, np.array([0.5, 1.5]), raise_exception=False) is False


def test_gradcheck_errors():
    with pytest.raises(ValueError, match="gradcheck: no floating-point input to differentiate"):
        gradcheck(lambda n: Tensor(np.ones(2)) * n, 3)
    with pytest.raises(ValueError, match="gradcheck: eps must be positive"):
        gradcheck(sin_exp, np.ones(2), eps=-1e-6)
