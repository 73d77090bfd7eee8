"""Activations and losses of the course notes, composed from the engine's primitives.

Every function takes `Tensor`s (arrays and numbers are wrapped as constants)
and is differentiated by the engine; only erf is a new primitive (nn/_erf.py),
and cross_entropy is one engine op for speed (tensor_ops.SoftmaxCrossEntropy).
Derivatives at kinks follow design.md: relu'(0) = 0, clip's is 0 at its
bounds, and where the smooth function's derivative is known at 0 (softplus,
ELU) the composition is arranged to give it exactly.
"""
import math

import numpy as np

from autograd import Tensor, maximum, where
from autograd.engine import apply
from autograd.tensor_ops import SavedSoftmax, SoftmaxCrossEntropy

from ._erf import erf
from ._errors import names_errors

_REDUCTIONS = ("mean", "sum", "half_sum")


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _shape(x):
    """x's shape; np.shape costs a microsecond of Python dispatch for arrays and Tensors."""
    return x.shape if isinstance(x, (np.ndarray, Tensor)) else np.shape(x)


def _positive(x):
    """A constant mask (never differentiated) of x > 0."""
    return x.data > 0


# Activations ---------------------------------------------------------------
@names_errors
def sigmoid(x):
    """The logistic 1 / (1 + exp(-x)); sigmoid'(0) = 0.25 is its largest slope."""
    return _tensor(x).sigmoid()


@names_errors
def tanh(x):
    return _tensor(x).tanh()


@names_errors
def relu(x):
    """max(0, x), with relu'(0) = 0."""
    return _tensor(x).relu()


@names_errors
def hard_sigmoid(x):
    """clip(0.25 x + 0.5, 0, 1): the logistic's first-order Taylor form, clipped."""
    return (_tensor(x) * 0.25 + 0.5).clip(0.0, 1.0)


@names_errors
def hard_tanh(x):
    return _tensor(x).clip(-1.0, 1.0)


