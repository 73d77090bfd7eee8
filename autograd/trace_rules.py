"""The buffered rules of a traced replay (see trace.py): for the hot ops, closures that
compute an op's forward result or its inputs' gradients into buffers preallocated at
trace time, with the same ufuncs in the same order as the op's own rule, so the
replay stays bit-identical to eager execution. trace.py checks that at trace time
and falls back to the ops' own rules (the generic makers here) if a rule drifts.
"""

import numpy as np

from . import ops
from . import tensor_ops as T
from .namespaces import NumpyNS
from .tensor_ops import reduced_shape

_add, _subtract, _multiply, _divide = np.add, np.subtract, np.multiply, np.divide
_negative, _exp, _log, _tanh, _maximum = np.negative, np.exp, np.log, np.tanh, np.maximum
_matmul, _greater, _copyto, _broadcast_to = np.matmul, np.greater, np.copyto, np.broadcast_to
_sum, _max = np.add.reduce, np.maximum.reduce


def _empty(shape, dtype, order="C"):
    """An uninitialised array whose data starts on a 64-byte boundary (NumPy's own start 16 bytes
    past one): BLAS writes a product into it about 5% faster. A view of a uint8 array."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + nbytes].view(dtype).reshape(shape, order=order)


def _empty_like(a):
    """_empty with a's shape, dtype and memory layout (C or Fortran order; else NumPy's empty_like)."""
    if a.flags.c_contiguous:
        return _empty(a.shape, a.dtype)
    if a.flags.f_contiguous:
        return _empty(a.shape, a.dtype, order="F")
    return np.empty_like(a)


# Forward rules ----------------------------------------------------------------
# Each maker takes (the replay's lists, params, buffer, out slot, input slots) and
# returns a closure that computes the op's output into `buffer` (so vals[out] is
# the buffer for good, unless the closure sets it), or None when the op's rule
# cannot write into a buffer here.


def _fwd_unary(ufunc):
    def make(r, p, buf, o, srcs):
        v = r.vals
        (x,) = srcs

        def run():
            ufunc(v[x], out=buf)

        return run

    return make


def _fwd_binary(ufunc):
    def make(r, p, buf, o, srcs):
        v = r.vals
        a, b = srcs

        def run():
            ufunc(v[a], v[b], out=buf)

        return run

    return make


def _fwd_relu(r, p, buf, o, srcs):
    v = r.vals
    (x,) = srcs
    # NumpyNS.relu is maximum(x, 0); a 0-d zero of x's dtype is what NumPy turns that 0 into
    zero = np.zeros((), buf.dtype) if v[x].dtype == buf.dtype else 0

    def run():
        _maximum(v[x], zero, out=buf)

    return run


def _fwd_sum(r, p, buf, o, srcs):
    v = r.vals
    (x,), (axes, keepdims) = srcs, p

    def run():
        _sum(v[x], axes, None, buf, keepdims)  # NumpyNS.sum: np.add.reduce

    return run


def _fwd_matmul(r, p, buf, o, srcs):
    v = r.vals
    if buf.ndim == 0:  # 1-D @ 1-D: NumPy returns a scalar, not into a buffer
        return None
    a, b = srcs

    def run():
        _matmul(v[a], v[b], out=buf)

    return run


def _fwd_linear(r, p, buf, o, srcs):
    v = r.vals
    if len(srcs) == 2:
        x, w = srcs

        def run():
            _matmul(v[x], v[w].T, out=buf)

        return run
    x, w, b = srcs

    def run():  # Linear.forward: out = x @ w.T; out += b
        _add(_matmul(v[x], v[w].T, out=buf), v[b], out=buf)

    return run


def _fwd_logsumexp(r, p, buf, o, srcs):
    """tensor_ops._logsumexp into buffers (float inputs); it runs _logsumexp itself when a
    maximum is not finite."""
    v, (x,), (axes, keepdims) = r.vals, srcs, p
    xdata = v[x]
    if xdata.dtype.kind != "f" or xdata.dtype != buf.dtype or not xdata.flags.c_contiguous:
        return None
    kd = reduced_shape(xdata.shape, axes)
    m, shifted, lse = _empty(kd, buf.dtype), _empty(xdata.shape, xdata.dtype), _empty(kd, buf.dtype)
    result = lse if keepdims else np.squeeze(lse, axis=axes)
    if result.shape != buf.shape:
        return None

    def run():
        xv = v[x]
        _max(xv, axes, None, m, True)
        total = _sum(m, None)  # m.sum()
        if total - total != 0:  # an inf or nan maximum
            v[o] = T._logsumexp(xv, axes, keepdims)
            return
        _exp(_subtract(xv, m, out=shifted), out=shifted)
        _log(_sum(shifted, axes, None, lse, True), out=lse)
        _add(lse, m, out=lse)  # r += m
        v[o] = result

    run.result = result
    return run


_FORWARD = {
    ops.Add: _fwd_binary(_add),
    ops.Sub: _fwd_binary(_subtract),
    ops.Mul: _fwd_binary(_multiply),
    ops.Div: _fwd_binary(_divide),
    ops.Neg: _fwd_unary(_negative),
    ops.Exp: _fwd_unary(_exp),
    ops.Log: _fwd_unary(_log),
    ops.Tanh: _fwd_unary(_tanh),
    ops.Relu: _fwd_relu,
    T.MatMul: _fwd_matmul,
    T.Sum: _fwd_sum,
    T.Linear: _fwd_linear,
    T.LogSumExp: _fwd_logsumexp,
}


def _fwd_generic(op, params, v, o, srcs, live=None):
    """The op's own forward rule on raw arrays (a fresh result, or a view).

    live(v), if given, builds the params from this call's values (see trace._live_params)."""
    forward, ns = op.forward, NumpyNS
    if live is not None:

        def run():
            out = forward(ns, live(v), *[v[s] for s in srcs])
            v[o] = out if type(out) is np.ndarray else np.asarray(out)
    elif len(srcs) == 1:
        (x,) = srcs

        def run():
            out = forward(ns, params, v[x])
            v[o] = out if type(out) is np.ndarray else np.asarray(out)
    elif len(srcs) == 2:
        a, b = srcs

        def run():
            out = forward(ns, params, v[a], v[b])
            v[o] = out if type(out) is np.ndarray else np.asarray(out)
    else:

        def run():
            out = forward(ns, params, *[v[s] for s in srcs])
            v[o] = out if type(out) is np.ndarray else np.asarray(out)

    return run


