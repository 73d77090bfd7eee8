"""A Hopfield network as an associative memory: digits recalled from corrupted copies, and its capacity.

Five handwritten digits (scikit-learn's 8x8 class means minus the mean of all ten, thresholded at
0 and drawn 16x16, so N = 256 units of +1/-1) are stored by Hebb's rule, W = (1/N) sum_p p p^T
with a zero diagonal (nn.Hopfield). Each is recalled by asynchronous updates s_i <- sign(W_i . s)
from copies with 10% of the pixels flipped; the energy E = -1/2 s^T W s falls at every update
that changes a unit and never rises. Similar memories blur into each other: the digits picked are
the five least alike, the shared background is subtracted first (thresholded as they are, all
digits agree on the empty border and overlap by half), and storing all ten fails.

Capacity: with P random patterns in N units, recall works while P is below about 0.14 N; past it
the crosstalk between memories swamps the signal and recall fails. The last figure shows the
fraction of patterns recalled exactly (and the mean overlap) against P / N.

    python -m examples.hopfield
"""

import itertools

import numpy as np

import nn

from . import _common

SIDE = 16  # the 8x8 digits drawn with 2x2 blocks: 256 units


def build_parser():
    p = _common.parser("hopfield", "Hopfield network: recall of digits, energy, capacity.")
    # two at least: the digits are picked, and reported, by their overlap with each other
    p.add_argument("--digits", type=_common.int_from_to(2, 10), default=5, help="number of digits stored")
    # below one half: a copy with more than half of its units flipped is nearer the pattern's negative,
    # which the network stores too
    p.add_argument(
        "--flip", type=_common.number_in(0, 0.5), default=0.10, help="fraction of units flipped in each corrupted copy"
    )
    p.add_argument("--trials", type=_common.positive_int, default=20, help="corrupted copies recalled per digit")
    # at least 10: the capacity curve (P = 0.02 N to 0.3 N, rounded) then has points on both sides of 0.14 N
    p.add_argument("--units", type=_common.int_at_least(10), default=200, help="units N of the capacity experiment")
    p.add_argument("--capacity-trials", type=_common.positive_int, default=4, help="random memories per pattern count")
    return p


