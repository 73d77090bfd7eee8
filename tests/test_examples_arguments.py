"""Every example refuses a bad option value before doing any work: argparse's usage message,
exit status 2 and a message naming the option and the value."""
import importlib

import pytest

BAD = [
    ("digits", ["--epochs", "0"], "--epochs: must be an int >= 1, got 0"),
    ("digits", ["--limit", "0"], "--limit: must be an int >= 1, got 0"),
    ("digits", ["--batch-size", "0"], "--batch-size: must be an int >= 1, got 0"),
    ("digits", ["--lr", "-1"], "--lr: must be a positive number, got -1"),
    ("digits", ["--lr", "nan"], "--lr: must be a positive number, got nan"),
    ("digits", ["--hidden", "64", "0"], "--hidden: must be an int >= 1, got 0"),
    ("digits", ["--momentum", "-0.5"], "--momentum: must be a nonnegative number, got -0.5"),
    ("digits", ["--mnist", "/no/such/dir"], "--mnist: no such directory: /no/such/dir"),
    ("digits", ["--seed", "-1"], "--seed: must be an int >= 0, got -1"),
    ("digits", ["--epochs", "two"], "--epochs: must be an int >= 1, got 'two'"),
    ("kinematics", ["--n", "0"], "--n: must be an int >= 2, got 0"),
    ("kinematics", ["--t-max", "0"], "--t-max: must be a positive number, got 0"),
    ("kinematics", ["--noise", "-1"], "--noise: must be a nonnegative number, got -1"),
    ("kinematics", ["--v0", "inf"], "--v0: must be a finite number, got inf"),
    ("kinematics", ["--steps", "0"], "--steps: must be an int >= 1, got 0"),
    ("activations", ["--points", "1"], "--points: must be an int >= 2, got 1"),
    ("logic_gates", ["--restarts", "-1"], "--restarts: must be an int >= 0, got -1"),
    ("logic_gates", ["--perceptron-epochs", "0"], "--perceptron-epochs: must be an int >= 1, got 0"),
    ("loss_surface", ["--grid", "1"], "--grid: must be an int >= 2, got 1"),
    ("loss_surface", ["--range", "-8"], "--range: must be a positive number, got -8"),
    ("overfitting", ["--dropout", "1"], "--dropout: must be a number in [0, 1), got 1"),
    ("overfitting", ["--n-train", "0"], "--n-train: must be an int >= 1, got 0"),
    ("overfitting", ["--lam", "-3"], "--lam: must be a nonnegative number, got -3"),
    ("overfitting", ["--moons", "1"], "--moons: must be an int >= 2, got 1"),
    ("saturation", ["--eta", "0"], "--eta: must be a positive number, got 0"),
    ("saturation", ["--w", "nan"], "--w: must be a finite number, got nan"),
    ("universal_approximation", ["--widths", "0"], "--widths: must be an int >= 1, got 0"),
    ("universal_approximation", ["--restarts", "0"], "--restarts: must be an int >= 1, got 0"),
    ("universal_approximation", ["--centers", "0"], "--centers: must be an int >= 1, got 0"),
    ("vanishing_gradients", ["--probe", "0"], "--probe: must be an int >= 1, got 0"),
    ("vanishing_gradients", ["--dying-lr", "-0.5"], "--dying-lr: must be a positive number, got -0.5"),
    ("finite_difference_error", ["--per-decade", "0"], "--per-decade: must be an int >= 1, got 0"),
    ("forward_vs_reverse", ["--max-n", "0"], "--max-n: must be an int >= 1, got 0"),
    ("forward_vs_reverse", ["--repeats", "0"], "--repeats: must be an int >= 1, got 0"),
    ("worked_example", ["-x", "inf"], "-x: must be a finite number, got inf"),
]


@pytest.mark.parametrize("name, argv, message", BAD)
def test_bad_values_are_usage_errors_naming_the_option(name, argv, message, capsys, tmp_path):
    module = importlib.import_module(f"examples.{name}")
    with pytest.raises(SystemExit) as exit_:
        module.main(argv + ["--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: python -m examples.{name}")
    assert f"error: argument {message}" in err, err
    assert not (tmp_path / "out").exists()                 # stopped before any work
