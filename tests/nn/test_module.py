"""nn modules and layers: parameter bookkeeping, state, scopes, layer maths and their gradients."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd import Tensor, no_grad
from nn import functional as F
from tests.support.gradients import assert_input_grads, assert_param_grads

seeds = st.integers(0, 2**32 - 1)


class TwoLayer(nn.Module):
    def __init__(self):
        self.fc1 = nn.Linear(3, 4, rng=0)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2, bias=False, rng=1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# Parameter -------------------------------------------------------------------------
def test_parameter_owns_a_copy_and_accepts_new_data_of_its_shape():
    source = np.ones((2, 3))
    p = nn.Parameter(source)
    assert p.requires_grad and p.is_leaf and isinstance(p, Tensor)
    p.data -= 1.0
    np.testing.assert_array_equal(source, np.ones((2, 3)))
    p.data = np.full((2, 3), 7.0)
    assert p.data[0, 0] == 7.0
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        p.data = np.zeros((3, 2))
    assert nn.Parameter(np.arange(3)).dtype == np.float64
    assert nn.Parameter(np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert repr(nn.Parameter([1.0])).startswith("Parameter(")


# Module bookkeeping ----------------------------------------------------------------
def test_names_follow_pytorch():
    assert [n for n, _ in TwoLayer().named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    mlp = nn.MLP([2, 3, 3, 1])
    assert [n for n, _ in mlp.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [type(m).__name__ for m in mlp] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    nested = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    assert [n for n, _ in nested.named_parameters()] == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]
    assert len(nested) == 2 and isinstance(nested[1][1], nn.Linear)


def test_a_shared_parameter_is_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(model.parameters()) == 2


def test_zero_grad_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), TwoLayer())
    F.mse_loss(model(np.ones((2, 3))), np.zeros((2, 2))).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_is_a_copy_and_round_trips():
    model, other = TwoLayer(), TwoLayer()
    for p in other.parameters():
        p.data = p.data + 1.0
    state = model.state_dict()
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight"]
    model.fc1.weight.data += 5.0  # later updates must not reach the saved state
    assert not np.allclose(state["fc1.weight"], model.fc1.weight.data)
    other.load_state_dict(state)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    other.fc1.weight.data += 1.0  # nor may the loaded parameters alias the dict
    np.testing.assert_array_equal(model.state_dict()["fc2.weight"], state["fc2.weight"])
    assert not np.allclose(other.fc1.weight.data, state["fc1.weight"])


def test_load_state_dict_names_missing_extra_and_misshapen_keys():
    model = TwoLayer()
    state = model.state_dict()
    del state["fc1.bias"]
    state["fc3.weight"] = np.zeros(2)
    state["fc2.weight"] = np.zeros((4, 2))
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "fc1.bias" in message and "fc3.weight" in message
    assert "fc2.weight has shape (4, 2), expected (2, 4)" in message


def test_nodes_record_the_module_that_made_them():
    model = TwoLayer()
    out = model(np.ones((1, 3)))
    assert out._scope == ("TwoLayer", "fc2:Linear")
    tanh_node = out._parents[0]  # out = linear(tanh(...), W): its first input
    assert tanh_node.op_name == "tanh" and tanh_node._scope == ("TwoLayer", "act:Tanh")
    assert nn.MLP([2, 1])(np.ones((1, 2)))._scope == ("MLP", "0:Linear")
    assert model.fc1.weight.label == "weight"


def test_a_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Bare"):
        type("Bare", (nn.Module,), {})()(1)


# Linear and MLP --------------------------------------------------------------------
@given(batch=st.integers(1, 4), n_in=st.integers(1, 4), n_out=st.integers(1, 4), seed=seeds)
def test_linear_computes_x_wt_plus_b_and_its_gradients(batch, n_in, n_out, seed):
    layer = nn.Linear(n_in, n_out, rng=seed)
    assert layer.weight.shape == (n_out, n_in) and layer.bias.shape == (n_out,)
    bound = 1 / np.sqrt(n_in)
    assert np.all(np.abs(layer.weight.data) <= bound) and np.all(np.abs(layer.bias.data) <= bound)
    x = np.random.default_rng(seed).normal(size=(batch, n_in))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T + layer.bias.data)
    w = np.random.default_rng(seed + 1).normal(size=(batch, n_out))
    assert_param_grads(layer.parameters(), lambda: (layer(x) * w).sum())
    assert_input_grads(lambda t: nn.Linear(n_in, n_out, bias=False, rng=seed)(t), x)


def test_linear_rejects_inputs_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not fit a weight of shape \(2, 3\)"):
        nn.Linear(3, 2)(np.zeros((2, 5)))


def test_mlp_options_and_errors():
    model = nn.MLP([4, 8, 3], activation="tanh", output_activation="softmax", rng=0)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Softmax"]
    np.testing.assert_allclose(model(np.ones((5, 4))).data.sum(axis=1), 1.0)
    assert model(np.ones((5, 4), dtype=np.float32)).dtype == np.float64
    f32 = nn.MLP([4, 3], dtype=np.float32)
    assert f32(np.ones((2, 4))).dtype == np.float32
    with pytest.raises(ValueError, match="unknown activation 'sin'"):
        nn.MLP([2, 2, 2], activation="sin")
    with pytest.raises(ValueError, match="at least two positive ints"):
        nn.MLP([3])
    assert repr(nn.MLP([2, 2], output_activation="leaky_relu")[1]) == "LeakyReLU(negative_slope=0.01)"
    with pytest.raises(TypeError, match="ReLU: too many positional arguments"):
        nn.ReLU(3)
    a, b = nn.MLP([3, 5, 2], rng=7), nn.MLP([3, 5, 2], rng=7)
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)


# Dropout ---------------------------------------------------------------------------
def test_dropout_scales_kept_units_in_training_and_is_the_identity_in_eval():
    x = np.ones((200, 50))
    drop = nn.Dropout(0.3, rng=0)
    out = drop(x).data
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    assert abs((out == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(nn.Dropout(0.3, rng=5)(x).data, nn.Dropout(0.3, rng=5)(x).data)
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0 * x)
    with pytest.raises(ValueError, match="Dropout: p"):
        nn.Dropout(1.5)


def test_dropout_gradient_is_the_same_mask():
    x = Tensor(np.ones((4, 6)), requires_grad=True)
    out = nn.Dropout(0.5, rng=1)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


# Maxout, PReLU, RBF ----------------------------------------------------------------
@given(seed=seeds, k=st.integers(1, 3))
def test_maxout_layer(seed, k):
    layer = nn.Maxout(3, 2, k, rng=seed)
    x = np.random.default_rng(seed).normal(size=(4, 3))
    pieces = (x @ layer.pieces.weight.data.T + layer.pieces.bias.data).reshape(4, 2, k)
    np.testing.assert_allclose(layer(x).data, pieces.max(axis=2))
    assert_param_grads(layer.parameters(), lambda: (layer(x) ** 2).sum())


def test_prelu_layer_learns_its_slope():
    layer = nn.PReLU()
    assert layer.weight.shape == (1,) and layer.weight.data[0] == 0.25
    x = np.array([[-2.0, 3.0], [-1.0, 0.5]])
    np.testing.assert_allclose(layer(x).data, [[-0.5, 3.0], [-0.25, 0.5]])
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, [-3.0])
    channels = nn.PReLU(num_parameters=2, init=0.1)
    np.testing.assert_allclose(channels(x).data, [[-0.2, 3.0], [-0.1, 0.5]])


@given(seed=seeds, batch=st.integers(1, 3), n_in=st.integers(1, 3), centers=st.integers(1, 4))
def test_rbf_layer(seed, batch, n_in, centers):
    layer = nn.RBF(n_in, centers, rng=seed)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        ("centers", (centers, n_in)),
        ("beta", (centers,)),
        ("weight", (centers,)),
    ]
    x = np.random.default_rng(seed).normal(size=(batch, n_in))
    c, beta, w = layer.centers.data, layer.beta.data, layer.weight.data
    expected = np.array([sum(w[i] * np.exp(-beta[i] * np.sum((row - c[i]) ** 2)) for i in range(centers)) for row in x])
    out = layer(x)
    assert out.shape == (batch,)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert_param_grads(layer.parameters(), lambda: (layer(x) ** 2).sum())
    with pytest.raises(ValueError, match=r"RBF: input must have shape \(batch, 3\)"):
        nn.RBF(3, 2)(np.zeros((2, 2)))


# Saving and loading ----------------------------------------------------------------
def test_save_writes_exactly_the_path_and_loads_back(tmp_path):
    model = TwoLayer()
    path = tmp_path / "weights.bin"
    nn.save(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]  # no .npz added, no temp left
    state = nn.load_state(path)
    assert set(state) == {"fc1.weight", "fc1.bias", "fc2.weight"}
    fresh = TwoLayer()
    for p in fresh.parameters():
        p.data = p.data * 0
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh(np.ones((1, 3))).data, model(np.ones((1, 3))).data)
    nn.save(fresh, path)  # replacing an existing file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]


def test_save_leaves_no_temporary_file_when_it_fails(tmp_path):
    with pytest.raises(ValueError):
        nn.save({"bad": np.array([object()])}, tmp_path / "m.npz")  # object arrays would need pickle
    assert list(tmp_path.iterdir()) == []


def test_load_state_refuses_damaged_or_pickled_files(tmp_path):
    good = tmp_path / "good.npz"
    nn.save(TwoLayer(), good)
    raw = good.read_bytes()
    cases = {
        "truncated.npz": raw[: len(raw) // 2],
        "corrupt.npz": raw[:40] + b"\x00" * 64 + raw[104:],
        "junk.npz": b"not an archive at all",
        "empty.npz": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "single.npy", np.zeros(3))
    marker = tmp_path / "unpickled"
    np.savez(tmp_path / "pickled.npz", evil=np.array([Trap(marker)], dtype=object))
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps(Trap(marker)))
    for name in [*cases, "single.npy", "pickled.npz", "plain.pkl"]:
        with pytest.raises(ValueError, match="load_state"):
            nn.load_state(tmp_path / name)
    assert not marker.exists()


class Trap:
    """Unpickling it would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (type(self.marker).touch, (self.marker,))


