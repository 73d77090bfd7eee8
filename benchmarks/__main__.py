"""Every performance target in one run: `python -m benchmarks` (or `make bench`).

Each figure is printed beside a reference measured in the same run (hand-written
NumPy, or a simpler engine), with the ratio and the target. Medians of
interleaved repeats: these machines have 2 cores and are noisy.
"""

import argparse
import platform
import time

import numpy as np

import nn
from autograd import trace
from benchmarks import checking, cnn, memory, mlp, per_op, rnn, scalar
from benchmarks.harness import interleaved_medians, one_blas_thread, pin_allocator, print_table


def _row(figure, ours, reference, ratio, target, met):
    return [figure, ours, reference, ratio, target, "met" if met else "NOT met"]


def mlp_rows(repeats):
    """Raw Tensor ops and nn.MLP + SGD, each against the hand-written step timed beside it."""
    rows = []
    # Each timed sample runs `number` steps; small batches take more, shorter samples, so that the
    # median rests on as many as the run's time allows (a batch-16 sample is about 8 ms, and the
    # ratio of seven 30 ms samples moved by 5% from run to run on this machine, of 35 by about 1%).
    for batch, limit, nn_limit, number, more in (
        (16, 1.3, 1.15, 16, 5),
        (256, 1.05, 1.05, 4, 3),
        (2048, 1.05, 1.05, 4, 1),
    ):
        for dtype in (np.float32, np.float64):
            rng = np.random.default_rng(0)
            arrays = mlp.make_arrays(rng, dtype)
            x, onehot = mlp.make_batch(rng, batch, dtype)
            labels = onehot.argmax(axis=1)
            params = mlp.tensor_params(arrays)
            model = mlp.nn_model(arrays)
            opt = nn.optim.SGD(model.parameters(), lr=mlp.LR)
            with one_blas_thread():  # and the allocator pinned (main): the same conditions for all three
                t = interleaved_medians(
                    {
                        # all three from the same integer labels (the hand-written step makes its one-hot rows)
                        "numpy": lambda: mlp.numpy_step(arrays, x, labels),
                        "tensor": lambda: mlp.tensor_step(params, x, labels),
                        "nn": lambda: mlp.nn_step(model, opt, x, labels),
                    },
                    repeats=repeats * more,
                    number=number,
                    clock=time.process_time,  # CPU time: not the time other programs held the core
                )
            name = f"batch {batch}, {np.dtype(dtype).name}"
            for kind, figure, target in (
                ("tensor", f"1. MLP step, {name}", limit),
                ("nn", f"1. nn.MLP + SGD step, {name}", nn_limit),
            ):
                ratio = t[kind] / t["numpy"]
                rows.append(
                    _row(
                        figure,
                        f"{t[kind] * 1e3:.3f} ms",
                        f"{t['numpy'] * 1e3:.3f} ms NumPy",
                        f"{ratio:.2f}x",
                        f"<= {target}x",
                        ratio <= target,
                    )
                )
    return rows


def traced_row(repeats):
    rng = np.random.default_rng(0)
    arrays = mlp.make_arrays(rng, np.float32)
    x, onehot = mlp.make_batch(rng, 16, np.float32)
    params = mlp.tensor_params(arrays)
    step = trace(lambda xb, yb: mlp.tensor_loss(params, xb, yb), x, onehot)

    def traced_step():
        step(x, onehot)
        mlp.sgd_update(params)

    with one_blas_thread():
        t = interleaved_medians(
            {"numpy": lambda: mlp.numpy_step(arrays, x, onehot), "traced": traced_step},
            repeats=repeats,
            number=64,
            clock=time.process_time,
        )
    ratio = t["traced"] / t["numpy"]
    return _row(
        "6. traced MLP step, batch 16, float32",
        f"{t['traced'] * 1e3:.3f} ms",
        f"{t['numpy'] * 1e3:.3f} ms NumPy",
        f"{ratio:.2f}x",
        "<= 1.0x",
        ratio <= 1.0,
    )


def per_op_rows(repeats):
    t = per_op.figures(repeats)
    us = {name: seconds / per_op.N_OPS * 1e6 for name, seconds in t.items()}
    numpy = f"{us['numpy']:.2f} us/op NumPy"
    return [
        _row(
            "2. per op, (10,) float64 chain, fwd+bwd",
            f"{us['tensor']:.2f} us/op",
            numpy,
            f"{t['tensor'] / t['numpy']:.2f}x",
            "<= 3 us/op",
            us["tensor"] <= 3,
        ),
        # context, not a target: what one Python object per op costs at the least
        [
            "   the same chain on a bare engine of this design",
            f"{us['bare']:.2f} us/op",
            numpy,
            f"{t['bare'] / t['numpy']:.2f}x",
            "(the design's floor)",
            "",
        ],
    ]


