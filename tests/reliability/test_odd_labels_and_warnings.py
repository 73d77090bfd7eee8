"""draw_graph and explain with labels holding control characters, graph-valued gradients and
array exponents; the backward pass gives IEEE inf/nan without NumPy RuntimeWarnings."""

import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd import Tensor, Value, draw_graph, explain

ODD = "a\x00b\x01c\x1b[31md\re\x7ff\ufffe\ud800g\th\nnext line"


def svg_of(dot):
    if shutil.which("dot") is None:
        pytest.fail(
            "this test needs the Graphviz dot program: install Graphviz (apt-get install graphviz, "
            "brew install graphviz)"
        )
    return dot.pipe(format="svg")


@pytest.mark.parametrize(
    "make",
    [
        lambda label: Value(2.0, label=label),
        lambda label: Tensor(np.array([2.0, 3.0]), requires_grad=True, label=label),
    ],
)
def test_control_characters_make_valid_dot_and_well_formed_svg(make):
    leaf = make(ODD)
    root = (leaf * leaf).sum() if isinstance(leaf, Tensor) else leaf * leaf
    root.label = "root\x00"
    root.backward()
    for direction in ("forward", "backward"):
        dot = draw_graph(root, direction=direction)
        assert "\x00" not in dot.source and "\x1b" not in dot.source
        svg = ET.fromstring(svg_of(dot))  # raises on XML that is not well-formed
        texts = [t.text for t in svg.iter() if t.tag.endswith("text") and t.text]
        # the characters are shown as escapes; the newline still breaks the line, the tab stays
        assert "a\\x00b\\x01c\\x1b[31md\\re\\x7ff\\ufffe\\ud800g\th" in texts, texts
        assert "next line" in texts and "root\\x00" in texts


def test_explain_writes_labels_on_one_line():
    x = Value(2.0, label="first\nsecond")
    w = Value(3.0, label="tab\there")
    f = x * w
    f.label = "out\x00"
    text = str(explain(f, w))
    lines = text.splitlines()
    assert "leaves: first\\nsecond = 2, tab\\there = 3   (constants are written as numbers)" in lines
    assert any(line.startswith("h1 (out\\x00)  first\\nsecond * tab\\there  6") for line in lines), text
    assert lines[-1] == "dout\\x00/dtab\\there = 2"
    assert "\x00" not in text and "\t" not in text


def test_explain_disambiguates_leaves_that_share_a_label():
    a, b = Value(2.0, label="x"), Value(3.0, label="x")
    result = explain(a * b + Value(1.0, label="h1"), b)
    # the leaf labelled "h1" and the op named h1 are told apart too, numbered in the graph's order
    assert [row.formula for row in result.rows] == ["x_1 * x_2", "h1_1 + h1_2"]
    assert [row.name for row in result.rows] == ["h1_1", "h2"]
    assert result.leaves == [("x_1", "2"), ("x_2", "3"), ("h1_2", "1")]
    assert result.wrt_name == "x_2" and result.total == 2.0
    assert "  x_2 -> h1_1 -> h2:  1 x 1 x 2 = 2" in str(result)


def test_explain_of_an_array_exponent():
    x = Tensor(np.array([1.5, 2.0]), requires_grad=True, label="x")
    result = explain((x ** np.array([2.0, 3.0])).sum(), x)
    assert result.rows[0].formula == "x ** [2, 3]"
    np.testing.assert_allclose(result.total, [2 * 1.5, 3 * 2.0**2])


@pytest.mark.parametrize(
    "make", [lambda: Tensor(np.array([3.0, 4.0]), requires_grad=True, label="x"), lambda: Value(3.0, label="x")]
)
def test_draw_graph_after_create_graph(make):
    x = make()
    y = (x * x).sum() if isinstance(x, Tensor) else x * x
    y.backward(create_graph=True)
    source = draw_graph(y).source
    expected = "grad [6, 8]" if isinstance(x, Tensor) else "grad 6"
    assert expected in source
    draw_graph(x.grad)  # the gradient's own graph draws too


BACKWARD_CASES = [
    (lambda x: x.sqrt(), [np.inf, 0.5]),  # 0.5 / sqrt(0)
    (lambda x: x**0.5, [np.inf, 0.5]),
    (lambda x: (x * 1e200) * (x * 1e200), [0.0, np.inf]),  # 2e400 x overflows
    (lambda x: x.log() * 0.0, [np.nan, 0.0]),  # 0 * (1 / 0)
]


@pytest.mark.parametrize("fn, expected", BACKWARD_CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_gives_ieee_results_without_warnings(fn, expected, create_graph):
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with np.errstate(all="ignore"):  # the forward pass warns as NumPy does
        y = fn(x).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward(create_graph=create_graph)
    grad = x.grad.data if create_graph else x.grad
    np.testing.assert_array_equal(grad, expected)
    assert np.geterr()["divide"] == "warn"  # the caller's settings are back
