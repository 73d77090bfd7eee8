"""explain(): the course notes' chain-rule table, paths and totals against backward()."""

import numpy as np
import pytest

from autograd import Tensor, Value, explain
from examples.worked_example import notes_example

NOTES_ROWS = [  # name, formula, value, local derivative (course notes, x = 1, w = 0, b = 0)
    ("h1", "w * x", 0.0, 1.0),
    ("h2", "h1 + b", 0.0, 1.0),
    ("h3", "-h2", 0.0, -1.0),
    ("h4", "exp(h3)", 1.0, 1.0),
    ("h5", "h4 + 1", 2.0, 1.0),
    ("h6", "1 / h5", 0.5, -0.25),
]


def test_notes_example_rows_paths_and_total():
    f, x, w, b = notes_example()
    e = explain(f, wrt=w)
    assert [(r.name, r.formula, r.value, r.local_derivative) for r in e.rows] == NOTES_ROWS
    assert [r.inputs for r in e.rows] == [("w",), ("h1",), ("h2",), ("h3",), ("h4",), ("h5",)]
    assert e.rows[-1].label == "f"
    assert e.total == 0.25 and e.path_count == 1
    (path,) = e.paths
    assert path.names == ("w", "h1", "h2", "h3", "h4", "h5", "h6")
    assert path.factors == (1, -0.25, 1, 1, -1, 1, 1)  # the notes' order
    assert path.product == 0.25


def test_notes_example_with_respect_to_b():
    f, x, w, b = notes_example()
    e = explain(f, wrt=b)
    assert e.rows[0].local_derivative is None  # h1 = w x is on no path from b
    assert e.rows[1].local_derivative == 1.0 and e.rows[1].inputs == ("b",)
    assert e.total == 0.25
    assert e.paths[0].factors == (1, -0.25, 1, 1, -1, 1)


def test_printed_table_is_aligned_and_writes_the_notes_product():
    f, x, w, b = notes_example()
    text = str(explain(f, wrt=w))
    lines = text.splitlines()
    assert "leaves: w = 0, x = 1, b = 0" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("name "))
    rows = lines[header + 2 : header + 8]
    assert [r.split()[0] for r in rows] == ["h1", "h2", "h3", "h4", "h5", "h6"]
    for column in ("formula", "value", "local derivative"):
        start = lines[header].index(column)
        assert all(r[start - 2 : start] == "  " and r[start] != " " for r in rows), column
    assert "dh6/dh5 = -0.25" in rows[-1] and rows[-1].startswith("h6 (f)")
    assert "w -> h1 -> h2 -> h3 -> h4 -> h5 -> h6:  1 x -0.25 x 1 x 1 x -1 x 1 x 1 = 0.25" in text
    assert lines[-1] == "df/dw = 0.25"
    assert repr(explain(f, wrt=w)) == "<Explanation df/dw = 0.25: 6 rows, 1 path>"


def test_tanh_neuron_total_matches_backward_and_paths_add_up():
    a, b = Value(0.7, label="a"), Value(-0.4, label="b")
    y = (a * a + a * b).tanh()  # a reaches y through a * a and a * b
    e = explain(y, wrt=a)
    y.backward()
    assert e.total == pytest.approx(a.grad, rel=1e-12)
    assert e.path_count == 2 and len(e.paths) == 2  # x*x counts once: its derivative is 2a
    assert sum(p.product for p in e.paths) == pytest.approx(a.grad, rel=1e-12)
    assert e.rows[0].formula == "a * a" and e.rows[0].local_derivative == pytest.approx(1.4)
    assert e.rows[2].local_derivative == {"h1": 1.0, "h2": 1.0}
    assert "(the sum over the paths)" in str(e)


def test_sigmoid_neuron_with_both_weights_and_the_input():
    w1, w2, bias = Value(0.3, label="w1"), Value(-1.2, label="w2"), Value(0.1, label="b")
    x1, x2 = Value(2.0, label="x1"), Value(0.5, label="x2")
    y = (w1 * x1 + w2 * x2 + bias).sigmoid() * 2 - 1
    explained = {v.label: explain(y, wrt=v).total for v in (w1, w2, bias, x1, x2)}
    y.backward()
    for v in (w1, w2, bias, x1, x2):
        assert explained[v.label] == pytest.approx(v.grad, rel=1e-12)
    rows = explain(y, wrt=w1).rows
    assert [r.formula for r in rows] == ["w1 * x1", "w2 * x2", "h1 + h2", "h3 + b", "sigmoid(h4)", "h5 * 2", "h6 - 1"]
    s = y.data / 2 + 0.5
    assert rows[4].local_derivative == pytest.approx(s * (1 - s))
    assert rows[1].local_derivative is None


