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
    past one): BLAS writes a product into an aligned buffer faster. A view of a uint8 array."""
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
    def make(replay, params, buffer, out_slot, srcs):
        values = replay.vals
        (x,) = srcs

        def run():
            ufunc(values[x], out=buffer)

        return run

    return make


def _fwd_binary(ufunc):
    def make(replay, params, buffer, out_slot, srcs):
        values = replay.vals
        a, b = srcs

        def run():
            ufunc(values[a], values[b], out=buffer)

        return run

    return make


def _fwd_relu(replay, params, buffer, out_slot, srcs):
    values = replay.vals
    (x,) = srcs
    # NumpyNS.relu is maximum(x, 0); a 0-d zero of x's dtype is what NumPy turns that 0 into
    zero = np.zeros((), buffer.dtype) if values[x].dtype == buffer.dtype else 0

    def run():
        _maximum(values[x], zero, out=buffer)

    return run


def _fwd_sum(replay, params, buffer, out_slot, srcs):
    values = replay.vals
    (x,), (axes, keepdims) = srcs, params

    def run():
        _sum(values[x], axes, None, buffer, keepdims)  # NumpyNS.sum: np.add.reduce

    return run


def _fwd_matmul(replay, params, buffer, out_slot, srcs):
    values = replay.vals
    if buffer.ndim == 0:  # 1-D @ 1-D: NumPy returns a scalar, not into a buffer
        return None
    a, b = srcs

    def run():
        _matmul(values[a], values[b], out=buffer)

    return run


def _fwd_linear(replay, params, buffer, out_slot, srcs):
    values = replay.vals
    if buffer.ndim == 2 and T.product_transposed(*buffer.shape):
        return _fwd_linear_transposed(values, buffer, srcs)
    if len(srcs) == 2:
        x, w = srcs

        def run():
            _matmul(values[x], values[w].T, out=buffer)

        return run
    x, w, b = srcs

    def run():  # Linear.forward: out = x @ w.T; out += b
        _add(_matmul(values[x], values[w].T, out=buffer), values[b], out=buffer)

    return run


def _fwd_linear_transposed(values, buffer, srcs):
    """Linear.forward's w @ x.T branch: the product into a buffer of its own shape, then written
    out row-major into `buffer` (with the bias)."""
    x, w = srcs[:2]
    product = np.empty(buffer.shape[::-1], buffer.dtype)
    if len(srcs) == 2:

        def run():
            _copyto(buffer, _matmul(values[w], values[x].T, out=product).T)

        return run
    b = srcs[2]

    def run():
        _add(_matmul(values[w], values[x].T, out=product).T, values[b], out=buffer)

    return run


def _fwd_logsumexp(replay, params, buffer, out_slot, srcs):
    """tensor_ops._logsumexp into buffers (float inputs); it runs _logsumexp itself when a
    maximum is not finite."""
    values, (x,), (axes, keepdims) = replay.vals, srcs, params
    xdata = values[x]
    if xdata.dtype.kind != "f" or xdata.dtype != buffer.dtype or not xdata.flags.c_contiguous:
        return None
    kept_shape = reduced_shape(xdata.shape, axes)
    m, shifted, lse = (
        _empty(kept_shape, buffer.dtype),
        _empty(xdata.shape, xdata.dtype),
        _empty(kept_shape, buffer.dtype),
    )
    result = lse if keepdims else np.squeeze(lse, axis=axes)
    if result.shape != buffer.shape:
        return None

    def run():
        xv = values[x]
        _max(xv, axes, None, m, True)
        total = _sum(m, None)  # m.sum()
        if total - total != 0:  # an inf or nan maximum
            values[out_slot] = T._logsumexp(xv, axes, keepdims)
            return
        _exp(_subtract(xv, m, out=shifted), out=shifted)
        _log(_sum(shifted, axes, None, lse, True), out=lse)
        _add(lse, m, out=lse)  # lse += m
        values[out_slot] = result

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


def _fwd_generic(op, params, values, out_slot, srcs, live=None):
    """The op's own forward rule on raw arrays (a fresh result, or a view).

    live(values), if given, builds the params from this call's values (see trace._live_params)."""
    forward, ns = op.forward, NumpyNS
    if live is not None:

        def run():
            out = forward(ns, live(values), *[values[s] for s in srcs])
            values[out_slot] = out if type(out) is np.ndarray else np.asarray(out)
    elif len(srcs) == 1:
        (x,) = srcs

        def run():
            out = forward(ns, params, values[x])
            values[out_slot] = out if type(out) is np.ndarray else np.asarray(out)
    elif len(srcs) == 2:
        a, b = srcs

        def run():
            out = forward(ns, params, values[a], values[b])
            values[out_slot] = out if type(out) is np.ndarray else np.asarray(out)
    else:

        def run():
            out = forward(ns, params, *[values[s] for s in srcs])
            values[out_slot] = out if type(out) is np.ndarray else np.asarray(out)

    return run


