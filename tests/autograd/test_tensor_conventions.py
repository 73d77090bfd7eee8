"""Tensors behave as a PyTorch user expects (issue 13, items 1, 2, 5, 7, 11, 12).

PyTorch is not a dependency: its documented behaviour is written out as expected values.
"""

import operator
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import nn
from autograd import (
    IndexOutOfRange,
    Tensor,
    Value,
    grad,
    hessian,
    jacobian,
    jvp,
    maximum,
    minimum,
    no_grad,
    trace,
    value_and_grad,
    where,
)
from tests.support.gradients import central_difference

SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
IN_PLACE = {
    "+=": (operator.iadd, np.add),
    "-=": (operator.isub, np.subtract),
    "*=": (operator.imul, np.multiply),
    "/=": (operator.itruediv, np.true_divide),
}


def small_ints_as_floats(shape):
    """Few distinct values, so that equal elements (ties) are common."""
    return arrays(np.float64, shape, elements=st.integers(-2, 2).map(float))


def nonzero(shape):
    return arrays(np.float64, shape, elements=st.floats(0.5, 2.0)).map(lambda a: a * np.sign(a - 1.2 + 1e-9))


# 1. Comparisons and truth values ----------------------------------------------


@settings(max_examples=20)
@given(
    st.sampled_from(sorted(COMPARISONS)), mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), st.data()
)
def test_comparisons_are_elementwise_boolean_tensors_without_grad(symbol, shapes, data):
    a = data.draw(small_ints_as_floats(shapes.input_shapes[0]))
    b = data.draw(small_ints_as_floats(shapes.input_shapes[1]))
    compare = COMPARISONS[symbol]
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    for left, right in ((x, y), (x, b), (a, y)):
        out = compare(left, right)
        assert isinstance(out, Tensor) and out.dtype == np.bool_
        assert not out.requires_grad and out.is_leaf
        np.testing.assert_array_equal(out.data, compare(a, b))


def test_comparisons_with_numbers_give_the_expected_masks():
    t = Tensor([1.0, 2.0, 3.0])
    assert (t == 2).data.tolist() == [False, True, False]
    assert (t != 2).data.tolist() == [True, False, True]
    assert (2 == t).data.tolist() == [False, True, False]  # reflected
    assert (t >= 2).data.tolist() == [False, True, True]
    pred, labels = Tensor(np.array([0, 2, 1, 1])), np.array([0, 1, 1, 1])
    assert (pred == labels).mean().item() == 0.75  # accuracy, as in PyTorch


def test_comparison_with_something_that_is_no_number_is_false_as_in_python():
    t = Tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711 - the point of the test
    assert (t == "a") is False


def test_comparison_of_shapes_that_do_not_broadcast_names_the_operation_and_shapes():
    with pytest.raises(ValueError, match=r"equal: shapes \(2,\) and \(3,\)"):
        Tensor(np.zeros(2)) == Tensor(np.zeros(3))  # noqa: B015  (the comparison raises)


def test_hash_stays_identity_so_tensors_are_dict_keys():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)


def test_the_backward_pass_never_compares_nodes_with_eq():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    shared = x * 3.0  # reused by several ops, each with equal data
    y = (shared * shared + shared * shared + x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 36.0 * x.data + 2.0 * x.data)


@pytest.mark.parametrize(
    "data, expected", [(0.0, False), ([0.0], False), ([[2.0]], True), (np.array([np.nan]), True), (np.int64(0), False)]
)
def test_bool_of_one_element(data, expected):
    assert bool(Tensor(data)) is expected


def test_float_and_int_of_one_element_truncate_as_pytorch():
    assert float(Tensor([2.5])) == 2.5 and type(float(Tensor(np.float32(1.5)))) is float
    assert int(Tensor(3.7)) == 3 and int(Tensor([[-3.7]])) == -3 and int(Tensor(np.array([7]))) == 7
    loss, best = Tensor(0.25, requires_grad=True) * 2, 1.0
    assert (loss < best) and not (loss > best)  # `if loss < best:` works


