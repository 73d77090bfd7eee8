"""Operations that only tensors have: matmul, reductions, shape and indexing.

The elementwise ops of ops.py serve tensors too. As there, each rule is
written with `ns.*` so the same code runs on ndarrays (`NumpyNS`) and, for
higher-order gradients, on `Tensor`s (`TensorNS`); see namespaces.py for what
`ns` offers. Gradients only need the right values: summing back over broadcast
axes and casting to the input's dtype is the engine's job (`Tensor.fit_grad`).
An op with several parameters names them (a NamedTuple: still a tuple).
"""

import math
import threading
from typing import Any, NamedTuple

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


class LinearMap(Op):
    """An op linear in its inputs (a reshape, a sum, a selection): its Jacobian is the op
    itself, so the jvp is the forward applied to the tangents and only the vjp is written."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        forward = cls.forward
        cls.jvp = staticmethod(lambda ns, p, ts, out, *xs: forward(ns, p, *ts))

    @staticmethod
    def define(class_name, name, vjp, doc=""):
        """The op `name` whose forward is the namespace's function of that name, ns.name(x, params)."""
        rules = {
            "name": name,
            "forward": staticmethod(lambda ns, p, x: getattr(ns, name)(x, p)),
            "vjp": staticmethod(vjp),
            "__doc__": doc or f"{name}(x, params)",
            "__module__": __name__,
        }
        return type(class_name, (LinearMap,), rules)


def _as_matrices(ns, g, a, b):
    """g, a and b as NumPy's matmul sees them: a 1-D a is a row (1, n), a 1-D b a column (n, 1)."""
    a2 = a if a.ndim > 1 else ns.reshape(a, (1,) + a.shape)
    b2 = b if b.ndim > 1 else ns.reshape(b, b.shape + (1,))
    if a.ndim == 1:
        g = ns.reshape(g, g.shape[:-1] + (1, g.shape[-1]))
    if b.ndim == 1:
        g = ns.reshape(g, g.shape + (1,))
    return g, a2, b2


class MatMul(BinaryOp):
    """a @ b with NumPy's rules: 1-D operands are promoted to matrices and back.

    A BinaryOp: a network's input needs no gradient, and skipping its product
    saves a third of the first layer's work.
    """

    name = "matmul"
    forward = staticmethod(lambda ns, p, a, b: a @ b)

    @staticmethod
    def vjp_a(ns, p, g, out, a, b):
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshapes
            return g @ b.T
        if a.ndim == 1 and b.ndim == 1:
            return g * b
        g2, _, b2 = _as_matrices(ns, g, a, b)
        ga = g2 @ ns.swap_last(b2)
        return ga[..., 0, :] if a.ndim == 1 else ga

    @staticmethod
    def vjp_b(ns, p, g, out, a, b):
        if a.ndim == 2 and b.ndim == 2:
            return a.T @ g
        if a.ndim == 1 and b.ndim == 1:
            return g * a
        g2, a2, _ = _as_matrices(ns, g, a, b)
        gb = ns.swap_last(a2) @ g2
        return gb[..., 0] if b.ndim == 1 else gb

    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] @ b + a @ ts[1])


class GradientsWanted(NamedTuple):
    """Linear's params: which of x and w need a gradient (their products are skipped if not)."""

    input: bool
    weight: bool


# Linear's four possible params, made once: building a NamedTuple is a Python call, per layer per step
GRADIENTS_WANTED = {(x, w): GradientsWanted(x, w) for x in (False, True) for w in (False, True)}
# Linear's reads: the weight's rule reads x, the input's reads w, the bias's reads neither
_LINEAR_READS = {p: (p.weight, p.input, False) for p in GRADIENTS_WANTED.values()}


# A batch with fewer rows than the layer has outputs is multiplied as w @ x.T (the transposed
# product) rather than x @ w.T: the same sums of products (on OpenBLAS here, bit for bit the
# same results), but BLAS picks its kernel by the shapes it is handed, and OpenBLAS's float32
# kernel for a short x @ w.T is slow (a batch of 16 through 784-256 takes twice as long on its
# SkylakeX kernels, 10% longer on its Haswell ones; the README's Performance section has the
# measurements). Below 8 rows both are matrix-vector work and the plain product is as fast;
# from as many rows as outputs on, the plain one is as fast or faster.
_TRANSPOSED_MIN_ROWS = 8