# Backward rules -----------------------------------------------------------------
# A maker takes (the replay's lists, the entry, one _Grad or None per input) and
# returns a closure, or None to use the op's ordinary vjp. Every rule computes
# what the op's vjp computes with NumpyNS, with the same ufuncs in the same order.
# For input i (its _Grad c) the closure writes the gradient into `acc[c.dest]`:
# either the input's own gradient buffer, which grads[c.slot] already is (c.put
# is None), or a temporary that it hands to `c.put` (which sums it over broadcast
# axes, casts it, stores it or adds it to what the input already has). Rules
# whose gradient is a view of g (Add, Sub's first input, Sum) store the view.


def _parts(c):
    return (c.dest, c.put) if c is not None else (None, None)


def _bwd_neg(r, e, cs):
    gr, acc, o = r.grads, r.acc, e.out
    d, put = _parts(cs[0])

    def run():  # -g
        g = _negative(gr[o], out=acc[d])
        if put is not None:
            put(g)

    return run


def _bwd_elementwise(ufunc, by_output):
    """Exp's rule g * out (by_output) or Log's g / x: one ufunc of g and the output or the input."""

    def make(r, e, cs):
        v, gr, acc, o = r.vals, r.grads, r.acc, e.out
        other = o if by_output else e.srcs[0]
        d, put = _parts(cs[0])

        def run():
            g = ufunc(gr[o], v[other], out=acc[d])
            if put is not None:
                put(g)

        return run

    return make


def _bwd_tanh(r, e, cs):
    v, gr, acc, o = r.vals, r.grads, r.acc, e.out
    d, put = _parts(cs[0])
    y = v[o]
    if y.dtype.kind != "f":
        return None
    t, one = _empty(y.shape, y.dtype), np.ones((), y.dtype)  # 1 as NumPy converts the Python 1

    def run():  # g * (1 - out * out)
        y = v[o]
        g = _multiply(gr[o], _subtract(one, _multiply(y, y, out=t), out=t), out=acc[d])
        if put is not None:
            put(g)

    return run


def _bwd_relu(r, e, cs):
    v, gr, acc, o, (x,) = r.vals, r.grads, r.acc, e.out, e.srcs
    d, put = _parts(cs[0])
    if v[x].dtype.kind != "f":
        return None
    mask, zero = _empty(v[x].shape, bool), np.zeros((), v[x].dtype)  # the Python 0, as NumPy converts it

    def run():  # g * (x > 0)
        g = _multiply(gr[o], _greater(v[x], zero, out=mask), out=acc[d])
        if put is not None:
            put(g)

    return run