@pytest.mark.parametrize("convert", [bool, float, int])
@pytest.mark.parametrize("shape", [(2,), (2, 3), (0,)])
def test_conversions_of_several_elements_name_the_shape(convert, shape):
    with pytest.raises(ValueError, match=re.escape(f"{convert.__name__}: ") + ".*" + re.escape(str(shape))):
        convert(Tensor(np.zeros(shape)))


def test_int_of_infinity_is_a_value_error():
    with pytest.raises(ValueError, match="int: cannot convert inf"):
        int(Tensor(np.inf))


def test_iterating_a_0d_tensor_raises_type_error_as_pytorch():
    with pytest.raises(TypeError, match=r"iteration over a 0-d tensor"):
        list(Tensor(3.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(Tensor(3.0, requires_grad=True))


def test_iterating_gives_rows_that_carry_gradients():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(rows[1].data, [2.0, 3.0])
    total = sum(r * (i + 1) for i, r in enumerate(rows))
    total.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])


def test_membership_is_any_element_equal():
    t = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert 3.0 in t and 5 not in t and np.float32(4) in t
    with pytest.raises(TypeError, match="in: "):
        "a" in t  # noqa: B015  (the membership test raises)


# 2. In-place operators ---------------------------------------------------------


@st.composite
def target_and_operand(draw):
    """Arrays a and b where b broadcasts to a's shape (leading axes dropped, some sides 1)."""
    target = draw(SHAPES)
    drop = draw(st.integers(0, len(target)))
    other = tuple(1 if draw(st.booleans()) else n for n in target[drop:])
    return draw(nonzero(target)), draw(nonzero(other))


@settings(max_examples=20)
@given(st.sampled_from(sorted(IN_PLACE)), target_and_operand())
def test_in_place_operators_write_into_the_same_array_as_numpy(symbol, arrays_in):
    a, b = arrays_in
    iop, ufunc = IN_PLACE[symbol]
    expected = ufunc(a, b)
    for other in (b, Tensor(b), b.tolist()):
        t = Tensor(a.copy())
        array = t.data
        result = iop(t, other)
        assert result is t and t.data is array  # the same tensor, the same array
        np.testing.assert_allclose(t.data, expected, rtol=1e-15)


@pytest.mark.parametrize("symbol", sorted(IN_PLACE))
def test_in_place_keeps_float32(symbol):
    iop, _ = IN_PLACE[symbol]
    t = Tensor(np.full(3, 2.0, dtype=np.float32))
    t = iop(t, np.full(3, 4.0))  # a float64 array: the result is stored as float32
    t = iop(t, np.float64(2.0))
    assert t.dtype == np.float32


def test_sgd_step_in_no_grad_keeps_the_parameter():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    before = w
    with no_grad():
        w -= 0.1 * w.grad  # PyTorch's manual SGD step
    assert w is before and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.data, [0.8, -1.6])
    w.grad = None
    (w * w).sum().backward()  # the next step works: w is still the parameter
    np.testing.assert_allclose(w.grad, [1.6, -3.2])


@pytest.mark.parametrize("symbol", sorted(IN_PLACE))
def test_in_place_on_a_leaf_that_requires_grad_raises_pytorchs_error(symbol):
    iop, _ = IN_PLACE[symbol]
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="w")
    with pytest.raises(
        RuntimeError,
        match=re.escape(symbol) + ": a leaf Variable that requires grad is being used in an in-place operation.*'w'",
    ):
        iop(w, 1.0)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_in_place_after_the_forward_pass_makes_backward_refuse():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="w")
    loss = (w * w).sum()
    with no_grad():
        w += 1.0
    with pytest.raises(RuntimeError, match="'w' was modified"):
        loss.backward()