# Backward rules -----------------------------------------------------------------
# A maker takes (the replay's lists, the entry, one _Grad or None per input) and
# returns a closure, or None to use the op's ordinary vjp. Every rule computes
# what the op's vjp computes with NumpyNS, with the same ufuncs in the same order.
# For input i (its _Grad send) the closure writes the gradient into `buffers[send.dest]`:
# either the input's own gradient buffer, which grads[send.slot] already is (send.put
# is None), or a temporary that it hands to `send.put` (which sums it over broadcast
# axes, casts it, stores it or adds it to what the input already has). Rules
# whose gradient is a view of g (Add, Sub's first input, Sum) store the view.


def _parts(send):
    return (send.dest, send.put) if send is not None else (None, None)


def _bwd_neg(replay, entry, sends):
    grads, buffers, out_slot = replay.grads, replay.buffers, entry.out
    dest, put = _parts(sends[0])

    def run():  # -g
        g = _negative(grads[out_slot], out=buffers[dest])
        if put is not None:
            put(g)

    return run


def _bwd_elementwise(ufunc, by_output):
    """Exp's rule g * out (by_output) or Log's g / x: one ufunc of g and the output or the input."""

    def make(replay, entry, sends):
        values, grads, buffers, out_slot = replay.vals, replay.grads, replay.buffers, entry.out
        other = out_slot if by_output else entry.srcs[0]
        dest, put = _parts(sends[0])

        def run():
            g = ufunc(grads[out_slot], values[other], out=buffers[dest])
            if put is not None:
                put(g)

        return run

    return make


def _bwd_times_local(make_local):
    """Tanh's rule g * (1 - out * out) and Relu's g * (x > 0): g times the local derivative, which
    the closure returned by `make_local(values, entry)` computes into a scratch buffer (make_local
    returns None where the buffers do not suit the inputs: the op's own vjp runs)."""

    def make(replay, entry, sends):
        grads, buffers, out_slot = replay.grads, replay.buffers, entry.out
        local = make_local(replay.vals, entry)
        if local is None:
            return None
        dest, put = _parts(sends[0])

        def run():
            g = _multiply(grads[out_slot], local(), out=buffers[dest])
            if put is not None:
                put(g)

        return run

    return make


def _tanh_local(values, entry):
    out_slot = entry.out
    y = values[out_slot]
    if y.dtype.kind != "f":
        return None
    scratch, one = _empty(y.shape, y.dtype), np.ones((), y.dtype)  # 1 as NumPy converts the Python 1

    def local():  # 1 - out * out
        y = values[out_slot]
        return _subtract(one, _multiply(y, y, out=scratch), out=scratch)

    return local


def _relu_local(values, entry):
    (x,) = entry.srcs
    if values[x].dtype.kind != "f":
        return None
    mask, zero = _empty(values[x].shape, bool), np.zeros((), values[x].dtype)  # the Python 0, as NumPy converts it

    def local():  # x > 0
        return _greater(values[x], zero, out=mask)

    return local


