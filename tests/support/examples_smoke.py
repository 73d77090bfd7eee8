"""Shared by the examples' smoke tests: run one in-process with tiny settings and check its figures."""

import os


def run_example(module, tmp_path, *argv):
    """module.main(argv + --out tmp_path --no-progress); every figure it reports must be a real PNG there."""
    result = module.main([*argv, "--out", str(tmp_path), "--no-progress"])
    assert result["files"], "the example wrote no figure"
    for path in result["files"]:
        assert os.path.dirname(path) == str(tmp_path) and path.endswith(".png")
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000
    return result
