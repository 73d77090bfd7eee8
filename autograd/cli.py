"""`python -m autograd walkthrough|explain|draw EXPRESSION --at x=1 w=0 b=0`.

For a student who wants to try an expression without writing a program:

    python -m autograd walkthrough "1 / (exp(-(w*x + b)) + 1)" --at x=1 w=0 b=0 --out page.html

The expression is read with `ast` and turned into `Value` operations; it is
never evaluated as Python. Allowed: numbers, the names given with --at, the
operators + - * / ** (and unary -, +), parentheses, and the functions of
the method table Value and Tensor share (exp, log, log1p, sqrt, sin, cos,
tanh, sigmoid, relu, abs), each with one argument. Anything else is refused with a message that underlines the part
of the expression at fault.
"""

import argparse
import ast
import math
import sys
from collections.abc import Sequence

from .draw import GraphvizNotFound, draw_graph, render_graph
from .engine import no_grad
from .explain import explain
from .node import shared_elementwise
from .value import Value
from .walkthrough import walkthrough

__all__ = ["parse_expression", "ExpressionError", "main"]

FUNCTIONS = tuple(shared_elementwise())  # the method table's functions: a new op is usable here too
MAX_EXPONENT = 100  # a constant exponent beyond this is refused: x ** 1e6 is a typo, not a lesson
MAX_LENGTH = 2000  # characters; a longer expression is refused before parsing
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}
_ALLOWED = (
    "allowed: numbers, the names given with --at, + - * / ** and parentheses, and "
    + ", ".join(FUNCTIONS)
    + " of one argument"
)
# What the refused kinds of syntax are called in messages; others use their ast class name.
_KINDS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "an if-expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "a string",
    ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "unpacking (*)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_OPERATOR_HINTS = {ast.BitXor: " (write powers with **, not ^)", ast.FloorDiv: " (use /)"}


class ExpressionError(ValueError):
    """An expression the command line refuses; the message underlines the offending part."""


def _point(text, node, message):
    """ExpressionError: the message, the expression, and ^^^ under `node` (one line of text)."""
    start = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", None) or start + 1
    return ExpressionError(f"{message}\n  {text}\n  {' ' * start}{'^' * max(1, end - start)}\n{_ALLOWED}")


