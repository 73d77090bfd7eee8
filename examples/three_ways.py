"""Three ways to differentiate: numerically, symbolically and automatically, side by side.

The course notes compare them on f(x; w, b) = 1 / (exp(-(w x + b)) + 1). Numerical differentiation
((f(w + h) - f(w - h)) / 2h) is off by its truncation and round-off error and costs two evaluations
of f per parameter. Symbolic differentiation (autograd.symbolic_derivative: rewrite rules on the
formula) is exact, but the formula writes a shared intermediate result out again wherever it is
used, and the derivative copies the formula into every product-rule and chain-rule term: the
expression swells. Automatic differentiation (backward()) is exact too and works on the graph,
where every intermediate result is one node, whatever uses it.

Deeper compositions show the swell, for n = 1, 2, ...:
  - a chain of n tanh units, u_k = tanh(w_k u_(k-1) + b_k): the formula grows linearly, its
    derivative quadratically (d tanh(u) = (1 - tanh(u)^2) du copies u into every layer's term);
  - an n-layer scalar network, two tanh units per layer, each using both units below: the graph
    grows linearly, the formula doubles with every layer;
  - n multiplications of a shared subterm, u_k = u_(k-1) * u_(k-1): the graph has n + 1 nodes, the
    formula 2^(n+1) - 1, its derivative (n + 1) 2^(n+1) - 1 (simplified: n 2^(n+1) - 1).
Each derivative is taken with respect to the deepest weight (w_1; x for the products), so that
every layer lies on the path. Sizes and times are plotted against n in one figure.

    python -m examples.three_ways
"""

import time

import numpy as np

from autograd import Value, engine, expression, symbolic_derivative

from . import _common

STEP = 1e-6  # central-difference step
# The log-log slope of growth_law fits the second half of the sizes: n >= 3 gives it two points.
DEPTH = _common.int_at_least(3)


def build_parser():
    p = _common.parser("three_ways", "Numerical, symbolic and automatic differentiation compared.")
    p.add_argument("--chain", type=DEPTH, default=30, help="largest n of the tanh chain")
    p.add_argument("--layers", type=DEPTH, default=10, help="largest n of the scalar network")
    # u_n = x^(2^n) at x = 1.01 overflows float64 for n >= 17; the overflowing rows would be inf and nan
    p.add_argument("--products", type=_common.int_from_to(3, 16), default=12, help="largest n of the shared products")
    p.add_argument("--repeats", type=_common.positive_int, default=3, help="timings are the best of this many runs")
    return p


# The compositions: each maps a dict of leaf values to (root, {label: leaf}) ----------------


def notes_function(values):
    x, w, b = (Value(values[k], label=k) for k in ("x", "w", "b"))
    return 1 / ((-(w * x + b)).exp() + 1), {"x": x, "w": w, "b": b}


def tanh_chain(values, n):
    leaves = {k: Value(v, label=k) for k, v in values.items()}
    u = leaves["x"]
    for k in range(1, n + 1):
        u = (leaves[f"w{k}"] * u + leaves[f"b{k}"]).tanh()
    return u, leaves


def tanh_chain_point(rng, n):
    values = {"x": 0.5}
    for k in range(1, n + 1):
        values[f"w{k}"], values[f"b{k}"] = rng.uniform(0.5, 1.5), rng.uniform(-0.3, 0.3)
    return values


def scalar_network(values, n):
    """Two tanh units per layer; unit j of layer k is tanh(w{k}_{j}0 u0 + w{k}_{j}1 u1 + b{k}_{j})."""
    leaves = {k: Value(v, label=k) for k, v in values.items()}
    units = [leaves["x0"], leaves["x1"]]
    for k in range(1, n + 1):
        units = [
            (leaves[f"w{k}_{j}0"] * units[0] + leaves[f"w{k}_{j}1"] * units[1] + leaves[f"b{k}_{j}"]).tanh()
            for j in range(2)
        ]
    return units[0] + units[1], leaves


def scalar_network_point(rng, n):
    values = {"x0": 0.5, "x1": -0.3}
    for k in range(1, n + 1):
        for j in range(2):
            values[f"w{k}_{j}0"], values[f"w{k}_{j}1"] = rng.normal(0, 0.8, size=2)
            values[f"b{k}_{j}"] = rng.uniform(-0.2, 0.2)
    return values


def shared_products(values, n):
    x = Value(values["x"], label="x")
    u = x
    for _ in range(n):
        u = u * u
    return u, {"x": x}


# The three derivatives of one composition at one point ---------------------------------------


def best_time(fn, repeats):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def three_derivatives(build, values, wrt, repeats):
    """Numerical, symbolic and automatic d f / d wrt, with their times, and the sizes involved."""

    def numerical():
        up, down = dict(values), dict(values)
        up[wrt] += STEP
        down[wrt] -= STEP
        return (build(up)[0].data - build(down)[0].data) / (2 * STEP)

    def automatic():
        root, leaves = build(values)
        root.backward()
        return leaves[wrt].grad

    def symbolic(simplify):
        root, leaves = build(values)
        d = symbolic_derivative(root, leaves[wrt], simplify=simplify)
        return d, d.evaluate(values)

    t_num, d_num = best_time(numerical, repeats)
    t_auto, d_auto = best_time(automatic, repeats)
    t_sym, (plain, d_sym) = best_time(lambda: symbolic(False), repeats)
    simplified, d_simple = symbolic(True)
    root = build(values)[0]
    return {
        "numerical": d_num,
        "symbolic": d_sym,
        "simplified": d_simple,
        "automatic": d_auto,
        "t_numerical": t_num,
        "t_symbolic": t_sym,
        "t_automatic": t_auto,
        "graph": len(engine.toposort(root)),
        "formula": expression(root).size,
        "derivative": plain.size,
        "derivative_simplified": simplified.size,
    }


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def sweep(args, name, build, point, wrt, largest):
    rows = []
    for n in _common.progress(range(1, largest + 1), args, name):
        rows.append(three_derivatives(lambda v: build(v, n), point(n), wrt, args.repeats))
    return rows


