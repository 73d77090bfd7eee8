"""The shortcuts of a module call keep their meaning: Sequential's kept module order follows every
change of membership, a module's one scope block nests and serves several threads, and
linear and ReLU check and compute as before when called from a layer."""

import copy
import pickle
import threading

import numpy as np
import pytest

import nn
from autograd import Tensor, linear, scope

TIMEOUT = 60
X = np.random.default_rng(0).normal(size=(4, 3))


def affine(layer, x):
    return x @ layer.weight.data.T + layer.bias.data


def current_path():
    """The calling thread's scope path, read through the public scope()."""
    with scope("probe") as path:
        return path[:-1]


# Sequential's module order ------------------------------------------------------------
def test_a_sequential_changed_after_its_first_call_runs_its_new_modules():
    first, second = nn.Linear(3, 2, rng=0), nn.Linear(2, 2, rng=1)
    model = nn.Sequential(first)
    np.testing.assert_allclose(model(X).data, affine(first, X))
    model.extra = second  # a new attribute
    np.testing.assert_allclose(model(X).data, affine(second, affine(first, X)))
    assert list(model) == [first, second] and len(model) == 2
    model.extra = nn.Tanh()  # replaced
    np.testing.assert_allclose(model(X).data, np.tanh(affine(first, X)))
    del model.extra
    np.testing.assert_allclose(model(X).data, affine(first, X))
    assert list(model) == [first]
    model.register_buffer("0", np.zeros(1))  # a buffer where a module was: no module left
    assert list(model) == [] and model(X) is X


class _WithList(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(3, 2, rng=0))
        self.tail: list = []


def test_a_list_attribute_changed_in_place_changes_what_a_sequential_runs():
    model = _WithList()
    head = affine(model[0], X)
    np.testing.assert_allclose(model(X).data, head)
    model.tail.append(nn.ReLU())
    np.testing.assert_allclose(model(X).data, np.maximum(head, 0))
    model.tail[0] = nn.Tanh()  # same length, another module
    np.testing.assert_allclose(model(X).data, np.tanh(head))
    model.tail.insert(0, np.ones(3))  # not a module: skipped, as _members skips it
    np.testing.assert_allclose(model(X).data, np.tanh(head))
    model.tail.clear()
    np.testing.assert_allclose(model(X).data, head)


def test_copies_of_a_called_sequential_run_their_own_modules():
    model = nn.MLP([3, 4, 2], rng=0)
    expected = model(X).data
    twin = copy.deepcopy(model)
    twin[0].weight.data = np.zeros((4, 3))
    assert twin[0] is not model[0] and list(twin)[0] is twin[0]
    hidden = np.tile(np.maximum(twin[0].bias.data, 0), (len(X), 1))  # a zero weight: the bias alone
    np.testing.assert_allclose(twin(X).data, affine(twin[2], hidden))
    np.testing.assert_array_equal(model(X).data, expected)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored(X).data, expected)
    assert list(restored)[0] is restored[0]


# Scope blocks -------------------------------------------------------------------------
class _Nested(nn.Module):
    """Calls itself `depth` times before its layer runs."""

    def __init__(self):
        self.layer = nn.Linear(3, 2, rng=0)

    def forward(self, x, depth=2):
        return self.layer(x) if depth == 0 else self(x, depth=depth - 1)


def test_a_module_called_inside_itself_nests_its_scope_and_restores_it():
    out = _Nested()(X)
    assert out._scope == ("_Nested", "_Nested", "_Nested", "layer:Linear")
    assert current_path() == ()
    with pytest.raises(ValueError, match="linear"):
        _Nested()(np.ones((4, 5)))
    assert current_path() == ()


def test_a_module_is_named_by_its_class_until_a_parent_stores_it():
    class Wide(nn.Linear):
        pass

    layer = Wide(3, 2, rng=0)
    assert layer(X)._scope == ("Wide",)
    holder = nn.Sequential()
    holder.fc = layer
    assert layer(X)._scope == ("fc:Wide",)
    assert holder(X)._scope == ("Sequential", "fc:Wide")
    assert nn.Linear(3, 2)(X)._scope == ("Linear",)  # the subclass's name is its own


def test_one_scope_object_can_be_entered_inside_itself():
    block = scope("block")
    with block as outer:
        with block as inner:
            made = Tensor(np.ones(2), requires_grad=True) * 2
        after_inner = current_path()
    assert outer == ("block",) and inner == ("block", "block") and made._scope == inner
    assert after_inner == ("block",) and current_path() == ()


def test_scope_call_runs_a_function_in_the_block_and_leaves_it_even_on_error():
    block = scope("block")
    with scope("outer"):
        out, path = block.call(lambda x: (x * 2, current_path()), Tensor(np.ones(2), requires_grad=True))
        assert out._scope == path == ("outer", "block")
        with pytest.raises(ZeroDivisionError):
            block.call(lambda x: x / 0, 1)
        assert current_path() == ("outer",)
    assert current_path() == ()


