"""Timing that survives a noisy 2-core machine: interleaved repeats, medians, ratios, and the
same conditions for both sides of a comparison (one BLAS thread, an allocator that keeps its memory)."""

import contextlib
import ctypes
import ctypes.util
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


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread (threadpoolctl, which scikit-learn brings).

    The products of a small batch are small ((16, 784) by (784, 256)): with two BLAS threads on a
    shared 2-core machine the threads wait for each other, and both sides' times vary several-fold
    from run to run; one thread measures the work itself. Without threadpoolctl: unchanged.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def pin_allocator() -> bool:
    """Make glibc's malloc keep freed memory in the process, for the rest of the process.

    By default an array over the (adaptive) mmap threshold gets fresh pages from the kernel,
    and freed heap memory above the trim threshold goes back to it; the next array of that size
    then pays a page fault per 4 KiB page. Which side of a comparison pays depends on the order
    of its allocations and frees, not on its work: at batch 16 in float64 the hand-written step
    took about 2 page faults per 4 KiB of gradient and ran 3x slower than the same arithmetic in
    chainrule. With fixed, large thresholds neither side does. False where there is no glibc.
    """
    path = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(path).mallopt if path else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    return all(
        mallopt(param, value)
        for param, value in ((_M_MMAP_THRESHOLD, 1 << 30), (_M_TRIM_THRESHOLD, 1 << 30), (_M_TOP_PAD, 64 << 20))
    )


def print_table(rows, headers):
    """rows: lists of cells; printed as an aligned plain-text table."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for k, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
