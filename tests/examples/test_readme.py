"""The README's Python examples run as written, in order, and say what they claim."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_blocks_run_in_order():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 5
    namespace = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        if i == 0:  # the notes' worked example
            f, w, b = namespace["f"], namespace["w"], namespace["b"]
            assert f.data == 0.5 and (w.grad, b.grad) == (0.25, 0.25)
    assert namespace["history"]["val_accuracy"][-1] > 0.9
    assert np.isfinite(namespace["loss"].item())
