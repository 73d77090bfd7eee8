"""Smoke test of examples.graph_network: the karate club's data, and >= 90% of the unlabelled members right."""

import numpy as np
import pytest

from examples import graph_network
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_karate_club_data():
    A = graph_network.adjacency()
    assert len(set(graph_network.EDGES)) == 78 and A.sum() == 2 * 78 and np.array_equal(A, A.T)
    degrees = A.sum(axis=1)
    assert degrees[0] == 16 and degrees[33] == 17 and degrees[32] == 12 and degrees[11] == 1  # members 1, 34, 33, 12
    assert np.bincount(graph_network.factions()).tolist() == [17, 17]


def test_classifies_the_unlabelled_members(tmp_path):
    result = run_example(graph_network, tmp_path, "--steps", "150")
    assert result["accuracy"] >= 0.9
    assert result["losses"][-1] < result["losses"][0] / 10