def product_transposed(rows: int, out_features: int) -> bool:
    """Whether linear multiplies a (rows, in) batch by a weight with out_features rows as w @ x.T."""
    return _TRANSPOSED_MIN_ROWS <= rows < out_features


class Linear(Op):
    """x @ w.T + b (a layer's affine map; params: GradientsWanted) as one op.

    A primitive, not a composite, for speed and memory: the bias is added into
    the product's fresh buffer in place, so a layer keeps one activation-sized
    array instead of two, and the backward pass is two matmuls and a sum.
    """

    name = "linear"
    exact_shapes = True  # x's gradient is reshaped to x's shape; the weight's is (out, in), the bias's (out,)
    reads = staticmethod(_LINEAR_READS.__getitem__)  # a table, not a lambda: no Python call per layer

    @staticmethod
    def forward(ns, p, x, w, *b):
        if x.ndim == 2 and product_transposed(len(x), len(w)):
            # the same products, handed to BLAS as w @ x.T; the result is written out row-major, with
            # the bias, so that everything after sees the layout x @ w.T gives
            t = (w @ x.T).T
            return np.add(t, b[0], out=np.empty(t.shape, t.dtype)) if b else np.ascontiguousarray(t)
        out = x @ w.T
        if b:
            out += b[0]
        return out

    @staticmethod
    def vjp(ns, p, g, out, x, w, *b):
        g2 = g if g.ndim == 2 else ns.reshape(g, (-1, g.shape[-1]))
        x2 = x if x.ndim == 2 else ns.reshape(x, (-1, x.shape[-1]))
        gw = g2.T @ x2 if p.weight else None
        gx = (g2 @ w if x.ndim == 2 else ns.reshape(g2 @ w, x.shape)) if p.input else None
        return (gx, gw, ns.sum(g2, (0,))) if b else (gx, gw)

    @staticmethod
    def jvp(ns, p, ts, out, x, w, *b):
        t = ts[0] @ w.T + x @ ts[1].T
        return t + ts[2] if b else t


class Reduction(NamedTuple):
    """The params of sum, max, min and logsumexp."""

    axes: tuple[int, ...] | None  # None (all) or a sorted tuple of non-negative ints
    keepdims: bool


class Sum(LinearMap):
    name = "sum"
    forward = staticmethod(lambda ns, p, x: ns.sum(x, p.axes, p.keepdims))
    vjp = staticmethod(
        lambda ns, p, g, out, x: (ns.broadcast_to(ns.reshape(g, reduced_shape(x.shape, p.axes)), x.shape),)
    )


def _tie_weights(ns, p, out, x):
    """Constant weights that split the gradient evenly among the tied extreme entries."""
    kd, raw = reduced_shape(x.shape, p.axes), ns.raw_ns
    hit = ns.raw(x) == raw.reshape(ns.raw(out), kd)
    return hit / raw.sum(hit, p.axes, True), kd


class Max(Op):
    name = "max"
    forward = staticmethod(lambda ns, p, x: ns.max(x, p.axes, p.keepdims))

    @staticmethod
    def vjp(ns, p, g, out, x):
        w, kd = _tie_weights(ns, p, out, x)
        return (ns.reshape(g, kd) * w,)

    @staticmethod
    def jvp(ns, p, ts, out, x):
        return ns.sum(ts[0] * _tie_weights(ns, p, out, x)[0], p.axes, p.keepdims)


class Min(Max):
    name = "min"
    forward = staticmethod(lambda ns, p, x: ns.min(x, p.axes, p.keepdims))


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
    forward = staticmethod(lambda ns, p, x: ns.logsumexp(x, p.axes, p.keepdims))

    @staticmethod
    def vjp(ns, p, g, out, x):
        kd = reduced_shape(x.shape, p.axes)
        return (ns.reshape(g, kd) * ns.exp(x - ns.reshape(out, kd)),)

    @staticmethod
    def jvp(ns, p, ts, out, x):
        kd = reduced_shape(x.shape, p.axes)
        return ns.sum(ts[0] * ns.exp(x - ns.reshape(out, kd)), p.axes, p.keepdims)


