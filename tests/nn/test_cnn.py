"""The CNN modules: PyTorch's initialisation, names, state_dict layout with buffers, train/eval, reprs."""

import math
import re

import numpy as np
import pytest

import nn
from autograd import Tensor, conv2d, draw_graph
from nn.functional import batch_norm, cross_entropy


def test_conv_initialisation_is_pytorchs_kaiming_uniform_with_a_sqrt5():
    conv = nn.Conv2d(8, 12, (3, 5), groups=2, rng=0)
    bound = 1 / math.sqrt(8 // 2 * 3 * 5)  # gain sqrt(2 / (1 + 5)) * sqrt(3 / fan_in)
    assert conv.weight.shape == (12, 4, 3, 5) and conv.bias.shape == (12,)
    assert bound * 0.95 < np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    np.testing.assert_allclose(conv.weight.data.var(), bound**2 / 3, rtol=0.15)
    conv1 = nn.Conv1d(3, 4, 5, bias=False, rng=0, dtype=np.float32)
    assert conv1.weight.shape == (4, 3, 5) and conv1.weight.dtype == np.float32 and conv1.bias is None
    assert np.abs(conv1.weight.data).max() <= 1 / math.sqrt(15)


def test_conv_modules_compute_their_functions():
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, groups=2, rng=1)
    x = rng.normal(size=(2, 4, 7, 7))
    np.testing.assert_array_equal(conv(x).data, conv2d(x, conv.weight, conv.bias, 2, 1, 1, 2).data)
    conv1 = nn.Conv1d(4, 2, 3, padding=2, dilation=2, rng=1)
    x1 = rng.normal(size=(2, 4, 9))
    expected = conv2d(x1[:, :, None], conv1.weight.data[:, :, None], conv1.bias, 1, (0, 2), (1, 2)).data[:, :, 0]
    np.testing.assert_allclose(conv1(x1).data, expected, rtol=1e-14)
    pooled = nn.MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data
    np.testing.assert_array_equal(pooled[0, 0], [[5, 7], [13, 15]])
    averaged = nn.AvgPool2d(2, stride=1)(np.arange(9.0).reshape(1, 1, 3, 3)).data
    np.testing.assert_array_equal(averaged[0, 0], [[2, 3], [5, 6]])
    assert nn.Flatten()(np.zeros((2, 3, 4, 5))).shape == (2, 60)
    assert nn.Flatten(0, 1)(np.zeros((2, 3, 4))).shape == (6, 4)
    for layer in (nn.MaxPool2d(2, dtype=np.float32), nn.AvgPool2d(2, dtype=np.float32), nn.Flatten(dtype=np.float32)):
        assert layer(np.ones((1, 1, 2, 2))).dtype == np.float32  # arrays become the layer's dtype, as Linear's


def test_batch_norm_buffers_are_in_the_state_dict_but_not_parameters():
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, rng=0), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.LayerNorm(12), nn.Linear(12, 2, rng=0)
    )
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight", "5.bias"]
    state = model.state_dict()
    assert set(state) == set(names) | {"1.running_mean", "1.running_var", "1.num_batches_tracked"}
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    x = np.random.default_rng(1).normal(size=(4, 1, 4, 4))
    model(x)  # training: the running statistics move
    assert int(model[1].num_batches_tracked) == 1 and np.all(model[1].running_mean != 0)
    assert np.all(state["1.running_mean"] == 0)  # the state dict holds copies
    other = nn.Sequential(
        nn.Conv2d(1, 3, 3, rng=5), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.LayerNorm(12), nn.Linear(12, 2, rng=5)
    )
    running_mean = other[1].running_mean
    other.load_state_dict(model.state_dict())
    assert other[1].running_mean is running_mean  # loaded in place
    np.testing.assert_array_equal(running_mean, model[1].running_mean)
    model.eval(), other.eval()
    np.testing.assert_array_equal(model(x).data, other(x).data)
    bad = dict(model.state_dict(), **{"1.running_var": np.ones(4)})
    with pytest.raises(ValueError, match=r"1.running_var has shape \(4,\), expected \(3,\)"):
        other.load_state_dict(bad)


