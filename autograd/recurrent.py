"""Ops for recurrent networks: a whole sequence through one recurrent cell (`Scan`), and row lookup.

A recurrent layer applies the same cell at every time step. Written as a graph of small ops it
makes some fifteen nodes per step (the gates' slices, sigmoids, products...), each paying
Python's per-node cost on a (batch, hidden) array, and the input projection x_t W_ih^T, done
for all steps by one matmul, would then be sliced per step: every slice's gradient is a
zero array of the whole sequence's size, added T times. `Scan` is one op per layer instead,
its three rules side by side as for any op:

- forward: the recurrence, step after step (`cell.step`);
- vjp: back-propagation through time, the same steps backwards (`cell.step_vjp`), collecting
  every step's gate gradients so that the weights' gradients are one matmul each;
- jvp: the tangent carried forward through the steps (`cell.step_jvp`).

The input projection stays outside (`linear` on the whole (T, N, in) input: one matmul each
way). The rules are written with `ns`, so with `create_graph=True` the backward pass is
recorded (the steps' activations are then recomputed from the nodes), and `trace` replays the
op like any other. The cells follow PyTorch's equations and gate order (see each class).
"""

from typing import NamedTuple

import numpy as np

from .engine import Op
from .saved import ForwardScratch


def sigmoid(ns, x):
    """The logistic function as 1/2 + tanh(x/2)/2: never overflows and, on NumPy arrays, costs
    one tanh, where the engine's exact exp(-logaddexp(0, -x)) costs many times more per gate.
    Its absolute error is rounding's; for gates (multipliers in [0, 1]) that is what counts."""
    return ns.tanh(x * 0.5) * 0.5 + 0.5


def _linear_h(h, w_hh, b_hh):
    """h W_hh^T (+ b_hh): the recurrent part of the gates."""
    out = h @ w_hh.T
    return out if b_hh is None else out + b_hh


class TanhCell:
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (PyTorch's RNN); one gate block."""

    name, blocks, has_cell_state, separate_hh_bias = "rnn_tanh", 1, False, False

    @staticmethod
    def activation(ns, a):
        return ns.tanh(a)

    @staticmethod
    def slope(ns, h_new):
        """The activation's derivative, from its output."""
        return 1 - h_new * h_new

    @classmethod
    def step(cls, ns, gi, h, c, w_hh, b_hh):
        """(new h, new c (None), the activations step_vjp and step_jvp read)."""
        h_new = cls.activation(ns, gi + _linear_h(h, w_hh, b_hh))
        return h_new, None, (h_new,)

    @classmethod
    def step_vjp(cls, ns, dh, dc, acts, h, c):
        """Gradients of the gate inputs (x part, h part), d h (besides through W_hh), d c."""
        da = dh * cls.slope(ns, acts[0])
        return da, da, None, None

    @classmethod
    def step_jvp(cls, ns, tgi, tgh, acts, h, c, th, tc):
        return (tgi + tgh) * cls.slope(ns, acts[0]), None


class ReluCell(TanhCell):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh) (PyTorch's RNN, nonlinearity="relu")."""

    name = "rnn_relu"

    @staticmethod
    def activation(ns, a):
        return ns.relu(a)

    @staticmethod
    def slope(ns, h_new):
        return ns.positive(h_new)  # a boolean mask; relu'(0) = 0, as everywhere in chainrule


class LSTMCell:
    """PyTorch's LSTM, gates in the order i, f, g, o (rows of W_ih and W_hh in four blocks):

    a = x W_ih^T + b_ih + h W_hh^T + b_hh
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c' = f c + i g;  h' = o tanh(c')
    """

    name, blocks, has_cell_state, separate_hh_bias = "lstm", 4, True, False

    @staticmethod
    def step(ns, gi, h, c, w_hh, b_hh):
        a = gi + _linear_h(h, w_hh, b_hh)
        n = a.shape[1] // 4
        i_f = sigmoid(ns, a[:, : 2 * n])  # i and f side by side: one call for both
        i, f = i_f[:, :n], i_f[:, n:]
        g = ns.tanh(a[:, 2 * n : 3 * n])
        o = sigmoid(ns, a[:, 3 * n :])
        c_new = f * c + i * g
        tanh_c = ns.tanh(c_new)
        return o * tanh_c, c_new, (i, f, g, o, tanh_c)

    @staticmethod
    def step_vjp(ns, dh, dc, acts, h, c):
        i, f, g, o, tanh_c = acts
        dc = dc + dh * o * (1 - tanh_c * tanh_c)
        da = ns.concatenate(
            [dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g), dh * tanh_c * o * (1 - o)], 1
        )
        return da, da, None, dc * f

    @staticmethod
    def step_jvp(ns, tgi, tgh, acts, h, c, th, tc):
        i, f, g, o, tanh_c = acts
        ta = tgi + tgh
        n = i.shape[1]
        ti, tf = ta[:, :n] * i * (1 - i), ta[:, n : 2 * n] * f * (1 - f)
        tg, to = ta[:, 2 * n : 3 * n] * (1 - g * g), ta[:, 3 * n :] * o * (1 - o)
        tc_new = tf * c + f * tc + ti * g + i * tg
        return to * tanh_c + o * (1 - tanh_c * tanh_c) * tc_new, tc_new


