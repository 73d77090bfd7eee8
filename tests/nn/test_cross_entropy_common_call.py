"""cross_entropy's common call (float logits, integer labels (batch,), no options) takes a
short path; it must give exactly what the general path gives, and leave every other input,
and every error, to the general path."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn.functional as F
from autograd import Tensor, gradcheck, trace


def _loss_and_grad(logits, target, **options):
    z = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(z, target, **options)
    loss.backward()
    return loss.item(), z.grad


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 40),  # both sides of the row helpers' switches: 32 classes, and 32 rows
    classes=st.integers(1, 40),
    dtype=st.sampled_from([np.float32, np.float64]),
    label_dtype=st.sampled_from([np.int64, np.int32, np.uint8, np.int8]),
    seed=st.integers(0, 2**16),
)
def test_the_short_path_equals_the_general_path_exactly(batch, classes, dtype, label_dtype, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(batch, classes)) * 4).astype(dtype)
    labels = rng.integers(0, classes, batch).astype(label_dtype)
    short = _loss_and_grad(logits, labels)
    # ignore_index in [0, classes] sends the call down the general path; no label equals `classes`
    general = _loss_and_grad(logits, labels, ignore_index=classes)
    assert short[0] == general[0]
    np.testing.assert_array_equal(short[1], general[1])
    assert short[1].dtype == dtype
    np.testing.assert_allclose(general[0], _reference(logits.astype(np.float64), labels), rtol=1e-5)


def _reference(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels].mean()


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 5), classes=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_the_short_path_gradient_matches_central_differences(batch, classes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, batch)
    z = Tensor(rng.normal(size=(batch, classes)), requires_grad=True)
    assert gradcheck(lambda z: F.cross_entropy(z, labels), z)
    # closed form: (softmax - one_hot) / batch
    F.cross_entropy(z, labels).backward()
    p = np.exp(z.data - z.data.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad, (p - np.eye(classes)[labels]) / batch, rtol=1e-12, atol=1e-15)


def test_the_common_call_skips_the_general_label_checks(monkeypatch):
    def refuse(*args):
        raise AssertionError("the general path ran")

    monkeypatch.setattr(F, "_labels", refuse)
    loss = F.cross_entropy(Tensor(np.zeros((3, 4)), requires_grad=True), np.array([0, 3, 1]))
    assert loss.item() == pytest.approx(np.log(4.0))


@pytest.mark.parametrize(
    "labels, error, match",
    [
        (np.array([0, 4, 1]), ValueError, r"cross_entropy: label 4 is out of range for 4 classes"),
        (np.array([0, -1, 1]), ValueError, r"cross_entropy: label -1 is out of range for 4 classes"),
        (np.array([0, 1]), ValueError, r"cross_entropy: 2 labels for a batch of 3"),
        (np.array([0.0, 1.5, 2.0]), ValueError, "class labels must be integers, got non-integral floats"),
        (np.array([True, False, True]), TypeError, "class labels must be integers, got dtype bool"),
    ],
)
def test_bad_labels_still_get_the_general_paths_errors(labels, error, match):
    with pytest.raises(error, match=match):
        F.cross_entropy(Tensor(np.zeros((3, 4))), labels)


def test_inputs_off_the_short_path_still_work_or_fail_as_before():
    with pytest.raises(ValueError, match=r"cross_entropy: cannot average over an empty batch"):
        F.cross_entropy(Tensor(np.zeros((0, 4))), np.zeros(0, dtype=np.int64))
    with pytest.raises(TypeError, match=r"cross_entropy: logits must be real numbers"):
        F.cross_entropy(Tensor(np.zeros((2, 3), dtype=complex)), np.array([0, 1]))
    # integer logits (float64 then), one row (classes,), float labels, a column of labels
    expected = F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 2])).item()
    assert F.cross_entropy(Tensor(np.zeros((2, 3), dtype=np.int64)), np.array([0, 2])).item() == expected
    assert F.cross_entropy(Tensor(np.zeros(3)), np.array([2])).item() == expected
    assert F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0.0, 2.0])).item() == expected
    assert F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([[0], [2]])).item() == expected


def test_a_trace_replays_the_labels_of_each_call_bit_identically_to_the_short_path():
    rng = np.random.default_rng(5)
    w = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    replay = trace(lambda x, y: F.cross_entropy(x @ w, y), rng.normal(size=(6, 4)), rng.integers(0, 3, 6))
    for _ in range(3):
        x, labels = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
        w.grad = None
        traced = replay(x, labels).item()
        traced_grad = w.grad
        w.grad = None
        eager = F.cross_entropy(Tensor(x) @ w, labels)
        eager.backward()
        assert traced == eager.item()
        np.testing.assert_array_equal(traced_grad, w.grad)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64, ">i4", ">u8"])
def test_the_range_check_sees_every_label_dtype_and_byte_order(dtype):
    z = Tensor(np.zeros((3, 4)))
    fine = np.array([0, 3, 1], dtype=dtype)
    assert F.cross_entropy(z, fine).item() == pytest.approx(np.log(4.0))
    too_big = np.array([0, 4, 1], dtype=dtype)
    with pytest.raises(ValueError, match="label 4 is out of range for 4 classes"):
        F.cross_entropy(z, too_big)
    if np.dtype(dtype).kind == "i":
        with pytest.raises(ValueError, match="label -1 is out of range for 4 classes"):
            F.cross_entropy(z, np.array([0, -1, 1], dtype=dtype))


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 70), classes=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_the_row_helpers_reduce_every_row_as_numpy_does(rows, classes, seed):
    from autograd.tensor_ops import _row_max, _row_sums

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, classes)) * 4
    x[rng.random(x.shape) < 0.1] = rng.choice([np.inf, -np.inf, np.nan])  # IEEE's rules too
    np.testing.assert_array_equal(_row_max(x), x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(_row_sums(x), x.sum(axis=1, keepdims=True), rtol=1e-12)
    into = np.empty((rows, 1))
    _row_sums(x, into)
    np.testing.assert_array_equal(into, _row_sums(x))


@pytest.mark.parametrize("classes", [1, 10, 256, 257])  # rows of a kept identity, and made directly
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64)])
def test_one_hot_rows_put_one_at_each_label_in_a_fresh_read_only_array(classes, dtype):
    from nn.functional import _IDENTITIES, _IDENTITIES_KEPT, _one_hot_rows

    labels = np.random.default_rng(classes).integers(0, classes, 7).astype(np.uint8 if classes < 256 else np.int64)
    first, again = _one_hot_rows(labels, (7, classes), dtype), _one_hot_rows(labels, (7, classes), dtype)
    expected = np.zeros((7, classes), dtype)
    expected[np.arange(7), labels] = 1
    for rows in (first, again):
        np.testing.assert_array_equal(rows, expected)
        assert rows.dtype == dtype and rows.flags.c_contiguous and not rows.flags.writeable
    assert not np.shares_memory(first, again)
    assert _one_hot_rows(labels[:0], (0, classes), dtype).shape == (0, classes)
    for more in range(2, 2 + 2 * _IDENTITIES_KEPT):  # many sizes: only a few identities are kept
        _one_hot_rows(np.zeros(1, np.int64), (1, more), dtype)
    assert len(_IDENTITIES) <= _IDENTITIES_KEPT