@names_errors
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, else negative_slope x (the slope at 0 is negative_slope, as PyTorch)."""
    x = _tensor(x)
    return where(_positive(x), x, x * negative_slope)


@names_errors
def elu(x, alpha=1.0):
    """x for x > 0, else alpha (exp(x) - 1); its derivative at 0 is alpha."""
    x = _tensor(x)
    up = _positive(x)
    # exp only sees the non-positive part: exp of a large positive x would overflow to inf,
    # and the discarded branch's gradient 0 * inf would be nan.
    negative_part = where(up, 0.0, x)
    return where(up, x, (negative_part.exp() - 1.0) * alpha)


@names_errors
def softplus(x):
    """log(1 + exp(x)) computed as max(x, 0) + log(1 + exp(-|x|)), which never overflows.

    `maximum` splits its gradient at the tie x = 0 and abs'(0) = 0, so the
    derivative there is 0.5 = sigmoid(0): softplus' is the logistic everywhere.
    """
    x = _tensor(x)
    return maximum(x, 0.0) + ((-x.abs()).exp() + 1.0).log()


@names_errors
def silu(x, beta=1.0):
    """Swish x sigmoid(beta x); beta = 0 gives x / 2, beta -> infinity approaches ReLU."""
    x = _tensor(x)
    return x * (x * beta).sigmoid()


swish = silu

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@names_errors
def gelu(x, approximate="none"):
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
def softmax(x, axis=-1, beta=1.0):
    """exp(beta x_i) / sum_k exp(beta x_k) along `axis`; beta -> infinity approaches hardmax."""
    return (_tensor(x) * beta).softmax(axis)


@names_errors
def log_softmax(x, axis=-1):
    return _tensor(x).log_softmax(axis)


@names_errors
def maxout(x, k):
    """Max over consecutive groups of k features of the last axis: (..., m k) -> (..., m).

    The gradient goes to each group's winner (split evenly on exact ties).
    """
    x = _tensor(x)
    if x.ndim == 0 or k < 1 or x.shape[-1] % k:
        raise ValueError(f"maxout: the last axis of shape {x.shape} must split into groups of k = {k}")
    return x.reshape(*x.shape[:-1], x.shape[-1] // k, k).max(axis=-1)


@names_errors
def prelu(x, weight):
    """Leaky ReLU with learnable slopes `weight`: one slope, or one per channel (axis 1, or 0 for 1-d x)."""
    x, weight = _tensor(x), _tensor(weight)
    if weight.size > 1:
        channel = 1 if x.ndim >= 2 else 0
        if x.ndim == 0 or weight.ndim != 1 or x.shape[channel] != weight.size:
            raise ValueError(f"prelu: {weight.size} slopes (shape {weight.shape}) do not match "
                             f"the channels of an input of shape {x.shape}")
        weight = weight.reshape(-1, *([1] * (x.ndim - channel - 1)))
    # x for x > 0, else a x: at 0 the slope is a, as for leaky_relu (the kink takes the left side)
    return where(_positive(x), x, x * weight)


# Losses ----------------------------------------------------------------------
_SCALES = {"sum": 1.0, "half_sum": 0.5}     # what each reduction but "mean" puts on the sum


def _check_reduction(where, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(where, per_item, reduction):
    _check_reduction(where, reduction)
    if reduction == "mean":
        return per_item.mean()
    total = per_item.sum()
    return total if reduction == "sum" else total * _SCALES[reduction]


def _same_shape(where, input, target):
    if input.shape != target.shape:
        raise ValueError(f"{where}: input has shape {input.shape} but target has shape {target.shape}")


@names_errors
def mse_loss(input, target, reduction="mean"):
    """Squared error (input - target)^2: "mean" over all elements, "sum", or "half_sum" (1/2 sum, the notes' C)."""
    input, target = _tensor(input), _tensor(target)
    _same_shape("mse_loss", input, target)
    diff = input - target
    return _reduce("mse_loss", diff * diff, reduction)


def _labels(where, target, z, input_shape):
    """The integer class labels `target` of the rows of z, checked, as an int array.

    A label outside [0, classes) raises ValueError naming it.
    """
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.ndim != 1:
        labels = labels.reshape(-1)
    if labels.shape[0] != z.shape[0]:
        raise ValueError(f"{where}: {labels.shape[0]} labels for a batch of {z.shape[0]} "
                         f"(input shape {input_shape}, target shape {np.shape(target)})")
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            raise ValueError(f"{where}: class labels must be integers, got non-integral floats")
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{where}: class labels must be integers, got dtype {labels.dtype}")
    n_classes = z.shape[1]
    # one reduction finds labels < 0 too: viewed as unsigned, a negative label is huge
    if labels.size and np.maximum.reduce(labels.view(labels.dtype.str.replace("i", "u"))) >= n_classes:
        bad = (labels < 0) | (labels >= n_classes)
        raise ValueError(f"{where}: label {labels[bad][0]} is out of range for {n_classes} classes "
                         f"(labels must lie in [0, {n_classes - 1}])")
    return labels


def _class_rows(where, input):
    input = _tensor(input)
    if input.ndim not in (1, 2):
        raise ValueError(f"{where}: input must have shape (batch, classes) or (classes,), got {input.shape}")
    return input if input.ndim == 2 else input.reshape(1, -1)


def _not_complex(where, what, x):
    """Tensor x, or a TypeError if its data is complex."""
    if x.dtype.kind == "c":
        raise TypeError(f"{where}: {what} must be real numbers, got dtype {x.dtype}")
    return x


@names_errors
def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits `input` (batch, classes) or (classes,).

    `target` is integer labels (batch,), or one-hot rows / class probabilities
    of the input's shape (any nonnegative weights; a Tensor that requires grad
    gets its gradient). "mean" averages over the batch. One engine op
    (autograd.tensor_ops.SoftmaxCrossEntropy), stable for any logits: an -inf
    logit adds nothing where the target is 0 and makes the loss +inf where it is not.
    """
    z = _not_complex("cross_entropy", "logits", _class_rows("cross_entropy", input))
    if z.dtype.kind != "f":
        z = z.astype(np.float64)                    # integers and booleans, as elsewhere in nn
    if _shape(target) == _shape(input):
        t = _not_complex("cross_entropy", "targets", _tensor(target))
        if t.shape != z.shape:
            t = t.reshape(z.shape)
        dtype = np.result_type(z.dtype, t.dtype)    # the op wants one dtype: NumPy's for t * z
        z, t = z.astype(dtype), t.astype(dtype)
    else:
        labels = _labels("cross_entropy", target, z, np.shape(input))
        n = labels.shape[0]
        one_hot = np.zeros(z.shape, z.dtype)
        one_hot[np.arange(n), labels] = 1
        t = Tensor(one_hot)
    n, classes = z.shape
    if classes == 0:
        raise ValueError(f"cross_entropy: input of shape {np.shape(input)} has no classes")
    _check_reduction("cross_entropy", reduction)
    if reduction == "mean":
        if n == 0:
            raise ValueError(f"cross_entropy: cannot average over an empty batch (input shape "
                             f"{np.shape(input)})")
        scale = 1.0 / n
    else:
        scale = _SCALES[reduction]
    # one op rather than logsumexp(z) - sum(where(one_hot, z, 0)) and a mean: the training
    # step's loss is one node and a few NumPy calls (see SoftmaxCrossEntropy)
    return apply(SoftmaxCrossEntropy, (scale, True, SavedSoftmax()), z, t)


@names_errors
def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood -log p[target] of log-probabilities (batch, classes) and integer labels."""
    logp = _class_rows("nll_loss", input)
    labels = _labels("nll_loss", target, logp, logp.shape)
    # selecting with a constant mask (`where`) is cheaper to differentiate than fancy indexing,
    # and unlike multiplying by 0/1 it keeps an -inf elsewhere in the row from making nan
    pick = np.eye(logp.shape[1], dtype=bool)[labels]
    return _reduce("nll_loss", -where(pick, logp, 0.0).sum(axis=1), reduction)


