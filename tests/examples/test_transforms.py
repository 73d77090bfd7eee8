"""Smoke tests of the transform examples: they run, write their PNG and show what they claim."""

import os

import numpy as np
import pytest

from examples import finite_difference_error, forward_vs_reverse

pytestmark = pytest.mark.slow  # runs the example (reduced)


def test_finite_difference_error_draws_the_v(tmp_path, capsys):
    result = finite_difference_error.main(["--out", str(tmp_path), "--no-progress"])
    (png,) = result["figures"]
    assert os.path.getsize(png) > 10_000 and png.endswith("finite_difference_error_errors.png")
    steps, central = result["steps"], result["errors"]["central"]
    best = int(np.argmin(central))
    assert 1e-8 <= steps[best] <= 1e-3
    assert central[0] > 1e3 * central[best] and central[-1] > 1e3 * central[best]  # the V
    assert np.all(np.diff(central[steps >= 1e-4]) < 0)  # truncation: falls steadily as eps^2
    decade = lambda lo, hi: np.median(central[(steps >= lo) & (steps <= hi)])
    assert decade(1e-16, 1e-14) > decade(1e-12, 1e-10) > 10 * central[best]  # round-off: noisy rise
    forward = result["errors"]["forward"]
    assert forward[0] > 1e3 * forward.min() and forward[-1] > 1e3 * forward.min()
    assert result["errors"]["complex"][-1] < 1e-14  # the complex step has no round-off
    assert "best eps (central)" in capsys.readouterr().out


def test_forward_vs_reverse_shows_which_side_is_cheaper(tmp_path, capsys):
    result = forward_vs_reverse.main(["--out", str(tmp_path), "--no-progress", "--max-n", "64"])
    assert result["sizes"] == [1, 2, 4, 8, 16, 32, 64]
    last = result["times"][-1]
    assert last["f forward"] > last["f reverse"]  # one loss, many inputs: reverse wins
    assert last["g reverse"] > last["g forward"]  # one input, many outputs: forward wins
    (png,) = result["figures"]
    assert os.path.getsize(png) > 10_000
    out = capsys.readouterr().out
    assert "f forward (ms)" in out and "g: reverse / forward time" in out