def scalar_rows(repeats):
    t = scalar.figures(repeats)
    chain = sorted(scalar.million_chain() for _ in range(3))[1]
    speedup = t["closure"] / t["chainrule"]
    return [
        _row(
            "3. scalar 2-16-16-1 SGD step, 100 samples",
            f"{t['chainrule'] * 1e3:.1f} ms",
            f"{t['closure'] * 1e3:.1f} ms closure engine",
            f"{speedup:.1f}x faster",
            "<= 90 ms, >= 3x faster",
            t["chainrule"] <= 0.090 and speedup >= 3,
        ),
        _row("3. 1,000,000-node Value chain fwd+bwd", f"{chain:.2f} s", "", "", "<= 3 s", chain <= 3),
    ]


def memory_rows():
    figures = memory.median_figures()
    ref = figures["lean"]["total"]
    rows = []
    for kind, what in (("tensor", "raw Tensor ops"), ("nn", "nn.MLP + SGD")):
        ours = figures[kind]["total"]
        phases = " / ".join(f"{figures[kind][p]:.1f}" for p in memory.PHASES)
        rows.append(
            _row(
                f"4. peak memory added, 20 steps, b2048 f32, {what}",
                f"{ours:.1f} MB",
                f"{ref:.1f} MB lean NumPy",
                f"{ours / ref:.2f}x",
                "<= 1.5x",
                ours <= 1.5 * ref,
            )
        )
        rows.append(
            [
                "   its peak per phase, forward / backward / update",
                f"{phases} MB",
                " / ".join(f"{figures['lean'][p]:.1f}" for p in memory.PHASES) + " MB",
                "",
                "",
                "",
            ]
        )
    return rows


def gradcheck_rows():
    t = checking.figures()
    ratio = t["full"] / t["numpy"]
    return [
        _row(
            "5. gradcheck 784-32-10, all 28,586 entries",
            f"{t['full']:.2f} s",
            f"{t['numpy']:.2f} s NumPy loop",
            f"{ratio:.2f}x",
            "<= 1.5x",
            ratio <= 1.5,
        ),
        _row("5. gradcheck fast_mode", f"{t['fast'] * 1e3:.1f} ms", "", "", "< 50 ms", t["fast"] < 0.050),
    ]


def rnn_row(repeats):
    model, arrays, x, weights = rnn.make_problem(np.random.default_rng(0))
    # user CPU time with one BLAS thread (see harness.one_blas_thread and rnn.user_seconds): on a
    # shared 2-core machine the wall time of 50 small steps varies several-fold with what else runs
    with one_blas_thread():
        t = interleaved_medians(
            {
                "numpy": lambda: rnn.numpy_forward_backward(arrays, x, weights),
                "tensor": lambda: rnn.tensor_forward_backward(model, x, weights),
            },
            repeats=2 * repeats,
            number=2,
            clock=rnn.user_seconds,
        )
    ratio = t["tensor"] / t["numpy"]
    return _row(
        f"7. LSTM layer fwd+bwd, T {rnn.T}, batch {rnn.BATCH}, {rnn.INPUT}-{rnn.HIDDEN}, f32, user CPU",
        f"{t['tensor'] * 1e3:.2f} ms",
        f"{t['numpy'] * 1e3:.2f} ms NumPy",
        f"{ratio:.2f}x",
        "<= 1.3x",
        ratio <= 1.3,
    )


# Each group of rows by name, in the table's order: `--only NAME` runs one group, so a check of
# one area does not wait for the whole table. A new area adds one entry here.
GROUPS = {
    "mlp": lambda args: mlp_rows(args.repeats),
    "per_op": lambda args: per_op_rows(args.repeats),
    "scalar": lambda args: scalar_rows(max(3, args.repeats // 2)),
    "memory": lambda args: memory_rows(),
    "gradcheck": lambda args: [] if args.skip_gradcheck else gradcheck_rows(),
    "trace": lambda args: [traced_row(args.repeats)],
    "rnn": lambda args: [rnn_row(args.repeats)],
    "cnn": lambda args: cnn.rows(args.repeats),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats per figure (median)")
    parser.add_argument("--skip-gradcheck", action="store_true", help="leave out target 5 (the slowest)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(GROUPS),
        metavar="GROUP",
        help=f"run only this group of rows (repeatable): {', '.join(GROUPS)}",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    pin_allocator()  # for every row: see harness.pin_allocator (the memory rows run in fresh processes)
    rows = []
    for name, rows_of in GROUPS.items():
        if args.only is None or name in args.only:
            rows += rows_of(args)
    print(
        f"chainrule benchmarks on {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, NumPy {np.__version__}\n"
    )
    print_table(rows, ["figure", "chainrule", "reference", "ratio", "target", ""])


if __name__ == "__main__":
    main()