def test_batch_norm_trains_on_batch_statistics_and_evaluates_on_running_ones():
    rng = np.random.default_rng(2)
    bn = nn.BatchNorm1d(3, momentum=0.5)
    bn.weight.data = np.array([1.0, 2.0, 3.0])
    bn.bias.data = np.array([0.0, -1.0, 1.0])
    x = rng.normal(2.0, 3.0, size=(8, 3))
    y = bn(x).data
    np.testing.assert_allclose(y.mean(axis=0), bn.bias.data, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), bn.weight.data, rtol=1e-5)
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * x.var(axis=0, ddof=1), rtol=1e-14)
    bn.eval()
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12)
    assert int(bn.num_batches_tracked) == 1  # eval does not count batches
    cumulative = nn.BatchNorm1d(2, momentum=None)
    batches = [rng.normal(size=(4, 2, 5)) for _ in range(3)]
    for b in batches:
        cumulative(b)
    np.testing.assert_allclose(cumulative.running_mean, np.mean([b.mean(axis=(0, 2)) for b in batches], axis=0))


def test_normalisation_modules_check_their_inputs():
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2-D or 3-D input, got shape \(2, 3, 4, 5\)"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 4, 5)))
    with pytest.raises(
        ValueError, match=r"BatchNorm2d: the input of shape \(2, 3, 4, 5\) has 3 channels, expected num_features=4"
    ):
        nn.BatchNorm2d(4)(np.zeros((2, 3, 4, 5)))
    # the function names itself; the module adds its own name as a note, keeping the exception
    with pytest.raises(ValueError, match=r"layer_norm: .*\(2, 3\) does not end in normalized_shape \(4,\)") as e:
        nn.LayerNorm(4)(np.zeros((2, 3)))
    assert "in module LayerNorm" in "".join(e.value.__notes__)
    with pytest.raises(ValueError, match=r"LayerNorm: normalized_shape must be a positive int"):
        nn.LayerNorm(0)
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 must divide in_channels \(3\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"conv2d: the input of shape \(1, 2, 5, 5\) has 2 channels") as e:
        nn.Conv2d(3, 4, 3)(np.zeros((1, 2, 5, 5)))
    assert "in module Conv2d" in "".join(e.value.__notes__)


def test_layer_norm_module_normalises_each_sample():
    ln = nn.LayerNorm((2, 3))
    ln.weight.data = np.arange(6.0).reshape(2, 3)
    x = np.random.default_rng(3).normal(size=(4, 2, 3))
    flat = x.reshape(4, 6)
    expected = ((flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(ln(x).data, expected * ln.weight.data, rtol=1e-12, atol=1e-15)


def test_reprs():
    assert repr(nn.Conv2d(1, 6, 5, padding=2)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=1, padding=2)"
    assert (
        repr(nn.Conv1d(2, 4, 3, groups=2, bias=False))
        == "Conv1d(2, 4, kernel_size=(3,), stride=1, groups=2, bias=False)"
    )
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.BatchNorm2d(6)) == "BatchNorm2d(6, eps=1e-05, momentum=0.1)"
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_a_training_step_draws_one_box_per_layer_and_keeps_float32():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=0, dtype=np.float32),
        nn.BatchNorm2d(4, dtype=np.float32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3, rng=0, dtype=np.float32),
    )
    x = np.random.default_rng(4).normal(size=(5, 1, 4, 4)).astype(np.float32)
    loss = cross_entropy(model(x), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in model.parameters())
    assert model[1].running_var.dtype == np.float32
    boxes = re.findall(r'label="Sequential/(\d+):(\w+)\\n', draw_graph(loss, collapse="scope").source)
    assert boxes == [(str(i), type(m).__name__) for i, m in enumerate(model)]


def test_batch_norm_functional_accepts_tensors_as_running_statistics():
    mean, var = Tensor(np.zeros(2)), Tensor(np.ones(2))
    batch_norm(np.array([[1.0, 2.0], [3.0, 6.0]]), mean, var, training=True, momentum=1.0)
    np.testing.assert_array_equal(mean.data, [2.0, 4.0])
    np.testing.assert_array_equal(var.data, [2.0, 8.0])


def test_save_and_load_state_keep_the_running_statistics(tmp_path):
    model = nn.Sequential(nn.Conv1d(2, 3, 3, rng=0), nn.BatchNorm1d(3))
    model(np.random.default_rng(5).normal(size=(4, 2, 6)))
    nn.save(model, tmp_path / "model.npz")
    other = nn.Sequential(nn.Conv1d(2, 3, 3, rng=1), nn.BatchNorm1d(3))
    other.load_state_dict(nn.load_state(tmp_path / "model.npz"))
    for (name, a), (_, b) in zip(model.named_buffers(), other.named_buffers()):
        np.testing.assert_array_equal(a, b, err_msg=name)