@names_errors
def binary_cross_entropy(input, target, reduction="mean"):
    """-[y log p + (1 - y) log(1 - p)] per element for probabilities p (any shape, multi-label too).

    p is clipped to [eps, 1 - eps] (eps 1e-12, or the float32 step below 1 for
    float32) so that p = 0 or 1 gives a large finite loss instead of inf/nan;
    inside that range the result is exact. "mean" is over all elements.
    """
    p, y = _tensor(input), _tensor(target)
    _same_shape("binary_cross_entropy", p, y)
    eps = max(1e-12, float(np.finfo(p.dtype).epsneg)) if p.dtype.kind == "f" else 1e-12
    p = p.clip(eps, 1.0 - eps)
    per_item = -(y * p.log() + (1.0 - y) * (1.0 - p).log())
    return _reduce("binary_cross_entropy", per_item, reduction)


@names_errors
def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of sigmoid(z), computed as softplus(z) - z y: finite for logits of +-1e4."""
    z, y = _tensor(input), _tensor(target)
    _same_shape("binary_cross_entropy_with_logits", z, y)
    return _reduce("binary_cross_entropy_with_logits", softplus(z) - z * y, reduction)


@names_errors
def l2_penalty(model, lam, n):
    """lam / (2 n) times the sum of squared weights (the notes' L2 term); biases are left out.

    Weights are the parameters whose own name starts with "weight" (Linear,
    Maxout, ElmanRNN, RBF, PReLU); n is the size of the training set.
    """
    weights = [p for name, p in model.named_parameters() if name.rsplit(".", 1)[-1].startswith("weight")]
    if not weights:
        raise ValueError(f"l2_penalty: {type(model).__name__} has no parameter named weight*")
    total = sum((p * p).sum() for p in weights)
    return total * (lam / (2.0 * n))


# Convolution, pooling and normalisation: autograd/conv.py and nn/normalization.py
from autograd.conv import avg_pool2d, conv1d, conv2d, max_pool2d  # noqa: E402
from .normalization import batch_norm, layer_norm  # noqa: E402