def test_matmul_of_one_element_tensors_explains_with_numbers():
    w = Tensor(np.array([[0.5]]), requires_grad=True, label="w")
    x = Tensor(np.array([[2.0]]), label="x")
    y = ((w @ x).tanh() * w).sum()
    e = explain(y, wrt=w)
    y.backward()
    assert isinstance(e.total, float) and e.total == pytest.approx(w.grad.item(), rel=1e-12)
    assert [r.formula for r in e.rows] == ["w @ x", "tanh(h1)", "h2 * w", "sum(h3)"]
    assert e.rows[0].local_derivative == 2.0 and e.rows[0].value == 1.0
    assert e.rows[2].local_derivative == {"h2": 0.5, "w": pytest.approx(np.tanh(1.0))}
    assert e.path_count == 2 and all(isinstance(p.product, float) for p in e.paths)


def test_matmul_of_bigger_tensors_gives_jacobian_shapes_and_the_gradient():
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 4)), requires_grad=True, label="W")
    x = Tensor(rng.normal(size=(4, 2)), label="x")
    y = ((W @ x).tanh() * 2).sum()
    e = explain(y, wrt=W)
    y.backward()
    np.testing.assert_allclose(e.total, W.grad, rtol=1e-12)
    assert e.total.shape == (3, 4)
    assert e.rows[0].local_derivative == "Jacobian (3, 2) x (3, 4)"
    assert e.rows[1].local_derivative == "Jacobian (3, 2) x (3, 2)"
    np.testing.assert_array_equal(e.rows[3].local_derivative, np.ones((3, 2)))  # d sum / d h3
    assert e.paths[0].product is None
    assert "dh4/dW = (3, 4) min" in str(e)


def test_one_element_output_of_a_bigger_input_gives_its_gradient_as_the_path_product():
    W = Tensor(np.array([[0.1, 0.2, 0.3]]), requires_grad=True, label="W")
    x = Tensor(np.arange(3.0).reshape(3, 1), label="x")
    y = (W @ x).tanh().sum()
    e = explain(y, wrt=W)
    y.backward()
    np.testing.assert_allclose(e.paths[0].product, W.grad, rtol=1e-12)
    np.testing.assert_array_equal(e.rows[0].local_derivative, [[0.0, 1.0, 2.0]])


def test_number_of_paths_is_exact_while_the_list_is_capped():
    x = Value(0.2, label="x")
    h = x
    for _ in range(40):  # two routes per step: 2^40 paths
        h = h.tanh() + h.sin()
    e = explain(h, wrt=x)
    h.backward()
    assert e.path_count == 2**40
    assert len(e.paths) == 50
    assert len({p.names for p in e.paths}) == 50
    assert e.total == pytest.approx(x.grad, rel=1e-12)
    assert f"... and {2**40 - 50:,} more paths" in str(e)
    assert len(explain(h, wrt=x, max_paths=3).paths) == 3


@pytest.mark.slow  # a deep chain
def test_deep_chain_is_iterative():
    x = Value(0.5, label="x")
    h = x
    for i in range(100_000):
        h = h.tanh() if i % 2 else h * 1.00001
    e = explain(h, wrt=x)
    h.backward()
    assert e.path_count == 1 and len(e.rows) == 100_000
    assert e.total == pytest.approx(x.grad, rel=1e-9)
    text = str(e)
    assert "more rows; all are in .rows" in text and "(99987 more)" in text


def test_formulas_of_tensor_ops_and_constants():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="a")
    y = ((a[0, 1:] ** 2).reshape(2, 1) * -1.5 + a.sum(axis=1, keepdims=True)).clip(-5, None).max()
    formulas = [r.formula for r in explain(y, wrt=a).rows]
    assert formulas == [
        "a[0, 1:]",
        "h1 ** 2",
        "reshape(h2, (2, 1))",
        "h3 * (-1.5)",
        "sum(a, axis=(1,), keepdims=True)",
        "h4 + h5",
        "clip(h6, -5, None)",
        "max(h7)",
    ]


def test_wrt_an_intermediate_node_and_wrt_the_root():
    f, x, w, b = notes_example()
    h3 = f._parents[1]._parents[0]._parents[0]  # exp's input: -(w x + b)
    e = explain(f, wrt=h3)
    assert e.total == pytest.approx(-0.25)  # df/dh3 = exp(h3) * -1/h5^2
    assert e.paths[0].names == ("h3", "h4", "h5", "h6")
    assert explain(f, wrt=f).total == 1.0


def test_wrt_outside_the_graph_has_no_paths():
    f, *_ = notes_example()
    z = Value(3.0, label="z")
    e = explain(f, wrt=z)
    assert e.total == 0.0 and e.path_count == 0 and e.paths == []
    assert "no path from z to f: df/dz = 0" in str(e)


def test_errors_name_explain():
    f, x, w, b = notes_example()
    with pytest.raises(TypeError, match="explain: root must be a Value or a Tensor"):
        explain(1.0, wrt=w)
    with pytest.raises(TypeError, match="explain: wrt must be a Value or a Tensor"):
        explain(f, wrt="w")
    t = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"explain: root must have one element.*\(3,\)"):
        explain(t * 2, wrt=t)
    data = Tensor(np.ones(3), label="data")
    with pytest.raises(ValueError, match="explain: wrt does not require grad"):
        explain((data * t).sum(), wrt=data)
