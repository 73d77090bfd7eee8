"""Target 4: peak resident memory added by 20 training steps at batch 2048 float32,
each measured in a fresh process (`python -m benchmarks.memory numpy|tensor`)."""
import subprocess
import sys

import numpy as np

STEPS, BATCH = 20, 2048


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024          # the kernel reports kB


def reset_peak():
    """Start a new peak at the current resident size (Linux: write 5 to clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def added_by_steps(kind):
    from benchmarks import mlp
    rng = np.random.default_rng(0)
    arrays = mlp.make_arrays(rng, np.float32)
    x, onehot = mlp.make_batch(rng, BATCH, np.float32)
    if kind == "numpy":
        step = lambda: mlp.numpy_step(arrays, x, onehot)
    else:
        params = mlp.tensor_params(arrays)
        step = lambda: mlp.tensor_step(params, x, onehot)
    reset_peak()
    before = _status_mb("VmRSS")
    for _ in range(STEPS):
        step()
    return _status_mb("VmHWM") - before


def measure(kind):
    """MB added, from a fresh interpreter so earlier allocations cannot hide the peak."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", kind],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


if __name__ == "__main__":
    print(f"{added_by_steps(sys.argv[1]):.2f}")
