"""The course notes' worked example of automatic differentiation.

f(x; w, b) = 1 / (exp(-(w x + b)) + 1) at x = 1, w = 0, b = 0. The notes name
the elementary functions h1 .. h6, write each local derivative and multiply
them along the path from w to f: df/dw = 1 x -0.25 x 1 x 1 x -1 x 1 x 1 = 0.25.
This script prints that table for df/dw and df/db (autograd.explain), checks
it against backward(), and draws the graph twice: forward (values on the
edges) and backward (local derivatives on the edges).

    python -m examples.worked_example                  # pictures in outputs/
    python -m examples.worked_example --out docs/img   # the README's pictures
"""

import argparse
import os
import sys

from autograd import GraphvizNotFound, Value, explain, render_graph

from ._arguments import finite_float


def notes_example(x=1.0, w=0.0, b=0.0):
    """(f, x, w, b) with f built exactly as the notes write it."""
    x, w, b = Value(x, label="x"), Value(w, label="w"), Value(b, label="b")
    f = 1 / ((-(w * x + b)).exp() + 1)
    f.label = "f"
    return f, x, w, b


def main(argv=None):
    """Run the example; returns {'df_dw', 'df_db', 'files'}."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.worked_example",
        description="The course notes' chain-rule example f = 1 / (exp(-(w x + b)) + 1): prints "
        "the explain() tables and writes the forward and backward graph pictures.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--out",
        default="outputs",
        help="folder for worked_example_forward.<format> and worked_example_backward.<format>",
    )
    parser.add_argument("--format", default="svg", choices=("svg", "png", "pdf"), help="picture format")
    parser.add_argument("-x", type=finite_float, default=1.0, help="the input x")
    parser.add_argument("-w", type=finite_float, default=0.0, help="the weight w")
    parser.add_argument("-b", type=finite_float, default=0.0, help="the bias b")
    args = parser.parse_args(argv)

    f, x, w, b = notes_example(args.x, args.w, args.b)
    by_w, by_b = explain(f, wrt=w), explain(f, wrt=b)
    print(f"f(x; w, b) = 1 / (exp(-(w x + b)) + 1) at x = {args.x:g}, w = {args.w:g}, b = {args.b:g}\n")
    print(by_w, end="\n\n")
    print(by_b, end="\n\n")

    forward = os.path.join(args.out, f"worked_example_forward.{args.format}")
    backward = os.path.join(args.out, f"worked_example_backward.{args.format}")
    try:
        # The forward picture comes before backward(): values only, like the notes' figure.
        render_graph(f, forward, format=args.format, show_grad=False, legend=True)
        f.backward()
        render_graph(f, backward, format=args.format, direction="backward")
    except GraphvizNotFound as exc:
        sys.exit(str(exc))  # the message says how to install Graphviz; exit status 1
    print(f"backward(): df/dw = {w.grad:g}, df/db = {b.grad:g} (explain: {by_w.total:g} and {by_b.total:g})")
    print(f"wrote {forward} and {backward}")
    return {"df_dw": by_w.total, "df_db": by_b.total, "files": [forward, backward]}


if __name__ == "__main__":
    main()