def digit_patterns():
    """(10, 256) +1/-1 patterns: where each class's mean image exceeds the mean of all ten, 16x16."""
    X, y = _common.digits_data()
    means = np.array([X[y == digit].mean(axis=0) for digit in range(10)])
    blocks = np.ones((SIDE // 8, SIDE // 8))
    return np.array(
        [np.where(np.kron((m - means.mean(axis=0)).reshape(8, 8), blocks) > 0, 1, -1).ravel() for m in means]
    )


def recall_rates(net, patterns, rng, args):
    """For each pattern: the fraction of its corrupted copies recalled exactly, and one example pair."""
    rates, examples = [], []
    for pattern in patterns:
        copies = corrupt(rng, np.tile(pattern, (args.trials, 1)), args.flip)
        recalled = net.recall(copies, rng=rng)
        rates.append(float(np.mean(np.all(recalled == pattern, axis=1))))
        examples.append((copies[0], recalled[0]))
    return rates, examples


def least_alike(patterns, k):
    """The k patterns whose largest pairwise |overlap| (p . q / N) is smallest."""
    overlap = np.abs(patterns @ patterns.T) / patterns.shape[1]
    best = min(
        itertools.combinations(range(len(patterns)), k),
        key=lambda c: max(overlap[i, j] for i, j in itertools.combinations(c, 2)),
    )
    return list(best)


def corrupt(rng, patterns, fraction):
    """Copies with round(fraction * N) randomly chosen units flipped in each row."""
    x = np.array(patterns, copy=True)
    n_flip = round(fraction * x.shape[-1])
    for row in np.atleast_2d(x):
        row[rng.choice(row.size, n_flip, replace=False)] *= -1
    return x


def capacity_curve(args, rng, counts):
    """For each pattern count P: (fraction recalled exactly, mean overlap) over random memories."""
    exact, overlaps = [], []
    for P in _common.progress(counts, args, "capacity"):
        hits, overlap = [], []
        for _ in range(args.capacity_trials):
            patterns = rng.choice([-1, 1], size=(P, args.units))
            net = nn.Hopfield(args.units)
            net.store(patterns)
            recalled = net.recall(corrupt(rng, patterns, args.flip), steps=30, rng=rng)
            hits.extend(np.all(recalled == patterns, axis=1))
            overlap.extend(np.mean(recalled == patterns, axis=1) * 2 - 1)
        exact.append(float(np.mean(hits)))
        overlaps.append(float(np.mean(overlap)))
    return exact, overlaps


def plot_recall(figs, stored, chosen, examples, flip):
    fig, axes = figs.new(3, len(chosen), size=(1.8, 1.8))
    for col, (digit, (corrupted, recalled)) in enumerate(zip(chosen, examples)):
        for row, (image, title) in enumerate(
            ((stored[col], f"stored {digit}"), (corrupted, f"{flip:.0%} flipped"), (recalled, "recalled"))
        ):
            ax = axes[row, col]
            ax.imshow(image.reshape(SIDE, SIDE), cmap="gray_r", vmin=-1, vmax=1)
            ax.set(xticks=[], yticks=[], title=title)
    figs.save(fig, "recall")


def plot_energy_capacity(figs, energies, counts, exact, overlaps, units):
    fig, axes = figs.new(1, 2, size=(4.6, 3.6))
    ax = axes[0, 0]
    ax.plot(energies)
    ax.set(
        xlabel="unit update (asynchronous)",
        ylabel="energy E = -1/2 s^T W s",
        title="energy during one recall: never rises",
    )
    ax = axes[0, 1]
    ratio = np.array(counts) / units
    ax.plot(ratio, exact, "o-", label="patterns recalled exactly")
    ax.plot(ratio, overlaps, "s--", label="mean overlap with the pattern")
    ax.axvline(0.14, color="k", ls=":", label="0.14 N")
    ax.set(xlabel="stored patterns P / N", ylim=(-0.05, 1.05), title=f"capacity, N = {units} random patterns")
    ax.legend(fontsize="small")
    figs.save(fig, "energy_capacity")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    rng = np.random.default_rng(args.seed)
    all_digits = digit_patterns()
    chosen = least_alike(all_digits, args.digits)
    stored = all_digits[chosen]
    net = nn.Hopfield(stored.shape[1])
    net.store(stored)

    rates, examples = recall_rates(net, stored, rng, args)
    all_ten = nn.Hopfield(all_digits.shape[1])
    all_ten.store(all_digits)
    rates_all_ten, _ = recall_rates(all_ten, all_digits, rng, args)
    energies = []
    net.recall(corrupt(rng, stored[0], args.flip), rng=rng, energies=energies)
    rises = int(np.sum(np.diff(energies) > 1e-9))

    counts = sorted({max(1, round(r * args.units)) for r in np.linspace(0.02, 0.3, 15)})
    exact, overlaps = capacity_curve(args, rng, counts)
    plot_recall(figs, stored, chosen, examples, args.flip)
    plot_energy_capacity(figs, energies, counts, exact, overlaps, args.units)

    numbers = {
        "digits stored": ", ".join(map(str, chosen)),
        "largest overlap between stored digits": float(
            max(abs(p @ q) for p, q in itertools.combinations(stored, 2)) / stored.shape[1]
        ),
        f"recalled exactly from {args.flip:.0%} flipped (of {args.trials} copies each)": ", ".join(
            f"{d}: {r:.0%}" for d, r in zip(chosen, rates)
        ),
        "the same with all ten digits stored": ", ".join(f"{r:.0%}" for r in rates_all_ten),
        "energy updates / rises": f"{len(energies) - 1} / {rises}",
        "energy start -> end": f"{energies[0]:.2f} -> {energies[-1]:.2f}",
    }
    for P, e, o in zip(counts, exact, overlaps):
        numbers[f"P = {P} ({P / args.units:.2f} N): recalled exactly / overlap"] = f"{e:.2f} / {o:.3f}"
    _common.report(numbers, figs)
    return {
        "recall": rates,
        "recall_all_ten": rates_all_ten,
        "energy_rises": rises,
        "counts": counts,
        "exact": exact,
        "overlaps": overlaps,
        "files": figs.written,
    }


if __name__ == "__main__":
    main()
