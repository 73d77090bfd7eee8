"""gradcheck of a correct custom Function without a jvp passes, skipping forward mode with a warning
(the README calls jvp optional); a wrong backward still fails."""

import numpy as np
import pytest

from autograd import Function, GradcheckError, Value, gradcheck, gradgradcheck


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x**2


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("x", [np.array([0.5, -1.5, 2.0]), Value(0.7)])
def test_a_correct_function_without_jvp_passes_and_says_forward_mode_was_skipped(fast_mode, x):
    with pytest.warns(
        UserWarning,
        match=r"gradcheck: Cube defines no jvp, so forward mode was not checked "
        r"\(reverse mode was\)",
    ):
        assert gradcheck(lambda t: Cube.apply(t) * 2.0, x, fast_mode=fast_mode) is True


def test_a_wrong_backward_still_fails():
    with pytest.raises(GradcheckError, match="reverse"):
        gradcheck(WrongCube.apply, np.array([0.5, -1.5, 2.0]))


def test_check_forward_false_needs_no_warning(recwarn):
    assert gradcheck(Cube.apply, np.array([0.5, 2.0]), check_forward=False)
    assert not [w for w in recwarn if "jvp" in str(w.message)]


def test_gradgradcheck_of_a_function_without_jvp():
    with pytest.warns(UserWarning, match="Cube defines no jvp"):
        assert gradgradcheck(Cube.apply, np.array([0.5, -1.5]))
