"""Every example answers --help (argparse) with its `python -m examples.NAME` usage line."""

import importlib

import pytest

EXAMPLES = [
    "digits",
    "logic_gates",
    "saturation",
    "vanishing_gradients",
    "overfitting",
    "loss_surface",
    "universal_approximation",
    "activations",
    "kinematics",
]
EXAMPLES += ["three_ways", "hopfield", "rbm", "graph_network"]
EXAMPLES += ["cnn_digits", "memory", "finite_difference_error", "forward_vs_reverse"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_help(name, capsys):
    module = importlib.import_module(f"examples.{name}")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m examples.{name}") and "--out" in out and "--gallery" in out
