"""Loss options as PyTorch's: cross_entropy(weight, ignore_index, reduction, label_smoothing),
nll_loss(weight, ignore_index, reduction), and reduction="none" for every loss.

The references below are PyTorch's documented formulas (torch.nn.CrossEntropyLoss, NLLLoss)
written with a Python loop over samples, independent of nn.functional's vectorised code:
  l_n = -(1 - e) w[y_n] log p[n, y_n] - e / C sum_c w[c] log p[n, c]    (class labels)
  l_n = -sum_c w[c] ((1 - e) t[n, c] + e / C) log p[n, c]                   (class probabilities)
  ignored samples: l_n = 0;  "mean" = sum l_n / sum_{n counted} w[y_n]   (labels)
                                    = sum l_n / N                        (probabilities)
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor
from autograd.tensor_ops import SoftmaxCrossEntropy
from nn import functional as F
from tests.support.gradients import assert_input_grads

seeds = st.integers(0, 2**32 - 1)


def log_softmax_rows(z):
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


def reference_cross_entropy(z, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    z = np.asarray(z, dtype=np.float64)
    n, classes = z.shape
    w = np.ones(classes) if weight is None else np.asarray(weight, dtype=np.float64)
    logp = log_softmax_rows(z)
    losses, counted = [], 0.0
    for i in range(n):
        if np.ndim(target) == 2:
            smoothed = (1 - smoothing) * np.asarray(target[i]) + smoothing / classes
            losses.append(-sum(w[c] * smoothed[c] * logp[i, c] for c in range(classes)))
            counted += 1
        elif target[i] == ignore_index:
            losses.append(0.0)
        else:
            y = target[i]
            losses.append(
                -(1 - smoothing) * w[y] * logp[i, y]
                - smoothing / classes * sum(w[c] * logp[i, c] for c in range(classes))
            )
            counted += w[y]
    losses = np.array(losses)
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / counted}[reduction]


def test_worked_example_with_class_weights():
    """z = [[1, 2, 3], [1, 1, 1]], labels [2, 0], weight [1, 2, 3]: mean = (3 (lse - 3) + ln 3) / 4."""
    z, labels, weight = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), np.array([2, 0]), np.array([1.0, 2.0, 3.0])
    lse = math.log(math.e + math.e**2 + math.e**3)
    per_sample = [3 * (lse - 3), math.log(3)]
    np.testing.assert_allclose(F.cross_entropy(z, labels, weight=weight).item(), sum(per_sample) / 4, rtol=1e-14)
    np.testing.assert_allclose(
        F.cross_entropy(z, labels, weight=weight, reduction="sum").item(), sum(per_sample), rtol=1e-14
    )
    np.testing.assert_allclose(F.cross_entropy(z, labels, weight=weight, reduction="none").data, per_sample, rtol=1e-14)
    # ignore_index drops the second sample from the sum and from the divisor
    np.testing.assert_allclose(F.cross_entropy(z, [2, -100], weight=weight).item(), lse - 3, rtol=1e-14)
    np.testing.assert_allclose(F.cross_entropy(z, [2, 0], ignore_index=0).item(), lse - 3, rtol=1e-14)
    # label smoothing 0.3 on the second row: -(0.7 log p_0 + 0.1 sum_c log p_c) = ln 3 for uniform logits
    np.testing.assert_allclose(F.cross_entropy(z[1:], [0], label_smoothing=0.3).item(), math.log(3), rtol=1e-14)
    # and on the first, unweighted: (1 - e)(lse - 3) + e / 3 sum_c (lse - z_c)
    expected = 0.7 * (lse - 3) + 0.1 * (3 * lse - 6)
    np.testing.assert_allclose(F.cross_entropy(z[:1], [2], label_smoothing=0.3).item(), expected, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(1, 5),
    classes=st.integers(2, 5),
    smoothing=st.sampled_from([0.0, 0.1, 1.0]),
    weighted=st.booleans(),
    ignore=st.sampled_from([None, -100, 1]),
    seed=seeds,
)
def test_cross_entropy_with_labels_matches_pytorchs_formula(
    reduction, batch, classes, smoothing, weighted, ignore, seed
):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(batch, classes))
    labels = rng.integers(0, classes, size=batch)
    ignore_index = -100 if ignore is None else ignore
    if ignore is not None:
        labels[rng.random(batch) < 0.4] = ignore
        labels[0] = 0  # at least one sample counts
    weight = rng.uniform(0.5, 2.0, size=classes) if weighted else None
    options = dict(weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    loss = F.cross_entropy(z, labels, **options)
    expected = reference_cross_entropy(z, labels, weight, ignore_index, reduction, smoothing)
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-14)
    assert_input_grads(lambda t: F.cross_entropy(t, labels, **options), z)
    if not smoothing:  # cross_entropy is nll_loss of log_softmax, options included
        nll = F.nll_loss(log_softmax_rows(z), labels, weight=weight, ignore_index=ignore_index, reduction=reduction)
        np.testing.assert_allclose(nll.data, expected, rtol=1e-12, atol=1e-14)
        assert_input_grads(
            lambda t: F.nll_loss(t, labels, weight=weight, ignore_index=ignore_index, reduction=reduction),
            log_softmax_rows(z),
        )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(1, 4),
    classes=st.integers(2, 5),
    smoothing=st.sampled_from([0.0, 0.2]),
    weighted=st.booleans(),
    seed=seeds,
)
def test_cross_entropy_with_probabilities_matches_pytorchs_formula(
    reduction, batch, classes, smoothing, weighted, seed
):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(batch, classes))
    probs = rng.dirichlet(np.ones(classes), size=batch)
    weight = rng.uniform(0.5, 2.0, size=classes) if weighted else None
    options = dict(weight=weight, reduction=reduction, label_smoothing=smoothing)
    loss = F.cross_entropy(z, probs, **options)
    np.testing.assert_allclose(
        loss.data, reference_cross_entropy(z, probs, weight, -100, reduction, smoothing), rtol=1e-12, atol=1e-14
    )
    assert_input_grads(lambda a, b: F.cross_entropy(a, b, **options), z, probs)  # the targets' too


def test_the_default_arguments_keep_the_fused_single_node():
    z = Tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    for target in ([0, 2, 1, 1], np.eye(3)[[0, 2, 1, 1]]):
        loss = F.cross_entropy(z, target)
        assert loss._op is SoftmaxCrossEntropy and loss._parents[0] is z
    for options in ({"weight": np.ones(3)}, {"label_smoothing": 0.1}, {"reduction": "none"}):
        loss = F.cross_entropy(z, [0, 2, 1, 1], **options)
        assert loss._op is SoftmaxCrossEntropy and loss._parents[0] is z  # the same op, other rows


def test_options_keep_float32():
    z = Tensor(np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32), requires_grad=True)
    for options in (
        {"weight": [1.0, 2.0, 3.0, 4.0]},
        {"label_smoothing": 0.1},
        {"reduction": "none"},
        {"ignore_index": 1},
    ):
        loss = F.cross_entropy(z, [1, 2, 3], **options)
        loss.sum().backward()
        assert loss.dtype == np.float32 and z.grad.dtype == np.float32, options
        z.grad = None
        logp = F.log_softmax(z)
        assert (
            F.nll_loss(logp, [1, 2, 3], **{k: v for k, v in options.items() if k != "label_smoothing"}).dtype
            == np.float32
        )


@pytest.mark.parametrize(
    "loss_fn, options",
    [
        (F.cross_entropy, {"ignore_index": 5}),
        (F.cross_entropy, {"weight": [0.0, 0.0, 1.0]}),
        (F.nll_loss, {"ignore_index": 5}),
        (F.nll_loss, {"weight": [0.0, 0.0, 1.0]}),
    ],
)
def test_a_mean_over_no_counted_sample_is_nan_with_zero_gradient(loss_fn, options):
    """PyTorch: 0 / 0 = nan when every label is ignored (or weighs 0), and the gradient is 0."""
    z = Tensor(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]]), requires_grad=True)
    labels = [5, 5] if "ignore_index" in options else [0, 1]
    loss = loss_fn(z, labels, **options)
    assert math.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(z.grad, np.zeros((2, 3)))


def test_single_sample_input_gives_a_scalar_per_sample_loss():
    z = np.array([0.1, 2.0, -1.0])
    assert F.cross_entropy(z, 1, reduction="none").shape == ()
    assert F.nll_loss(z, 1, reduction="none").shape == ()
    np.testing.assert_allclose(F.cross_entropy(z, 1, reduction="none").item(), F.cross_entropy(z, 1).item())


def test_option_errors_name_the_function_and_the_values():
    z = np.zeros((2, 3))
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: weight of shape \(2,\) must have one entry per class, "
        r"shape \(3,\)",
    ):
        F.cross_entropy(z, [0, 1], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"nll_loss: weight of shape \(4,\)"):
        F.nll_loss(z, [0, 1], weight=np.ones(4))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(z, [0, 1], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"cross_entropy: ignore_index \(0\) needs class labels"):
        F.cross_entropy(z, np.eye(3)[[0, 1]], ignore_index=0)
    with pytest.raises(TypeError, match="cross_entropy: weight gets no gradient"):
        F.cross_entropy(z, [0, 1], weight=Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(
        ValueError, match=r"cross_entropy: label -1 is out of range for 3 classes .* ignore_index = -100"
    ):
        F.cross_entropy(z, [0, -1])
    with pytest.raises(ValueError, match=r"nll_loss: label 3 is out of range"):
        F.nll_loss(z, [3, 0], ignore_index=1)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(z, z, reduction="elementwise")


@pytest.mark.parametrize(
    "loss_fn, target",
    [
        (F.mse_loss, np.array([[0.5, 0.1, 1.0], [0.0, 0.2, 0.3]])),
        (F.binary_cross_entropy, np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])),
        (F.binary_cross_entropy_with_logits, np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])),
    ],
)
def test_every_elementwise_loss_takes_reduction_none(loss_fn, target):
    x = np.array([[0.2, 0.4, 0.9], [0.3, 0.6, 0.7]])
    per_item = loss_fn(x, target, reduction="none")
    assert per_item.shape == (2, 3)
    np.testing.assert_allclose(per_item.data.mean(), loss_fn(x, target).item(), rtol=1e-14)
    np.testing.assert_allclose(per_item.data.sum(), loss_fn(x, target, reduction="sum").item(), rtol=1e-14)
    assert_input_grads(lambda a: loss_fn(a, target, reduction="none"), x)