def _bwd_logsumexp(replay, entry, sends):
    values, grads, buffers, out_slot, (x,) = replay.vals, replay.grads, replay.buffers, entry.out, entry.srcs
    dest, put = _parts(sends[0])
    kept_shape = reduced_shape(values[x].shape, entry.params[0])

    def run():  # reshape(g, kept_shape) * exp(x - reshape(out, kept_shape))
        t = buffers[dest]
        _exp(_subtract(values[x], values[out_slot].reshape(kept_shape), out=t), out=t)
        g = _multiply(grads[out_slot].reshape(kept_shape), t, out=t)
        if put is not None:
            put(g)

    return run


def _bwd_sum(replay, entry, sends):
    """broadcast_to(reshape(g, kept_shape), x.shape): a view, remade only when g is another array."""
    grads, out_slot, (send,) = replay.grads, entry.out, sends
    shape = replay.vals[entry.srcs[0]].shape
    kept_shape = reduced_shape(shape, entry.params[0])
    slot, put = send.slot, send.put
    last = [None, None]  # the g of the previous call and its view

    def run():
        g = grads[out_slot]
        if g is last[0]:
            view = last[1]
        else:
            view = last[1] = _broadcast_to(g.reshape(kept_shape), shape)
            last[0] = g
        if put is None:
            grads[slot] = view
        else:
            put(view)

    return run


def _bwd_add_sub(negate_b):
    """Add: (g, g); Sub: (g, -g)."""

    def make(replay, entry, sends):
        grads, buffers, out_slot, (send_a, send_b) = replay.grads, replay.buffers, entry.out, sends
        want_a, want_b = send_a is not None, send_b is not None
        slot_a, put_a = (send_a.slot, send_a.put) if want_a else (None, None)
        slot_b, dest_b, put_b = (send_b.slot, send_b.dest, send_b.put) if want_b else (None, None, None)

        def run():
            g = grads[out_slot]
            if want_a:
                if put_a is None:
                    grads[slot_a] = g
                else:
                    put_a(g)
            if want_b:
                if negate_b:
                    grad_b = _negative(g, out=buffers[dest_b])
                    if put_b is not None:
                        put_b(grad_b)
                elif put_b is None:
                    grads[slot_b] = g
                else:
                    put_b(g)

        return run

    return make


def _bwd_product(ufunc, transpose):
    """Mul's rule (g * b, g * a) or MatMul's for 2-D inputs (g @ b.T, a.T @ g): each input's
    gradient is one ufunc of g and the other input. a * g is g * a bit for bit (IEEE products
    commute), so Mul shares MatMul's operand order."""

    def make(replay, entry, sends):
        values, grads, buffers = replay.vals, replay.grads, replay.buffers
        out_slot, (a, b), (send_a, send_b) = entry.out, entry.srcs, sends
        if transpose and (values[a].ndim != 2 or values[b].ndim != 2):
            return None
        want_a, want_b = send_a is not None, send_b is not None
        (dest_a, put_a), (dest_b, put_b) = _parts(send_a), _parts(send_b)

        def run():
            g = grads[out_slot]
            if want_a:
                b_value = values[b].T if transpose else values[b]
                grad_a = ufunc(g, b_value, out=buffers[dest_a])
                if put_a is not None:
                    put_a(grad_a)
            if want_b:
                a_value = values[a].T if transpose else values[a]
                grad_b = ufunc(a_value, g, out=buffers[dest_b])
                if put_b is not None:
                    put_b(grad_b)

        return run

    return make


def _bwd_div(replay, entry, sends):
    values, grads, buffers, out_slot, b, (send_a, send_b) = (
        replay.vals,
        replay.grads,
        replay.buffers,
        entry.out,
        entry.srcs[1],
        sends,
    )
    if send_b is not None:
        return None  # -g * a / (b * b): the op's vjp
    dest_a, put_a = _parts(send_a)

    def run():
        g = _divide(grads[out_slot], values[b], out=buffers[dest_a])  # g / b
        if put_a is not None:
            put_a(g)

    return run