def parse_expression(text: str, variables: dict) -> tuple:
    """(f, leaves): the Value graph of `text` and {name: its leaf Value} (labelled by the name).

    `variables` maps names to numbers. The root is labelled 'f'. Raises
    ExpressionError for anything but the allowed syntax, for names that are
    not variables, and for variables the expression does not use.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_expression: the expression must be a str, got {type(text).__name__}")
    text = " ".join(text.split())  # one line, so the ^^^ marks line up
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression has {len(text)} characters; at most {MAX_LENGTH} are read")
    for name in variables:
        if not name.isidentifier() or name in FUNCTIONS:
            raise ExpressionError(f"--at {name}=...: a variable needs a name like x or w1, not a function's name")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = max(0, (exc.offset or 1) - 1)
        raise ExpressionError(
            f"the expression is not valid syntax ({exc.msg})\n  {text}\n  {' ' * column}^\n{_ALLOWED}"
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply to read") from None
    leaves = {name: Value(float(v), label=name) for name, v in variables.items()}
    used: set[str] = set()
    try:
        root = _Builder(text, leaves, used).build(tree.body)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply to read") from None
    unused = [name for name in variables if name not in used]
    if unused:
        raise ExpressionError(f"--at gives {', '.join(unused)}, which the expression does not use (a typo?)\n  {text}")
    if not isinstance(root, Value):
        raise ExpressionError(f"the expression has no variable, so there is nothing to differentiate\n  {text}")
    root.label = "f"
    return root, leaves


class _Builder:
    """Walks the ast: Values where a variable is involved, floats for constant parts."""

    def __init__(self, text, leaves, used):
        self.text, self.leaves, self.used = text, leaves, used

    def refuse(self, node, message):
        return _point(self.text, node, message)

    def build(self, node):
        kind = type(node)
        if kind is ast.Constant:
            return self.number(node)
        if kind is ast.Name:
            return self.name(node)
        if kind is ast.UnaryOp:
            if type(node.op) not in (ast.USub, ast.UAdd):
                raise self.refuse(node, f"the operator {_source(self.text, node)[:1]!r} is not allowed")
            operand = self.build(node.operand)
            return self.constant(node, -operand if type(node.op) is ast.USub else operand)
        if kind is ast.BinOp:
            return self.binary(node)
        if kind is ast.Call:
            return self.call(node)
        what = _KINDS.get(kind, type(node).__name__)
        raise self.refuse(node, f"{what} is not allowed in an expression")

    def number(self, node):
        if type(node.value) not in (int, float):  # bool, str, bytes, complex, None, ...
            raise self.refuse(node, f"{node.value!r} is not a number this engine differentiates")
        try:
            value = float(node.value)
        except OverflowError:
            value = math.inf
        return self.constant(node, value)

    def constant(self, node, value):
        """A constant part must be a finite float; a Value passes through."""
        if isinstance(value, Value):
            return value
        if not math.isfinite(value):
            raise self.refuse(node, f"this part is {value} (not a finite number)")
        return value

    def name(self, node):
        if node.id in FUNCTIONS:
            raise self.refuse(node, f"{node.id} is a function: write {node.id}(...)")
        if node.id not in self.leaves:
            given = ", ".join(self.leaves) or "none"
            raise self.refuse(
                node, f"{node.id} is not a variable: give its value with --at {node.id}=... (variables given: {given})"
            )
        self.used.add(node.id)
        return self.leaves[node.id]

    def binary(self, node):
        op = _OPERATORS.get(type(node.op))
        if op is None:
            hint = _OPERATOR_HINTS.get(type(node.op), "")
            raise self.refuse(node, f"this operator is not allowed{hint}")
        a, b = self.build(node.left), self.build(node.right)
        if op == "**" and not isinstance(b, Value) and abs(b) > MAX_EXPONENT:
            raise self.refuse(node.right, f"the exponent {b:g} is too large (at most {MAX_EXPONENT} in size)")
        if isinstance(a, Value) or isinstance(b, Value):
            return _ARITHMETIC[op](a, b)
        with no_grad():  # a constant part: Value's IEEE arithmetic
            return self.constant(node, _ARITHMETIC[op](Value(a), b).data)

    def call(self, node):
        func = node.func
        if type(func) is not ast.Name or func.id not in FUNCTIONS:
            called = _source(self.text, func)
            raise self.refuse(func, f"calling {called} is not allowed (only {', '.join(FUNCTIONS)})")
        if node.keywords or len(node.args) != 1 or type(node.args[0]) is ast.Starred:
            raise self.refuse(node, f"{func.id} takes exactly one argument, like {func.id}(x)")
        arg = self.build(node.args[0])
        if isinstance(arg, Value):
            return getattr(arg, func.id)()
        with no_grad():  # a function of a constant is a constant
            return self.constant(node, getattr(Value(arg), func.id)().data)


def _source(text, node):
    return text[node.col_offset : node.end_col_offset]


# The command line -----------------------------------------------------------------------


def _assignment(text):
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=NUMBER (like x=1)")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{text!r}: the value must be a finite number")
    return name.strip(), number


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m autograd",
        description="Try an expression without writing a program: step through its backward pass "
        "(walkthrough), print the chain rule as a table (explain) or draw its graph (draw).",
        epilog=f'example: python -m autograd walkthrough "1 / (exp(-(w*x + b)) + 1)" --at x=1 w=0 b=0 '
        f"--out page.html. {_ALLOWED}.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("expression", help='a formula like "1 / (exp(-(w*x + b)) + 1)"')
    common.add_argument(
        "--at",
        nargs="+",
        type=_assignment,
        default=[],
        metavar="NAME=NUMBER",
        help="the value of every variable, like --at x=1 w=0 b=0",
    )
    page = commands.add_parser("walkthrough", parents=[common], help="write the step-by-step page")
    page.add_argument("--out", default="walkthrough.html", help="the HTML file to write")
    table = commands.add_parser("explain", parents=[common], help="print the chain-rule table")
    table.add_argument(
        "--wrt", nargs="+", metavar="NAME", help="the variables to differentiate by (default: every variable)"
    )
    picture = commands.add_parser("draw", parents=[common], help="draw the graph")
    picture.add_argument("--out", help="an .svg, .png or .pdf file (default: print the DOT text)")
    picture.add_argument(
        "--direction",
        choices=("forward", "backward"),
        default="forward",
        help="edges carry values (forward) or local derivatives (backward)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (0), or exits with 2 and a message."""
    parser = _parser()
    args = parser.parse_args(argv)
    variables = dict(args.at)
    if len(variables) != len(args.at):
        parser.error("--at gives a variable twice")
    try:
        f, leaves = parse_expression(args.expression, variables)
    except ExpressionError as exc:
        parser.error(f"{args.command}: {exc}")
    try:
        if args.command == "walkthrough":
            walk = walkthrough(f)
            path = walk.save(args.out)
            f.backward()
            grads = ", ".join(f"df/d{name} = {leaves[name].grad:g}" for name in variables)
            print(f"f = {f.data:g}; {grads}")
            print(f"wrote {path} ({len(walk.steps)} steps; open it in a browser, then use the arrow keys)")
        elif args.command == "explain":
            unknown = [name for name in args.wrt or () if name not in variables]
            if unknown:
                parser.error(f"explain: --wrt {', '.join(unknown)}: not a variable of the expression")
            for k, name in enumerate(args.wrt or list(variables)):
                print(("\n" if k else "") + str(explain(f, wrt=leaves[name])))
        else:
            if args.direction == "backward":
                f.backward()
            if args.out is None:
                print(draw_graph(f, direction=args.direction).source)
            else:
                fmt = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else "svg"
                print(f"wrote {render_graph(f, args.out, format=fmt, direction=args.direction)}")
    except GraphvizNotFound as exc:
        sys.exit(str(exc))
    return 0