def test_in_place_through_a_view_makes_backward_refuse():
    """x.T shares x's memory: writing through it changes what the graph saved of x."""
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    loss = (x * x).sum()
    with no_grad():
        view = x.T
        view += 1.0
    np.testing.assert_array_equal(x.data, [[2.0, 3.0], [4.0, 5.0]])
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_in_place_on_a_result_that_was_used_makes_its_users_refuse():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3.0
    y = (h * h).sum()  # saved h's old values
    h += 1.0
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_recorded_in_place_with_an_operand_viewing_the_target_refuses_backward():
    """h *= v where v is a view of h: the product's gradient needs v's old values, now overwritten."""
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    h = x * 1.0
    with no_grad():
        view = h.T
    h *= view
    np.testing.assert_array_equal(h.data, [[1.0, 6.0], [6.0, 16.0]])
    with pytest.raises(RuntimeError, match="modified"):
        h.sum().backward()


@settings(max_examples=10)
@given(st.sampled_from(sorted(IN_PLACE)), SHAPES.flatmap(nonzero))
def test_in_place_in_the_graph_is_differentiated(symbol, a):
    """With grad mode on, `h op= g(x)` on a non-leaf is recorded, as in PyTorch."""
    iop, ufunc = IN_PLACE[symbol]

    def f(x):
        h = x * 1.5
        iop(h, x.sin() + 2.0)  # the result is not rebound: h itself must change
        iop(h, h)  # the tensor with itself
        return h

    x = Tensor(a, requires_grad=True)
    out = f(x)
    assert out.requires_grad and not out.is_leaf
    expected = ufunc(1.5 * a, np.sin(a) + 2.0)
    np.testing.assert_allclose(out.data, ufunc(expected, expected), rtol=1e-14)
    w = np.random.default_rng(1).normal(size=out.shape)
    (out * w).sum().backward()
    numeric = central_difference(lambda v: float(np.sum(f(Tensor(v)).data * w)), [a])[0]
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-8)


def test_in_place_closed_forms():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    h = x * 2.0
    h *= x  # h = 2 x^2
    h.sum().backward()
    np.testing.assert_allclose(x.grad, 4.0 * x.data)
    x.grad = None
    total = Tensor(0.0)  # accumulating losses, a common PyTorch idiom
    for k in (1.0, 2.0, 3.0):
        total += (x * k).sum()
    assert total.requires_grad and total.item() == 36.0
    total.backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0, 6.0])


def test_in_place_carries_forward_mode_tangents():
    def f(x):
        h = x * 2.0
        h += x * x
        return h

    _, tangent = jvp(f, (np.array([1.0, 3.0]),), (np.array([1.0, 1.0]),))
    np.testing.assert_allclose(tangent, [4.0, 8.0])  # 2 + 2x


def test_in_place_errors_name_the_operator():
    t = Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"\+=: .*\(2,\) and \(2, 2\)"):
        t += np.ones((2, 2))
    ints = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="/=: .*int64 and int64 is float64"):
        ints /= 2
    ints += 3  # int stays int, as in PyTorch
    assert ints.data.tolist() == [4, 5] and ints.dtype == np.int64
    with pytest.raises(TypeError):
        t += "a"


def test_in_place_into_a_read_only_array_is_a_runtime_error():
    """A graph may hold arrays read-only; NumPy's ValueError becomes a RuntimeError naming the op."""
    data = np.ones(2)
    data.flags.writeable = False
    with pytest.raises(RuntimeError, match=r"-=: the data of the tensor of shape \(2,\) is read-only"):
        t = Tensor(data)
        t -= 1.0
    np.testing.assert_array_equal(data, [1.0, 1.0])


def test_in_place_inside_a_traced_function_is_refused():
    w = Tensor(np.ones(3), requires_grad=True)

    def step(x):
        h = x * w
        h += 1.0
        return h.sum()

    with pytest.raises(RuntimeError, match=r"\+=: in-place operators cannot be traced"):
        trace(step, np.ones(3))


# 5. Conveniences -------------------------------------------------------------