def _bwd_linear(replay, entry, sends):
    values, grads, buffers, out_slot, (x, w) = replay.vals, replay.grads, replay.buffers, entry.out, entry.srcs[:2]
    if values[x].ndim != 2 or values[out_slot].ndim != 2:
        return None
    send_x, send_w, send_b = sends if len(sends) == 3 else (*sends, None)
    want_x, want_w, want_b = send_x is not None, send_w is not None, send_b is not None
    (dest_x, put_x), (dest_w, put_w), (dest_b, put_b) = _parts(send_x), _parts(send_w), _parts(send_b)

    def run():
        g = grads[out_slot]
        if want_x:
            grad_x = _matmul(g, values[w], out=buffers[dest_x])  # g2 @ w
            if put_x is not None:
                put_x(grad_x)
        if want_w:
            grad_w = _matmul(g.T, values[x], out=buffers[dest_w])  # g2.T @ x2
            if put_w is not None:
                put_w(grad_w)
        if want_b:
            grad_b = _sum(g, (0,), None, buffers[dest_b])  # ns.sum(g2, (0,))
            if put_b is not None:
                put_b(grad_b)

    return run


def _sce_usable(replay, z, t):
    """Whether SoftmaxCrossEntropy's inputs are what its rules here expect (else: the op's own)."""
    zd, td = replay.vals[z], replay.vals[t]
    return zd.dtype.kind == "f" and zd.ndim == 2 and td.dtype == zd.dtype and td.shape == zd.shape


def _fwd_softmax_cross_entropy(replay, params, buffer, out_slot, srcs):
    """SoftmaxCrossEntropy.forward into buffers, its helpers (_row_max, _row_shift, _row_sums,
    _weighted_sum) spelled out with the same calls. It keeps exp(z - shift) and its row sums:
    SoftmaxCrossEntropy.vjp_a recomputes exactly these (the same calls on the same values)."""
    values, (z, t), (scale, reduce) = replay.vals, srcs, params[:2]
    if not _sce_usable(replay, z, t):
        return None
    (n, k), dtype = values[z].shape, values[z].dtype
    transposed = _empty((k, n), dtype) if k < T._SHORT_ROWS <= n else None  # _row_max's, for many short rows
    shift, shifted, exps = _empty((n, 1), dtype), _empty((n, k), dtype), _empty((n, k), dtype)
    sums, log_sums = _empty((n, 1), dtype), _empty((n, 1), dtype)
    shift_flat = shift[:, 0]
    replay.shared[out_slot] = (exps, sums)
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
        zv, tv = values[z], values[t]
        if transposed is not None:  # _row_max
            _copyto(transposed, zv.T)  # np.ascontiguousarray(x.T)
            _max(transposed, 0, None, shift_flat)
        else:
            _max(zv, 1, None, shift, True)
        # _row_shift leaves the maxima as they are when all are finite, which a finite loss
        # implies (a max of -inf, +inf or nan makes its row's log-probabilities nan)
        total = total_of(zv, tv, shift)
        if not finite(total):  # the rare cases, in the op's forward's order
            if not np.logical_and.reduce(np.isfinite(shift), axis=None):
                total = total_of(zv, tv, np.where(np.isfinite(shift), shift, 0))
            if not finite(total):  # an -inf logit where the target is 0
                logp = np.where(tv == 0, 0, shifted)
                total = T._weighted_sum(tv, logp, reduce)
        _multiply(total, minus_scale, out=buffer)  # total * -scale

    return run


