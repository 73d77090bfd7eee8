"""The public API's type hints, as a user's type checker sees them.

mypy checks a small user program against autograd and nn: the types it infers for the results
of common calls, and the mistakes it must report. A second test builds the packages and looks
for the PEP 561 markers (py.typed) that tell type checkers the installed packages carry hints.
"""

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

USER_PROGRAM = textwrap.dedent(
    """
    import numpy as np

    import autograd
    import nn
    from autograd import Tensor, Value

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    layer = nn.Linear(3, 4, rng=0)

    reveal_type(layer.forward(x))  # R1
    reveal_type(nn.functional.cross_entropy(layer.forward(x), np.array([0, 1])))  # R2
    reveal_type(autograd.gradcheck(lambda t: t.tanh(), x))  # R3
    reveal_type(layer.train())  # R4
    reveal_type(nn.init.xavier_uniform_(nn.Parameter(np.ones((2, 2)))))  # R5
    reveal_type(nn.optim.Adam(layer.parameters()).lr)  # R6
    reveal_type(autograd.trace(lambda t: t * 2, x))  # R7
    reveal_type(autograd.explain(Value(1.0) * Value(2.0), Value(2.0)))  # R8
    reveal_type(nn.functional.relu(np.ones(3)))  # R9: an array is accepted as an input


    @autograd.no_grad()
    def evaluate(t: Tensor) -> Tensor:
        return t * 2


    reveal_type(evaluate)  # R10: no_grad() decorates and keeps the signature

    nn.Linear("3", 4)  # E1: in_features is an int
    nn.functional.softmax(x, axis="last")  # E2: axis is an int
    autograd.gradgradcheck(lambda t: t, x, atl=1e-3)  # E3: a misspelt option of gradcheck
    nn.optim.SGD(layer.parameters(), lr="fast")  # E4: lr is a float
    """
)

EXPECTED_TYPES = {
    "R1": "autograd.tensor.Tensor",
    "R2": "autograd.tensor.Tensor",
    "R3": "bool",
    "R4": "nn.layers.Linear",
    "R5": "nn.module.Parameter",
    "R6": "float",
    "R7": "autograd.trace.TracedFunction",
    "R8": "autograd.explain.Explanation",
    "R9": "autograd.tensor.Tensor",
    "R10": "def (t: autograd.tensor.Tensor) -> autograd.tensor.Tensor",
}
EXPECTED_ERRORS = {"E1": "arg-type", "E2": "arg-type", "E3": "call-arg", "E4": "arg-type"}


def _mypy():
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail('mypy is needed for this test: pip install -e ".[lint]" (or make setup)')


def test_a_user_program_gets_the_public_types_and_its_mistakes_reported(tmp_path):
    _mypy()
    program = tmp_path / "user_program.py"
    program.write_text(USER_PROGRAM)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nignore_missing_imports = True\n")  # graphviz and sympy ship no hints
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            str(program),
        ],
        cwd=ROOT,  # autograd and nn are found as the checkout's sources
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = program.read_text().splitlines()
    tag_of_line = {n + 1: m.group(1) for n, line in enumerate(lines) if (m := re.search(r"# ([RE]\d+)", line))}
    revealed, errors = {}, {}
    for line in result.stdout.splitlines():
        found = re.match(r".*user_program\.py:(\d+): (note|error): (.*)", line)
        if not found or int(found.group(1)) not in tag_of_line:
            continue
        tag, kind, text = tag_of_line[int(found.group(1))], found.group(2), found.group(3)
        if kind == "note" and text.startswith("Revealed type is"):
            # builtins are printed with their module by some mypy versions ("builtins.bool"), not by others
            revealed[tag] = re.match(r'Revealed type is "(.*)"', text).group(1).replace("builtins.", "")
        elif kind == "error":
            errors.setdefault(tag, []).append(text)
    assert revealed == EXPECTED_TYPES, result.stdout
    for tag, code in EXPECTED_ERRORS.items():
        assert any(f"[{code}]" in text for text in errors.get(tag, [])), (tag, result.stdout)
    unexpected = {tag: texts for tag, texts in errors.items() if tag not in EXPECTED_ERRORS}
    assert not unexpected, result.stdout
    assert sum(1 for line in result.stdout.splitlines() if ": error:" in line) == len(EXPECTED_ERRORS), result.stdout


def test_the_build_ships_py_typed_in_both_packages(tmp_path):
    """setuptools' build_py step, which makes what a wheel holds, copies the markers (package-data)."""
    source = tmp_path / "source"
    for name in ("autograd", "nn"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "build_py", "--build-lib", "built"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = source / "built"
    assert (built / "autograd" / "tensor.py").is_file(), result.stdout  # the build did copy the packages
    missing = [name for name in ("autograd/py.typed", "nn/py.typed") if not (built / name).is_file()]
    assert not missing, f"not in the build: {missing}"
