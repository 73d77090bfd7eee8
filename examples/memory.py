"""Why gates matter: RNN, GRU and LSTM on a task whose answer lies T steps back.

The task: a sequence of T one-hot symbols (4 kinds), the first one flagged by an extra input;
the class is the first symbol, the other T - 1 are noise. A recurrent layer reads the sequence
and a Linear layer classifies its last hidden state (chance: 1/4). The answer has to travel
T - 1 steps, and so does the gradient that teaches the network to keep it.

In the Elman network (nn.RNN) the gradient reaching h_t is multiplied at every step by
W_hh^T diag(1 - h^2): like the error terms of a deep network (the course's vanishing gradient,
examples.vanishing_gradients), it shrinks geometrically with the distance. The LSTM's cell
state is carried by c_t = f * c_(t-1) + i * g, so along it the gradient is multiplied by the
forget gate f only, and the GRU's h_t = (1 - z) n + z h_(t-1) by the update gate z: near 1,
the gradient passes unchanged. Here the gates start in the state that keeps a memory: the LSTM's
forget gate open and its input gate closed (biases +-3 on each of bias_ih and bias_hh, the
--gate-bias), the GRU's update gate near 1, which does both. With 0, PyTorch's initialisation,
f and z start near 1/2 and the gradient vanishes through them too (the dashed curves), and
neither learns the longer lengths in this budget. The RNN has no such gate to set.

Figures: test accuracy against T for the three layers (same hidden size, same training), and
||dL/dh_t|| against t at initialisation, read with retain_grad() on the state carried from
step to step. Truncated back-propagation through time is shown too: the LSTM trained on chunks
of --chunk steps, its state detach()ed between chunks, never sees the first symbol's gradient.

    python -m examples.memory
"""

import numpy as np

import nn

from . import _common

SYMBOLS = 4
KINDS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
# The gate blocks set to remember from the start, with the sign of their bias: the LSTM's forget gate
# open and input gate closed (blocks i, f, g, o), the GRU's update gate z near 1 (blocks r, z, n), which
# does both at once: h' = (1 - z) n + z h.
REMEMBERING = {"LSTM": {0: -1.0, 1: 1.0}, "GRU": {1: 1.0}}
# A sequence has the flagged first symbol and at least one step of noise after it.
SEQUENCE_LENGTH = _common.int_at_least(2)


def build_parser():
    p = _common.parser(
        "memory",
        "RNN, GRU and LSTM on a task whose answer lies T steps back.",
        steps=(300, "Adam steps per layer and length"),
        batch_size=64,
        lr=(0.01, "Adam learning rate"),
    )
    p.add_argument(
        "--lengths",
        type=_common.comma_separated(SEQUENCE_LENGTH),
        default=[5, 10, 20, 40, 80],
        help="sequence lengths T",
    )
    p.add_argument("--hidden", type=_common.positive_int, default=32, help="hidden units of every layer")
    p.add_argument(
        "--gate-bias",
        type=_common.finite_float,
        default=3.0,
        help="initial bias (on each of bias_ih, bias_hh) of the LSTM's forget gate (minus it on the "
        "input gate) and of the GRU's update gate; 0 is PyTorch's initialisation",
    )
    p.add_argument("--chunk", type=_common.positive_int, default=5, help="truncated BPTT: steps per chunk")
    p.add_argument(
        "--tbptt-length", type=SEQUENCE_LENGTH, default=20, help="truncated BPTT: the sequence length it is tried on"
    )
    p.add_argument("--test-size", type=_common.positive_int, default=1000, help="test sequences per length")
    return p


def make_batch(rng, steps, n):
    """x (T, n, SYMBOLS + 1): one-hot symbols, the first flagged in the last input; labels: the first symbol."""
    symbols = rng.integers(0, SYMBOLS, size=(steps, n))
    x = np.zeros((steps, n, SYMBOLS + 1))
    x[np.arange(steps)[:, None], np.arange(n), symbols] = 1.0
    x[0, :, SYMBOLS] = 1.0
    return x, symbols[0]


def make_model(kind, args, gate_bias):
    """The recurrent layer and the classifier; the gates of REMEMBERING get biases of +-gate_bias."""
    layer = KINDS[kind](SYMBOLS + 1, args.hidden, rng=args.seed)
    for block, sign in REMEMBERING.get(kind, {}).items():
        rows = slice(block * args.hidden, (block + 1) * args.hidden)
        for bias in (layer.bias_ih_l0, layer.bias_hh_l0):
            values = bias.data.copy()
            values[rows] = sign * gate_bias
            bias.data = values
    return layer, nn.Linear(args.hidden, SYMBOLS, rng=args.seed)


def last_state(h_n):
    """The top layer's last hidden state from a layer's second result (an LSTM's is (h_n, c_n))."""
    return (h_n[0] if isinstance(h_n, tuple) else h_n)[-1]


