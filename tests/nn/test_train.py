"""nn.fit: history, batch sizes, validation mode, early stopping, memory, and the digits benchmark."""

import weakref

import numpy as np
import pytest
from sklearn.datasets import load_digits

import nn
from autograd import Tensor, is_grad_enabled, no_grad
from nn import functional as F
from nn.data import DataLoader, train_val_test_split


def blobs(n=120, seed=0):
    """Three well separated Gaussian classes in 2-d."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return centers[y] + rng.normal(scale=0.5, size=(n, 2)), y


class Recorder(nn.Module):
    """Wraps a model and records (training flag, grad mode) at every forward call."""

    def __init__(self, model):
        self.model = model
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, is_grad_enabled(), len(x.data)))
        return self.model(x)


class CountingSGD(nn.optim.SGD):
    steps = 0

    def step(self):
        self.steps += 1
        super().step()


def test_history_and_the_three_kinds_of_gradient_descent():
    X, y = blobs()
    for batch_size, steps_per_epoch in [(len(X), 1), (1, len(X)), (32, 4)]:  # batch GD, SGD, mini-batch
        model = Recorder(nn.MLP([2, 8, 3], rng=0))
        opt = CountingSGD(model.parameters(), lr=0.1)
        history = nn.fit(
            model,
            F.cross_entropy,
            opt,
            (X, y),
            val=(X[:30], y[:30]),
            epochs=3,
            batch_size=batch_size,
            progress=False,
            seed=0,
        )
        assert opt.steps == 3 * steps_per_epoch
        assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(v) == 3 for v in history.values())
        training = [c for c in model.calls if c[0]]
        validation = [c for c in model.calls if not c[0]]
        assert all(grad for _, grad, _ in training) and not any(grad for _, grad, _ in validation)
        assert sum(n for *_, n in validation) == 3 * 30
    assert history["accuracy"][-1] > 0.9 and history["loss"][-1] < history["loss"][0]


def test_fit_accepts_data_loaders_and_a_scheduler_and_shows_progress(capsys):
    X, y = blobs()
    model = nn.MLP([2, 8, 3], rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.2)
    sched = nn.optim.StepLR(opt, step_size=1, gamma=0.5)
    history = nn.fit(model, F.cross_entropy, opt, DataLoader(X, y, 16, seed=0), epochs=2, scheduler=sched)
    assert opt.lr == pytest.approx(0.05)
    assert history["val_loss"] == [] and len(history["loss"]) == 2
    assert "fit" in capsys.readouterr().err  # the tqdm bar; progress=False leaves it out
    nn.fit(model, F.cross_entropy, opt, (X, y), epochs=1, progress=False)
    assert capsys.readouterr().err == ""


def test_binary_accuracy_thresholds_logits_at_zero_and_probabilities_at_half():
    X, y = blobs()
    y = (y == 0).astype(float)[:, None]
    logits = nn.MLP([2, 8, 1], rng=0)
    h = nn.fit(
        logits,
        F.binary_cross_entropy_with_logits,
        nn.optim.Adam(logits.parameters(), lr=0.05),
        (X, y),
        epochs=15,
        progress=False,
        seed=0,
    )
    probs = nn.MLP([2, 8, 1], output_activation="sigmoid", rng=0)
    h2 = nn.fit(
        probs,
        F.binary_cross_entropy,
        nn.optim.Adam(probs.parameters(), lr=0.05),
        (X, y),
        epochs=15,
        progress=False,
        seed=0,
    )
    assert h["accuracy"][-1] > 0.95 and h2["accuracy"][-1] > 0.95


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = blobs()
    wrong = (y + 1) % 3  # validation labels the training makes ever more wrong
    model = nn.MLP([2, 8, 3], rng=0)
    history = nn.fit(
        model,
        F.cross_entropy,
        nn.optim.Adam(model.parameters(), lr=0.05),
        (X, y),
        val=(X, wrong),
        epochs=50,
        early_stopping=2,
        progress=False,
        seed=0,
    )
    epochs_run = len(history["loss"])
    assert epochs_run < 50
    best = int(np.argmin(history["val_loss"]))
    assert epochs_run == best + 3  # two epochs without improvement after the best
    model.eval()
    with no_grad():
        final = F.cross_entropy(model(X), wrong).item()
    assert final == pytest.approx(history["val_loss"][best], rel=1e-12)
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        nn.fit(model, F.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1), (X, y), early_stopping=2)


def test_each_steps_graph_is_released():
    X, y = blobs(40)
    losses = []

    def tracked_loss(out, target):
        loss = F.cross_entropy(out, target)
        losses.append(weakref.ref(loss))
        return loss

    model = nn.MLP([2, 4, 3], rng=0)
    nn.fit(
        model, tracked_loss, nn.optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2, batch_size=8, progress=False
    )
    assert len(losses) == 10 and all(ref() is None for ref in losses)


def test_fit_argument_errors():
    model = nn.MLP([2, 3])
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="fit: train must be a DataLoader or an"):
        nn.fit(model, F.cross_entropy, opt, np.zeros((3, 2)), progress=False)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        nn.fit(model, F.cross_entropy, opt, blobs(), metrics=("f1",), progress=False)


def test_digits_mlp_reaches_ninety_percent_quickly():
    """A short version of the benchmark (the full one, 40 epochs, reaches about 97-98%)."""
    X, y = load_digits(return_X_y=True)
    (X_train, y_train), _, (X_test, y_test) = train_val_test_split(X, y, val=0.0, test=0.2, seed=0, stratify=True)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8
    model = nn.MLP([64, 64, 10], rng=0)
    nn.fit(
        model,
        F.cross_entropy,
        nn.optim.Adam(model.parameters(), lr=3e-3),
        ((X_train - mean) / std, y_train),
        epochs=8,
        batch_size=32,
        progress=False,
        seed=0,
    )
    model.eval()
    with no_grad():
        predicted = model(Tensor((X_test - mean) / std)).data.argmax(axis=1)
    assert (predicted == y_test).mean() >= 0.9
