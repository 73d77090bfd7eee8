"""Operations that only tensors have: matmul, reductions, shape and indexing.

The elementwise ops of ops.py serve tensors too. As there, each rule is
written with `ns.*` so the same code runs on ndarrays (`NumpyNS`) and, for
higher-order gradients, on `Tensor`s (`TensorNS` in tensor.py). Gradients
only need the right values: summing back over broadcast axes and casting to
the input's dtype is the engine's job (`Tensor.fit_grad`).
"""

import math
import threading

import numpy as np

from .engine import BinaryOp, Op


def reduced_shape(shape, axes):
    """`shape` with the reduced `axes` kept as size 1 (axes None: all)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def broadcast_axes(big, shape):
    """The axes of shape `big` that broadcasting `shape` to it added or stretched."""
    lead = len(big) - len(shape)
    return tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and big[i + lead] != 1)


def sum_to(x, shape):
    """Sum ndarray `x` down to `shape`, undoing NumPy broadcasting."""
    lead = x.ndim - len(shape)
    axes = broadcast_axes(x.shape, shape)
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    return x.reshape(shape) if lead or x.shape != shape else x


def _floating(x):
    """x, with integers and booleans cast to the float type NumPy's exp gives them (no -x wrap-around)."""
    return x if x.dtype.kind in "fc" else x.astype(np.result_type(x.dtype, np.float16))


def _sigmoid(x):
    x = _floating(x)
    if x.dtype.kind == "c":  # logaddexp has no complex loop
        return 1 / (1 + np.exp(-x))
    # exp(-log(1 + exp(-x))) never overflows and keeps full relative precision for x << 0
    return np.exp(-np.logaddexp(0, -x))


class _ComplexStep(threading.local):
    """`active` while gradcheck differentiates by complex step (method="complex") in this thread."""

    active = False


COMPLEX_STEP = _ComplexStep()


def _abs(x):
    """|x|; refused for complex x under complex-step differentiation, which needs holomorphic
    functions: |x + ih| is real, so the step's imaginary part, the derivative, would be lost."""
    if COMPLEX_STEP.active and x.dtype.kind == "c":
        raise TypeError(
            "abs: |x| is not holomorphic, so complex-step differentiation (method="
            "'complex') through it would give a wrong number; use method='central'"
        )
    return np.abs(x)


