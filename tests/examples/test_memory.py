"""Smoke test of examples.memory: a reduced run; the RNN's gradient through time vanishes, the gated ones' less."""

import pytest

from examples import memory
from tests.support.examples_smoke import run_example

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_reduced_run(tmp_path):
    result = run_example(
        memory,
        tmp_path,
        "--lengths",
        "3,6",
        "--steps",
        "30",
        "--hidden",
        "8",
        "--test-size",
        "100",
        "--tbptt-length",
        "6",
        "--chunk",
        "2",
    )
    assert set(result["accuracy"]) == {"RNN", "GRU", "LSTM"}
    assert all(set(by_length) == {3, 6} for by_length in result["accuracy"].values())
    assert all(0 <= a <= 1 for by_length in result["accuracy"].values() for a in by_length.values())
    norms = result["norms"]
    assert all(len(v) == 6 and (v > 0).all() for v in norms.values())
    # with the gates started open, the gradient reaching h_0 keeps more of its size than the RNN's
    ratio = {kind: v[0] / v[-1] for kind, v in norms.items()}
    assert ratio["GRU"] > ratio["RNN"] and ratio["GRU"] > ratio["GRU (gate bias 0)"]
    assert 0 <= result["tbptt"] <= 1


def test_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        memory.main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m examples.memory")
    for bad in (["--lengths", "1,5"], ["--lengths", "a"], ["--hidden", "0"], ["--chunk", "-2"]):
        with pytest.raises(SystemExit) as exit_:
            memory.main(bad)
        assert exit_.value.code == 2