def test_requires_grad_underscore():
    t = Tensor(np.ones(2))
    assert t.requires_grad_() is t and t.requires_grad
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, [2.0, 2.0])
    assert t.requires_grad_(False) is t and not t.requires_grad
    out = Tensor(np.ones(2), requires_grad=True) * 2
    assert out.requires_grad_() is out
    with pytest.raises(RuntimeError, match="requires_grad_: only a leaf"):
        out.requires_grad_(False)


@pytest.mark.parametrize("data", [np.array([1, 2]), np.array([True, False])])
def test_requires_grad_underscore_refuses_what_the_constructor_refuses(data):
    with pytest.raises(TypeError, match="requires_grad=True needs floating-point data") as constructor:
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError) as method:
        Tensor(data).requires_grad_()
    assert str(method.value).replace("requires_grad_", "Tensor") == str(constructor.value)


@settings(max_examples=20)
@given(arrays(np.float64, SHAPES, elements=st.integers(-3, 3).map(float)), st.data())
def test_argmax_argmin_match_numpy_and_carry_no_gradient(a, data):
    t = Tensor(a, requires_grad=True)
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1)) if a.ndim else None
    for method, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        got = getattr(t, method)(axis)
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, ref(a, axis=axis))
        keep = getattr(t, method)(axis, keepdims=True)
        assert keep.shape == ref(a, axis=axis, keepdims=True).shape


def test_argmax_errors():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range"):
        t.argmax(2)
    with pytest.raises(ValueError, match=r"argmin: .*empty tensor of shape \(0,\)"):
        Tensor(np.zeros(0)).argmin()
    with pytest.raises(TypeError, match="argmax: axis"):
        t.argmax((0, 1))
    assert Tensor(np.array([[1.0, 5.0], [7.0, 2.0]])).argmax().item() == 2  # flattened, as PyTorch


@pytest.mark.parametrize("axes, bad", [((5, 0), 5), ((0, 2), 2), ((-3, 0), -3)])
def test_transpose_axis_out_of_range_is_a_value_error(axes, bad):
    with pytest.raises(ValueError, match=rf"transpose: axis {bad} is out of range .*\(2, 3\)"):
        Tensor(np.zeros((2, 3))).transpose(*axes)
    assert Tensor(np.zeros((2, 3))).transpose(-1, -2).shape == (3, 2)


def test_integer_to_negative_integer_power_names_the_cause():
    with pytest.raises(ValueError, match=r"\*\*: Integers to negative integer powers are not allowed"):
        Tensor(np.array([2, 3])) ** -1
    with pytest.raises(ValueError, match="negative integer powers"):
        Tensor(np.array([2, 3])) ** Tensor(np.array([-1, 2]))
    np.testing.assert_allclose((Tensor(np.array([2.0, 4.0])) ** -1).data, [0.5, 0.25])


# 7. dtype ---------------------------------------------------------------------

SCALAR_OPERATIONS = {
    "+": lambda t, s: t + s,
    "r+": lambda t, s: s + t,
    "-": lambda t, s: t - s,
    "r-": lambda t, s: s - t,
    "*": lambda t, s: t * s,
    "r*": lambda t, s: s * t,
    "/": lambda t, s: t / s,
    "r/": lambda t, s: s / t,
    "**": lambda t, s: t**s,
    "r**": lambda t, s: s**t,
    "maximum": maximum,
    "minimum": minimum,
    "where": lambda t, s: where(np.array([True, False]), t, s),
    "clip": lambda t, s: t.clip(s * 0.5, s),
    "+=": lambda t, s: operator.iadd(Tensor(t.data.copy()), s),
}


@pytest.mark.parametrize("name", sorted(SCALAR_OPERATIONS))
@pytest.mark.parametrize(
    "dtype, scalar",
    [
        (np.float32, np.float64(2.0)),
        (np.float16, np.float32(2.0)),
        (np.float32, np.int64(2)),
        (np.float64, np.float32(2.0)),
    ],
)
def test_a_numpy_scalar_does_not_promote_a_tensor(name, dtype, scalar):
    """PyTorch's rule: the tensor's dtype decides; the values are those of the Python number."""
    t = Tensor(np.array([1.5, 3.0], dtype=dtype))
    out = SCALAR_OPERATIONS[name](t, scalar)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, SCALAR_OPERATIONS[name](t, scalar.item()).data)