def is_basic_index(index):
    """True when indexing can return a view and no element can be picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None
        or i is Ellipsis
        or isinstance(i, slice)
        or (isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)))
        for i in items
    )


def _scatter(g, index, shape):
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated indices must accumulate
    return out


class NumpyNS:
    """Elementary functions on ndarrays (the ordinary, unrecorded backward pass)."""

    exp, log, sqrt, sin, cos, tanh = np.exp, np.log, np.sqrt, np.sin, np.cos, np.tanh
    sign, power, where = np.sign, np.power, np.where
    abs = staticmethod(_abs)
    zeros_like, reshape, transpose, broadcast_to = np.zeros_like, np.reshape, np.transpose, np.broadcast_to
    sigmoid = staticmethod(_sigmoid)
    relu = staticmethod(lambda x: np.maximum(x, 0))
    positive = staticmethod(lambda x: x > 0)
    raw = staticmethod(lambda x: x)
    # ufunc.reduce is what np.sum calls, without np.sum's Python dispatch
    sum = staticmethod(lambda x, axes, keepdims=False: np.add.reduce(x, axis=axes, keepdims=keepdims))
    max = staticmethod(lambda x, axes, keepdims=False: np.maximum.reduce(x, axis=axes, keepdims=keepdims))
    min = staticmethod(lambda x, axes, keepdims=False: np.minimum.reduce(x, axis=axes, keepdims=keepdims))
    swap_last = staticmethod(lambda x: np.swapaxes(x, -1, -2))
    astype = staticmethod(lambda x, dtype: x.astype(dtype))
    sum_to = staticmethod(sum_to)
    scatter = staticmethod(_scatter)
    concatenate = staticmethod(lambda xs, axis: np.concatenate(xs, axis=axis))
    stack = staticmethod(lambda xs, axis: np.stack(xs, axis=axis))
    clip = staticmethod(np.clip)
    logsumexp = staticmethod(lambda x, axes, keepdims=False: _logsumexp(x, axes, keepdims))
    # rows of a 2-D array (SoftmaxCrossEntropy): shaped for speed, see _row_max and _row_sums
    row_sums = staticmethod(lambda x: _row_sums(x))
    softmax_rows = staticmethod(lambda x: _softmax_rows(x))
    log_softmax_rows = staticmethod(lambda x: _log_softmax_rows(x))


class MatMul(Op):
    """a @ b with NumPy's rules: 1-D operands are promoted to matrices and back.

    params = (a needs a gradient, b needs a gradient): a network's input
    needs none, and skipping its product saves a third of the first layer's work.
    """

    name = "matmul"
    forward = staticmethod(lambda ns, p, a, b: a @ b)

    @staticmethod
    def vjp(ns, p, g, out, a, b):
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshapes
            return (g @ b.T if p[0] else None), (a.T @ g if p[1] else None)
        if a.ndim == 1 and b.ndim == 1:
            return g * b, g * a
        a2 = a if a.ndim > 1 else ns.reshape(a, (1,) + a.shape)
        b2 = b if b.ndim > 1 else ns.reshape(b, b.shape + (1,))
        g2 = g
        if a.ndim == 1:
            g2 = ns.reshape(g2, g2.shape[:-1] + (1, g2.shape[-1]))
        if b.ndim == 1:
            g2 = ns.reshape(g2, g2.shape + (1,))
        ga, gb = g2 @ ns.swap_last(b2), ns.swap_last(a2) @ g2
        if a.ndim == 1:
            ga = ga[..., 0, :]
        if b.ndim == 1:
            gb = gb[..., 0]
        return ga, gb

    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] @ b + a @ ts[1])


class Linear(Op):
    """x @ w.T + b (a layer's affine map; params = has a bias) as one op.

    A primitive, not a composite, for speed and memory: the bias is added into
    the product's fresh buffer in place, so a layer keeps one activation-sized
    array instead of two, and the backward pass is two matmuls and a sum.
    """

    name = "linear"

    @staticmethod
    def forward(ns, p, x, w, *b):
        out = x @ w.T
        if b:
            out += b[0]
        return out

    @staticmethod
    def vjp(ns, p, g, out, x, w, *b):
        g2 = g if g.ndim == 2 else ns.reshape(g, (-1, g.shape[-1]))
        x2 = x if x.ndim == 2 else ns.reshape(x, (-1, x.shape[-1]))
        gw = g2.T @ x2 if p[1] else None
        gx = (g2 @ w if x.ndim == 2 else ns.reshape(g2 @ w, x.shape)) if p[0] else None
        return (gx, gw, ns.sum(g2, (0,))) if b else (gx, gw)

    @staticmethod
    def jvp(ns, p, ts, out, x, w, *b):
        t = ts[0] @ w.T + x @ ts[1].T
        return t + ts[2] if b else t


class Sum(Op):
    """params = (axes, keepdims); axes is None (all) or a tuple of non-negative ints."""

    name = "sum"
    forward = staticmethod(lambda ns, p, x: ns.sum(x, p[0], p[1]))
    vjp = staticmethod(
        lambda ns, p, g, out, x: (ns.broadcast_to(ns.reshape(g, reduced_shape(x.shape, p[0])), x.shape),)
    )
    jvp = staticmethod(lambda ns, p, ts, out, x: ns.sum(ts[0], p[0], p[1]))


def _tie_weights(ns, p, out, x):
    """Constant weights that split the gradient evenly among the tied extreme entries."""
    kd = reduced_shape(x.shape, p[0])
    hit = ns.raw(x) == np.reshape(ns.raw(out), kd)
    return hit / np.sum(hit, axis=p[0], keepdims=True), kd


class Max(Op):
    name = "max"
    forward = staticmethod(lambda ns, p, x: ns.max(x, p[0], p[1]))

    @staticmethod
    def vjp(ns, p, g, out, x):
        w, kd = _tie_weights(ns, p, out, x)
        return (ns.reshape(g, kd) * w,)

    @staticmethod
    def jvp(ns, p, ts, out, x):
        return ns.sum(ts[0] * _tie_weights(ns, p, out, x)[0], p[0], p[1])


class Min(Max):
    name = "min"
    forward = staticmethod(lambda ns, p, x: ns.min(x, p[0], p[1]))


def _logsumexp(x, axes, keepdims):
    x = _floating(x)  # int8 x - max(x) would wrap around
    m = np.maximum.reduce(x, axis=axes, keepdims=True)
    total = m.sum()
    if total - total != 0:  # some row is all -inf (or has inf/nan): leave those unshifted
        m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.add.reduce(np.exp(x - m), axis=axes, keepdims=True))
    r += m
    return r if keepdims else np.squeeze(r, axis=axes)


class LogSumExp(Op):
    """log sum exp x, shifted by the max so inputs of 1000 neither overflow nor give nan.

    A primitive rather than a composite because its gradient, softmax =
    exp(x - logsumexp x), is then computed from the stable output.
    """

    name = "logsumexp"
    forward = staticmethod(lambda ns, p, x: ns.logsumexp(x, p[0], p[1]))

    @staticmethod
    def vjp(ns, p, g, out, x):
        kd = reduced_shape(x.shape, p[0])
        return (ns.reshape(g, kd) * ns.exp(x - ns.reshape(out, kd)),)

    @staticmethod
    def jvp(ns, p, ts, out, x):
        kd = reduced_shape(x.shape, p[0])
        return ns.sum(ts[0] * ns.exp(x - ns.reshape(out, kd)), p[0], p[1])


def _row_max(x):
    """The max of each row of the 2-D array x, as (n, 1).

    NumPy reduces along the last axis one row at a time, so many short rows (a
    batch of 256 rows of 10 classes) are slow to reduce; a transposed copy reduced
    along its first axis is elementwise over whole rows of the copy, several times
    faster. Long rows reduce fast either way.
    """
    if x.shape[1] < 32:
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return np.maximum.reduce(x, axis=1, keepdims=True)


def _row_sums(x, out=None):
    """The sum of each row of the 2-D array x, as (n, 1) (into `out` if given), transposed
    for the reason of _row_max.

    Not a product with a column of ones: what a BLAS kernel gives where a row meets inf or
    nan depends on the kernel the machine's OpenBLAS picks; NumPy's add follows IEEE."""
    if x.shape[1] < 32:
        column = None if out is None else out[:, 0]
        return np.add.reduce(np.ascontiguousarray(x.T), axis=0, out=column).reshape(-1, 1)
    return np.add.reduce(x, axis=1, keepdims=True, out=out)


def _row_shift(x):
    """The max of each row of 2-D x, or 0 in the rows where it is not finite.

    Subtracting it keeps exp from overflowing; where the max is -inf (all -inf),
    +inf or nan, shifting would make nan of inf - inf, so those rows stay unshifted.
    """
    m = _row_max(x)
    if not math.isfinite(np.add.reduce(m, axis=None)):  # a max is not finite (or their sum overflows)
        m = np.where(np.isfinite(m), m, 0)
    return m


def _shifted_exps(x):
    """For the rows of 2-D x: x minus the row maxima, its exp, and the exp's row sums."""
    x = _floating(x)
    r = x - _row_shift(x)
    e = np.exp(r)
    return x, r, e, _row_sums(e)


def _log_softmax_rows(x, saved=None):
    """log softmax of each row of 2-D x, shifted by the row max; a fresh array.

    With `saved` (a SavedSoftmax), keeps exp(x - shift) and its row sums there.
    """
    x, r, e, s = _shifted_exps(x)
    if saved is not None:
        saved.z, saved.exps, saved.sums = x, e, s
    r -= np.log(s)
    return r


def _softmax_rows(x):
    """softmax of each row of 2-D x, shifted by the row max; a fresh array."""
    _, _, e, s = _shifted_exps(x)
    e /= s
    return e


def _weighted_sum(t, logp, reduce):
    """sum t * logp over everything (reduce) or per row: no (n, k) temporary, no warning.

    einsum's own loops, never a BLAS dot product (np.vdot): where a term is infinite the
    result must be IEEE arithmetic's, not whatever the machine's BLAS kernel makes of it.
    """
    return np.einsum("ij,ij->" if reduce else "ij,ij->i", t, logp)


def _cross_entropy(z, t, scale, reduce, saved):
    """SoftmaxCrossEntropy's forward on ndarrays (see there)."""
    logp = _log_softmax_rows(z, saved)
    total = _weighted_sum(t, logp, reduce)
    if not (math.isfinite(total) if reduce else np.logical_and.reduce(np.isfinite(total), axis=None)):
        # an -inf logit has log-probability -inf: with target weight 0 it must add nothing,
        # not 0 * -inf = nan;
        # with weight > 0 the loss is +inf
        total = _weighted_sum(t, np.where(t == 0, 0, logp), reduce)
    return total * -scale


def _row_factor(ns, p, g, sign=1.0):
    """sign * scale * g, shaped to multiply (n, k) rows: a scalar when reduced, (n, 1) if not."""
    scale, reduce = p[0], p[1]
    return g * (sign * scale) if reduce else ns.reshape(g, (-1, 1)) * (sign * scale)


class SavedSoftmax:
    """What SoftmaxCrossEntropy's forward leaves for its backward (the third of its params):
    exp(z - shift) and its row sums, whose quotient is softmax(z), so the backward divides
    once instead of recomputing softmax from z (eight NumPy calls), as PyTorch saves it."""

    __slots__ = ("z", "exps", "sums")

    def __init__(self):
        self.z = self.exps = self.sums = None

    def __repr__(self):
        return "SavedSoftmax()"


def _saved(p):
    return p[2] if len(p) > 2 else None


class SoftmaxCrossEntropy(BinaryOp):
    """Cross-entropy of softmax(z) against target weights t, z and t (n, k) of one float dtype.

    loss_i = -sum_j t_ij log softmax(z_i)_j = rowsum(t)_i logsumexp(z_i) - sum_j t_ij z_ij
    params = (scale, reduce[, SavedSoftmax()]): scale * sum_i loss_i as a 0-d result when
    reduce is true (scale 1/n for a mean), else scale * loss_i of shape (n,). Rows of t are one-hot for
    class labels, but may be any weights: nothing assumes they sum to 1. An -inf logit
    where t is 0 adds nothing; where t > 0 the loss is +inf, as the formula says.

    A primitive, not the composite of logsumexp, where and sum it replaces, for speed: a
    training step's loss is one node and about ten NumPy calls each way instead of eight
    nodes and some twenty-five calls. The z-rule takes softmax from the SavedSoftmax when
    params has one (else recomputes it); the t-rule runs only when t needs a gradient.
    """

    name = "softmax_cross_entropy"
    forward = staticmethod(lambda ns, p, z, t: _cross_entropy(z, t, p[0], p[1], _saved(p)))

    @staticmethod
    def vjp_a(ns, p, g, out, z, t):
        # d loss_i / d z_ij = softmax(z_i)_j rowsum(t)_i - t_ij (the notes' delta a - y for one-hot t)
        saved = _saved(p)
        if saved is not None and saved.z is z:  # raw arrays, as the forward saw them
            softmax = saved.exps / saved.sums
        else:
            softmax = ns.softmax_rows(z)
        return (softmax * ns.row_sums(t) - t) * _row_factor(ns, p, g)

    @staticmethod
    def vjp_b(ns, p, g, out, z, t):
        # d loss_i / d t_ij = -log softmax(z_i)_j (+inf at an -inf logit, as the loss itself)
        return ns.log_softmax_rows(z) * _row_factor(ns, p, g, -1.0)

    @staticmethod
    def jvp(ns, p, ts, out, z, t):
        dz, dt = ts
        logp = ns.log_softmax_rows(z)
        delta = ns.exp(logp) * ns.row_sums(t) - t
        # dt * logp with 0 where dt is 0: a constant t's zero tangent times an -inf logit's
        # log-probability adds nothing (not nan)
        change = dz * delta - dt * ns.where(ns.raw(dt) == 0, 0.0, logp)
        return ns.sum(change, None if p[1] else (1,)) * p[0]


class Reshape(Op):
    name = "reshape"
    forward = staticmethod(lambda ns, shape, x: ns.reshape(x, shape))
    vjp = staticmethod(lambda ns, shape, g, out, x: (ns.reshape(g, x.shape),))
    jvp = staticmethod(lambda ns, shape, ts, out, x: ns.reshape(ts[0], shape))


class Transpose(Op):
    name = "transpose"
    forward = staticmethod(lambda ns, axes, x: ns.transpose(x, axes))
    vjp = staticmethod(lambda ns, axes, g, out, x: (ns.transpose(g, tuple(np.argsort(axes))),))
    jvp = staticmethod(lambda ns, axes, ts, out, x: ns.transpose(ts[0], axes))


class BroadcastTo(Op):
    """Its gradient is the engine's sum back to the input's shape, so vjp passes g on."""

    name = "broadcast_to"
    forward = staticmethod(lambda ns, shape, x: ns.broadcast_to(x, shape))
    vjp = staticmethod(lambda ns, shape, g, out, x: (g,))
    jvp = staticmethod(lambda ns, shape, ts, out, x: ns.broadcast_to(ts[0], shape))


class SumTo(Op):
    name = "sum_to"
    forward = staticmethod(lambda ns, shape, x: ns.sum_to(x, shape))
    vjp = staticmethod(lambda ns, shape, g, out, x: (ns.broadcast_to(g, x.shape),))
    jvp = staticmethod(lambda ns, shape, ts, out, x: ns.sum_to(ts[0], shape))


class Cast(Op):
    name = "astype"
    forward = staticmethod(lambda ns, dtype, x: ns.astype(x, dtype))
    vjp = staticmethod(lambda ns, dtype, g, out, x: (ns.astype(g, x.dtype),))
    jvp = staticmethod(lambda ns, dtype, ts, out, x: ns.astype(ts[0], dtype))


class GetItem(Op):
    """x[index]; the gradient scatters back, adding where an index repeats."""

    name = "getitem"
    forward = staticmethod(lambda ns, index, x: x[index])
    vjp = staticmethod(lambda ns, index, g, out, x: (ns.scatter(g, index, x.shape),))
    jvp = staticmethod(lambda ns, index, ts, out, x: ts[0][index])


class Scatter(Op):
    """params = (index, shape): zeros of `shape` with g added at `index` (GetItem's adjoint)."""

    name = "scatter"
    forward = staticmethod(lambda ns, p, g: ns.scatter(g, p[0], p[1]))
    vjp = staticmethod(lambda ns, p, g, out, x: (g[p[0]],))
    jvp = staticmethod(lambda ns, p, ts, out, x: ns.scatter(ts[0], p[0], p[1]))


def _pieces(g, axis, sizes):
    """Split g along `axis` into consecutive pieces of the given sizes."""
    lead, start, pieces = (slice(None),) * axis, 0, []
    for n in sizes:
        pieces.append(g[lead + (slice(start, start + n),)])
        start += n
    return tuple(pieces)


class Concatenate(Op):
    name = "concatenate"
    forward = staticmethod(lambda ns, axis, *xs: ns.concatenate(xs, axis))
    vjp = staticmethod(lambda ns, axis, g, out, *xs: _pieces(g, axis, [x.shape[axis] for x in xs]))
    jvp = staticmethod(lambda ns, axis, ts, out, *xs: ns.concatenate(ts, axis))


class Stack(Op):
    name = "stack"
    forward = staticmethod(lambda ns, axis, *xs: ns.stack(xs, axis))
    vjp = staticmethod(lambda ns, axis, g, out, *xs: tuple(g[(slice(None),) * axis + (i,)] for i in range(len(xs))))
    jvp = staticmethod(lambda ns, axis, ts, out, *xs: ns.stack(ts, axis))


def _inside(ns, p, x):
    """1 strictly between the clip bounds, else 0 (the kinks get 0, like relu'(0))."""
    r = ns.raw(x)
    lo, hi = p
    return (True if lo is None else r > lo) & (True if hi is None else r < hi)


class Clip(Op):
    name = "clip"
    forward = staticmethod(lambda ns, p, x: ns.clip(x, p[0], p[1]))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * _inside(ns, p, x),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * _inside(ns, p, x))


