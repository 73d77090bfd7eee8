"""conv2d, conv1d, max_pool2d, avg_pool2d, batch_norm and layer_norm: values against loops written
here, gradients against central differences, closed forms, forward mode, second order, dtypes,
trace, and the errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor, conv1d, conv2d, draw_graph, explain, gradcheck, gradgradcheck, hessian, jvp, trace
from nn.functional import avg_pool2d, batch_norm, cross_entropy, layer_norm, max_pool2d
from tests.support.gradients import central_difference

SETTINGS = settings(max_examples=12, deadline=None)


def loop_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output at a time: the sum over a window of input times kernel."""
    n, c, h, width = x.shape
    k, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c, h + 2 * ph, width + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + width] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, k, oh, ow))
    for o in range(k):
        group = o // (k // groups)
        for i in range(oh):
            for j in range(ow):
                window = xp[
                    :,
                    group * cg : (group + 1) * cg,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                ]
                out[:, o, i, j] = (window * w[o]).sum(axis=(1, 2, 3)) + (0 if b is None else b[o])
    return out


def loop_pool(x, kernel, stride, padding, reduce, fill):
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * padding[0], w + 2 * padding[1]), fill)
    xp[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w] = x
    oh = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    ow = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride[0] : i * stride[0] + kernel[0], j * stride[1] : j * stride[1] + kernel[1]]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


pairs = st.tuples(st.integers(1, 2), st.integers(1, 2))


@st.composite
def conv_cases(draw):
    """Small shapes with every combination of stride, padding, dilation and groups that fits."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, stride, dilation = draw(pairs), draw(pairs), draw(pairs)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = [draw(st.integers(max(1, r - 2 * p), max(1, r - 2 * p) + 3)) for r, p in zip(reach, padding)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), c_in, *size))
    w = rng.normal(size=(c_out, c_in // groups, *kernel))
    b = rng.normal(size=c_out) if draw(st.booleans()) else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = [draw(st.integers(max(1, k - 2 * p), k + 3)) for k, p in zip(kernel, padding)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size))
    if draw(st.booleans()):
        x = np.round(x)  # ties inside windows
    return x, kernel, stride, padding


def engine_gradients(f, arrays):
    """Gradients of sum(f(*tensors) * r) for a fixed random r, and the same as a NumPy function."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*tensors)
    r = np.random.default_rng(0).normal(size=out.shape)
    (out * r).sum().backward()
    as_numpy = lambda *xs: float((f(*[Tensor(x) for x in xs]).data * r).sum())
    return [t.grad for t in tensors], as_numpy