# _row_max and _row_sums reduce rows shorter than this, when there are at least this many of
# them, as a transposed copy
_SHORT_ROWS = 32


def _row_max(x):
    """The max of each row of the 2-D array x, as (n, 1).

    NumPy reduces along the last axis one row at a time, so many short rows (a
    batch of 256 rows of 10 classes) are slow to reduce; a transposed copy reduced
    along its first axis is elementwise over whole rows of the copy, several times
    faster. Long rows reduce fast either way, and a few short ones (a batch of 16)
    faster as they are than through the copy.
    """
    if x.shape[1] < _SHORT_ROWS <= x.shape[0]:
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return np.maximum.reduce(x, axis=1, keepdims=True)


def _row_sums(x, out=None):
    """The sum of each row of the 2-D array x, as (n, 1) (into `out` if given), transposed
    for the reason of _row_max.

    Not a product with a column of ones: what a BLAS kernel gives where a row meets inf or
    nan depends on the kernel the machine's OpenBLAS picks; NumPy's add follows IEEE."""
    if x.shape[1] < _SHORT_ROWS <= x.shape[0]:
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


def _log_softmax_rows(x, saved=None, shift=_row_shift):
    """log softmax of each row of 2-D x, shifted by the row max; a fresh array.

    With `saved` (a SavedSoftmax), keeps exp(x - shift) and its row sums there. shift=_row_max
    skips _row_shift's test that every max is finite: the caller tests the result instead.
    """
    x = _floating(x)
    r = x - shift(x)
    e = np.exp(r)
    s = _row_sums(e)
    if saved is not None:
        saved.z, saved.exps, saved.sums = x, e, s
    r -= np.log(s)
    return r


def _softmax_rows(x):
    """softmax of each row of 2-D x, shifted by the row max; a fresh array (the calls of _log_softmax_rows)."""
    x = _floating(x)
    e = np.exp(x - _row_shift(x))
    e /= _row_sums(e)
    return e


def _weighted_sum(t, logp, reduce):
    """sum t * logp over everything (reduce) or per row: no (n, k) temporary, no warning.

    einsum's own loops, never a BLAS dot product (np.vdot): where a term is infinite the
    result must be IEEE arithmetic's, not whatever the machine's BLAS kernel makes of it.
    """
    return np.einsum("ij,ij->" if reduce else "ij,ij->i", t, logp)


def _all_finite(total, reduce):
    """Whether the weighted sum (a number when reduced, else one per row) is finite."""
    return math.isfinite(total) if reduce else np.logical_and.reduce(np.isfinite(total), axis=None)


def _row_factor(ns, p, g, sign=1.0):
    """sign * scale * g, shaped to multiply (n, k) rows: a scalar when reduced, (n, 1) if not."""
    return g * (sign * p.scale) if p.reduce else ns.reshape(g, (-1, 1)) * (sign * p.scale)


# SoftmaxCrossEntropy's rows: NumPy's fast row loops above on arrays, recorded ops on tensors
def _row_sums_of(ns, x):
    return _row_sums(x) if ns.raw_ns is ns else ns.sum(x, (1,), True)


def _log_softmax_rows_of(ns, x):
    return _log_softmax_rows(x) if ns.raw_ns is ns else x - ns.logsumexp(x, (1,), True)


class SavedSoftmax:
    """What SoftmaxCrossEntropy's forward leaves for its backward (the third of its params):
    exp(z - shift) and its row sums, whose quotient is softmax(z), so the backward divides
    once instead of recomputing softmax from z (eight NumPy calls), as PyTorch saves it.
    None until the forward sets them: class defaults, so making one per step runs no Python code."""

    z: Any = None
    exps: Any = None
    sums: Any = None

    def __repr__(self):
        return "SavedSoftmax()"


