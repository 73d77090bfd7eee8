"""nn.RNN, nn.LSTM, nn.GRU, their cells and nn.Embedding against PyTorch's equations written in NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import IndexOutOfRange, Tensor, gradgradcheck, jvp, trace
from nn import functional as F
from tests.support.gradients import assert_param_grads, central_difference


# PyTorch's equations, one step each, in plain NumPy (the exact logistic function) ----------------
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_step(x, h, c, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return (np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)), None


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = np.split(x @ w_ih.T + b_ih, 3, axis=1)
    h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h, None


STEPS = {"RNN": rnn_step, "LSTM": lstm_step, "GRU": gru_step}
LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def reference(kind, model, x, h0=None, c0=None, **step_options):
    """(output, h_n, c_n) of a stacked recurrent layer, x (T, N, in), from the model's parameters."""
    state = {name: p.data for name, p in model.named_parameters()}
    T, N, _ = x.shape
    H, L = model.hidden_size, model.num_layers
    h0 = np.zeros((L, N, H)) if h0 is None else h0
    c0 = np.zeros((L, N, H)) if c0 is None else c0
    zeros = np.zeros(GATES[kind] * H)
    h_n, c_n, layer_in = [], [], x
    for k in range(L):
        w = [state.get(f"{name}_l{k}", zeros) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h, c, outs = h0[k], c0[k], []
        for t in range(T):
            h, c = STEPS[kind](layer_in[t], h, c, *w, **step_options)
            outs.append(h)
        layer_in = np.stack(outs)
        h_n.append(h)
        c_n.append(c)
    return layer_in, np.stack(h_n), (np.stack(c_n) if kind == "LSTM" else None)


def run(model, x, h0=None, c0=None):
    """(output, h_n, c_n) of an nn layer as ndarrays (c_n None except for LSTM)."""
    if isinstance(model, nn.LSTM):
        out, (h_n, c_n) = model(x, None if h0 is None else (h0, c0))
        return out, h_n, c_n
    out, h_n = model(x, h0)
    return out, h_n, None


# Forward: every module against the reference --------------------------------------------------
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "num_layers, batch_first, bias, given_state",
    [(1, False, True, False), (3, False, True, True), (2, True, True, True), (2, False, False, False)],
)
def test_layers_follow_pytorch_equations(kind, num_layers, batch_first, bias, given_state):
    rng = np.random.default_rng(1)
    T, N, I, H = 6, 3, 4, 5
    model = LAYERS[kind](I, H, num_layers=num_layers, bias=bias, batch_first=batch_first, rng=2)
    x = rng.normal(size=(T, N, I))
    h0, c0 = (rng.normal(size=(num_layers, N, H)) for _ in range(2))
    h0, c0 = (h0, c0) if given_state else (None, None)
    expected = reference(kind, model, x, h0, c0)
    got = run(model, x.transpose(1, 0, 2) if batch_first else x, h0, c0)
    output = got[0].data.transpose(1, 0, 2) if batch_first else got[0].data
    np.testing.assert_allclose(output, expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1].data, expected[1], rtol=1e-12, atol=1e-14)
    if kind == "LSTM":
        np.testing.assert_allclose(got[2].data, expected[2], rtol=1e-12, atol=1e-14)


def test_relu_rnn_follows_its_equation():
    model = nn.RNN(3, 4, num_layers=2, nonlinearity="relu", rng=3)
    x = np.random.default_rng(4).normal(size=(5, 2, 3))
    out, h_n = model(x)
    expected = reference("RNN", model, x, nonlinearity="relu")
    np.testing.assert_allclose(out.data, expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n.data, expected[1], rtol=1e-12, atol=1e-14)
    assert (out.data == 0).any()  # some units are off: the relu branch is exercised


