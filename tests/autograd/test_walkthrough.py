"""walkthrough(): the engine's own backward pass, step by step, and the page that shows it."""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor, Value, walkthrough
from tests.support.gradients import central_difference
from tests.support.walkthrough_cases import paths_meet, tensor_mlp, worked_example


def backward_steps(walk):
    return [s for s in walk.steps if s.phase == "backward"]


def test_worked_example_steps_are_the_course_arithmetic():
    f, (x, w, b) = worked_example()
    walk = walkthrough(f)
    forward = [s for s in walk.steps if s.phase == "forward"]
    assert [(s.node, s.value) for s in forward if s.op] == [
        ("h1", 0.0),
        ("h2", 0.0),
        ("h3", 0.0),
        ("h4", 1.0),
        ("h5", 2.0),
        ("f", 0.5),
    ]
    assert forward[2].text == ["forward: h1 = w * x", "h1 = 0 * 1 = 0"]
    steps = backward_steps(walk)
    # Kahn's order from the root; the leaves appear when their gradient is complete
    assert [s.node for s in steps] == ["f", "h5", "h4", "h3", "h2", "b", "h1", "x", "w"]
    first = steps[0]
    assert (first.upstream, first.local, first.to_parents, first.accumulated) == (
        1.0,
        {"h5": -0.25},
        {"h5": -0.25},
        {"h5": -0.25},
    )
    assert first.text == [
        "backward: f = 1 / h5",
        "upstream df/df = 1",
        "df/dh5 = -1/h5^2 = -0.25; upstream 1; sends -0.25",
        "df/dh5 so far: -0.25",
    ]
    assert steps[2].text[2] == "dh4/dh3 = exp(h3) = 1; upstream -0.25; sends -0.25"
    assert steps[3].local == {"h2": -1.0} and steps[3].to_parents == {"h2": 0.25}
    assert steps[6].to_parents == {"w": 0.25, "x": 0.0}
    assert steps[6].text[2] == "dh1/dw = x = 1; upstream 0.25; sends 0.25"
    assert steps[-1].text == ["backward: w is a leaf; its gradient is complete", "df/dw = 0.25   (w.grad)"]
    assert x.grad == w.grad == b.grad == 0.0  # the walkthrough fills no .grad
    f.backward()  # and leaves the graph usable
    assert {s.node: s.upstream for s in steps if not s.op} == {"w": w.grad, "b": b.grad, "x": x.grad}
    assert (w.grad, b.grad) == (0.25, 0.25)


def test_paths_meet_accumulated_sums_in_the_engine_order():
    y, (a,) = paths_meet()
    steps = backward_steps(walkthrough(y))
    running = [s.accumulated["a"] for s in steps if "a" in s.accumulated]
    assert len(running) == 3 and running == sorted(running)  # each path adds a positive part
    assert any("(paths meet)" in line for s in steps for line in s.text)
    assert sum(s.to_parents.get("a", 0.0) for s in steps) == pytest.approx(running[-1], abs=1e-15)
    y.backward()
    assert running[-1] == a.grad  # the same additions in the same order
    closed_form = 2 * 0.6 + math.tanh(0.6) + 0.6 * (1 - math.tanh(0.6) ** 2)
    assert a.grad == pytest.approx(closed_form, rel=1e-14)


def test_tensor_mlp_leaves_end_with_the_engine_gradients():
    loss, params = tensor_mlp()
    walk = walkthrough(loss)
    names = walk.vertex_of()
    loss.backward()
    finals = {s.node: s.upstream for s in backward_steps(walk) if not s.op}
    assert len(finals) == len(params)
    by_shape = {p.shape: p for p in params}
    for name, g in finals.items():
        assert isinstance(g, np.ndarray)
        np.testing.assert_array_equal(g, by_shape[g.shape].grad)  # bit for bit
        assert name in names
    matmul = next(s for s in backward_steps(walk) if s.op == "linear")
    assert all(v.startswith("Jacobian") for v in matmul.local.values())
    assert "g @ " in " ".join(matmul.text)


ops = st.sampled_from(["add", "mul", "div", "tanh", "exp", "sigmoid", "square", "sin"])


def build(program, a, b):
    """A small expression of a and b from a list of (op, use_b) instructions."""
    h = a
    for op, use_b in program:
        other = b if use_b else h
        h = {
            "add": lambda: h + other,
            "mul": lambda: h * other,
            "div": lambda: h / (other * other + 1),
            "tanh": lambda: h.tanh(),
            "exp": lambda: (h * 0.3).exp(),
            "sigmoid": lambda: h.sigmoid(),
            "square": lambda: h**2,
            "sin": lambda: h.sin(),
        }[op]()
    return h