class GRUCell:
    """PyTorch's GRU, gates in the order r, z, n:

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),  z likewise with W_iz, W_hz
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
    h' = (1 - z) n + z h
    """

    # b_hn is inside r * (...), so the GRU keeps b_hh apart from b_ih
    name, blocks, has_cell_state, separate_hh_bias = "gru", 3, False, True

    @staticmethod
    def step(ns, gi, h, c, w_hh, b_hh):
        gh = _linear_h(h, w_hh, b_hh)
        k = gi.shape[1] // 3
        r_z = sigmoid(ns, gi[:, : 2 * k] + gh[:, : 2 * k])
        r, z = r_z[:, :k], r_z[:, k:]
        gh_n = gh[:, 2 * k :]
        n = ns.tanh(gi[:, 2 * k :] + r * gh_n)
        return n + z * (h - n), None, (r, z, n, gh_n)

    @staticmethod
    def step_vjp(ns, dh, dc, acts, h, c):
        r, z, n, gh_n = acts
        dn = dh * (1 - z) * (1 - n * n)
        dr = dn * gh_n * r * (1 - r)
        dz = dh * (h - n) * z * (1 - z)
        return ns.concatenate([dr, dz, dn], 1), ns.concatenate([dr, dz, dn * r], 1), dh * z, None

    @staticmethod
    def step_jvp(ns, tgi, tgh, acts, h, c, th, tc):
        r, z, n, gh_n = acts
        k = r.shape[1]
        tr = (tgi[:, :k] + tgh[:, :k]) * r * (1 - r)
        tz = (tgi[:, k : 2 * k] + tgh[:, k : 2 * k]) * z * (1 - z)
        tn = (tgi[:, 2 * k :] + tr * gh_n + r * tgh[:, 2 * k :]) * (1 - n * n)
        return tn + tz * (h - n) + z * (th - tn), None


CELLS = {cell.name: cell for cell in (TanhCell, ReluCell, LSTMCell, GRUCell)}


class SavedSteps(ForwardScratch):
    """What Scan's forward leaves for its backward (a mutable part of its params, as
    SoftmaxCrossEntropy's SavedSoftmax): every step's activations and cell states, so
    back-propagation through time reads them instead of running the recurrence again. Valid only
    for the array the forward saw (`gates_in`); the vjp recomputes them otherwise (create_graph)."""

    __slots__ = ("gates_in", "cs", "acts")


class ScanParams(NamedTuple):
    """Scan's params: the cell class, whether b_hh is a parent, which parents need a gradient
    (one bool per parent), and the forward's SavedSteps."""

    cell: type[TanhCell | LSTMCell | GRUCell]  # a class of CELLS
    has_bias: bool
    needs_grad: tuple[bool, ...]
    saved: SavedSteps


def _unpack(p, rest):
    """(b_hh or None, h0, c0 or None) from Scan's parents after (gates_in, w_hh)."""
    b_hh, rest = (rest[0], rest[1:]) if p.has_bias else (None, rest)
    return b_hh, rest[0], (rest[1] if p.cell.has_cell_state else None)


class _StepRows:
    """Arrays made one step at a time, wanted as one (T, ...) array.

    NumPy arrays are copied into one buffer as they come, so the backward pass holds one copy,
    not T pieces and their stack. Tensors (the recorded passes of create_graph) are kept and
    stacked by a recorded op.
    """

    __slots__ = ("buffer", "pieces", "filled")

    def __init__(self, steps):
        self.buffer, self.pieces, self.filled = None, [None] * steps, False

    def put(self, t, row):
        self.filled = True
        if type(row) is not np.ndarray:
            self.pieces[t] = row
            return
        if self.buffer is None:
            self.buffer = np.empty((len(self.pieces),) + row.shape, row.dtype)
        self.buffer[t] = row

    def rows(self, ns):
        return self.buffer if self.buffer is not None else ns.stack(self.pieces, 0)


def _run(ns, cell, gates_in, w_hh, b_hh, h0, c0):
    """The recurrence over all steps: the output rows [h0, h_1, ..., h_T (, c_T)], the cell states
    [c0, c_1, ..., c_T] (None but for an LSTM) and each step's activations."""
    hs, cs, acts = [h0], [c0], []
    for t in range(gates_in.shape[0]):
        h, c, a = cell.step(ns, gates_in[t], hs[-1], cs[-1], w_hh, b_hh)
        hs.append(h)
        cs.append(c)
        acts.append(a)
    return ns.stack(hs + cs[-1:] if cell.has_cell_state else hs, 0), cs, acts