# Scalar networks -------------------------------------------------------------------
def test_scalar_neuron_is_the_notes_weighted_sum_plus_bias_plus_activation():
    neuron = nn.scalar.Neuron(2, activation="sigmoid", rng=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 20.0, 20.0, -10.0
    outputs = [neuron(x).data for x in ([0, 0], [0, 1], [1, 0], [1, 1])]
    np.testing.assert_allclose(outputs, [4.5398e-5, 0.99995, 0.99995, 1.0], rtol=1e-4)
    assert [n for n, _ in neuron.named_parameters()] == ["w.0", "w.1", "b"]


def test_scalar_mlp_matches_the_tensor_mlp_with_the_same_weights():
    scalar = nn.scalar.MLP([3, 4, 2], activation="tanh", rng=0)
    assert len(scalar.parameters()) == 4 * 4 + 2 * 5
    tensor = nn.MLP([3, 4, 2], activation="tanh")
    for s_layer, t_layer in zip(scalar.layers, tensor[::2]):
        t_layer.weight.data = np.array([[w.data for w in n.w] for n in s_layer.neurons])
        t_layer.bias.data = np.array([n.b.data for n in s_layer.neurons])
    x = [0.5, -1.0, 2.0]
    out = scalar(x)
    np.testing.assert_allclose([v.data for v in out], tensor(np.array([x])).data[0], rtol=1e-13)
    sum(v * v for v in out).backward()
    (tensor(np.array([x])) ** 2).sum().backward()
    np.testing.assert_allclose([w.grad for w in scalar.layers[0].neurons[1].w], tensor[0].weight.grad[1], rtol=1e-12)
    assert out[0]._scope == ("MLP", "layers.1:Layer", "neurons.0:Neuron")


def test_scalar_mlp_trains_with_the_optimisers_and_saves(tmp_path):
    model = nn.scalar.MLP([2, 8, 1], rng=1)
    data = [([0, 0], -1.0), ([0, 1], 1.0), ([1, 0], 1.0), ([1, 1], -1.0)]  # XOR
    opt = nn.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    for _ in range(100):
        loss = sum((model(x) - y) ** 2 for x, y in data)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.data < 0.05
    nn.save(model, tmp_path / "scalar.npz")
    other = nn.scalar.MLP([2, 8, 1], rng=2)
    other.load_state_dict(nn.load_state(tmp_path / "scalar.npz"))
    assert other([1, 0]).data == model([1, 0]).data
    with no_grad():
        assert isinstance(model([0.0, 1.0]).data, float)
    with pytest.raises(ValueError, match="Neuron: expected 2 inputs, got 3"):
        model([1, 2, 3])


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: nn.Linear(0, 2), ValueError, "Linear: in_features must be a positive int, got 0"),
        (lambda: nn.Linear(3, -1), ValueError, "Linear: out_features must be a positive int"),
        (lambda: nn.Linear("a", 2), ValueError, "Linear: in_features"),
        (lambda: nn.MLP(3), TypeError, "MLP: sizes must be a list"),
        (lambda: nn.MLP([3, 2], activation="nope"), ValueError, "MLP: unknown activation 'nope'"),
    ],
)
def test_bad_layer_arguments_are_named(make, error, words):
    with pytest.raises(error, match=words):
        make()


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1j, 2j])])
def test_load_state_dict_refuses_non_real_arrays_and_changes_nothing(bad):
    model = nn.Linear(2, 1, rng=0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state = dict(before, bias=np.zeros(1), weight=bad.reshape(1, 2))
    state["bias"] = np.full(1, 7.0)
    with pytest.raises(ValueError, match=r"load_state_dict \(Linear\): not real numbers: weight has dtype"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
