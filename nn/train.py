"""`fit`: the training loop (batch GD, SGD and mini-batch GD differ only in the batch size)."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from autograd import Tensor, no_grad

from .data import DataLoader
from .module import Module
from .optim import LRScheduler, Optimizer

try:
    from tqdm.auto import tqdm
except ImportError:  # tqdm is optional: without it there is no progress bar
    tqdm = None


def _loader(where, data, batch_size, shuffle, seed):
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return DataLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle, seed=seed)
    raise TypeError(f"fit: {where} must be a DataLoader or an (X, y) pair, got {type(data).__name__}")


def accuracy(outputs: npt.ArrayLike, targets: npt.ArrayLike, threshold: float = 0.5) -> float:
    """Fraction of correct predictions: argmax over classes, or `outputs > threshold` for one output.

    Targets are integer labels, or one-hot rows (compared by argmax).
    """
    out, want = np.asarray(outputs), np.asarray(targets)
    if out.ndim == 2 and out.shape[1] > 1:
        predicted = np.asarray(out.argmax(axis=1))
        if want.shape == out.shape:
            want = np.asarray(want.argmax(axis=1))
    else:
        predicted = (out > threshold).astype(want.dtype)
    return float(np.mean(predicted.reshape(-1) == want.reshape(-1)))


def _class_targets(y):
    """Whether targets y are classes (integer labels, or 0/1 targets and one-hot rows)."""
    y = np.asarray(y)
    return y.dtype.kind in "biu" or bool(np.all((y == 0) | (y == 1)))


def _output_threshold(out):
    """The threshold of one-output accuracy, from what the model outputs: 0.5 for a sigmoid's
    probabilities, 0 for logits (values outside [0, 1]); None for several outputs (argmax)."""
    if out.ndim == 2 and out.shape[1] > 1:
        return None
    if out.op_name == "sigmoid":
        return 0.5
    if np.any((out.data < 0) | (out.data > 1)):
        return 0.0
    raise ValueError(
        "fit: cannot tell whether the model's single output is a probability or a "
        "logit (it is not a sigmoid's and lies in [0, 1]); pass threshold=0.5 for "
        "probabilities or threshold=0.0 for logits"
    )


def _metric_fns(metrics, train_targets):
    """{name: fn(outputs, targets, threshold) -> float}; no "accuracy" for a regression's targets."""
    fns = {}
    for m in metrics:
        if m == "accuracy":
            if train_targets is None or _class_targets(train_targets):
                fns[m] = lambda out, y, t: accuracy(out, y, 0.5 if t is None else t)
        elif callable(m):
            fns[m.__name__] = lambda out, y, t, m=m: m(out, y)
        else:
            raise ValueError(f"fit: unknown metric {m!r}; give 'accuracy' or a function (outputs, targets)")
    return fns


def _run_epoch(model, loss_fn, loader, metric_fns, optimizer, dtype, threshold):
    """Mean loss and metrics over one pass; trains when an optimizer is given.

    `threshold` is a one-item list: accuracy's threshold, decided on the first batch
    trained (where the output still knows the op that made it) when it is None."""
    total, n, sums = 0.0, 0, dict.fromkeys(metric_fns, 0.0)
    for xb, yb in loader:
        out = model(Tensor(np.asarray(xb, dtype=dtype)))
        if threshold[0] is None and "accuracy" in metric_fns:
            threshold[0] = _output_threshold(out)
        loss = loss_fn(out, yb)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        m = len(xb)
        total += loss.item() * m
        n += m
        for name, fn in metric_fns.items():
            sums[name] += fn(out.data, yb, threshold[0]) * m
        del out, loss  # release this batch's graph before the next one is built
    if n == 0:
        raise ValueError("fit: a data loader gave no samples")
    return total / n, {name: s / n for name, s in sums.items()}


def fit(
    model: Module,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Optimizer,
    train: DataLoader | tuple[Any, Any],
    val: DataLoader | tuple[Any, Any] | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    metrics: Sequence[str | Callable[[np.ndarray, np.ndarray], float]] = ("accuracy",),
    early_stopping: int | None = None,
    progress: bool = True,
    scheduler: LRScheduler | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    threshold: float | None = None,
) -> dict[str, list[float]]:
    """Train `model` and return the per-epoch history.

    train, val: `nn.data.DataLoader`s, or `(X, y)` pairs made into loaders
        with `batch_size` (training batches shuffled with `seed`).
    loss_fn(outputs, targets) -> 0-d Tensor, e.g. nn.functional.cross_entropy.
    metrics: "accuracy" and/or functions (outputs ndarray, targets) -> float.
        Accuracy is argmax over several outputs; a single output is compared with
        `threshold`, or, when it is None, with 0.5 if the model's output is a
        sigmoid's and 0 if it has values outside [0, 1] (logits); a ValueError
        asks for `threshold` when neither holds. Targets that are not classes
        (not integers, not 0/1: a regression) get no accuracy.
    early_stopping: None, or the patience: stop when the validation loss has
        not improved for that many epochs, and restore the best epoch's weights.
    scheduler: an LR scheduler stepped after every epoch.
    Returns {"loss", "val_loss", and per metric name and "val_" + name: lists}.
    Training loss and metrics are averaged over the epoch's batches as they
    were trained; validation runs under no_grad() in eval() mode.
    """
    train_loader = _loader("train", train, batch_size, shuffle, seed)
    val_loader = None if val is None else _loader("val", val, batch_size, False, None)
    if early_stopping is not None and val_loader is None:
        raise ValueError("fit: early_stopping needs validation data (val=...)")
    metric_fns = _metric_fns(metrics, train_loader.y)
    decided_threshold = [threshold]  # a one-item list: the first batch may decide it
    params: list[Any] = model.parameters()
    dtype = params[0].dtype if params else np.float64
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    for name in metric_fns:
        history[name], history["val_" + name] = [], []
    best_loss, best_state, waited = np.inf, None, 0

    epochs_iter = range(epochs)
    if progress and tqdm is not None:
        epochs_iter = tqdm(epochs_iter, desc="fit", unit="epoch")
    for _ in epochs_iter:
        model.train()
        loss, scores = _run_epoch(model, loss_fn, train_loader, metric_fns, optimizer, dtype, decided_threshold)
        history["loss"].append(loss)
        for name, s in scores.items():
            history[name].append(s)
        if scheduler is not None:
            scheduler.step()
        if val_loader is not None:
            model.eval()
            with no_grad():
                val_loss, val_scores = _run_epoch(
                    model, loss_fn, val_loader, metric_fns, None, dtype, decided_threshold
                )
            model.train()
            history["val_loss"].append(val_loss)
            for name, s in val_scores.items():
                history["val_" + name].append(s)
        if hasattr(epochs_iter, "set_postfix"):
            epochs_iter.set_postfix({k: f"{v[-1]:.4f}" for k, v in history.items() if v})
        if early_stopping is not None:
            if val_loss < best_loss:
                best_loss, best_state, waited = val_loss, model.state_dict(), 0
            else:
                waited += 1
                if waited >= early_stopping:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