def _left_share(ns, a, b, wins):
    """Weight of `a` in max/min(a, b): 1 where it wins, 1/2 on ties, else 0."""
    ra, rb = ns.raw(a), ns.raw(b)
    return wins(ra, rb) + 0.5 * (ra == rb)


class Maximum(Op):
    name = "maximum"
    wins = staticmethod(np.greater)  # where `a` is the one kept
    forward = staticmethod(lambda ns, p, a, b: np.maximum(a, b))

    @classmethod
    def vjp(cls, ns, p, g, out, a, b):
        w = _left_share(ns, a, b, cls.wins)
        return g * w, g * (1 - w)

    @classmethod
    def jvp(cls, ns, p, ts, out, a, b):
        w = _left_share(ns, a, b, cls.wins)
        return ts[0] * w + ts[1] * (1 - w)


class Minimum(Maximum):
    name = "minimum"
    wins = staticmethod(np.less)
    forward = staticmethod(lambda ns, p, a, b: np.minimum(a, b))


class Where(Op):
    """where(cond, a, b); cond (params) is a constant boolean array."""

    name = "where"
    forward = staticmethod(lambda ns, cond, a, b: ns.where(cond, a, b))
    vjp = staticmethod(lambda ns, cond, g, out, a, b: (g * cond, g * ~cond))
    jvp = staticmethod(lambda ns, cond, ts, out, a, b: ns.where(cond, ts[0], ts[1]))
