"""Smoke test of examples.three_ways: the three derivatives agree, and the symbolic one swells."""

import pytest

from examples import three_ways
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_three_ways_agree_and_the_symbolic_derivative_swells(tmp_path):
    result = run_example(three_ways, tmp_path, "--chain", "6", "--layers", "4", "--products", "5", "--repeats", "1")
    for wrt in ("w", "b"):
        r = result["notes"][wrt]
        assert r["automatic"] == 0.25 and r["simplified"] == 0.25
        assert r["numerical"] == pytest.approx(0.25, abs=1e-8) and r["numerical"] != 0.25
    rows = [r for rows in result["sweeps"].values() for r in rows]
    for r in rows:
        assert r["symbolic"] == pytest.approx(r["automatic"], rel=1e-12)
        assert r["numerical"] == pytest.approx(r["automatic"], rel=1e-5)
    network = result["sweeps"]["n-layer scalar network (2 units/layer)"]
    assert network[-1]["formula"] > 2 * network[-2]["formula"] - 10  # doubles per layer
    assert network[-1]["graph"] - network[-2]["graph"] == network[1]["graph"] - network[0]["graph"]  # linear
    products = result["sweeps"]["n shared products u*u"]
    assert [r["derivative"] for r in products] == [(n + 1) * 2 ** (n + 1) - 1 for n in range(1, 6)]