def plot(figs, sweeps):
    fig, axes = figs.new(2, len(sweeps), size=(4.2, 3.4))
    for col, (title, rows) in enumerate(sweeps.items()):
        n = np.arange(1, len(rows) + 1)
        ax = axes[0, col]
        for key, style, label in (
            ("derivative", "o-", "symbolic derivative"),
            ("derivative_simplified", "s--", "symbolic, simplified"),
            ("formula", "^-", "formula f"),
            ("graph", "k.-", "graph nodes (autodiff)"),
        ):
            ax.plot(n, [r[key] for r in rows], style, ms=4, label=label)
        ax.set(yscale="log", title=title, xlabel="n", ylabel="nodes" if col == 0 else None)
        ax = axes[1, col]
        for key, style, label in (
            ("t_symbolic", "o-", "symbolic (build + evaluate)"),
            ("t_numerical", "^-", "numerical (2 evaluations)"),
            ("t_automatic", "k.-", "automatic (forward + backward)"),
        ):
            ax.plot(n, [r[key] * 1e3 for r in rows], style, ms=4, label=label)
        ax.set(yscale="log", xlabel="n", ylabel="time (ms)" if col == 0 else None)
    axes[0, 0].legend(fontsize="small")
    axes[1, 0].legend(fontsize="small")
    figs.save(fig, "swell", title="size of the symbolic derivative against the graph, and time, against depth n")


def growth_law(rows, key):
    """Per-step ratio of the last two sizes, and the log-log slope over the second half."""
    sizes = np.array([r[key] for r in rows], dtype=float)
    n = np.arange(1, len(sizes) + 1)
    half = slice(len(sizes) // 2, None)
    slope = np.polyfit(np.log(n[half]), np.log(sizes[half]), 1)[0]
    return sizes[-1] / sizes[-2], slope


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    rng = np.random.default_rng(args.seed)
    notes = {
        wrt: three_derivatives(notes_function, {"x": 1.0, "w": 0.0, "b": 0.0}, wrt, args.repeats) for wrt in ("w", "b")
    }
    chain_points = {n: tanh_chain_point(rng, n) for n in range(1, args.chain + 1)}
    network_points = {n: scalar_network_point(rng, n) for n in range(1, args.layers + 1)}
    sweeps = {
        "chain of n tanh units": sweep(args, "tanh chain", tanh_chain, chain_points.get, "w1", args.chain),
        "n-layer scalar network (2 units/layer)": sweep(
            args, "scalar network", scalar_network, network_points.get, "w1_00", args.layers
        ),
        "n shared products u*u": sweep(
            args, "shared products", shared_products, lambda n: {"x": 1.01}, "x", args.products
        ),
    }
    plot(figs, sweeps)

    everything = [r for rows in sweeps.values() for r in rows] + list(notes.values())
    numbers = {}
    for wrt, r in notes.items():
        numbers[f"notes' f at (x, w, b) = (1, 0, 0): df/d{wrt} numerical / symbolic / automatic"] = (
            f"{r['numerical']:.12f} / {r['simplified']:.12f} / {r['automatic']:.12f}"
        )
    numbers["the notes' df/dw, simplified"] = str(symbolic_derivative(*_wrt(notes_function, "w"), simplify=True))
    numbers["largest relative difference, symbolic vs automatic"] = max(
        max(relative(r["symbolic"], r["automatic"]), relative(r["simplified"], r["automatic"])) for r in everything
    )
    numbers["largest relative difference, numerical vs automatic"] = max(
        relative(r["numerical"], r["automatic"]) for r in everything
    )
    for title, rows in sweeps.items():
        last = rows[-1]
        n = len(rows)
        ratio, slope = growth_law(rows, "derivative")
        numbers[f"{title}, n = {n}: graph / formula / derivative / simplified nodes"] = (
            f"{last['graph']} / {last['formula']} / {last['derivative']} / {last['derivative_simplified']}"
        )
        numbers[f"{title}: derivative size, growth per step at n = {n} / log-log slope"] = f"x{ratio:.2f} / {slope:.2f}"
        numbers[f"{title}, n = {n}: time symbolic / numerical / automatic (ms)"] = (
            f"{last['t_symbolic'] * 1e3:.2f} / {last['t_numerical'] * 1e3:.3f} / {last['t_automatic'] * 1e3:.3f}"
        )
    products = sweeps["n shared products u*u"]
    numbers["shared products: derivative = (n + 1) 2^(n+1) - 1 for every n"] = all(
        r["derivative"] == (n + 1) * 2 ** (n + 1) - 1 for n, r in enumerate(products, start=1)
    )
    _common.report(numbers, figs)
    return {"notes": notes, "sweeps": sweeps, "files": figs.written}


def _wrt(build, name):
    root, leaves = build({"x": 1.0, "w": 0.0, "b": 0.0})
    return root, leaves[name]


if __name__ == "__main__":
    main()