def _bwd_logsumexp(r, e, cs):
    v, gr, acc, o, (x,) = r.vals, r.grads, r.acc, e.out, e.srcs
    d, put = _parts(cs[0])
    kd = reduced_shape(v[x].shape, e.params[0])

    def run():  # reshape(g, kd) * exp(x - reshape(out, kd))
        t = acc[d]
        _exp(_subtract(v[x], v[o].reshape(kd), out=t), out=t)
        g = _multiply(gr[o].reshape(kd), t, out=t)
        if put is not None:
            put(g)

    return run


def _bwd_sum(r, e, cs):
    """broadcast_to(reshape(g, kd), x.shape): a view, remade only when g is another array."""
    gr, o, (c,) = r.grads, e.out, cs
    shape = r.vals[e.srcs[0]].shape
    kd = reduced_shape(shape, e.params[0])
    s, put = c.slot, c.put
    last = [None, None]  # the g of the previous call and its view

    def run():
        g = gr[o]
        if g is last[0]:
            view = last[1]
        else:
            view = last[1] = _broadcast_to(g.reshape(kd), shape)
            last[0] = g
        if put is None:
            gr[s] = view
        else:
            put(view)

    return run


def _bwd_add_sub(negate_b):
    """Add: (g, g); Sub: (g, -g)."""

    def make(r, e, cs):
        gr, acc, o, (ca, cb) = r.grads, r.acc, e.out, cs
        want_a, want_b = ca is not None, cb is not None
        sa, pa = (ca.slot, ca.put) if want_a else (None, None)
        sb, db, pb = (cb.slot, cb.dest, cb.put) if want_b else (None, None, None)

        def run():
            g = gr[o]
            if want_a:
                if pa is None:
                    gr[sa] = g
                else:
                    pa(g)
            if want_b:
                if negate_b:
                    gb = _negative(g, out=acc[db])
                    if pb is not None:
                        pb(gb)
                elif pb is None:
                    gr[sb] = g
                else:
                    pb(g)

        return run

    return make


def _bwd_mul(r, e, cs):
    v, gr, acc, o, (a, b), (ca, cb) = r.vals, r.grads, r.acc, e.out, e.srcs, cs
    want_a, want_b = ca is not None, cb is not None
    (da, pa), (db, pb) = _parts(ca), _parts(cb)

    def run():
        g = gr[o]
        if want_a:
            ga = _multiply(g, v[b], out=acc[da])  # g * b
            if pa is not None:
                pa(ga)
        if want_b:
            gb = _multiply(g, v[a], out=acc[db])  # g * a
            if pb is not None:
                pb(gb)

    return run


def _bwd_div(r, e, cs):
    v, gr, acc, o, b, (ca, cb) = r.vals, r.grads, r.acc, e.out, e.srcs[1], cs
    if cb is not None:
        return None  # -g * a / (b * b): the op's vjp
    da, pa = _parts(ca)

    def run():
        g = _divide(gr[o], v[b], out=acc[da])  # g / b
        if pa is not None:
            pa(g)

    return run


def _bwd_matmul(r, e, cs):
    v, gr, acc, o, (a, b), (ca, cb) = r.vals, r.grads, r.acc, e.out, e.srcs, cs
    if v[a].ndim != 2 or v[b].ndim != 2:
        return None
    want_a, want_b = ca is not None, cb is not None
    (da, pa), (db, pb) = _parts(ca), _parts(cb)

    def run():
        g = gr[o]
        if want_a:
            ga = _matmul(g, v[b].T, out=acc[da])  # g @ b.T
            if pa is not None:
                pa(ga)
        if want_b:
            gb = _matmul(v[a].T, g, out=acc[db])  # a.T @ g
            if pb is not None:
                pb(gb)

    return run


def _bwd_linear(r, e, cs):
    v, gr, acc, o, (x, w) = r.vals, r.grads, r.acc, e.out, e.srcs[:2]
    if v[x].ndim != 2 or v[o].ndim != 2:
        return None
    cx, cw, cb = cs if len(cs) == 3 else (*cs, None)
    want_x, want_w, want_b = cx is not None, cw is not None, cb is not None
    (dx, px), (dw, pw), (db, pb) = _parts(cx), _parts(cw), _parts(cb)

    def run():
        g = gr[o]
        if want_x:
            gx = _matmul(g, v[w], out=acc[dx])  # g2 @ w
            if px is not None:
                px(gx)
        if want_w:
            gw = _matmul(g.T, v[x], out=acc[dw])  # g2.T @ x2
            if pw is not None:
                pw(gw)
        if want_b:
            gb = _sum(g, (0,), None, acc[db])  # ns.sum(g2, (0,))
            if pb is not None:
                pb(gb)

    return run


