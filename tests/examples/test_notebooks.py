"""Every notebook in notebooks/ runs from top to bottom without an error, and is stored clean.

Each notebook asserts numbers from the course in its cells, so running it is
the check. Needs the `notebooks` extra (nbclient, nbformat, ipykernel), which
`make setup` installs.
"""

import pathlib

import pytest

pytestmark = pytest.mark.slow  # executes every notebook

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
INSTALL = "pip install -e '.[notebooks]' (nbclient, nbformat, ipykernel); `make setup` does it"


def read(path):
    try:
        import nbformat
    except ImportError:
        pytest.fail(f"the notebook tests need nbformat, which is not installed: {INSTALL}")
    return nbformat.read(path, as_version=4)


def test_the_course_has_its_notebooks_in_order():
    assert [p.name for p in NOTEBOOKS] == [
        "01_neuron_and_activations.ipynb",
        "02_worked_example.ipynb",
        "03_backprop_by_hand.ipynb",
        "04_digits.ipynb",
        "05_phenomena.ipynb",
        "06_three_ways.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs_and_asserts_something(path):
    notebook = read(path)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "clear the outputs before committing"
    assert any("assert " in c.source for c in code)
    text = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), "the course's Chinese terms are missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path):
    try:
        from nbclient import NotebookClient
    except ImportError:
        pytest.fail(f"the notebook tests need nbclient, which is not installed: {INSTALL}")
    notebook = read(path)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