class CrossEntropyParams(NamedTuple):
    """SoftmaxCrossEntropy's params (see there)."""

    scale: float
    reduce: bool
    saved: SavedSoftmax | None = None
    one_hot: bool = False  # t is one-hot rows built from checked class labels: each row sums to 1


class SoftmaxCrossEntropy(BinaryOp):
    """Cross-entropy of softmax(z) against target weights t, z and t (n, k) of one float dtype.

    loss_i = -sum_j t_ij log softmax(z_i)_j = rowsum(t)_i logsumexp(z_i) - sum_j t_ij z_ij
    params = CrossEntropyParams(scale, reduce[, SavedSoftmax()[, one_hot]]): scale * sum_i loss_i as a 0-d result when
    reduce is true (scale 1/n for a mean), else scale * loss_i of shape (n,). Rows of t are one-hot for
    class labels, but may be any weights: nothing assumes they sum to 1. An -inf logit
    where t is 0 adds nothing; where t > 0 the loss is +inf, as the formula says.

    A primitive, not the composite of logsumexp, where and sum it replaces, for speed: a
    training step's loss is one node and about ten NumPy calls each way instead of eight
    nodes and some twenty-five calls. The z-rule takes softmax from the SavedSoftmax when
    params has one (else recomputes it); the t-rule runs only when t needs a gradient.
    """

    name = "softmax_cross_entropy"
    exact_shapes = True  # both rules give (n, k) rows, the shape of z and of t

    @staticmethod
    def forward(ns, p, z, t):
        # shifted by the plain row maxima first: a finite loss shows they were all finite (a max of
        # -inf, +inf or nan makes its row nan), which saves _row_shift's test on the common path
        reduce = p.reduce
        logp = _log_softmax_rows(z, p.saved, _row_max)
        total = _weighted_sum(t, logp, reduce)
        if not _all_finite(total, reduce):
            logp = _log_softmax_rows(z, p.saved)  # non-finite maxima left out, as _row_shift does
            total = _weighted_sum(t, logp, reduce)
            if not _all_finite(total, reduce):
                # an -inf logit has log-probability -inf: with target weight 0 it must add nothing,
                # not 0 * -inf = nan;
                # with weight > 0 the loss is +inf
                total = _weighted_sum(t, np.where(t == 0, 0, logp), reduce)
        return total * -p.scale

    @staticmethod
    def vjp_a(ns, p, g, out, z, t):
        # d loss_i / d z_ij = softmax(z_i)_j rowsum(t)_i - t_ij (the notes' delta a - y for one-hot t)
        saved = p.saved
        if saved is not None and saved.z is z:  # raw arrays, as the forward saw them
            softmax = saved.exps / saved.sums
        elif ns.raw_ns is ns:
            softmax = _softmax_rows(z)
        else:
            softmax = ns.exp(_log_softmax_rows_of(ns, z))
        if p.one_hot:  # rows the caller's labels made sum to 1: softmax * 1 would be a copy
            return (softmax - t) * _row_factor(ns, p, g)
        return (softmax * _row_sums_of(ns, t) - t) * _row_factor(ns, p, g)

    @staticmethod
    def vjp_b(ns, p, g, out, z, t):
        # d loss_i / d t_ij = -log softmax(z_i)_j (+inf at an -inf logit, as the loss itself)
        return _log_softmax_rows_of(ns, z) * _row_factor(ns, p, g, -1.0)

    @staticmethod
    def jvp(ns, p, ts, out, z, t):
        dz, dt = ts
        logp = _log_softmax_rows_of(ns, z)
        delta = ns.exp(logp) * _row_sums_of(ns, t) - t
        # dt * logp with 0 where dt is 0: a constant t's zero tangent times an -inf logit's
        # log-probability adds nothing (not nan)
        change = dz * delta - dt * ns.where(ns.raw(dt) == 0, 0.0, logp)
        return ns.sum(change, None if p.reduce else (1,)) * p.scale