class _TwoInputs(nn.Module):
    def __init__(self):
        self.layer = nn.Linear(3, 2, rng=0)

    def forward(self, x, shift=0.0, *, scale=1.0):
        return self.layer(x) * scale + shift


def test_a_module_called_with_more_than_one_argument_runs_in_its_scope_too():
    model = _TwoInputs()
    out = model(X, 1.0, scale=2.0)
    np.testing.assert_allclose(out.data, affine(model.layer, X) * 2.0 + 1.0)
    assert out._scope == ("_TwoInputs",) and out._parents[0]._parents[0]._scope == ("_TwoInputs", "layer:Linear")
    with pytest.raises(ValueError, match="linear") as caught:
        model(np.ones((4, 5)), shift=1.0)
    if hasattr(caught.value, "add_note"):
        assert caught.value.__notes__ == ["in module _TwoInputs > layer (Linear), in forward()"]
    assert current_path() == ()


def test_two_threads_inside_one_module_at_once_each_keep_their_own_path():
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    class Meeting(nn.Module):
        """Both threads are inside its forward at once: each waits for the other there."""

        def __init__(self):
            self.layer = nn.Linear(3, 2, rng=0)

        def forward(self, x):
            barrier.wait()
            out = self.layer(x)
            barrier.wait()
            return out

    model = Meeting()
    results, errors = {}, []

    def run(name):
        try:
            with scope(name):
                out = model(X)
                inside = current_path()
            results[name] = out._scope, inside, current_path()
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors, errors
    for name in ("a", "b"):
        assert results[name] == ((name, "Meeting", "layer:Linear"), (name,), ())
    assert current_path() == ()


# Linear and ReLU from a layer -----------------------------------------------------------
def test_a_layer_whose_weight_was_replaced_by_a_misfit_names_linear_and_the_shapes():
    layer = nn.Linear(3, 2, rng=0)
    layer.weight = nn.Parameter(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) does not fit a weight of shape \(2, 5\)"):
        layer(X)
    layer = nn.Linear(3, 2, rng=0)
    layer.bias = nn.Parameter(np.zeros(3))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(3,\) does not fit a weight of shape \(2, 3\)"):
        layer(X)


def test_linear_takes_arrays_and_lists_as_constants():
    w, b = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0])
    out = linear(X.tolist(), w, b)
    assert not out.requires_grad
    np.testing.assert_allclose(out.data, X @ w.T + b)
    np.testing.assert_allclose(linear(X, w).data, X @ w.T)
    with pytest.raises(TypeError, match="linear"):
        linear(X, w, "bias")


def test_the_relu_module_makes_the_node_x_relu_makes():
    x = Tensor(X, requires_grad=True)
    out = nn.ReLU()(x)
    direct = x.relu()
    assert out._op is direct._op and out._scope == ("ReLU",)
    np.testing.assert_array_equal(out.data, direct.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, (X > 0).astype(float))
    np.testing.assert_array_equal(nn.ReLU()(X).data, np.maximum(X, 0))  # an array goes through F.relu


def test_a_layer_makes_of_an_array_batch_the_leaf_tensor_makes():
    layer = nn.Sequential(nn.Linear(3, 2, rng=0))
    for batch in (X, X.astype(np.float32)):  # the layer's dtype, and one converted first
        out = layer(batch)
        leaf = out._parents[0]
        made = Tensor(np.asarray(batch, dtype=np.float64))
        assert leaf.is_leaf and not leaf.requires_grad and leaf.grad is None and leaf.label == ""
        assert leaf._scope == ("Sequential", "0:Linear") and leaf.dtype == made.dtype
        assert (leaf._data is batch) is (batch.dtype == np.float64)  # shared, not copied, when it fits
        np.testing.assert_array_equal(leaf.data, made.data)
    for batch, kind in ((np.arange(3), "i"), (np.array([True, False]), "b")):  # no layer's dtype: as it is
        leaf = nn.layers.as_input(batch)
        assert leaf._data is batch and leaf.dtype.kind == kind and leaf._scope == ()
    with pytest.raises(TypeError, match=r"Tensor: unsupported dtype object"):
        nn.layers.as_input(np.array([None, 1]))
    with pytest.raises(TypeError, match=r"Tensor: unsupported dtype <U1"):
        nn.layers.as_input(np.array(["a"]))


def test_an_mlp_hands_out_its_sizes_as_a_list_of_its_own():
    model = nn.MLP(np.array([3, 4, 2]), rng=0)
    assert model.sizes == [3, 4, 2] and type(model.sizes) is list
    model.sizes.append(5)  # a copy: the model keeps what it was built with
    assert model.sizes == [3, 4, 2] and len(model) == 3
    assert not any(isinstance(value, list) for value in vars(model).values())  # nothing to check per call
