"""autograd's modules import one another without a circle: each loads alone in a fresh interpreter,
and the graph of imports between them (module level and inside functions) has no cycle."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "autograd"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    # An empty stand-in for the package, so that autograd/__init__.py's own import order cannot
    # hide a circle: the module under test is the first of the package to load.
    program = (
        "import importlib, sys, types\n"
        f"package = types.ModuleType('autograd'); package.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['autograd'] = package\n"
        f"importlib.import_module('autograd.{module}')\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert run.returncode == 0, f"importing autograd.{module} alone failed:\n{run.stderr}"


def _run_time_statements(tree):
    """Every statement of the module, except what stands under `if TYPE_CHECKING:` (never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imported_siblings(path):
    """The autograd modules a file imports when it runs, wherever the import statement stands."""
    found = set()
    for statement in _run_time_statements(ast.parse(path.read_text())):
        if isinstance(statement, ast.ImportFrom):
            if statement.level == 1 and statement.module:
                found.add(statement.module.split(".")[0])
            elif statement.level == 1:  # from . import engine
                found.update(alias.name for alias in statement.names)
            elif statement.level == 0 and (statement.module or "").startswith("autograd."):
                found.add(statement.module.split(".")[1])
        elif isinstance(statement, ast.Import):
            found.update(alias.name.split(".")[1] for alias in statement.names if alias.name.startswith("autograd."))
    return found & set(MODULES)


def test_no_import_cycle_between_autograd_modules():
    imports = {m: _imported_siblings(PACKAGE / f"{m}.py") for m in MODULES}
    done, on_path = set(), []

    def visit(module):
        if module in on_path:
            cycle = on_path[on_path.index(module) :] + [module]
            raise AssertionError(f"import cycle in autograd: {' -> '.join(cycle)}")
        if module in done:
            return
        on_path.append(module)
        for imported in sorted(imports[module]):
            visit(imported)
        on_path.pop()
        done.add(module)

    for module in MODULES:
        visit(module)


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text("def late():\n    from .engine import apply\n    from . import node\n")
    assert _imported_siblings(source) == {"engine", "node"}


def test_the_cycle_check_ignores_imports_for_type_checkers_only(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .node import Node\n"
        "else:\n    from . import mode\n"
    )
    assert _imported_siblings(source) == {"mode"}