def test_numpy_scalars_on_integer_tensors_follow_python_numbers():
    small = Tensor(np.array([1, 2], dtype=np.int8))
    assert (small + np.int64(3)).dtype == np.int8  # as small + 3
    assert (small * np.float64(2.5)).dtype == np.float64  # as small * 2.5
    np.testing.assert_array_equal((small * np.float64(2.5)).data, [2.5, 5.0])


def test_x32_to_a_numpy_float64_power_is_float32_with_a_float32_gradient():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x ** np.float64(2)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_float32_stays_float32_through_the_transforms():
    x = np.array([1.0, 2.0], dtype=np.float32)
    seen = []

    def f(a, b, c):
        seen.append((a.dtype, b.dtype, c.dtype))
        return (a * a * a * b * c).sum()

    half = np.float32(0.5)
    assert grad(f)(x, x, 0.5).dtype == np.float32
    value, (ga, gb) = value_and_grad(f, argnums=(0, 1))(x, x, half)
    assert ga.dtype == gb.dtype == np.float32 and isinstance(value, float)
    np.testing.assert_allclose(ga, 3 * x**2 * x * 0.5)
    assert jacobian(lambda a: a * a)(x).dtype == np.float32
    assert jacobian(lambda a: a * a, mode="forward")(x).dtype == np.float32
    h = hessian(lambda a: (a * a * a).sum())(x)
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, np.diag(6 * x))
    assert {d for triple in seen for d in triple} == {np.dtype(np.float32)}


def test_a_python_float_argument_takes_the_dtype_the_arrays_share():
    seen = []

    def f(*args):
        seen.append(args[-1].dtype)
        return sum(a.sum() for a in args)

    grad(f)(np.ones(2), 0.5)
    grad(f)(np.ones(2, np.float32), 0.5)
    grad(f)(np.ones(2, np.float32), np.ones(2), 0.5)  # no one dtype: float64
    assert seen == [np.float64, np.float32, np.float64]


# 11. Indexing types and scalar networks -------------------------------------------


@pytest.mark.parametrize("index", ["a", 1.5, (0, 1.5), np.array([0.0, 1.0]), [0.5]])
def test_indexing_with_a_wrong_type_is_a_type_error(index):
    t = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="getitem: .* is not an index"):
        t[index]


def test_indexing_out_of_range_is_still_index_out_of_range():
    with pytest.raises(IndexOutOfRange, match=r"getitem: .*\(2, 3\)"):
        Tensor(np.zeros((2, 3)))[5]


def test_scalar_networks_take_numpy_scalars():
    model = nn.scalar.MLP([2, 3, 1], rng=0)
    as_floats = model([0.0, 1.0]).data
    assert model(np.array([0, 1])).data == as_floats
    np.testing.assert_allclose(model(np.array([0.0, 1.0], dtype=np.float32)).data, as_floats)
    w = [Value(0.5), Value(-1.0)]
    z = Value.weighted_sum(w, [np.int64(2), np.float32(3.0)], np.float64(0.25))
    assert z.data == 0.5 * 2 - 3.0 + 0.25
    z.backward()
    assert (w[0].grad, w[1].grad) == (2.0, 3.0)
    with pytest.raises(TypeError, match="Value"):
        Value.weighted_sum(w, ["a", 1.0])


# 12. Declared dependencies ------------------------------------------------------


def test_numpy_requirement_is_the_one_the_float32_promises_hold_for():
    """NumPy 1's value-based casting made float32 losses float64; 2 is required and installed."""
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'"numpy>=2[",]', pyproject)
    assert int(np.__version__.split(".")[0]) >= 2
