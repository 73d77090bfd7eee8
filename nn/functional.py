"""Activations and losses of the course notes, composed from the engine's primitives.

Every function takes `Tensor`s (arrays and numbers are wrapped as constants)
and is differentiated by the engine; only erf is a new primitive (nn/_erf.py),
and cross_entropy is one engine op for speed (tensor_ops.SoftmaxCrossEntropy).
Derivatives at kinks follow design.md: relu'(0) = 0, clip's is 0 at its
bounds, and where the smooth function's derivative is known at 0 (softplus,
ELU) the composition is arranged to give it exactly.
"""

import math
from typing import NamedTuple, cast

import numpy as np

from autograd import Tensor, maximum, where
from autograd.engine import Op, apply
from autograd.hints import ArrayLike
from autograd.mode import PER_THREAD
from autograd.tensor_ops import CrossEntropyParams, SavedSoftmax, SoftmaxCrossEntropy

from ._bce import BinaryCrossEntropy
from ._erf import erf
from ._errors import names_errors
from .module import Module

_REDUCTIONS = ("mean", "sum", "half_sum", "none")  # "none": one loss per item


def _tensor(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _shape(x):
    """x's shape; np.shape adds a Python dispatch for arrays and Tensors."""
    return x.shape if isinstance(x, (np.ndarray, Tensor)) else np.shape(x)


def _positive(x):
    """A constant mask (never differentiated) of x > 0."""
    return x.data > 0


def _real_input(where: str, x: ArrayLike) -> Tensor:
    """x as a Tensor; complex x is a TypeError naming `where`: its formula branches on x > 0
    or uses |x|, which are identities for real numbers only (the result would be wrong)."""
    return _not_complex(where, "input", _tensor(x))


# Activations ---------------------------------------------------------------
@names_errors
def sigmoid(x: ArrayLike) -> Tensor:
    """The logistic 1 / (1 + exp(-x)); sigmoid'(0) = 0.25 is its largest slope."""
    return _tensor(x).sigmoid()


@names_errors
def tanh(x: ArrayLike) -> Tensor:
    return _tensor(x).tanh()


@names_errors
def relu(x: ArrayLike) -> Tensor:
    """max(0, x), with relu'(0) = 0."""
    return _tensor(x).relu()


@names_errors
def hard_sigmoid(x: ArrayLike) -> Tensor:
    """clip(0.25 x + 0.5, 0, 1): the logistic's first-order Taylor form, clipped."""
    return (_tensor(x) * 0.25 + 0.5).clip(0.0, 1.0)


@names_errors
def hard_tanh(x: ArrayLike) -> Tensor:
    return _tensor(x).clip(-1.0, 1.0)


@names_errors
def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope x (the slope at 0 is negative_slope, as PyTorch)."""
    x = _real_input("leaky_relu", x)
    return where(_positive(x), x, x * negative_slope)


@names_errors
def elu(x: ArrayLike, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1); its derivative at 0 is alpha."""
    x = _real_input("elu", x)
    up = _positive(x)
    # exp only sees the non-positive part: exp of a large positive x would overflow to inf,
    # and the discarded branch's gradient 0 * inf would be nan.
    negative_part = where(up, 0.0, x)
    return where(up, x, (negative_part.exp() - 1.0) * alpha)


@names_errors
def softplus(x: ArrayLike) -> Tensor:
    """log(1 + exp(x)) computed as max(x, 0) + log(1 + exp(-|x|)), which never overflows.

    `maximum` splits its gradient at the tie x = 0 and abs'(0) = 0, so the
    derivative there is 0.5 = sigmoid(0): softplus' is the logistic everywhere.
    """
    x = _real_input("softplus", x)
    return maximum(x, 0.0) + ((-x.abs()).exp() + 1.0).log()


@names_errors
def silu(x: ArrayLike, beta: float = 1.0) -> Tensor:
    """Swish x sigmoid(beta x); beta = 0 gives x / 2, beta -> infinity approaches ReLU."""
    x = _tensor(x)
    return x * (x * beta).sigmoid()


swish = silu

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@names_errors
def gelu(x: ArrayLike, approximate: str = "none") -> Tensor:
    """x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); approximate="tanh" or "sigmoid" (x sigmoid(1.702 x))."""
    x = _tensor(x)
    if approximate == "none":
        return x * 0.5 * (erf(x * _SQRT_HALF) + 1.0)
    if approximate == "tanh":
        return x * 0.5 * (((x + x * x * x * 0.044715) * _SQRT_2_OVER_PI).tanh() + 1.0)
    if approximate == "sigmoid":
        return x * (x * 1.702).sigmoid()
    raise ValueError(f"gelu: approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}")


@names_errors
def softmax(x: ArrayLike, axis: int = -1, beta: float = 1.0) -> Tensor:
    """exp(beta x_i) / sum_k exp(beta x_k) along `axis`; beta -> infinity approaches hardmax."""
    return (_tensor(x) * beta).softmax(axis)


@names_errors
def log_softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    return _tensor(x).log_softmax(axis)


@names_errors
def maxout(x: ArrayLike, k: int) -> Tensor:
    """Max over consecutive groups of k features of the last axis: (..., m k) -> (..., m).

    The gradient goes to each group's winner (split evenly on exact ties).
    """
    x = _tensor(x)
    if x.ndim == 0 or k < 1 or x.shape[-1] % k:
        raise ValueError(f"maxout: the last axis of shape {x.shape} must split into groups of k = {k}")
    return x.reshape(*x.shape[:-1], x.shape[-1] // k, k).max(axis=-1)


@names_errors
def prelu(x: ArrayLike, weight: ArrayLike) -> Tensor:
    """Leaky ReLU with learnable slopes `weight`: one slope, or one per channel (axis 1, or 0 for 1-d x)."""
    x, weight = _tensor(x), _tensor(weight)
    if weight.size > 1:
        channel = 1 if x.ndim >= 2 else 0
        if x.ndim == 0 or weight.ndim != 1 or x.shape[channel] != weight.size:
            raise ValueError(
                f"prelu: {weight.size} slopes (shape {weight.shape}) do not match "
                f"the channels of an input of shape {x.shape}"
            )
        weight = weight.reshape(-1, *([1] * (x.ndim - channel - 1)))
    # x for x > 0, else a x: at 0 the slope is a, as for leaky_relu (the kink takes the left side)
    return where(_positive(x), x, x * weight)


# Losses ----------------------------------------------------------------------
_SCALES = {"sum": 1.0, "half_sum": 0.5}  # what each reduction but "mean" puts on the sum


def _check_reduction(where, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(where, per_item, reduction):
    _check_reduction(where, reduction)
    if reduction == "none":
        return per_item
    if reduction == "mean":
        return per_item.mean()
    total = per_item.sum()
    return total if reduction == "sum" else total * _SCALES[reduction]


def _same_shape(where, input, target):
    if input.shape != _shape(target):
        raise ValueError(f"{where}: input has shape {input.shape} but target has shape {_shape(target)}")


@names_errors
def mse_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)^2: "mean" over all elements, "sum", or "half_sum" (1/2 sum, the notes' C)."""
    input = _tensor(input)
    _same_shape("mse_loss", input, target)
    diff = input - target  # the operator's rules: a NumPy scalar target does not promote the input
    return _reduce("mse_loss", diff * diff, reduction)


def _labels(where, target, rows, input_shape, ignore_index=-100):
    """(labels, ignored): the integer class labels `target` (an array or Tensor) of rows of shape
    `rows` (batch, classes), checked, as an int array, and a boolean mask of the labels equal to
    ignore_index (None when there are none).

    A label outside [0, classes) that is not ignore_index raises ValueError naming it.
    """
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.shape != rows[:1]:  # the common (batch,) labels skip both tests
        if labels.ndim != 1:
            labels = labels.reshape(-1)
        if labels.shape[0] != rows[0]:
            raise ValueError(
                f"{where}: {labels.shape[0]} labels for a batch of {rows[0]} "
                f"(input shape {input_shape}, target shape {np.shape(target)})"
            )
    kind = labels.dtype.kind
    if kind not in "iu":
        if kind != "f":
            raise TypeError(f"{where}: class labels must be integers, got dtype {labels.dtype}")
        if not np.all(labels == np.round(labels)):
            raise ValueError(f"{where}: class labels must be integers, got non-integral floats")
        labels = labels.astype(np.int64)
    n_classes = rows[1]
    ignored = None
    if not _all_in_range(labels, n_classes):
        ignored = labels == ignore_index
        bad = ((labels < 0) | (labels >= n_classes)) & ~ignored
        if bad.any():
            raise ValueError(
                f"{where}: label {labels[bad][0]} is out of range for {n_classes} classes "
                f"(labels must lie in [0, {n_classes - 1}], or be ignore_index = {ignore_index})"
            )
    elif 0 <= ignore_index < n_classes:  # an ignore_index in range passes the check above
        ignored = labels == ignore_index
    return labels, (ignored if ignored is not None and ignored.any() else None)


# the native integer dtypes' unsigned twins: a view through a dtype object skips parsing a dtype string
_UNSIGNED = {np.dtype(c): np.dtype(c.upper()) for c in "bhilq"} | {np.dtype(c): np.dtype(c) for c in "BHILQ"}


def _all_in_range(labels, n_classes):
    """Whether every integer label lies in [0, n_classes): one reduction finds labels < 0 too,
    as viewed unsigned a negative label is huge."""
    unsigned = _UNSIGNED.get(labels.dtype)
    if unsigned is None:  # another byte order: its twin by name
        unsigned = labels.dtype.str.replace("i", "u")
    return not labels.size or np.maximum.reduce(labels.view(unsigned)) < n_classes


class OneHotParams(NamedTuple):
    """OneHot's params: the calling function's name (for errors), the (batch, classes) shape
    made, the logits' shape and the dtype."""

    where: str
    rows: tuple[int, int]
    input_shape: tuple[int, ...]
    dtype: np.dtype


class OneHot(Op):
    """Rows of one-hot weights (dtype, 1 at each row's label) from integer class labels;
    params a OneHotParams. Never differentiated.

    An op rather than a NumPy constant so that trace() replays it with each call's labels.
    """

    name = "one_hot"

    @staticmethod
    def forward(ns, p, target):
        where, rows, input_shape, dtype = p.where, p.rows, p.input_shape, p.dtype
        labels, ignored = _labels(where, target, rows, input_shape)
        if ignored is not None:  # a replay met labels the traced call did not have
            raise ValueError(
                f"{where}: a label equals ignore_index ({labels[ignored][0]}), which the "
                f"traced call's labels did not; run it eagerly or trace with such a batch"
            )
        return _one_hot_rows(labels, rows, dtype)

    vjp = staticmethod(lambda ns, p, g, out, target: (None,))
    jvp = staticmethod(lambda ns, p, ts, out, target: ns.zeros_like(out))


# Identity matrices, read-only, by (classes, dtype), for _one_hot_rows: up to this many classes
# (512 KB in float64), and a few of them at a time
_IDENTITY_MAX_CLASSES = 256
_IDENTITIES_KEPT = 8
_IDENTITIES: dict[tuple[int, np.dtype], np.ndarray] = {}


def _one_hot_rows(labels, rows, dtype):
    """(batch, classes) rows of dtype with a 1 at each row's label (labels checked by _labels)."""
    classes = rows[1]
    if classes <= _IDENTITY_MAX_CLASSES:
        # the labels' rows of an identity matrix: one take() costs less than zeros and a
        # fancy-index write, and a training step's loss makes these rows every step
        identity = _IDENTITIES.get((classes, dtype))
        if identity is None:
            if len(_IDENTITIES) >= _IDENTITIES_KEPT:
                _IDENTITIES.clear()
            identity = np.eye(classes, dtype=dtype)
            identity.setflags(write=False)
            _IDENTITIES[classes, dtype] = identity
        one_hot = identity.take(labels, axis=0)
    else:
        one_hot = np.zeros(rows, dtype)
        one_hot[np.arange(rows[0]), labels] = 1
    one_hot.setflags(write=False)  # the engine's own: read-only from the start, no lock to take or lift
    return one_hot


def _one_hot(where, target, labels, rows, input_shape, dtype):
    """OneHot of target (a Tensor, kept as the op's input, or an array), whose `labels` _labels
    found without an ignored one."""
    if not PER_THREAD.mode.hooked:  # no tracer to replay it (nor jvp, nor anomaly): the constant itself
        return Tensor._wrap(_one_hot_rows(labels, rows, dtype))
    return apply(OneHot, OneHotParams(where, rows, input_shape, dtype), _tensor(target))


def _class_rows(where: str, input: ArrayLike) -> Tensor:
    input = _tensor(input)
    ndim = input._data.ndim  # the slot: Tensor.ndim is a Python call
    if ndim == 2:
        return input
    if ndim != 1:
        raise ValueError(f"{where}: input must have shape (batch, classes) or (classes,), got {input.shape}")
    return input.reshape(1, -1)


def _not_complex(where: str, what: str, x: Tensor) -> Tensor:
    """Tensor x, or a TypeError if its data is complex."""
    if x.dtype.kind == "c":
        raise TypeError(f"{where}: {what} must be real numbers, got dtype {x.dtype}")
    return x


def _class_weights(where, weight, z):
    """The per-class weights as an array of z's dtype, checked: one per class, constant."""
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise TypeError(
            f"{where}: weight gets no gradient (as in PyTorch); pass a constant, "
            f"an ndarray or a Tensor without requires_grad"
        )
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{where}: weight must be real numbers, got dtype {w.dtype}")
    if w.shape != (z.shape[1],):
        raise ValueError(
            f"{where}: weight of shape {w.shape} must have one entry per class, "
            f"shape ({z.shape[1]},), for an input of shape {z.shape}"
        )
    return w.astype(z.dtype)


def _safe_labels(labels, ignored):
    """The labels with the ignored ones replaced by 0, a valid index (their rows are zeroed)."""
    return labels if ignored is None else np.where(ignored, 0, labels)


def _per_sample_weights(labels, ignored, class_weight, dtype):
    """weight[label] per sample (1 without class weights), 0 where the label is ignored;
    `labels` are safe labels (_safe_labels)."""
    w = np.ones(labels.shape, dtype) if class_weight is None else class_weight[labels]
    if ignored is not None:
        w[ignored] = 0
    return w


def _weighted_mean(scaled_sum, counted):
    """scaled_sum(1 / counted): PyTorch's "mean" of weighted samples, `counted` their weights' sum.

    With nothing counted (every label ignored, or weights summing to 0) PyTorch returns
    0 / 0 = nan with zero gradients: the sum is scaled by 0, then nan is added.
    """
    if counted == 0:
        return scaled_sum(0.0) + math.nan
    return scaled_sum(1.0 / counted)


def _check_class_rows(z, input, reduction):
    """(batch, classes) of the logits z, checked for cross_entropy's reduction."""
    n, classes = z.shape
    if classes == 0:
        raise ValueError(f"cross_entropy: input of shape {np.shape(input)} has no classes")
    if reduction == "mean" and n == 0:
        raise ValueError(f"cross_entropy: cannot average over an empty batch (input shape {np.shape(input)})")
    return n, classes


@names_errors
def cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits `input` (batch, classes) or (classes,), as PyTorch's.

    `target` is integer labels (batch,), or one-hot rows / class probabilities
    of the input's shape, floating point (any nonnegative weights; a Tensor that requires grad
    gets its gradient). "mean" averages over the batch. One engine op
    (autograd.tensor_ops.SoftmaxCrossEntropy), stable for any logits: an -inf
    logit adds nothing where the target is 0 and makes the loss +inf where it is not.

    PyTorch's options: `weight` (one per class) scales each sample's loss by its
    class's weight, and "mean" then divides by the sum of the counted samples'
    weights; samples labelled `ignore_index` add nothing and are not counted;
    `label_smoothing` e mixes the target with the uniform distribution,
    (1 - e) target + e / classes. reduction "none" returns the per-sample losses.
    All of them reach the same op through its target rows t (loss_i = -sum_j t_ij
    log softmax(z_i)_j): t_ij = ((1 - e) onehot_ij + e / classes) weight_j.
    """
    if (
        type(input) is Tensor
        and type(target) is np.ndarray
        and not (label_smoothing or weight is not None or reduction != "mean" or PER_THREAD.mode.hooked)
        and ignore_index < 0
    ):
        # a training step's call: float logits (batch, classes), integer labels (batch,), no options.
        # Each test below is the cheapest one the common case passes; any other input (or an
        # error) takes the general path, which tests it fully and names what is wrong
        rows, data = input._data.shape, input._data
        if (
            len(rows) == 2
            and rows[0]
            and data.dtype.kind == "f"
            and target.shape == rows[:1]
            and target.dtype.kind in "iu"
            and _all_in_range(target, rows[1])
        ):
            t = Tensor._wrap(_one_hot_rows(target, rows, data.dtype))
            params = CrossEntropyParams(1.0 / rows[0], True, SavedSoftmax(), True)  # one-hot rows, a mean
            return apply(SoftmaxCrossEntropy, params, input, t)
    if label_smoothing or reduction != "mean":  # the common call passes neither: nothing to check
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
        _check_reduction("cross_entropy", reduction)
    z = _class_rows("cross_entropy", input)
    if z._data.dtype.kind != "f":
        # integers and booleans become float64, as elsewhere in nn; complex logits are refused
        z = _not_complex("cross_entropy", "logits", z).astype(np.float64)
    input_shape = z._data.shape if z is input else _shape(input)  # the slot when input is the rows
    if _shape(target) == input_shape:
        t = _not_complex("cross_entropy", "targets", _tensor(target))
        if t.dtype.kind != "f":
            # as in PyTorch: a target of the input's shape is class probabilities, which are
            # never integers (integer labels have shape (batch,)); reading [127, -128, 0, 3] as
            # weights would be a silent mistake
            raise TypeError(
                f"cross_entropy: a target of the input's shape {input_shape} holds "
                f"class probabilities and must be floating point, got dtype {t.dtype}; "
                f"integer class labels have shape (batch,)"
            )
        if t.shape != z.shape:
            t = t.reshape(z.shape)
        dtype = np.result_type(z.dtype, t.dtype)  # the op wants one dtype: NumPy's for t * z
        z, t = z.astype(dtype), t.astype(dtype)
        if ignore_index >= 0:
            raise ValueError(
                f"cross_entropy: ignore_index ({ignore_index}) needs class labels, "
                f"not class probabilities (as in PyTorch)"
            )
        if label_smoothing or weight is not None or reduction == "none":
            return _cross_entropy_with_options(z, t, None, weight, reduction, label_smoothing, input)
        one_hot = False  # the caller's rows: they may be any weights
    else:
        rows = z._data.shape
        labels, ignored = _labels("cross_entropy", target, rows, input_shape, ignore_index)
        if label_smoothing or weight is not None or ignored is not None or reduction == "none":
            return _cross_entropy_with_options(z, labels, ignored, weight, reduction, label_smoothing, input)
        t = _one_hot("cross_entropy", target, labels, rows, input_shape, z._data.dtype)
        one_hot = True  # the backward can skip t's row sums
    n, classes = z._data.shape
    if not (n and classes):  # the checks for an empty batch or no classes, only then
        _check_class_rows(z, input, reduction)
    scale = 1.0 / n if reduction == "mean" else _SCALES[reduction]
    # one op rather than logsumexp(z) - sum(where(one_hot, z, 0)) and a mean: the training
    # step's loss is one node and a few NumPy calls (see SoftmaxCrossEntropy)
    return apply(SoftmaxCrossEntropy, CrossEntropyParams(scale, True, SavedSoftmax(), one_hot), z, t)


def _cross_entropy_with_options(z, target, ignored, weight, reduction, label_smoothing, input):
    """cross_entropy with weight, ignore_index, label_smoothing or reduction "none" (see there):
    `target` is the checked labels (with their `ignored` mask) or the probability rows (a Tensor)."""
    n, classes = _check_class_rows(z, input, reduction)
    class_weight = None if weight is None else _class_weights("cross_entropy", weight, z)
    if isinstance(target, Tensor):  # class probabilities: "mean" divides by the batch
        t, counted = target, n
    else:
        labels = _safe_labels(target, ignored)
        t = np.zeros(z.shape, z.dtype)
        t[np.arange(n), labels] = 1  # an ignored sample's row is zeroed below
        counted = _per_sample_weights(labels, ignored, class_weight, z.dtype).sum()
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / classes
    if class_weight is not None:
        t = t * class_weight
    if ignored is not None:
        t[ignored] = 0  # after smoothing: an ignored sample adds nothing
    t = _tensor(t)
    if reduction == "none":
        per_sample = apply(SoftmaxCrossEntropy, CrossEntropyParams(1.0, False), z, t)
        return per_sample if np.ndim(input) == 2 else per_sample.reshape(())
    if reduction == "mean":
        return _weighted_mean(
            lambda scale: apply(SoftmaxCrossEntropy, CrossEntropyParams(scale, True, SavedSoftmax()), z, t), counted
        )
    return apply(SoftmaxCrossEntropy, CrossEntropyParams(_SCALES[reduction], True, SavedSoftmax()), z, t)


@names_errors
def nll_loss(
    input: Tensor, target: ArrayLike, weight: ArrayLike | None = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood -log p[target] of log-probabilities (batch, classes) and integer labels.

    As PyTorch's: `weight` scales each sample's loss by its class's weight and "mean"
    divides by the sum of the counted samples' weights; labels equal to
    `ignore_index` add nothing and are not counted.
    """
    _check_reduction("nll_loss", reduction)
    logp = _class_rows("nll_loss", input)
    labels, ignored = _labels("nll_loss", target, logp.shape, logp.shape, ignore_index)
    labels = _safe_labels(labels, ignored)
    class_weight = None if weight is None else _class_weights("nll_loss", weight, logp)
    # selecting with a mask (`where`) is cheaper to differentiate than fancy indexing, and unlike
    # multiplying by 0/1 it keeps an -inf elsewhere in the row from making nan
    if ignored is None:
        pick = _one_hot("nll_loss", target, labels, logp.shape, logp.shape, bool)  # trace() replays it live
    else:
        pick = np.eye(logp.shape[1], dtype=bool)[labels]
        pick[ignored] = False
    per_sample = -where(pick, logp, 0.0).sum(axis=1)
    if class_weight is not None or ignored is not None:
        sample_weight = _per_sample_weights(labels, ignored, class_weight, logp.dtype)
        per_sample = per_sample * sample_weight
        if reduction == "mean":
            total = per_sample.sum()
            return _weighted_mean(lambda scale: total * scale, sample_weight.sum())
    losses = _reduce("nll_loss", per_sample, reduction)
    return losses.reshape(()) if reduction == "none" and np.ndim(input) == 1 else losses


@names_errors
def binary_cross_entropy(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] per element for probabilities p in [0, 1] (any shape).

    As in PyTorch, each log is clamped at -100, so p = 0 or 1 gives a large finite
    loss, and the gradient is (p - y) / max(p (1 - p), 1e-12): large, not 0, for a
    confident wrong prediction (nn/_bce.py). "mean" is over all elements.
    """
    p = _real_input("binary_cross_entropy", input)
    y = _not_complex("binary_cross_entropy", "targets", _tensor(target))
    _same_shape("binary_cross_entropy", p, y)
    # integers and booleans become float64, the dtype NumPy gives 1.0 - y for them
    p, y = [x if x.dtype.kind == "f" else x.astype(np.float64) for x in (p, y)]
    return _reduce("binary_cross_entropy", apply(BinaryCrossEntropy, None, p, y), reduction)


@names_errors
def binary_cross_entropy_with_logits(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(z), computed as softplus(z) - z y: finite for logits of +-1e4."""
    z = _real_input("binary_cross_entropy_with_logits", input)
    y = _not_complex("binary_cross_entropy_with_logits", "targets", _tensor(target))
    _same_shape("binary_cross_entropy_with_logits", z, y)
    return _reduce("binary_cross_entropy_with_logits", softplus(z) - z * y, reduction)


@names_errors
def l2_penalty(model: Module, lam: float, n: int) -> Tensor:
    """lam / (2 n) times the sum of squared weights (the notes' L2 term); biases are left out.

    Weights are the parameters whose own name starts with "weight" (Linear,
    Maxout, ElmanRNN, RBF, PReLU); n is the size of the training set.
    """
    if not n > 0:
        raise ValueError(f"l2_penalty: n, the size of the training set, must be positive, got {n!r}")
    weights = [p for name, p in model.named_parameters() if name.rsplit(".", 1)[-1].startswith("weight")]
    if not weights:
        raise ValueError(f"l2_penalty: {type(model).__name__} has no parameter named weight*")
    squares = [cast(Tensor, p * p).sum() for p in weights]
    total = squares[0]
    for square in squares[1:]:
        total = total + square
    return total * (lam / (2.0 * n))


# Defined elsewhere, and here too, where a PyTorch user looks for them (F.conv2d, F.embedding):
# convolution and pooling in autograd/conv.py, normalisation in nn/normalization.py, embedding
# beside nn.Embedding.
from autograd.conv import avg_pool2d, conv1d, conv2d, max_pool2d  # noqa: E402,F401

from .normalization import batch_norm, layer_norm  # noqa: E402,F401
from .recurrent import embedding  # noqa: E402,F401
