"""Deep graphs: a 1,000,000-node Value chain, a 100,000-op Tensor chain, draw_graph and explain on
100,000 nodes. Gradients match the closed form, nothing recurses, and the peak memory of
building and differentiating (or drawing, or explaining) a chain grows linearly with its depth:
about 2x from depth n to 2n, where 4x would mean quadratic.

The memory runs happen in fresh interpreters, two at a time: in this process, memory that
earlier tests freed would be reused and blur resident-size measurements.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from autograd import Tensor, Value
from tests.support.memory import needs_proc, peak_growth

pytestmark = pytest.mark.slow  # graphs of 100,000 to 1,000,000 nodes, and peak memory in fresh interpreters

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository

# Closed forms: x * C ** n for a chain of n multiplications by C.
VALUE_C, TENSOR_C = 1 + 1e-7, 1 + 3e-5


def value_chain(n, c=VALUE_C):
    x = Value(0.5, label="x")
    y = x
    for _ in range(n):
        y = y * c
    return x, y


def tensor_chain(steps, c=TENSOR_C):
    """3 * steps ops: neg, *, transpose; an even number of steps gives x * c ** steps."""
    x = Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True)
    y = x
    for _ in range(steps):
        y = (-y * c).T
    return x, y


def test_million_node_value_chain():
    x, y = value_chain(1_000_000)
    y.backward()
    assert x.grad == pytest.approx(VALUE_C**1_000_000, rel=1e-9)  # e ** 0.1
    assert y.data == pytest.approx(0.5 * VALUE_C**1_000_000, rel=1e-9)


def test_hundred_thousand_op_tensor_chain():
    steps = 33_334
    x, y = tensor_chain(steps)
    y.sum().backward()
    assert y.shape == (2, 3)
    np.testing.assert_allclose(y.data, x.data * TENSOR_C**steps, rtol=1e-9)
    np.testing.assert_allclose(x.grad, np.full((2, 3), TENSOR_C**steps), rtol=1e-9)


# Workloads for the fresh interpreters: each returns something to check its result by.


def backward_of_value_chain(n):
    x, y = value_chain(n)
    y.backward()
    return x.grad


def backward_of_tensor_chain(n):
    x, y = tensor_chain(n // 3)
    y.sum().backward()
    return float(x.grad[0, 0])


def drawing(n):
    from autograd import draw_graph

    x, y = value_chain(n)
    return re.search(r"\.\.\. (\d+) more nodes", draw_graph(y).source).group(1)


def explaining(n):
    from autograd import explain

    x, y = value_chain(n)
    e = explain(y, x)
    return [e.total, len(e.rows), e.path_count, str(e).splitlines()[-1]]


def run_fresh(workload, n):
    """Start `python this_file workload n`; it reports its peak resident growth and result."""
    return subprocess.Popen(
        [sys.executable, __file__, workload, str(n)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
    )


def measure(workload, n):
    with peak_growth() as mb:
        result = globals()[workload](n)
    print(json.dumps({"mb": mb[0], "result": result}))


# workload: (depth n, check of the result at depth 2n)
DEPTHS = {
    "backward_of_value_chain": (100_000, lambda r: r == pytest.approx(VALUE_C**200_000, rel=1e-9)),
    "backward_of_tensor_chain": (30_000, lambda r: r == pytest.approx(TENSOR_C**20_000, rel=1e-9)),
    "drawing": (50_000, lambda r: int(r) == 200_001 - 500),  # x, 100,000 ops and their constants
    "explaining": (
        50_000,
        lambda r: (
            r[0] == pytest.approx(VALUE_C**100_000, rel=1e-9)
            and r[1:] == [100_000, 1, f"dh100000/dx = {VALUE_C**100_000:.6g}"]
        ),
    ),
}


@needs_proc
@pytest.mark.parametrize("workload", sorted(DEPTHS))
def test_peak_memory_is_linear_in_the_depth(workload):
    n, check = DEPTHS[workload]
    runs = [run_fresh(workload, depth) for depth in (n, 2 * n)]
    (small, _), (large, result) = [
        (r["mb"], r["result"]) for r in (json.loads(p.communicate(timeout=120)[0]) for p in runs)
    ]
    assert all(p.returncode == 0 for p in runs)
    assert check(result), f"{workload} at depth {2 * n} gave {result}"
    assert 1.5 < large / small < 3.0, f"{workload}: peak {small:.1f} MB at depth {n}, {large:.1f} MB at depth {2 * n}"


if __name__ == "__main__":
    measure(sys.argv[1], int(sys.argv[2]))
