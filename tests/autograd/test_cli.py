"""`python -m autograd walkthrough|explain|draw EXPRESSION --at ...`: ast, never eval."""

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, explain
from autograd.cli import ExpressionError, main, parse_expression
from tests.support.gradients import central_difference
from tests.support.walkthrough_cases import worked_example

NOTES = "1 / (exp(-(w*x + b)) + 1)"


def test_walkthrough_command_writes_the_worked_example_page(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["walkthrough", NOTES, "--at", "x=1", "w=0", "b=0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "f = 0.5; df/dx = 0, df/dw = 0.25, df/db = 0.25"
    page = out.read_text(encoding="utf-8")
    assert "df/dh5 = -1/h5^2 = -0.25; upstream 1; sends -0.25" in page
    assert "df/dw = 0.25   (w.grad)" in page


def test_module_runs_from_the_shell(tmp_path):
    out = tmp_path / "page.html"
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "walkthrough", NOTES, "--at", "x=1", "w=0", "b=0", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.exists() and "wrote" in done.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "autograd", "draw", "x.data", "--at", "x=1"], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "attribute access is not allowed" in refused.stderr


def test_explain_command_prints_explain_tables(capsys):
    main(["explain", NOTES, "--at", "x=1", "w=0", "b=0", "--wrt", "w", "b"])
    f, (x, w, b) = worked_example()
    assert capsys.readouterr().out == f"{explain(f, wrt=w)}\n\n{explain(f, wrt=b)}\n"
    main(["explain", "x * y", "--at", "x=2", "y=3"])  # default: every variable
    printed = capsys.readouterr().out
    assert "df/dx = 3" in printed and "df/dy = 2" in printed


def test_draw_command_prints_dot_or_writes_a_picture(tmp_path, capsys):
    main(["draw", NOTES, "--at", "x=1", "w=0", "b=0"])
    dot = capsys.readouterr().out
    assert dot.startswith("digraph computation_graph") and 'label="w\\ndata 0' in dot
    main(["draw", NOTES, "--at", "x=1", "w=0", "b=0", "--direction", "backward", "--out", str(tmp_path / "g.svg")])
    svg = (tmp_path / "g.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "grad 0.25" in svg


# Random expressions, written as text and as Python functions of floats (the oracle).
FUNCTIONS = {
    "exp": math.exp,
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
}
leaf = st.sampled_from(
    [("x", lambda x, y: x), ("y", lambda x, y: y), ("0.5", lambda x, y: 0.5), ("2", lambda x, y: 2.0)]
)


def extend(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
        lambda t: (
            f"({t[0][0]} {t[1]} {t[2][0]})",
            lambda x, y, t=t: {
                "+": t[0][1](x, y) + t[2][1](x, y),
                "-": t[0][1](x, y) - t[2][1](x, y),
                "*": t[0][1](x, y) * t[2][1](x, y),
            }[t[1]],
        )
    )
    divide = st.tuples(children, children).map(
        lambda t: (f"({t[0][0]}) / (({t[1][0]}) ** 2 + 1)", lambda x, y, t=t: t[0][1](x, y) / (t[1][1](x, y) ** 2 + 1))
    )
    unary = st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(
        lambda t: (f"{t[0]}(-({t[1][0]}))", lambda x, y, t=t: FUNCTIONS[t[0]](-t[1][1](x, y)))
    )
    return binary | divide | unary


expressions = st.recursive(leaf, extend, max_leaves=6)


@settings(max_examples=30, deadline=None)
@given(expressions, st.floats(-1, 1), st.floats(-1, 1))
def test_parsed_expressions_have_the_right_values_and_gradients(expression, x0, y0):
    text, oracle = expression
    variables = {name: v for name, v in (("x", x0), ("y", y0)) if name in text.replace("exp", "")}
    try:
        f, leaves = parse_expression(text, variables)
    except ExpressionError as exc:
        assert "no variable" in str(exc) and not variables
        return
    assert f.data == pytest.approx(oracle(x0, y0), rel=1e-12, abs=1e-12)
    f.backward()
    numeric = central_difference(lambda xv, yv: oracle(float(xv), float(yv)), [np.array(x0), np.array(y0)])
    for name, fd in zip("xy", numeric):
        if name in leaves:
            assert leaves[name].grad == pytest.approx(float(fd), rel=1e-5, abs=1e-6)


def test_closed_forms():
    f, leaves = parse_expression("x ** 3 + 2 ** y - sqrt(x) * log(y) + abs(-x) + relu(x - 5)", {"x": 4.0, "y": 1.0})
    f.backward()
    assert f.data == pytest.approx(64 + 2 - 0 + 4)
    assert leaves["x"].grad == pytest.approx(3 * 16 - 0.25 * 0 + 1)
    assert leaves["y"].grad == pytest.approx(2 * math.log(2) - 2 / 1)
    f, leaves = parse_expression("x ** y", {"x": 2.0, "y": 3.0})
    f.backward()
    assert (leaves["x"].grad, leaves["y"].grad) == pytest.approx((12.0, 8 * math.log(2)))
    f, _ = parse_expression("(2 * 3 - 1) * x / 2", {"x": 1.0})  # constants fold into numbers
    assert f.data == 2.5 and f._parents[0]._parents[0].data == 5.0


@pytest.mark.parametrize(
    "expression, message, marked",
    [
        ("x.data + 1", "attribute access is not allowed", "x.data"),
        ("print(x)", "calling print is not allowed", "print"),
        ("__import__('os').system('ls')", "calling __import__('os').system is not allowed", "__import__('os').system"),
        ("[x for z in x]", "a comprehension is not allowed", "[x for z in x]"),
        ("sum(x for z in x)", "calling sum is not allowed", "sum"),
        ("x[0]", "indexing is not allowed", "x[0]"),
        ("lambda: x", "a lambda is not allowed", "lambda: x"),
        ("x if x else 1", "an if-expression is not allowed", "x if x else 1"),
        ("x < 1", "a comparison is not allowed", "x < 1"),
        ("x ** 1000", "the exponent 1000 is too large", "1000"),
        ("x ** -101", "the exponent -101 is too large", "-101"),
        ("2 ** 10 ** 10", "the exponent 1e+10 is too large", "10 ** 10"),
        ("x ^ 2", "write powers with **, not ^", "x ^ 2"),
        ("x // 2", "this operator is not allowed (use /)", "x // 2"),
        ("~x", "the operator '~' is not allowed", "~x"),
        ("exp(x, 2)", "exp takes exactly one argument", "exp(x, 2)"),
        ("exp(x=1)", "exp takes exactly one argument", "exp(x=1)"),
        ("exp + x", "exp is a function: write exp(...)", "exp"),
        ("x + y", "y is not a variable: give its value with --at y=...", "y"),
        ("'a' + x", "'a' is not a number", "'a'"),
        ("True * x", "True is not a number", "True"),
        ("1j * x", "1j is not a number", "1j"),
        ("1e999 * x", "this part is inf (not a finite number)", "1e999"),
        ("x + (1 / 0)", "this part is inf", "1 / 0"),
        ("x * log(-1)", "this part is nan", "log(-1)"),
    ],
)
def test_refusals_point_at_the_offending_part(expression, message, marked):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(expression, {"x": 1.0})
    lines = str(caught.value).splitlines()
    assert message in lines[0]
    assert lines[1] == "  " + expression
    start = lines[2].index("^")
    assert lines[2][start:] == "^" * len(marked) and expression[start - 2 :].startswith(marked)


def test_other_refusals():
    with pytest.raises(ExpressionError, match=r"not valid syntax"):
        parse_expression("x + (", {"x": 1.0})
    with pytest.raises(ExpressionError, match="--at gives y, which the expression does not use"):
        parse_expression("x + 1", {"x": 1.0, "y": 2.0})
    with pytest.raises(ExpressionError, match="no variable"):
        parse_expression("1 + 2", {})
    with pytest.raises(ExpressionError, match="at most 2000"):
        parse_expression("x + " * 600 + "x", {"x": 1.0})
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_expression("-" * 1500 + "x", {"x": 1.0})
    with pytest.raises(ExpressionError, match="not a function's name"):
        parse_expression("exp(1) * x", {"exp": 1.0, "x": 1.0})
    with pytest.raises(TypeError, match="parse_expression: the expression must be a str"):
        parse_expression(None, {})


def test_command_line_argument_errors(capsys):
    for argv, message in [
        (["walkthrough", "x", "--at", "x"], "'x' is not NAME=NUMBER"),
        (["walkthrough", "x", "--at", "x=a"], "'a' is not a number"),
        (["walkthrough", "x", "--at", "x=inf"], "finite number"),
        (["walkthrough", "x", "--at", "x=1", "x=2"], "--at gives a variable twice"),
        (["explain", "x", "--at", "x=1", "--wrt", "z"], "--wrt z: not a variable"),
        (["walkthrough", "x.y", "--at", "x=1"], "walkthrough: attribute access"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and message in capsys.readouterr().err, argv


def test_every_function_of_the_method_table_is_accepted_with_its_value_and_slope():
    # the parser reads its functions from the table Value and Tensor share (docs/design.md)
    from autograd.node import shared_elementwise

    for name in shared_elementwise():
        f, leaves = parse_expression(f"{name}(x)", {"x": 0.7})
        f.backward()
        x = Value(0.7)
        expected = getattr(x, name)()
        expected.backward()
        assert f.data == expected.data and leaves["x"].grad == x.grad, name
    f, leaves = parse_expression("log1p(x)", {"x": 0.5})
    f.backward()
    assert math.isclose(f.data, math.log(1.5)) and math.isclose(leaves["x"].grad, 1 / 1.5)