@SETTINGS
@given(case=conv_cases())
def test_conv2d_matches_the_definition_and_central_differences(case):
    x, w, b, options = case
    expected = loop_conv2d(x, w, b, **options)
    np.testing.assert_allclose(conv2d(x, w, b, **options).data, expected, rtol=1e-12, atol=1e-12)
    arrays = [x, w] + ([] if b is None else [b])
    grads, as_numpy = engine_gradients(lambda *ts: conv2d(*ts[:2], ts[2] if len(ts) > 2 else None, **options), arrays)
    for got, want in zip(grads, central_difference(as_numpy, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@SETTINGS
@given(case=conv_cases())
def test_conv1d_is_conv2d_on_images_of_height_one(case):
    x, w, b, options = case
    options = {k: (v[1] if isinstance(v, tuple) else v) for k, v in options.items()}  # the width's
    x1, w1 = x[:, :, 0], w[:, :, 0]
    wide = dict(
        options, stride=(1, options["stride"]), padding=(0, options["padding"]), dilation=(1, options["dilation"])
    )
    expected = loop_conv2d(x1[:, :, None], w1[:, :, None], b, **wide)[:, :, 0]
    np.testing.assert_allclose(conv1d(x1, w1, b, **options).data, expected, rtol=1e-12, atol=1e-12)
    grads, as_numpy = engine_gradients(lambda xt, wt: conv1d(xt, wt, b, **options), [x1, w1])
    for got, want in zip(grads, central_difference(as_numpy, [x1, w1])):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@SETTINGS
@given(case=pool_cases())
def test_pooling_matches_the_definition_and_central_differences(case):
    x, kernel, stride, padding = case
    for pool, reduce, fill in ((max_pool2d, np.max, -np.inf), (avg_pool2d, np.mean, 0.0)):
        np.testing.assert_allclose(
            pool(x, kernel, stride, padding).data,
            loop_pool(x, kernel, stride, padding, reduce, fill),
            rtol=1e-12,
            atol=1e-12,
        )
        if pool is max_pool2d and np.any(x == np.round(x)):
            continue  # ties: not differentiable, see the tie tests below
        grads, as_numpy = engine_gradients(lambda t: pool(t, kernel, stride, padding), [x])
        np.testing.assert_allclose(grads[0], central_difference(as_numpy, [x])[0], rtol=1e-6, atol=1e-7)


def test_max_pool_splits_ties_evenly_and_adds_the_shares_of_overlapping_windows():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 1, 2, 2), 0.25))  # as x.max() splits ties
    x = Tensor(np.array([[[[0.0, 5.0, 1.0], [2.0, 3.0, 4.0], [1.0, 0.0, 9.0]]]]), requires_grad=True)
    max_pool2d(x, 2, stride=1).sum().backward()  # windows' maxima: 5, 5, 3, 9
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 2, 0], [0, 1, 0], [0, 0, 1]])


def test_closed_forms():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 5, 6))
    shift = np.zeros((3, 1, 3, 3))
    shift[:, 0, 0, 2] = 1.0  # each channel's kernel picks the entry one up and one right
    out = conv2d(x, shift, padding=1, groups=3).data
    np.testing.assert_array_equal(out[:, :, 1:, :-1], x[:, :, :-1, 1:])
    np.testing.assert_array_equal(out[:, :, 0], 0)
    np.testing.assert_array_equal(avg_pool2d(np.full((2, 3, 6, 6), 2.5), 3, 1).data, np.full((2, 3, 4, 4), 2.5))
    # padding counts in the mean: a corner window of a 2x2 pool with padding 1 holds one input of four
    np.testing.assert_array_equal(
        avg_pool2d(np.ones((1, 1, 2, 2)), 2, padding=1).data[0, 0], [[0.25, 0.25], [0.25, 0.25]]
    )
    y = batch_norm(x * 3 + 1, None, None, training=True, eps=0.0).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-12)
    z = layer_norm(x * 3 + 1, (5, 6), eps=0.0).data
    np.testing.assert_allclose(z.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(z.var(axis=(2, 3)), 1, rtol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(4, 3), (3, 2, 4), (2, 3, 2, 3)]))
def test_normalisation_gradients_against_central_differences(seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    c = shape[1]
    weight, bias = rng.normal(size=c), rng.normal(size=c)
    mean, var = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
    cases = [
        (lambda a, w, b: batch_norm(a, None, None, w, b, training=True), [x, weight, bias]),
        (lambda a, w, b: batch_norm(a, mean, var, w, b, training=False), [x, weight, bias]),
        (lambda a, w, b: layer_norm(a, shape[-1], w, b), [x, rng.normal(size=shape[-1]), rng.normal(size=shape[-1])]),
        (lambda a: layer_norm(a, shape[1:]), [x]),
    ]
    for f, arrays in cases:
        grads, as_numpy = engine_gradients(f, arrays)
        for got, want in zip(grads, central_difference(as_numpy, arrays)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_batch_norm_updates_the_running_statistics_in_place_as_pytorch():
    x = np.random.default_rng(2).normal(size=(4, 2, 3))
    running_mean, running_var = np.zeros(2), Tensor(np.ones(2))
    batch_norm(x, running_mean, running_var, training=True, momentum=0.25)
    np.testing.assert_allclose(running_mean, 0.25 * x.mean(axis=(0, 2)), rtol=1e-14)
    np.testing.assert_allclose(running_var.data, 0.75 + 0.25 * x.var(axis=(0, 2), ddof=1), rtol=1e-14)
    out = batch_norm(x, running_mean, running_var, training=False).data  # eval: the running ones
    expected = (x - running_mean[:, None]) / np.sqrt(running_var.data[:, None] + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-13)


def small_inputs(seed=3):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=s), requires_grad=True) for s in ((1, 2, 4, 4), (2, 1, 2, 2), (2,))]