def _bwd_softmax_cross_entropy(replay, entry, sends):
    """SoftmaxCrossEntropy.vjp_a, (softmax_rows(z) * row_sums(t) - t) * _row_factor(ns, p, g),
    into the logits' buffer (the targets' rule, for soft targets that need a gradient, is the
    op's own). softmax_rows(z) = exp(z - shift) / row_sums(exp(z - shift)) uses the forward's
    exp and row sums when the forward rule ran; else the op's helpers recompute them."""
    values, grads, buffers, out_slot, (z, t), (send_z, send_t) = (
        replay.vals,
        replay.grads,
        replay.buffers,
        entry.out,
        entry.srcs,
        sends,
    )
    if send_t is not None or not _sce_usable(replay, z, t):
        return None
    (n, _), dtype = values[z].shape, values[z].dtype
    row_shift, row_sums = T._row_shift, T._row_sums
    scale, reduce = entry.params[:2]
    factor = 1.0 * scale  # _row_factor's sign * scale
    t_sums = _empty((n, 1), dtype)
    dest, put = _parts(send_z)
    kept = replay.shared.get(out_slot)

    def run():
        tv, out, g = values[t], buffers[dest], grads[out_slot]
        if kept is not None:
            _divide(kept[0], kept[1], out=out)  # softmax_rows: e /= row_sums(e)
        else:
            zv = values[z]
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
    ops.Mul: _bwd_product(_multiply, transpose=False),
    ops.Div: _bwd_div,
    ops.Neg: _bwd_neg,
    ops.Exp: _bwd_elementwise(_multiply, by_output=True),
    ops.Log: _bwd_elementwise(_divide, by_output=False),
    ops.Tanh: _bwd_times_local(_tanh_local),
    ops.Relu: _bwd_times_local(_relu_local),
    T.Sum: _bwd_sum,
    T.MatMul: _bwd_product(_matmul, transpose=True),
    T.Linear: _bwd_linear,
    T.LogSumExp: _bwd_logsumexp,
    T.SoftmaxCrossEntropy: _bwd_softmax_cross_entropy,
}
_FORWARD[T.SoftmaxCrossEntropy] = _fwd_softmax_cross_entropy


def _bwd_generic(replay, entry, sends):
    """The op's own vjp on raw arrays; each needed gradient goes to its _Grad's put."""
    values, grads, out_slot, srcs, params, op = replay.vals, replay.grads, entry.out, entry.srcs, entry.params, entry.op
    wanted = [(i, send.put or _store(grads, send.slot)) for i, send in enumerate(sends) if send is not None]
    ns = NumpyNS
    if entry.live is not None:
        live = entry.live

        def run():
            input_grads = op.vjp(ns, live(values), grads[out_slot], values[out_slot], *[values[s] for s in srcs])
            for i, put in wanted:
                put(input_grads[i])

        return run
    if op.split and len(srcs) == 2 and len(wanted) == 1:
        # as the engine does: only the rule of the input that needs a gradient
        ((i, put),) = wanted
        vjp = op.vjp_a if i == 0 else op.vjp_b
        a, b = srcs

        def run():
            put(vjp(ns, params, grads[out_slot], values[out_slot], values[a], values[b]))

        return run
    vjp = op.vjp

    def run():
        input_grads = vjp(ns, params, grads[out_slot], values[out_slot], *[values[s] for s in srcs])
        for i, put in wanted:
            put(input_grads[i])

    return run


def _store(grads, slot):
    def put(g):
        grads[slot] = g

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
        self.buffers = [None] * n_slots  # per slot: where its gradient is accumulated; then temporaries
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


def _make_put(replay, send, shape, dtype):
    """The closure that fits the gradient `send` plans to its input and stores or adds it."""
    grads, buffers, slot, first = replay.grads, replay.buffers, send.slot, send.first
    axes, reshape, cast = _fitting(send.ref, shape, dtype)
    if not axes and not reshape and cast is None:
        if first:

            def put(g):
                grads[slot] = g
        else:

            def put(g):
                grads[slot] = _add(grads[slot], g, out=buffers[slot])

        return put

    def put(g):
        if axes:
            g = _sum(g, axes, None, None, True)  # g.sum(axis=axes, keepdims=True)
        if reshape:
            g = g.reshape(shape)
        if cast is not None:
            g = g.astype(cast)
        grads[slot] = g if first else _add(grads[slot], g, out=buffers[slot])

    return put
