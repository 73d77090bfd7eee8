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
    # the examples added in the second round
    ("cnn_digits", ["--epochs", "0"], "--epochs: must be an int >= 1, got 0"),
    ("cnn_digits", ["--channels", "32", "0"], "--channels: must be an int >= 1, got 0"),
    ("cnn_digits", ["--limit", "-5"], "--limit: must be an int >= 1, got -5"),
    ("cnn_digits", ["--momentum", "-0.1"], "--momentum: must be a nonnegative number, got -0.1"),
    ("cnn_digits", ["--lr", "inf"], "--lr: must be a positive number, got inf"),
    ("cnn_digits", ["--mnist", "/no/such/dir"], "--mnist: no such directory: /no/such/dir"),
    ("memory", ["--lengths", "5,1"], "--lengths: must be comma-separated values, each an int >= 2, got '5,1'"),
    ("memory", ["--lengths", "5,ten"], "--lengths: must be comma-separated values, each an int >= 2, got '5,ten'"),
    ("memory", ["--lengths", ""], "--lengths: must be comma-separated values, each an int >= 2, got ''"),
    ("memory", ["--hidden", "0"], "--hidden: must be an int >= 1, got 0"),
    ("memory", ["--chunk", "-2"], "--chunk: must be an int >= 1, got -2"),
    ("memory", ["--tbptt-length", "1"], "--tbptt-length: must be an int >= 2, got 1"),
    ("memory", ["--test-size", "0"], "--test-size: must be an int >= 1, got 0"),
    ("memory", ["--gate-bias", "nan"], "--gate-bias: must be a finite number, got nan"),
    ("memory", ["--steps", "0"], "--steps: must be an int >= 1, got 0"),
    ("three_ways", ["--chain", "2"], "--chain: must be an int >= 3, got 2"),
    ("three_ways", ["--layers", "0"], "--layers: must be an int >= 3, got 0"),
    ("three_ways", ["--products", "17"], "--products: must be an int from 3 to 16, got 17"),
    ("three_ways", ["--products", "2"], "--products: must be an int from 3 to 16, got 2"),
    ("three_ways", ["--repeats", "0"], "--repeats: must be an int >= 1, got 0"),
    ("hopfield", ["--digits", "11"], "--digits: must be an int from 2 to 10, got 11"),
    ("hopfield", ["--digits", "1"], "--digits: must be an int from 2 to 10, got 1"),
    ("hopfield", ["--flip", "0.5"], "--flip: must be a number in [0, 0.5), got 0.5"),
    ("hopfield", ["--flip", "-0.1"], "--flip: must be a number in [0, 0.5), got -0.1"),
    ("hopfield", ["--flip", "nan"], "--flip: must be a number in [0, 0.5), got nan"),
    ("hopfield", ["--trials", "0"], "--trials: must be an int >= 1, got 0"),
    ("hopfield", ["--units", "9"], "--units: must be an int >= 10, got 9"),
    ("hopfield", ["--capacity-trials", "0"], "--capacity-trials: must be an int >= 1, got 0"),
    ("rbm", ["--k", "0"], "--k: must be an int >= 1, got 0"),
    ("rbm", ["--hidden", "0"], "--hidden: must be an int >= 1, got 0"),
    ("rbm", ["--gibbs", "0"], "--gibbs: must be an int >= 1, got 0"),
    ("rbm", ["--samples", "0"], "--samples: must be an int >= 1, got 0"),
    ("rbm", ["--batch-size", "0"], "--batch-size: must be an int >= 1, got 0"),
    ("rbm", ["--k", "1.5"], "--k: must be an int >= 1, got '1.5'"),
    ("graph_network", ["--hidden", "0"], "--hidden: must be an int >= 1, got 0"),
    ("graph_network", ["--steps", "0"], "--steps: must be an int >= 1, got 0"),
    ("graph_network", ["--lr", "-0.01"], "--lr: must be a positive number, got -0.01"),
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
    assert not (tmp_path / "out").exists()  # stopped before any work


# Values at the bounds are accepted, and parsed to what the example uses.
GOOD = [
    ("hopfield", ["--digits", "2"], "digits", 2),
    ("hopfield", ["--digits", "10"], "digits", 10),
    ("hopfield", ["--flip", "0"], "flip", 0.0),
    ("hopfield", ["--flip", "0.49"], "flip", 0.49),
    ("hopfield", ["--units", "10"], "units", 10),
    ("three_ways", ["--products", "16"], "products", 16),
    ("three_ways", ["--chain", "3"], "chain", 3),
    ("memory", ["--lengths", "20, 2,5"], "lengths", [20, 2, 5]),
    ("memory", ["--gate-bias", "-3"], "gate_bias", -3.0),
    ("cnn_digits", ["--channels", "1", "2"], "channels", [1, 2]),
    ("cnn_digits", ["--momentum", "0"], "momentum", 0.0),
    ("rbm", ["--k", "1"], "k", 1),
]


@pytest.mark.parametrize("name, argv, option, value", GOOD)
def test_values_at_the_bounds_are_accepted(name, argv, option, value):
    module = importlib.import_module(f"examples.{name}")
    assert getattr(module.build_parser().parse_args(argv), option) == value