def test_initialisation_is_pytorchs_uniform():
    model = nn.LSTM(10, 25, num_layers=2, rng=0)
    bound = 1 / np.sqrt(25)
    values = np.concatenate([p.data.ravel() for p in model.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.02 * bound * 10  # centred
    assert np.std(values) == pytest.approx(bound / np.sqrt(3), rel=0.05)


# Gradients: central differences in float64 ----------------------------------------------------
sizes = st.integers(1, 3)


@settings(max_examples=12, deadline=None)
@given(
    kind=st.sampled_from(["RNN", "LSTM", "GRU"]),
    T=sizes,
    N=sizes,
    I=sizes,
    H=sizes,
    num_layers=st.integers(1, 2),
    batch_first=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_gradients_match_central_differences(kind, T, N, I, H, num_layers, batch_first, seed):
    rng = np.random.default_rng(seed)
    model = LAYERS[kind](I, H, num_layers=num_layers, batch_first=batch_first, rng=seed)
    x = rng.normal(size=(N, T, I) if batch_first else (T, N, I))
    h0 = rng.normal(size=(num_layers, N, H))
    c0 = rng.normal(size=(num_layers, N, H))
    w_out, w_h = rng.normal(size=(N, T, H) if batch_first else (T, N, H)), rng.normal(size=(num_layers, N, H))
    w_c = rng.normal(size=(num_layers, N, H))

    def loss(x, h0, c0):
        out, h_n, c_n = run(model, x, h0, c0)
        total = (out * w_out).sum() + (h_n * w_h).sum()
        return total + (c_n * w_c).sum() if c_n is not None else total

    assert_param_grads(model.parameters(), lambda: loss(x, h0, c0))
    inputs = [Tensor(a.copy(), requires_grad=True) for a in (x, h0, c0)]
    loss(*inputs).backward()
    numeric = central_difference(lambda *arrays: loss(*map(Tensor, arrays)).item(), [x, h0, c0])
    used = 3 if kind == "LSTM" else 2
    for t, expected in zip(inputs[:used], numeric):
        np.testing.assert_allclose(t.grad, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_forward_mode_matches_central_differences(kind):
    rng = np.random.default_rng(5)
    model = LAYERS[kind](2, 3, num_layers=2, rng=6)
    x, dx = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 2))
    f = lambda t: run(model, t)[0]  # noqa: E731
    value, tangent = jvp(f, (x,), (dx,))
    eps = 1e-6
    numeric = (f(Tensor(x + eps * dx)).data - f(Tensor(x - eps * dx)).data) / (2 * eps)
    np.testing.assert_allclose(value.data, f(Tensor(x)).data)
    np.testing.assert_allclose(tangent.data if isinstance(tangent, Tensor) else tangent, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_second_derivatives_through_the_recurrence(kind):
    """create_graph=True records back-propagation through time, so it can be differentiated again."""
    model = LAYERS[kind](2, 2, rng=7)
    x = np.random.default_rng(8).normal(size=(3, 1, 2))
    assert gradgradcheck(lambda t: (run(model, t)[0] ** 2).sum(), x)


# Cells ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cells_unrolled_by_hand_equal_the_layers(kind):
    layer = LAYERS[kind](3, 4, num_layers=2, rng=9)
    cells = [CELLS[kind](3 if k == 0 else 4, 4, rng=k) for k in range(2)]
    for k, cell in enumerate(cells):
        cell.load_state_dict(
            {name: layer.state_dict()[f"{name}_l{k}"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        )
    rng = np.random.default_rng(10)
    x, h0, c0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 2, 4)), rng.normal(size=(2, 2, 4))
    out, h_n, c_n = run(layer, x, h0, c0)
    states = [(Tensor(h0[k]), Tensor(c0[k])) for k in range(2)]
    for t in range(5):
        inp = Tensor(x[t])
        for k, cell in enumerate(cells):
            if kind == "LSTM":
                states[k] = cell(inp, states[k])
            else:
                states[k] = (cell(inp, states[k][0]), None)
            inp = states[k][0]
        np.testing.assert_allclose(inp.data, out.data[t], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.stack([s[0].data for s in states]), h_n.data, rtol=1e-13, atol=1e-15)
    if kind == "LSTM":
        np.testing.assert_allclose(np.stack([s[1].data for s in states]), c_n.data, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cell_gradients_match_central_differences(kind):
    cell = CELLS[kind](2, 3, rng=11)
    rng = np.random.default_rng(12)
    x, h, c, w = rng.normal(size=(2, 2)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))

    def loss():
        if kind == "LSTM":
            h_new, c_new = cell(x, (h, c))
            return (h_new * w).sum() + (c_new * c_new).sum()
        return (cell(x, h) * w).sum()

    assert_param_grads(cell.parameters(), loss)


def test_cells_start_from_zeros_and_name_their_parameters():
    for kind, cell_class in CELLS.items():
        cell = cell_class(3, 2, rng=0)
        assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        x = np.ones((4, 3))
        zeros = np.zeros((4, 2))
        if kind == "LSTM":
            np.testing.assert_array_equal(cell(x)[0].data, cell(x, (zeros, zeros))[0].data)
        else:
            np.testing.assert_array_equal(cell(x).data, cell(x, zeros).data)
    assert [n for n, _ in nn.GRUCell(3, 2, bias=False).named_parameters()] == ["weight_ih", "weight_hh"]


# Layout and dtypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_has_pytorchs_names_and_shapes(kind):
    model = LAYERS[kind](7, 5, num_layers=2)
    G = GATES[kind]
    expected = {}
    for k, n_in in enumerate((7, 5)):
        expected.update(
            {
                f"weight_ih_l{k}": (G * 5, n_in),
                f"weight_hh_l{k}": (G * 5, 5),
                f"bias_ih_l{k}": (G * 5,),
                f"bias_hh_l{k}": (G * 5,),
            }
        )
    state = model.state_dict()
    assert list(state) == list(expected)  # PyTorch's order too
    assert {k: v.shape for k, v in state.items()} == expected
    other = LAYERS[kind](7, 5, num_layers=2, rng=1).load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(3, 2, 7))
    np.testing.assert_array_equal(run(other, x)[0].data, run(model, x)[0].data)
    no_bias = LAYERS[kind](7, 5, bias=False).state_dict()
    assert list(no_bias) == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_float32_stays_float32(kind):
    model = LAYERS[kind](3, 4, num_layers=2, rng=0, dtype=np.float32)
    x = np.random.default_rng(1).normal(size=(5, 2, 3)).astype(np.float32)
    out, h_n, c_n = run(model, x)
    assert out.dtype == h_n.dtype == np.float32
    (out.sum() + h_n.sum() + (0 if c_n is None else c_n.sum())).backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    cell_out = CELLS[kind](3, 4, dtype=np.float32)(x[0])
    assert (cell_out[0] if kind == "LSTM" else cell_out).dtype == np.float32
    # float64 data given to a float32 layer is computed in the layer's dtype
    assert run(model, x.astype(np.float64))[0].dtype == np.float32


# Embedding -------------------------------------------------------------------------------------
def test_embedding_picks_rows_and_repeated_indices_accumulate():
    emb = nn.Embedding(6, 3, rng=0)
    assert [(n, p.shape) for n, p in emb.named_parameters()] == [("weight", (6, 3))]
    idx = np.array([[1, 4, 1], [1, 0, 5]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    g = np.random.default_rng(1).normal(size=out.shape)
    out.backward(g)
    expected = np.zeros((6, 3))
    for i, row in zip(idx.ravel(), g.reshape(-1, 3)):
        expected[i] += row
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-15)
    np.testing.assert_allclose(emb.weight.grad[1], g[0, 0] + g[0, 2] + g[1, 0], rtol=1e-15)
    assert not emb.weight.grad[[2, 3]].any()
    # central differences on the weight, and the embedding feeding an LSTM
    lstm = nn.LSTM(3, 2, rng=2)
    assert_param_grads(emb.parameters(), lambda: (lstm(emb(idx.T))[0] ** 2).sum())


def test_embedding_of_any_index_shape_and_dtype():
    emb = nn.Embedding(4, 2, dtype=np.float32)
    assert emb(3).shape == (2,) and emb([[0, 1]]).shape == (1, 2, 2)
    assert emb(np.array([1, 2], dtype=np.uint8)).dtype == np.float32
    assert emb(Tensor(np.arange(4))).shape == (4, 2)
    np.testing.assert_array_equal(F.embedding([2, 0], emb.weight).data, emb.weight.data[[2, 0]])


# trace ------------------------------------------------------------------------------------------
def test_trace_replays_an_lstm_training_step_bit_for_bit():
    model = nn.LSTM(3, 4, num_layers=2, batch_first=True, rng=0, dtype=np.float32)
    head = nn.Linear(4, 2, rng=1, dtype=np.float32)
    params = model.parameters() + head.parameters()

    def loss(x, onehot):  # one-hot targets: an input of the trace (labels would be frozen in it)
        out, (h_n, c_n) = model(x)
        return F.cross_entropy(head(h_n[-1]), onehot) + (out * out).mean()

    rng = np.random.default_rng(2)
    batches = [
        (rng.normal(size=(5, 6, 3)).astype(np.float32), np.eye(2, dtype=np.float32)[rng.integers(0, 2, size=5)])
        for _ in range(3)
    ]
    step = trace(loss, *batches[0])
    for x, labels in batches[1:]:
        traced = step(x, labels)
        traced_grads = [p.grad.copy() for p in params]
        for p in params:
            p.zero_grad()
        eager = loss(Tensor(x), labels)
        eager.backward()
        assert np.array_equal(np.asarray(traced.data if isinstance(traced, Tensor) else traced), eager.data)
        for p, g in zip(params, traced_grads):
            assert np.array_equal(p.grad, g), "a traced gradient differs from eager execution"
        for p in params:
            p.data = p.data - np.float32(0.1) * p.grad  # an SGD step between calls
            p.zero_grad()


def test_trace_of_an_embedding_takes_new_indices():
    emb = nn.Embedding(5, 3, rng=0)
    step = trace(lambda idx: (emb(idx) ** 2).sum(), np.array([1, 1, 2]))
    new = np.array([4, 0, 0])
    assert step(new).item() == (emb.weight.data[new] ** 2).sum()
    expected = np.zeros((5, 3))
    np.add.at(expected, new, 2 * emb.weight.data[new])
    np.testing.assert_array_equal(emb.weight.grad, expected)


# Truncated back-propagation through time -------------------------------------------------------
def test_detached_state_stops_the_gradient_at_the_chunk():
    model = nn.GRU(2, 3, rng=0)
    x = np.random.default_rng(1).normal(size=(8, 1, 2))
    first, h = model(x[:4])
    second, _ = model(x[4:], h.detach())
    whole, _ = model(x)
    np.testing.assert_allclose(second.data, whole.data[4:], rtol=1e-13)  # the same forward pass
    inputs = Tensor(x, requires_grad=True)
    out, _ = model(inputs[:4])
    out2, _ = model(inputs[4:], _.detach())
    out2.sum().backward()
    assert not inputs.grad[:4].any() and inputs.grad[4:].any()


# Errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_errors_name_the_module_and_the_shapes(kind):
    model = LAYERS[kind](3, 4, num_layers=2)
    with pytest.raises(ValueError, match=rf"{kind}: input has 5 features \(shape \(6, 2, 5\)\), expected input_size 3"):
        model(np.zeros((6, 2, 5)))
    with pytest.raises(ValueError, match=rf"{kind}: input must be 3-D \(T, N, input_size\).*\(6, 3\)"):
        model(np.zeros((6, 3)))
    bad = np.zeros((1, 2, 4))
    state = (bad, np.zeros((2, 2, 4))) if kind == "LSTM" else bad
    with pytest.raises(ValueError, match=rf"{kind}: h.* must have shape .* \(2, 2, 4\), got \(1, 2, 4\)"):
        model(np.zeros((6, 2, 3)), state)
    cell = CELLS[kind](3, 4)
    with pytest.raises(ValueError, match=rf"{kind}Cell: input must have shape \(N, input_size\).*\(2, 5\)"):
        cell(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=rf"{kind}Cell: h must have shape \(N, hidden_size\) = \(2, 4\), got \(2, 3\)"):
        cell(np.zeros((2, 3)), (np.zeros((2, 3)), np.zeros((2, 4))) if kind == "LSTM" else np.zeros((2, 3)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="LSTM: hidden_size must be a positive int, got 0"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(3, 2, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match=r"LSTM: hx must be a pair \(h_0, c_0\)"):
        nn.LSTM(3, 2)(np.zeros((2, 1, 3)), np.zeros((1, 1, 2)))
    with pytest.raises(
        IndexOutOfRange, match=r"Embedding: index 6 is out of range for 6 embeddings \(indices of shape \(2,\)\)"
    ):
        nn.Embedding(6, 2)(np.array([0, 6]))
    with pytest.raises(IndexOutOfRange, match="Embedding: index -1 is out of range"):
        nn.Embedding(6, 2)([-1])
    with pytest.raises(TypeError, match=r"Embedding: indices must be integers, got dtype float64 \(shape \(2,\)\)"):
        nn.Embedding(6, 2)(np.array([0.0, 1.0]))


def test_elman_rnn_is_a_one_layer_rnn():
    elman = nn.ElmanRNN(3, 4, rng=0)
    rnn = nn.RNN(3, 4).load_state_dict({k + "_l0": v for k, v in elman.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    np.testing.assert_allclose(rnn(x)[0].data, elman(x).data, rtol=1e-13, atol=1e-15)
