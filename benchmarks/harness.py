"""Timing that survives a noisy 2-core machine: interleaved repeats, medians, ratios."""

import statistics
import time


def interleaved_medians(fns, repeats=7, number=1, clock=time.perf_counter):
    """Median seconds per call of each function in `fns` (a dict), runs interleaved.

    Interleaving (a, b, a, b, ...) exposes every candidate to the same load
    drift, so the ratio of two medians is steadier than either time alone.
    `clock` may count this process's CPU time instead of the wall clock's,
    leaving out the time other programs held the CPU.
    """
    times = {name: [] for name in fns}
    for fn in fns.values():  # warm caches and lazy imports once
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            for _ in range(number):
                fn()
            times[name].append((clock() - start) / number)
    return {name: statistics.median(ts) for name, ts in times.items()}


def print_table(rows, headers):
    """rows: lists of cells; printed as an aligned plain-text table."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for k, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
