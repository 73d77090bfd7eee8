"""Forward mode against reverse mode: which one builds a whole Jacobian faster.

Forward mode (jvp) gives one column of the Jacobian per pass: J v for a tangent
v. Reverse mode (vjp, backpropagation) gives one row per pass: u^T J. A full
Jacobian of a function R^n -> R^m so costs n forward passes or m backward ones:

    f: R^n -> R    (a loss of n parameters)  forward n jvps, reverse 1 vjp
    g: R -> R^n    (a curve in n dimensions)  forward 1 jvp,  reverse n vjps

This script times both (autograd.jacobian with mode="forward" and "reverse")
for n = 1, 2, 4, ... and plots the times log-log: for f the forward time grows
with n and the reverse time hardly moves, for g the other way round. A neural
network's training step is f: one loss, many parameters, which is why networks
are trained with reverse mode.

    python -m examples.forward_vs_reverse                # n up to 4096, under a minute
    python -m examples.forward_vs_reverse --max-n 256    # quicker
"""

import time

import numpy as np

from autograd import jacobian

from . import _common

COLUMNS = ("f forward", "f reverse", "g forward", "g reverse")


def problems(n):
    """f: R^n -> R and g: R -> R^n, with inputs, built from a few elementwise ops and a sum."""
    c = np.linspace(0.5, 1.5, n)

    def f(x):
        return (x.sin() * c + x.tanh() * x).sum()

    def g(t):
        return (t * c).sin() * c + t.tanh()

    return f, np.linspace(-1.0, 1.0, n), g, 0.3


def best_time(fn, repeats):
    """The fastest of `repeats` runs of fn() (the least disturbed one), and its result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def time_size(n, repeats):
    """Seconds for the four Jacobians at size n; checks that both modes agree."""
    f, x, g, t = problems(n)
    row = {}
    for name, fn, arg in (("f", f, x), ("g", g, t)):
        forward, reverse = jacobian(fn, mode="forward"), jacobian(fn)
        row[f"{name} forward"], by_forward = best_time(lambda: forward(arg), repeats)
        row[f"{name} reverse"], by_reverse = best_time(lambda: reverse(arg), repeats)
        np.testing.assert_allclose(by_forward, by_reverse, rtol=1e-12, atol=1e-14)
    return row


def plot(figures, sizes, rows):
    fig, axes = figures.new(size=(7.0, 4.5))
    ax = axes[0, 0]
    styles = {
        "f forward": ("tab:blue", "-", "f: R^n -> R, forward (n jvps)"),
        "f reverse": ("tab:blue", "--", "f: R^n -> R, reverse (1 vjp)"),
        "g forward": ("tab:red", "--", "g: R -> R^n, forward (1 jvp)"),
        "g reverse": ("tab:red", "-", "g: R -> R^n, reverse (n vjps)"),
    }
    for column, (color, line, label) in styles.items():
        ax.loglog(sizes, [row[column] for row in rows], line, color=color, marker="o", ms=3, label=label)
    ax.set(xlabel="n", ylabel="seconds for the whole Jacobian", title="Jacobians by forward and reverse mode")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return figures.save(fig, "times")


def print_table(sizes, rows):
    print(f"{'n':>6}" + "".join(f"{c + ' (ms)':>16}" for c in COLUMNS))
    for n, row in zip(sizes, rows):
        print(f"{n:>6}" + "".join(f"{1e3 * row[c]:>16.3f}" for c in COLUMNS))


def main(argv=None):
    p = _common.parser(
        "forward_vs_reverse",
        "Time full Jacobians by forward mode (jvp) and reverse mode (vjp) for "
        "f: R^n -> R and g: R -> R^n, n = 1, 2, 4, ..., --max-n.",
    )
    p.add_argument("--max-n", type=_common.positive_int, default=4096, help="largest n (rounded down to a power of 2)")
    p.add_argument("--repeats", type=_common.positive_int, default=3, help="runs per timing (the fastest is kept)")
    args = p.parse_args(argv)
    started = time.perf_counter()

    sizes = [2**k for k in range(int(np.log2(args.max_n)) + 1)]
    rows = [time_size(n, args.repeats) for n in _common.progress(sizes, args, "sizes")]
    print_table(sizes, rows)
    figures = _common.Figures(args, "forward_vs_reverse")
    plot(figures, sizes, rows)

    last = rows[-1]
    numbers = {
        "largest n": sizes[-1],
        "f: forward / reverse time": last["f forward"] / last["f reverse"],
        "g: reverse / forward time": last["g reverse"] / last["g forward"],
    }
    _common.report(numbers, figures, started)
    return {**numbers, "sizes": sizes, "times": rows, "figures": figures.written}


if __name__ == "__main__":
    main()