# Shapes and dtypes: each op's params are its target (shape, axes or dtype); the vjp goes back
# to the input's. broadcast_to's vjp passes g on: summing it back to the input's shape is the
# engine's fit_grad.
Reshape = LinearMap.define("Reshape", "reshape", lambda ns, shape, g, out, x: (ns.reshape(g, x.shape),))
Transpose = LinearMap.define(
    "Transpose", "transpose", lambda ns, axes, g, out, x: (ns.transpose(g, tuple(np.argsort(axes))),)
)
BroadcastTo = LinearMap.define("BroadcastTo", "broadcast_to", lambda ns, shape, g, out, x: (g,))
SumTo = LinearMap.define("SumTo", "sum_to", lambda ns, shape, g, out, x: (ns.broadcast_to(g, x.shape),))
Cast = LinearMap.define("Cast", "astype", lambda ns, dtype, g, out, x: (ns.astype(g, x.dtype),))


class GetItem(LinearMap):
    """x[index]; the gradient scatters back, adding where an index repeats."""

    name = "getitem"
    forward = staticmethod(lambda ns, index, x: x[index])
    vjp = staticmethod(lambda ns, index, g, out, x: (ns.scatter(g, index, x.shape),))


class Placement(NamedTuple):
    """Scatter's params: where its input goes in zeros of which shape."""

    index: Any
    shape: tuple[int, ...]


class Scatter(LinearMap):
    """Zeros of p.shape with g added at p.index (GetItem's adjoint)."""

    name = "scatter"
    forward = staticmethod(lambda ns, p, g: ns.scatter(g, p.index, p.shape))
    vjp = staticmethod(lambda ns, p, g, out, x: (g[p.index],))


def _pieces(g, axis, sizes):
    """Split g along `axis` into consecutive pieces of the given sizes."""
    lead, start, pieces = (slice(None),) * axis, 0, []
    for n in sizes:
        pieces.append(g[lead + (slice(start, start + n),)])
        start += n
    return tuple(pieces)


class Concatenate(LinearMap):
    name = "concatenate"
    forward = staticmethod(lambda ns, axis, *xs: ns.concatenate(xs, axis))
    vjp = staticmethod(lambda ns, axis, g, out, *xs: _pieces(g, axis, [x.shape[axis] for x in xs]))


class Stack(LinearMap):
    name = "stack"
    forward = staticmethod(lambda ns, axis, *xs: ns.stack(xs, axis))
    vjp = staticmethod(lambda ns, axis, g, out, *xs: tuple(g[(slice(None),) * axis + (i,)] for i in range(len(xs))))


class Bounds(NamedTuple):
    """Clip's params; None: no bound on that side."""

    lo: Any
    hi: Any


def _inside(ns, p, x):
    """1 strictly between the clip bounds, else 0 (the kinks get 0, like relu'(0))."""
    r = ns.raw(x)
    return (True if p.lo is None else r > p.lo) & (True if p.hi is None else r < p.hi)


class Clip(Op):
    name = "clip"
    forward = staticmethod(lambda ns, p, x: ns.clip(x, p.lo, p.hi))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * _inside(ns, p, x),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * _inside(ns, p, x))


def _left_share(ns, a, b, wins):
    """Weight of `a` in max/min(a, b): 1 where it wins, 1/2 on ties, else 0."""
    ra, rb = ns.raw(a), ns.raw(b)
    return wins(ra, rb) + 0.5 * (ra == rb)


class Maximum(Op):
    name = "maximum"
    wins = staticmethod(np.greater)  # where `a` is the one kept
    forward = staticmethod(lambda ns, p, a, b: ns.maximum(a, b))

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
    forward = staticmethod(lambda ns, p, a, b: ns.minimum(a, b))


class Where(Op):
    """where(cond, a, b); cond (params) is a constant boolean array."""

    name = "where"
    forward = staticmethod(lambda ns, cond, a, b: ns.where(cond, a, b))
    vjp = staticmethod(lambda ns, cond, g, out, a, b: (g * cond, g * ~cond))
    jvp = staticmethod(lambda ns, cond, ts, out, a, b: ns.where(cond, ts[0], ts[1]))