def _steps(ns, p, gates_in, w_hh, b_hh, h0, c0):
    """(cell states, activations) of every step: saved by the forward, or recomputed."""
    saved = p.saved
    if saved.gates_in is gates_in:  # the raw array the forward ran on
        return saved.cs, saved.acts
    return _run(ns, p.cell, gates_in, w_hh, b_hh, h0, c0)[1:]


class Scan(Op):
    """A recurrent cell over a whole sequence. Parents: gates_in (T, N, G*H) = x W_ih^T + b_ih for
    every step, w_hh (G*H, H), b_hh (G*H,) when params.has_bias, h0 (N, H) and, for an LSTM,
    c0 (N, H). params: a ScanParams.

    Output: (T + 1, N, H), the hidden states with the initial one first, so that out[1:] is the
    layer's output and out[:-1] the states each step starts from (no copy backwards); an LSTM
    has one row more, its last cell state: (T + 2, N, H).
    """

    name = "scan"

    @staticmethod
    def forward(ns, p, gates_in, w_hh, *rest):
        b_hh, h0, c0 = _unpack(p, rest)
        hs, cs, acts = _run(ns, p.cell, gates_in, w_hh, b_hh, h0, c0)
        saved = p.saved
        saved.gates_in, saved.cs, saved.acts = gates_in, cs, acts
        return hs

    @staticmethod
    def vjp(ns, p, g, out, gates_in, w_hh, *rest):
        cell, has_bias, needs = p.cell, p.has_bias, p.needs_grad
        b_hh, h0, c0 = _unpack(p, rest)
        cs, acts = _steps(ns, p, gates_in, w_hh, b_hh, h0, c0)
        steps = gates_in.shape[0]
        d_in, d_hh = _StepRows(steps), _StepRows(steps)
        dh = None  # what step t + 1 sends back to h_t
        dc = g[steps + 1] if cell.has_cell_state else None
        for t in reversed(range(steps)):
            dh = g[t + 1] if dh is None else g[t + 1] + dh
            d_x_part, d_h_part, dh_direct, dc = cell.step_vjp(ns, dh, dc, acts[t], out[t], cs[t])
            d_hh.put(t, d_h_part)
            if d_x_part is not d_h_part:
                d_in.put(t, d_x_part)
            if t > 0 or needs[2 + has_bias]:  # d h_0 only when h0 needs it
                dh = d_h_part @ w_hh
                if dh_direct is not None:
                    dh = dh + dh_direct
        d_gh = d_hh.rows(ns)  # (T, N, G*H)
        rows, hidden = steps * h0.shape[0], h0.shape[1]
        d_w = ns.reshape(d_gh, (rows, d_gh.shape[2])).T @ ns.reshape(out[:steps], (rows, hidden))
        grads = [d_in.rows(ns) if d_in.filled else d_gh, d_w]
        if has_bias:
            grads.append(ns.sum(d_gh, (0, 1)))
        grads.append(g[0] if dh is None else g[0] + dh)
        if cell.has_cell_state:
            grads.append(dc)
        return tuple(grads)

    @staticmethod
    def jvp(ns, p, ts, out, gates_in, w_hh, *rest):
        cell = p.cell
        b_hh, h0, c0 = _unpack(p, rest)
        cs, acts = _steps(ns, p, gates_in, w_hh, b_hh, h0, c0)
        t_in, t_w = ts[0], ts[1]
        t_b, th, tc = _unpack(p, ts[2:])
        steps = gates_in.shape[0]
        tangents = _StepRows(steps + 1 + cell.has_cell_state)  # laid out as the output
        tangents.put(0, th)
        for t in range(steps):
            t_gh = th @ w_hh.T + out[t] @ t_w.T
            if t_b is not None:
                t_gh = t_gh + t_b
            th, tc = cell.step_jvp(ns, t_in[t], t_gh, acts[t], out[t], cs[t], th, tc)
            tangents.put(t + 1, th)
        if cell.has_cell_state:
            tangents.put(steps + 1, tc)
        return tangents.rows(ns)


class TakeRows(Op):
    """weight[indices]: rows of a table (an embedding); parents (weight, integer indices).

    The indices are a parent, not a parameter, so a traced function takes new indices at
    every call. Rows picked more than once get the sum of their gradients (np.add.at).
    """

    name = "take_rows"
    forward = staticmethod(lambda ns, p, weight, indices: weight[indices])
    vjp = staticmethod(lambda ns, p, g, out, weight, indices: (ns.scatter(g, ns.raw(indices), weight.shape), None))
    jvp = staticmethod(lambda ns, p, ts, out, weight, indices: ts[0][ns.raw(indices)])