def _sce_usable(r, z, t):
    """Whether SoftmaxCrossEntropy's inputs are what its rules here expect (else: the op's own)."""
    zd, td = r.vals[z], r.vals[t]
    return zd.dtype.kind == "f" and zd.ndim == 2 and td.dtype == zd.dtype and td.shape == zd.shape


def _fwd_softmax_cross_entropy(r, p, buf, o, srcs):
    """tensor_ops._cross_entropy into buffers, its helpers (_row_max, _row_shift, _row_sums,
    _weighted_sum) spelled out with the same calls. It keeps exp(z - shift) and its row sums:
    SoftmaxCrossEntropy.vjp_a recomputes exactly these (the same calls on the same values)."""
    v, (z, t), (scale, reduce) = r.vals, srcs, p[:2]
    if not _sce_usable(r, z, t):
        return None
    (n, k), dtype = v[z].shape, v[z].dtype
    transposed = _empty((k, n), dtype)  # _row_max: rows of fewer than 32 reduce transposed
    shift, shifted, exps = _empty((n, 1), dtype), _empty((n, k), dtype), _empty((n, k), dtype)
    sums, log_sums = _empty((n, 1), dtype), _empty((n, 1), dtype)
    shift_flat = shift[:, 0]
    r.shared[o] = (exps, sums)
    minus_scale = -scale

    def total_of(zv, tv, m):
        """_log_softmax_rows (r = x - m; s = row_sums(exp(r)); r -= log(s)), then _weighted_sum."""
        _subtract(zv, m, out=shifted)
        T._row_sums(_exp(shifted, out=exps), sums)
        logp = _subtract(shifted, _log(sums, out=log_sums), out=shifted)
        return T._weighted_sum(tv, logp, reduce)

    def finite(total):
        return total - total == 0 if reduce else np.logical_and.reduce(np.isfinite(total), axis=None)

    def run():
        zv, tv = v[z], v[t]
        if k < 32:  # _row_max
            _copyto(transposed, zv.T)  # np.ascontiguousarray(x.T)
            _max(transposed, 0, None, shift_flat)
        else:
            _max(zv, 1, None, shift, True)
        # _row_shift leaves the maxima as they are when all are finite, which a finite loss
        # implies (a max of -inf, +inf or nan makes its row's log-probabilities nan)
        total = total_of(zv, tv, shift)
        if not finite(total):  # the rare cases, in _cross_entropy's order
            if not np.logical_and.reduce(np.isfinite(shift), axis=None):
                total = total_of(zv, tv, np.where(np.isfinite(shift), shift, 0))
            if not finite(total):  # an -inf logit where the target is 0
                logp = np.where(tv == 0, 0, shifted)
                total = T._weighted_sum(tv, logp, reduce)
        _multiply(total, minus_scale, out=buf)  # total * -scale

    return run


def _bwd_softmax_cross_entropy(r, e, cs):
    """SoftmaxCrossEntropy.vjp_a, (softmax_rows(z) * row_sums(t) - t) * _row_factor(ns, p, g),
    into the logits' buffer (the targets' rule, for soft targets that need a gradient, is the
    op's own). softmax_rows(z) = exp(z - shift) / row_sums(exp(z - shift)) uses the forward's
    exp and row sums when the forward rule ran; else the op's helpers recompute them."""
    v, gr, acc, o, (z, t), (cz, ct) = r.vals, r.grads, r.acc, e.out, e.srcs, cs
    if ct is not None or not _sce_usable(r, z, t):
        return None
    (n, _), dtype = v[z].shape, v[z].dtype
    row_shift, row_sums = T._row_shift, T._row_sums
    scale, reduce = e.params[:2]
    factor = 1.0 * scale  # _row_factor's sign * scale
    t_sums = _empty((n, 1), dtype)
    d, put = _parts(cz)
    kept = r.shared.get(o)

    def run():
        tv, out, g = v[t], acc[d], gr[o]
        if kept is not None:
            _divide(kept[0], kept[1], out=out)  # softmax_rows: e /= row_sums(e)
        else:
            zv = v[z]
            _exp(_subtract(zv, row_shift(zv), out=out), out=out)
            _divide(out, row_sums(out), out=out)
        _multiply(out, row_sums(tv, t_sums), out=out)  # * row_sums(t)
        _subtract(out, tv, out=out)  # - t
        g = _multiply(out, g * factor if reduce else g.reshape(-1, 1) * factor, out=out)
        if put is not None:
            put(g)

    return run


