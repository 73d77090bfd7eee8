"""draw_graph / render_graph: the DOT text of Value and Tensor graphs, real SVGs, errors."""

import os
import random
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd
from autograd import GraphvizNotFound, Tensor, Value, draw_graph, render_graph
from autograd.graph_reading import graph_nodes
from examples import worked_example
from examples.worked_example import notes_example

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def dot_program():
    """Fail (never skip) when Graphviz's dot is missing: .ci/run installs it."""
    if not any(os.access(os.path.join(d, "dot"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep)):
        pytest.fail("the Graphviz dot program is not installed: install Graphviz: apt-get install graphviz")


needs_dot = pytest.mark.usefixtures("dot_program")

# A small reader of the DOT that draw_graph writes ---------------------------------------

_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_NODE = re.compile(r"^\t(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$")


def _attrs(text):
    out = {}
    for key, value in _ATTR.findall(text or ""):
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        out[key] = value
    return out


def parse(dot):
    """({name: attrs}, [(tail, head, attrs)]) of the graph's own nodes (the legend left out)."""
    nodes, edges = {}, []
    for line in dot.source.splitlines():
        if line.startswith("\t\t"):  # inside the legend cluster
            continue
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
            continue
        m = _NODE.match(line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            nodes[m.group(1)] = _attrs(m.group(2))
    return nodes, edges


def label_lines(attrs):
    return attrs["label"].split("\n")


def by_title(nodes):
    """Node names keyed by the first line of their label (ops and leaves alike)."""
    out = {}
    for name, attrs in nodes.items():
        out.setdefault(label_lines(attrs)[0], []).append(name)
    return out


def edge_labels(edges, nodes):
    """{(tail title, head title): [labels]} to compare edges without node numbers."""
    out = {}
    for tail, head, attrs in edges:
        key = (label_lines(nodes[tail])[0], label_lines(nodes[head])[0])
        out.setdefault(key, []).append(attrs.get("label"))
    return out


# Value graphs ------------------------------------------------------------------------------


def test_notes_example_forward_nodes_and_values_on_edges():
    f, x, w, b = notes_example()
    nodes, edges = parse(draw_graph(f, show_grad=False))
    assert len(nodes) == 11 and len(edges) == 10  # 3 leaves, 2 constants, 6 ops
    titles = by_title(nodes)
    assert sorted(titles) == sorted(["w", "x", "b", "1", "*", "+", "neg", "exp", "/"])
    assert len(titles["+"]) == 2 and len(titles["1"]) == 2
    assert label_lines(nodes[titles["w"][0]]) == ["w", "data 0"]
    assert label_lines(nodes[titles["x"][0]]) == ["x", "data 1"]
    assert label_lines(nodes[titles["/"][0]]) == ["/", "f", "data 0.5"]
    labels = edge_labels(edges, nodes)
    assert labels[("w", "*")] == ["0"] and labels[("x", "*")] == ["1"]
    assert labels[("neg", "exp")] == ["0"] and labels[("exp", "+")] == ["1"]
    assert sorted(labels[("+", "/")]) == ["2"] and labels[("1", "/")] == ["1"]
    assert all("grad" not in a["label"] for a in nodes.values())


def test_styles_tell_parameters_constants_ops_and_the_root_apart():
    f, x, w, b = notes_example()
    nodes, _ = parse(draw_graph(f))
    titles = by_title(nodes)
    root = nodes[titles["/"][0]]
    assert root["penwidth"] == "3"
    assert [n for n, a in nodes.items() if a.get("penwidth") == "3"] == titles["/"]
    assert nodes[titles["w"][0]]["style"] == "rounded,filled"
    assert all("dashed" in nodes[n]["style"] for n in titles["1"])
    assert nodes[titles["exp"][0]]["shape"] == "ellipse"
    kinds = {(a["shape"], a["style"], a.get("fillcolor")) for a in nodes.values()}
    assert len(kinds) == 3  # parameter, constant, op


def test_gradients_shown_after_backward_and_hidden_with_show_grad_false():
    f, x, w, b = notes_example()
    f.backward()
    nodes, _ = parse(draw_graph(f))
    titles = by_title(nodes)
    assert label_lines(nodes[titles["w"][0]]) == ["w", "data 0", "grad 0.25"]
    assert label_lines(nodes[titles["neg"][0]]) == ["neg", "grad -0.25"]
    assert "grad 1" in label_lines(nodes[titles["/"][0]])
    assert all("grad" not in label_lines(nodes[n])[-1] for n in titles["1"])  # constants: none
    hidden, _ = parse(draw_graph(f, show_grad=False, show_values=False))
    assert all("grad" not in a["label"] and "data" not in a["label"] for a in hidden.values())


def test_backward_edges_carry_the_notes_local_derivatives():
    f, x, w, b = notes_example()
    dot = draw_graph(f, direction="backward")
    assert "dir=back" in dot.source
    nodes, edges = parse(dot)
    labels = edge_labels(edges, nodes)
    assert labels[("w", "*")] == ["1"]  # d(w x)/dw = x = 1
    assert labels[("x", "*")] == ["0"]  # d(w x)/dx = w = 0
    assert labels[("*", "+")] == ["1"] and labels[("b", "+")] == ["1"]
    assert labels[("+", "neg")] == ["-1"] and labels[("neg", "exp")] == ["1"]
    assert labels[("exp", "+")] == ["1"]
    assert labels[("+", "/")] == ["-0.25"]  # d(1/h5)/dh5 = -1/h5^2
    constant_edges = [a for t, h, a in edges if label_lines(nodes[t])[0] == "1"]
    assert len(constant_edges) == 2
    assert all(a.get("style") == "dashed" and "label" not in a for a in constant_edges)


def test_backward_edges_multiply_to_the_gradient_along_a_chain():
    a = Value(0.3, label="a")
    y = ((a * 2).tanh().sin() + 1).log()
    y.backward()
    nodes, edges = parse(draw_graph(y, direction="backward"))
    product = 1.0
    for _, _, attrs in edges:
        if "label" in attrs:
            product *= float(attrs["label"])
    assert product == pytest.approx(a.grad, rel=1e-3)  # labels have 4 digits


def test_repeated_input_gives_two_edges():
    a = Value(3.0, label="a")
    nodes, edges = parse(draw_graph(a * a, direction="backward"))
    assert len(nodes) == 2 and [e[2]["label"] for e in edges] == ["3", "3"]


# Tensor graphs --------------------------------------------------------------------------------


def _layer():
    W = Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, label="W")
    x = Tensor(np.arange(12.0).reshape(3, 4), label="x")
    y = ((W @ x).tanh() * 2).sum()
    return W, x, y


def test_tensor_graph_shapes_dtypes_and_summaries():
    W, x, y = _layer()
    nodes, edges = parse(draw_graph(y))
    titles = by_title(nodes)
    assert sorted(titles) == sorted(["W", "x", "matmul", "tanh", "*", "constant", "sum"])
    assert label_lines(nodes[titles["W"][0]]) == ["W", "(2, 3) float64", "[[0, 0.1, 0.2], [0.3, 0.4, 0.5]]"]
    assert label_lines(nodes[titles["x"][0]]) == ["x", "(3, 4) float64", "min 0 mean 5.5 max 11"]
    assert label_lines(nodes[titles["constant"][0]]) == ["constant", "() float64", "2"]
    labels = edge_labels(edges, nodes)
    assert labels[("W", "matmul")] == ["(2, 3) float64"]
    assert labels[("matmul", "tanh")] == ["(2, 4) float64"]
    assert labels[("constant", "*")] == ["() float64\n= 2"]
    # parameter, input and constant each have their own look
    leaves = [nodes[titles[t][0]] for t in ("W", "x", "constant")]
    looks = {(a.get("fillcolor"), a["style"]) for a in leaves}
    assert len(looks) == 3
    assert nodes[titles["sum"][0]]["penwidth"] == "3"
    assert label_lines(nodes[titles["sum"][0]])[1:] == ["() float64", format(float(y.item()), ".4g")]


def test_tensor_grads_after_backward_without_the_non_leaf_warning():
    W, x, y = _layer()
    y.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading a non-leaf's .grad would warn
        nodes, _ = parse(draw_graph(y))
    titles = by_title(nodes)
    assert label_lines(nodes[titles["W"][0]])[-1].startswith("grad [[")
    assert all("grad" not in a["label"] for n, a in nodes.items() if n not in titles["W"])
    assert all("grad" not in a["label"] for a in parse(draw_graph(y, show_grad=False))[0].values())


def test_tensor_backward_edges_carry_gradient_shapes():
    W, x, y = _layer()
    nodes, edges = parse(draw_graph(y, direction="backward"))
    labels = edge_labels(edges, nodes)
    assert labels[("W", "matmul")] == ["grad (2, 3)"]
    assert labels[("tanh", "*")] == ["grad (2, 4)"]
    assert labels[("*", "sum")] == ["grad (2, 4)"]
    no_grad = [a for t, h, a in edges if label_lines(nodes[t])[0] in ("x", "constant")]
    assert len(no_grad) == 2 and all(a["style"] == "dashed" for a in no_grad)


def test_one_element_tensors_get_numeric_local_derivatives():
    a = Tensor(np.array([[0.5]]), requires_grad=True, label="a")
    y = (a * 3.0).sigmoid().sum()
    nodes, edges = parse(draw_graph(y, direction="backward"))
    labels = edge_labels(edges, nodes)
    s = 1 / (1 + np.exp(-1.5))
    assert labels[("a", "*")] == ["3"]
    assert labels[("*", "sigmoid")] == [format(s * (1 - s), ".4g")]
    assert labels[("sigmoid", "sum")] == ["1"]


# Big graphs ------------------------------------------------------------------------------------


def tanh_chain(leaf, n_ops):
    h = leaf
    for _ in range(n_ops):
        h = h.tanh()
    return h


def test_max_nodes_keeps_the_nearest_and_says_how_many_are_left_out():
    h = tanh_chain(Value(0.1, label="x"), 49)
    nodes, edges = parse(draw_graph(h, max_nodes=10))
    assert len(nodes) == 11 and "more" in nodes
    assert label_lines(nodes["more"]) == ["... 40 more nodes"]
    dashed = {"color": "gray60", "style": "dashed"}
    assert [e for e in edges if e[0] == "more"] == [("more", "n40", dashed)]
    assert "n49" in nodes and nodes["n49"]["penwidth"] == "3"  # the root is kept
    everything, _ = parse(draw_graph(h, max_nodes=None))
    assert len(everything) == 50


def _scalar_mlp(sizes, outer=None):
    """A scalar MLP on Values, each layer in autograd.scope('layer<l>') (neurons nested)."""
    rng = random.Random(0)
    acts = [Value(v, label=f"x{i}") for i, v in enumerate([0.5, -1.0])]
    n_layers = len(sizes) - 1
    for layer in range(n_layers):
        with autograd.scope(f"layer{layer}"):
            outs = []
            for j in range(sizes[layer + 1]):
                with autograd.scope(f"neuron{j}"):
                    z = Value(0.0, label=f"b{layer}.{j}")
                    for k, a in enumerate(acts):
                        z = z + Value(rng.uniform(-1, 1), label=f"w{layer}.{j}.{k}") * a
                    outs.append(z.tanh() if layer < n_layers - 1 else z)
            acts = outs
    return (acts[0] - 1.0) ** 2


def test_collapse_scope_turns_a_scalar_mlp_into_a_few_boxes():
    loss = _scalar_mlp([2, 16, 16, 1])
    assert len(graph_nodes(loss)) > 900
    nodes, edges = parse(draw_graph(loss, collapse="scope"))
    assert len(nodes) <= 10
    titles = by_title(nodes)
    # per neuron: bias, weights, products, sums (and tanh); layer0 also takes in the
    # inputs x0, x1, made outside every scope and used only there
    for layer, size in (("layer0", 16 * 8 + 2), ("layer1", 16 * 50), ("layer2", 49)):
        box = nodes[titles[layer][0]]
        assert box["shape"] == "box3d"
        assert label_lines(box)[1].startswith(f"{size} nodes")
    labels = edge_labels(edges, nodes)
    assert labels[("layer0", "layer1")] == ["16 values"]
    assert labels[("layer1", "layer2")] == ["16 values"]
    assert labels[("layer2", "-")] == [format(loss._parents[0]._parents[0].data, ".4g")]
    backward = edge_labels(*reversed(parse(draw_graph(loss, collapse="scope", direction="backward"))))
    assert backward[("layer0", "layer1")] == ["16 gradients"]


def test_collapse_splits_under_a_shared_outer_scope_and_adopts_outside_leaves():
    w = [Value(0.5, label="w0"), Value(-0.5, label="w1")]  # made outside every scope
    x = Value(2.0, label="x")
    with autograd.scope("model"):
        with autograd.scope("first"):
            h = (w[0] * x).tanh()
        with autograd.scope("second"):
            y = w[1] * h
    nodes, edges = parse(draw_graph(y, collapse="scope"))
    titles = by_title(nodes)
    assert sorted(titles) == ["model/first", "model/second"]
    assert label_lines(nodes[titles["model/first"][0]])[1] == "4 nodes, 2 parameters"  # w0, x, *, tanh
    assert nodes[titles["model/second"][0]]["penwidth"] == "3"  # it holds the root


@pytest.mark.slow  # graphs of 100,000 nodes
def test_hundred_thousand_node_graphs_build_without_recursion():
    h = tanh_chain(Value(0.5, label="x"), 99_999)
    source = draw_graph(h, max_nodes=None).source
    assert source.count(" -> ") == 99_999
    assert draw_graph(h, max_nodes=None, direction="backward").source.count("dir=back") == 1
    h = tanh_chain(Tensor(np.ones(3), requires_grad=True, label="t"), 99_999)
    # 99,999 edges, the leaf and the root say "(3,) float64"
    assert draw_graph(h, max_nodes=None).source.count("(3,) float64") == 100_001
    assert "... 99500 more nodes" in draw_graph(h).source


# Rendering ---------------------------------------------------------------------------------------


def svg_text(path):
    """Every text of a well-formed SVG file (ET.parse raises on malformed XML)."""
    tree = ET.parse(path)
    return [t.strip() for el in tree.iter() if el.tag.endswith("text") for t in el.itertext()]


@needs_dot
def test_render_value_and_tensor_graphs_to_well_formed_svg(tmp_path):
    f, x, w, b = notes_example()
    f.backward()
    forward = render_graph(f, tmp_path / "forward.svg", show_grad=False, legend=True)
    backward = render_graph(f, tmp_path / "backward.svg", direction="backward")
    assert forward == str(tmp_path / "forward.svg")
    texts = svg_text(forward)
    for text in ("w", "x", "b", "exp", "neg", "data 0.5", "parameter", "forward: edges carry values"):
        assert text in texts
    texts = svg_text(backward)
    assert "-0.25" in texts and "grad 0.25" in texts
    W, _, y = _layer()
    texts = svg_text(render_graph(y, tmp_path / "tensor.svg"))
    assert "matmul" in texts and "(2, 3) float64" in texts
    assert sorted(os.listdir(tmp_path)) == ["backward.svg", "forward.svg", "tensor.svg"]  # no DOT files


@needs_dot
def test_render_png_pdf_and_path_extensions(tmp_path):
    f, *_ = notes_example()
    png = render_graph(f, tmp_path / "g.png", format="png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    pdf = render_graph(f, tmp_path / "sub" / "g", format="pdf")  # folder made, suffix added
    assert pdf == str(tmp_path / "sub" / "g.pdf") and open(pdf, "rb").read(4) == b"%PDF"
    with pytest.raises(ValueError, match=r"render_graph: .*\.png.*format is 'svg'"):
        render_graph(f, tmp_path / "wrong.png")
    with pytest.raises(ValueError, match="render_graph: unknown format"):
        render_graph(f, tmp_path / "g.xyz", format="xyz")


@needs_dot
def test_labels_with_quotes_and_backslashes_render_literally(tmp_path):
    a = Value(1.0, label='a "quoted" \\ <b>')
    texts = svg_text(render_graph(a.exp(), tmp_path / "q.svg"))
    assert 'a "quoted" \\ <b>' in texts


@needs_dot
def test_notebook_display_gives_svg():
    f, *_ = notes_example()
    bundle = draw_graph(f)._repr_mimebundle_()
    root = ET.fromstring(bundle["image/svg+xml"])
    assert root.tag.endswith("svg")


def test_missing_dot_program_raises_with_install_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing is findable
    f, *_ = notes_example()
    with pytest.raises(GraphvizNotFound) as info:
        render_graph(f, tmp_path / "f.svg")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError) and message.startswith("render_graph:")
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda", "https://graphviz.org/download/"):
        assert hint in message
    assert "digraph" in draw_graph(f).source  # the DOT text needs no program
    assert not os.path.exists(tmp_path / "f.svg")


# Errors and the example ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"direction": "sideways"}, "draw_graph: direction"),
        ({"rankdir": "XY"}, "draw_graph: rankdir"),
        ({"collapse": "layers"}, "draw_graph: collapse"),
        ({"max_nodes": 0}, "draw_graph: max_nodes"),
        ({"max_nodes": True}, "draw_graph: max_nodes"),
    ],
)
def test_bad_options_name_the_function(kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_graph(Value(1.0), **kwargs)


def test_root_must_be_a_node():
    with pytest.raises(TypeError, match="draw_graph: root must be a Value or a Tensor, got list"):
        draw_graph([1.0])


def test_legend_has_one_sample_of_each_style():
    source = draw_graph(Value(1.0, label="a").exp(), legend=True).source
    assert "subgraph cluster_legend" in source
    assert len(re.findall(r"^\t\tlegend_\w+ \[", source, re.M)) == 5


@needs_dot
def test_worked_example_script(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "examples.worked_example", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )

    assert "--out" in run("--help").stdout
    out = run("--out", str(tmp_path)).stdout
    assert "1 x -0.25 x 1 x 1 x -1 x 1 x 1 = 0.25" in out
    assert "backward(): df/dw = 0.25, df/db = 0.25" in out
    for name in ("worked_example_forward.svg", "worked_example_backward.svg"):
        assert "exp" in svg_text(tmp_path / name)
    result = worked_example.main(["--out", str(tmp_path / "png"), "--format", "png", "-w", "1"])
    s = 1 / (1 + np.exp(-1.0))  # w = 1: df/dw = x s (1 - s)
    assert result["df_dw"] == result["df_db"] == pytest.approx(s * (1 - s))
    assert [os.path.basename(p) for p in result["files"]] == [
        "worked_example_forward.png",
        "worked_example_backward.png",
    ]