SECOND_ORDER = {
    "conv2d": lambda x, w, b: conv2d(x, w, b, stride=1, padding=1, dilation=(1, 2), groups=2),
    "conv2d strided": lambda x, w, b: conv2d(x, w, b, stride=2, padding=(0, 1), groups=2),
    "conv2d squared": lambda x, w, b: conv2d(x, w, b, padding=1, groups=2) ** 2,
    "max_pool2d": lambda x, w, b: max_pool2d(x * w.sum(), 2, 1, 1),
    "avg_pool2d": lambda x, w, b: avg_pool2d(x * w.sum(), 3, 2, 1) ** 2,
    "batch_norm": lambda x, w, b: batch_norm(x, None, None, b, b, training=True),
    "layer_norm": lambda x, w, b: layer_norm(x, (4, 4), w.sum() * x[0, 0], b.sum() * x[0, 1]),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_forward_mode_and_second_order(name):
    """gradcheck checks reverse and forward mode; gradgradcheck differentiates the recorded backward."""
    f, args = SECOND_ORDER[name], small_inputs()
    assert gradcheck(f, *args, atol=1e-6, rtol=1e-5)
    assert gradgradcheck(f, *args, atol=1e-5, rtol=1e-4)


def test_hessian_of_a_convolution_is_its_bilinear_form():
    """d^2/dw^2 of 0.5 ||conv(x, w)||^2 is the Gram matrix of x's columns."""
    x = np.random.default_rng(4).normal(size=(1, 1, 4, 4))
    h = hessian(lambda w: 0.5 * (conv2d(x, w) ** 2).sum())(np.zeros((1, 1, 2, 2)))
    cols = np.stack([x[0, 0, i : i + 3, j : j + 3].ravel() for i in range(2) for j in range(2)])
    np.testing.assert_allclose(h.reshape(4, 4), cols @ cols.T, rtol=1e-12)


def test_jvp_of_conv2d_is_linear_in_both_tangents():
    rng = np.random.default_rng(5)
    x, w, tx, tw = (rng.normal(size=s) for s in ((1, 2, 5, 5), (3, 2, 3, 3), (1, 2, 5, 5), (3, 2, 3, 3)))
    _, t = jvp(lambda a, b: conv2d(a, b, padding=1), (Tensor(x), Tensor(w)), (tx, tw))
    np.testing.assert_allclose(
        t.data,
        loop_conv2d(tx, w, None, (1, 1), (1, 1), (1, 1), 1) + loop_conv2d(x, tw, None, (1, 1), (1, 1), (1, 1), 1),
        rtol=1e-12,
        atol=1e-12,
    )


def test_float32_stays_float32():
    rng = np.random.default_rng(6)
    x = Tensor(rng.normal(size=(2, 2, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 1, 3, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(2, np.float32), requires_grad=True)
    h = conv2d(x, w, b, padding=1, groups=2)
    outs = [
        h,
        max_pool2d(h, 2),
        avg_pool2d(h, 3, 1, 1),
        batch_norm(h, None, None, training=True),
        layer_norm(h, (6, 6)),
        conv1d(h[:, :, 0], w[:, :, 0], b, padding=1, groups=2),
    ]
    total = sum((o * o).sum() for o in outs)
    total.backward()
    assert all(o.dtype == np.float32 for o in outs) and total.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def lenet_like(params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h = max_pool2d(conv2d(x, w1, b1, padding=1).relu(), 2)
    h = avg_pool2d(conv2d(h, w2, b2, stride=1, dilation=1, groups=2).relu(), 2, 1)
    h = layer_norm(h.reshape(h.shape[0], -1), 4 * 2 * 2)
    return cross_entropy(h @ w3.T + b3, y)


def test_trace_replays_a_cnn_step_bit_for_bit():
    rng = np.random.default_rng(7)
    shapes = [(4, 1, 3, 3), (4,), (4, 2, 2, 2), (4,), (3, 16), (3,)]
    arrays = [rng.normal(size=s).astype(np.float32) for s in shapes]
    eager = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    traced = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    x, y = rng.normal(size=(5, 1, 8, 8)).astype(np.float32), np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    step = trace(lambda xb, yb: lenet_like(traced, xb, yb), x, y)
    for _ in range(3):
        xb = rng.normal(size=x.shape).astype(np.float32)
        loss = lenet_like(eager, Tensor(xb), y)
        loss.backward()
        assert step(xb, y).item() == loss.item()
        for pe, pt in zip(eager, traced):
            np.testing.assert_array_equal(pt.grad, pe.grad)
            for p in (pe, pt):
                p.data -= 0.1 * p.grad
                p.grad = None


def test_explain_and_draw_work_on_a_convolution():
    x, w, b = small_inputs()
    loss = max_pool2d(conv2d(x, w, b, padding=1, groups=2), 2).sum()
    loss.backward()
    np.testing.assert_allclose(explain(loss, w).total, w.grad, rtol=1e-12)
    source = draw_graph(loss).source
    assert "conv2d" in source and "max_pool2d" in source
    assert nn.functional.conv2d(x, w, groups=2).op_name == "conv2d"


def errors(f):
    with pytest.raises((ValueError, TypeError)) as info:
        f()
    return str(info.value)


def test_errors_name_the_op_and_the_shapes():
    x = np.zeros((2, 3, 5, 5))
    message = errors(lambda: conv2d(x, np.zeros((4, 2, 3, 3))))
    assert message.startswith("conv2d:") and "(2, 3, 5, 5)" in message and "(4, 2, 3, 3)" in message
    message = errors(lambda: conv2d(x, np.zeros((4, 3, 8, 3)), padding=1))
    assert message.startswith("conv2d:") and "larger than the padded input (7, 7)" in message
    message = errors(lambda: conv2d(x, np.zeros((4, 1, 3, 3)), groups=2))
    assert message.startswith("conv2d:") and "groups=2" in message and "(2, 3, 5, 5)" in message
    message = errors(lambda: conv2d(np.zeros((3, 5, 5)), np.zeros((4, 3, 3, 3))))
    assert message.startswith("conv2d:") and "4-D input" in message and "(3, 5, 5)" in message
    assert "bias of shape (3,)" in errors(lambda: conv2d(x, np.zeros((4, 3, 3, 3)), np.zeros(3)))
    assert errors(lambda: conv2d(x, np.zeros((4, 3, 3, 3)), stride=0)).startswith("conv2d: stride must be")
    assert errors(lambda: conv1d(np.zeros((2, 3, 5)), np.zeros((4, 2, 3)))).startswith("conv1d:")
    assert "padding (2, 2) must be at most half" in errors(lambda: max_pool2d(x, 3, padding=2))
    assert errors(lambda: avg_pool2d(x, 6)).startswith("avg_pool2d:")
    assert "(3,)" in errors(lambda: batch_norm(x, np.zeros(3), np.ones(2)))
    assert "normalized_shape (4,)" in errors(lambda: layer_norm(x, 4))
    assert "more than 1 value per channel" in errors(lambda: batch_norm(np.zeros((1, 3)), None, None, training=True))