@settings(max_examples=25, deadline=None)
@given(
    program=st.lists(st.tuples(ops, st.booleans()), min_size=1, max_size=6),
    a0=st.floats(-1.5, 1.5),
    b0=st.floats(-1.5, 1.5),
)
def test_leaf_gradients_match_central_differences(program, a0, b0):
    a, b = Value(a0, label="a"), Value(b0, label="b")
    root = build(program, a, b)
    steps = backward_steps(walkthrough(root))
    for s in steps:  # every send is upstream x local for scalars
        for parent, sent in s.to_parents.items():
            assert sent == pytest.approx(s.upstream * s.local[parent], rel=1e-12, abs=1e-300)
    finals = {s.node: s.upstream for s in steps if not s.op}
    fd = central_difference(
        lambda av, bv: build(program, Value(float(av)), Value(float(bv))).data, [np.array(a0), np.array(b0)]
    )
    # where f overflows (exp of a large power of a) the program's IEEE gradient is inf while central
    # differences give inf - inf = nan: they are no reference there (the sends above still hold)
    assume(math.isfinite(root.data) and all(np.isfinite(v) for v in fd))
    for name, numeric in zip("ab", fd):
        assert finals.get(name, 0.0) == pytest.approx(float(numeric), rel=1e-5, abs=1e-6)


def test_names_are_unique_labels_or_generated():
    x1, x2 = Value(1.0, label="x"), Value(2.0, label="x")
    y = x1 * x2 + 1 + 1
    walk = walkthrough(y)
    assert [s.node for s in walk.steps if s.phase == "forward"] == ["x", "x#2", "h1", "h2", "h3"]
    assert walk.steps[-3].to_parents == {"x": 2.0, "x#2": 1.0}


def test_page_is_self_contained_and_carries_every_step():
    f, _ = worked_example()
    walk = walkthrough(f)
    page = walk.html
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", page)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # namespaces only
    data = json.loads(re.search(r'id="walkthrough-data">(.*?)</script>', page, re.S).group(1))
    assert [s["text"] for s in data["steps"]] == [s.text for s in walk.steps]
    assert data["steps"][-1]["grads"] == {data["vertex_of"]["w"]: "grad 0.25"}


def test_save_and_repr_html(tmp_path):
    f, _ = worked_example()
    walk = walkthrough(f)
    path = walk.save(tmp_path / "sub" / "page.html")
    assert open(path, encoding="utf-8").read() == walk.html
    shown = walk._repr_html_()
    assert shown.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;') and 'sandbox="allow-scripts"' in shown
    assert "<table>" in shown and "df/dh5 = -1/h5^2 = -0.25" in shown  # the static fallback
    assert repr(walk) == "<Walkthrough of f: 9 forward and 9 backward steps>"


def scalar_mlp_loss():
    model = nn.scalar.MLP([2, 3, 1], rng=np.random.default_rng(1))
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    out = out[0] if isinstance(out, list) else out
    return (out - 1.0) ** 2


def test_collapse_and_max_nodes_shape_the_picture_not_the_steps():
    loss = scalar_mlp_loss()
    full = walkthrough(loss)
    boxed = walkthrough(loss, collapse="scope")
    assert [s.text for s in boxed.steps] == [s.text for s in full.steps]
    assert len(set(boxed.vertex_of().values())) < len(set(full.vertex_of().values()))
    assert "<svg" in boxed.html
    cut = walkthrough(loss, max_nodes=5)
    assert len(cut.vertex_of()) < len(full.vertex_of()) and "more node" in cut.html


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="walkthrough: root must be a Value or a Tensor"):
        walkthrough(3.0)
    with pytest.raises(ValueError, match=r"walkthrough: root must have one element.*\(2,\)"):
        walkthrough(Tensor(np.ones(2), requires_grad=True) * 2)
    with pytest.raises(ValueError, match="walkthrough: root does not require grad"):
        walkthrough(Tensor(np.ones(())) * 2)
    with pytest.raises(ValueError, match="collapse must be None or 'scope'"):
        walkthrough(Value(1.0) * 2, collapse="module")
    f, _ = worked_example()
    f.backward()
    with pytest.raises(RuntimeError, match=r"walkthrough: the graph was already consumed.*before root.backward"):
        walkthrough(f)
    g, _ = worked_example()
    g.backward(retain_graph=True)
    assert backward_steps(walkthrough(g))[-1].upstream == 0.25