def detached(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def loss_of(layer, head, x, y, chunk=None):
    """Cross-entropy of the last state's classification; with `chunk`, the sequence runs in chunks of
    that many steps, the carried state detached between them (truncated back-propagation through time)."""
    state = None
    for start in range(0, len(x), chunk or len(x)):
        if state is not None:
            state = detached(state)
        _, state = layer(x[start : start + (chunk or len(x))], state)
    logits = head(last_state(state))
    return nn.functional.cross_entropy(logits, y), logits


def train(kind, steps_t, args, chunk=None):
    """Test accuracy of `kind` trained on length steps_t."""
    rng = np.random.default_rng([args.seed, steps_t])
    layer, head = make_model(kind, args, args.gate_bias)
    params = layer.parameters() + head.parameters()
    opt = nn.optim.Adam(params, lr=args.lr)
    label = f"{kind}, T = {steps_t}" + (f", chunks of {chunk}" if chunk else "")
    for _ in _common.progress(range(args.steps), args, desc=label):
        loss, _ = loss_of(layer, head, *make_batch(rng, steps_t, args.batch_size), chunk=chunk)
        opt.zero_grad()
        loss.backward()
        nn.clip_grad_norm_(params, 1.0)
        opt.step()
    x, y = make_batch(np.random.default_rng([args.seed, steps_t, 1]), steps_t, args.test_size)
    _, logits = loss_of(layer, head, x, y)
    return float(np.mean(logits.data.argmax(axis=1) == y))


def gradient_norms(kind, steps_t, args, gate_bias):
    """||dL/dh_t|| for t = 0 .. T-1 at initialisation (mean over the batch): the layer runs one step at a
    time, and retain_grad() on each carried hidden state keeps its gradient."""
    layer, head = make_model(kind, args, gate_bias)
    x, y = make_batch(np.random.default_rng(args.seed), steps_t, args.batch_size)
    states, state = [], None
    for t in range(steps_t):
        _, state = layer(x[t : t + 1], state)
        states.append((state[0] if isinstance(state, tuple) else state).retain_grad())
    nn.functional.cross_entropy(head(last_state(state)), y).backward()
    return np.array([np.linalg.norm(h.grad[0], axis=1).mean() for h in states])


def plot_accuracy(figs, accuracy, tbptt, args):
    fig, axes = figs.new(size=(6.0, 4.0))
    ax = axes[0, 0]
    for (kind, by_length), style in zip(accuracy.items(), ("o-", "s--", "^:")):  # GRU and LSTM overlap
        ax.plot(list(by_length), list(by_length.values()), style, label=kind, markersize=7)
    ax.plot([args.tbptt_length], [tbptt], "kx", markersize=10, label=f"LSTM, truncated BPTT ({args.chunk} steps)")
    ax.axhline(1 / SYMBOLS, color="gray", linestyle=":", label="chance")
    ax.set(
        xlabel="sequence length T",
        ylabel="test accuracy",
        ylim=(0, 1.05),
        xticks=args.lengths,
        title=f"recall the first of T symbols (hidden size {args.hidden}, {args.steps} Adam steps)",
    )
    ax.legend(fontsize="small")
    figs.save(fig, "accuracy")


def plot_gradients(figs, norms, steps_t):
    fig, axes = figs.new(size=(6.0, 4.0))
    ax = axes[0, 0]
    for kind, values in norms.items():
        closed = kind.endswith(")")  # the gated layers with PyTorch's initialisation: dashed
        ax.plot(np.arange(steps_t), values, "--" if closed else "-", label=kind)
    ax.set(
        yscale="log",
        xlabel="step t",
        ylabel="mean ||dL/dh_t||",
        title=f"gradient reaching h_t at initialisation (loss at t = {steps_t - 1})",
    )
    ax.legend(fontsize="small")
    figs.save(fig, "gradient_norms")


def solved_lengths(accuracy, kind, solved=0.9, chance_margin=0.1):
    """Lengths where `kind` is above `solved` and the RNN within `chance_margin` of chance."""
    return [n for n, a in accuracy[kind].items() if a >= solved and accuracy["RNN"][n] <= 1 / SYMBOLS + chance_margin]


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    args.lengths = sorted(set(args.lengths))  # each length once, in the order of the figure's axis
    accuracy = {kind: {n: train(kind, n, args) for n in args.lengths} for kind in KINDS}
    tbptt = train("LSTM", args.tbptt_length, args, chunk=args.chunk)
    full = accuracy["LSTM"].get(args.tbptt_length)
    if full is None:
        full = train("LSTM", args.tbptt_length, args)
    longest = max(args.lengths)
    norms = {kind: gradient_norms(kind, longest, args, args.gate_bias) for kind in KINDS}
    norms.update({f"{kind} (gate bias 0)": gradient_norms(kind, longest, args, gate_bias=0.0) for kind in REMEMBERING})
    plot_accuracy(figs, accuracy, tbptt, args)
    plot_gradients(figs, norms, longest)

    numbers = {}
    for kind, by_length in accuracy.items():
        numbers[f"{kind} test accuracy for T = {', '.join(map(str, by_length))}"] = ", ".join(
            f"{a:.3f}" for a in by_length.values()
        )
    for kind in ("LSTM", "GRU"):
        numbers[f"{kind} solves (>= 0.9) lengths where the RNN is at chance"] = (
            ", ".join(map(str, solved_lengths(accuracy, kind))) or "none"
        )
    numbers[f"LSTM on T = {args.tbptt_length}: full BPTT, truncated to {args.chunk} steps"] = f"{full:.3f}, {tbptt:.3f}"
    for kind, values in norms.items():
        numbers[f"{kind}: ||dL/dh_0|| / ||dL/dh_{longest - 1}|| at init"] = values[0] / values[-1]
    _common.report(numbers, figs)
    return {
        "accuracy": accuracy,
        "tbptt": tbptt,
        "tbptt_full": full,
        "norms": norms,
        "solved": {kind: solved_lengths(accuracy, kind) for kind in ("LSTM", "GRU")},
        "files": figs.written,
    }


if __name__ == "__main__":
    main()