# The inputs whose gradient is g itself or a view of it (no arithmetic, no buffer).
_VIEW_INPUTS = {ops.Add: (0, 1), ops.Sub: (0,), T.Sum: (0,)}

_BACKWARD = {
    ops.Add: _bwd_add_sub(False),
    ops.Sub: _bwd_add_sub(True),
    ops.Mul: _bwd_mul,
    ops.Div: _bwd_div,
    ops.Neg: _bwd_neg,
    ops.Exp: _bwd_elementwise(_multiply, by_output=True),
    ops.Log: _bwd_elementwise(_divide, by_output=False),
    ops.Tanh: _bwd_tanh,
    ops.Relu: _bwd_relu,
    T.Sum: _bwd_sum,
    T.MatMul: _bwd_matmul,
    T.Linear: _bwd_linear,
    T.LogSumExp: _bwd_logsumexp,
    T.SoftmaxCrossEntropy: _bwd_softmax_cross_entropy,
}
_FORWARD[T.SoftmaxCrossEntropy] = _fwd_softmax_cross_entropy


def _bwd_generic(r, e, cs):
    """The op's own vjp on raw arrays; each needed gradient goes to its _Grad's put."""
    v, gr, o, srcs, params, op = r.vals, r.grads, e.out, e.srcs, e.params, e.op
    wanted = [(i, c.put or _store(gr, c.slot)) for i, c in enumerate(cs) if c is not None]
    ns = NumpyNS
    if e.live is not None:
        live = e.live

        def run():
            pgs = op.vjp(ns, live(v), gr[o], v[o], *[v[s] for s in srcs])
            for i, put in wanted:
                put(pgs[i])

        return run
    if op.split and len(srcs) == 2 and len(wanted) == 1:
        # as the engine does: only the rule of the input that needs a gradient
        ((i, put),) = wanted
        vjp = op.vjp_a if i == 0 else op.vjp_b
        a, b = srcs

        def run():
            put(vjp(ns, params, gr[o], v[o], v[a], v[b]))

        return run
    vjp = op.vjp

    def run():
        pgs = vjp(ns, params, gr[o], v[o], *[v[s] for s in srcs])
        for i, put in wanted:
            put(pgs[i])

    return run


def _store(gr, s):
    def put(g):
        gr[s] = g

    return put


class _Grad:
    """One gradient an op sends to one of its inputs, as planned at trace time."""

    __slots__ = ("slot", "first", "ref", "dest", "put")

    def __init__(self, slot, first, ref):
        self.slot, self.first, self.ref = slot, first, ref  # ref: the vjp's array in the dry run
        self.dest = self.put = None


class _Entry:
    """One recorded op; `live` builds its params per call when they hold values of the trace."""

    __slots__ = ("op", "params", "out", "srcs", "node", "live")

    def __init__(self, op, params, out, srcs, node, live=None):
        self.op, self.params, self.out, self.srcs, self.node = op, params, out, srcs, node
        self.live = live


class _Replay:
    """The lists the closures share: values, gradients, gradient buffers."""

    def __init__(self, n_slots):
        self.vals = [None] * n_slots
        self.grads = [None] * n_slots
        self.acc = [None] * n_slots  # per slot: where its gradient is accumulated; then temporaries
        self.shared = {}  # out slot: what a forward rule keeps for the backward rule


def _fitting(g, shape, dtype):
    """What Tensor.fit_grad does to g (sum over broadcast axes, cast), as constants."""
    axes, reshape, cast = (), False, None
    if g.shape != shape:  # tensor_ops.sum_to
        axes = T.broadcast_axes(g.shape, shape)
        kept = tuple(1 if i in axes else n for i, n in enumerate(g.shape)) if axes else g.shape
        reshape = g.ndim != len(shape) or kept != shape
    if g.dtype != dtype:
        cast = dtype
    return axes, reshape, cast


def _make_put(r, c, shape, dtype):
    """The closure that fits gradient c to its input and stores or adds it."""
    gr, acc, s, first = r.grads, r.acc, c.slot, c.first
    axes, reshape, cast = _fitting(c.ref, shape, dtype)
    if not axes and not reshape and cast is None:
        if first:

            def put(g):
                gr[s] = g
        else:

            def put(g):
                gr[s] = _add(gr[s], g, out=acc[s])

        return put

    def put(g):
        if axes:
            g = _sum(g, axes, None, None, True)  # g.sum(axis=axes, keepdims=True)
        if reshape:
            g = g.reshape(shape)
        if cast is not None:
            g = g.astype(cast)
        gr[s] = g if first else _add(gr[s], g, out=acc[s])

    return put
