"""Resident memory on Linux: read from /proc/self/status, the peak reset through /proc/self/clear_refs.

Tests that read /proc are marked `needs_proc` (conftest's linux_proc fixture fails them elsewhere)."""

import contextlib
import gc
import re

import pytest

PROC = "/proc/self/status"


needs_proc = pytest.mark.usefixtures("linux_proc")


def status_mb(field):
    """VmRSS (resident now) or VmHWM (resident peak) in MB."""
    with open(PROC) as f:
        return int(re.search(field + r":\s+(\d+) kB", f.read()).group(1)) / 1024


@contextlib.contextmanager
def peak_growth():
    """Yields a list that holds, after the block, the peak resident growth during it in MB."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident size
    before, result = status_mb("VmRSS"), []
    yield result
    result.append(status_mb("VmHWM") - before)
