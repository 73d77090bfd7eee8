"""Safe files: nn.load_state refuses damaged, foreign and pickled files with a ValueError (and
never unpickles), load_state_dict names every missing, extra and misshapen key, and nn.save
replaces a model file atomically: a save that fails half-way leaves the old file as it was."""

import os

import numpy as np
import pytest

import nn


@pytest.fixture
def model():
    return nn.MLP([3, 4, 2], rng=0)


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "model.npz"
    nn.save(model, path)
    return path, path.read_bytes()


def assert_refused(path, *words):
    with pytest.raises(ValueError, match="load_state") as info:
        nn.load_state(path)
    for word in (str(path), *words):
        assert word in str(info.value)


def test_save_writes_exactly_the_path_and_loads_back_bit_for_bit(tmp_path):
    model = nn.MLP([3, 4, 2], rng=0, dtype=np.float32)
    path = tmp_path / "weights"  # no suffix, and none is added
    nn.save(model, path)
    assert os.listdir(tmp_path) == ["weights"]
    state = nn.load_state(path)
    assert state.keys() == model.state_dict().keys()
    for name, array in model.state_dict().items():
        assert state[name].dtype == np.float32 and np.array_equal(state[name], array)


def test_a_file_cut_short_anywhere_is_refused(saved):
    path, data = saved
    for length in range(len(data)):
        path.write_bytes(data[:length])
        assert_refused(path)


def test_a_flipped_byte_in_an_array_is_refused_naming_its_key(saved, model):
    path, data = saved
    for name, array in model.state_dict().items():
        start = data.index(array.tobytes())  # stored uncompressed: the values are in the file
        for offset in (start, start + array.nbytes - 1):
            damaged = bytearray(data)
            damaged[offset] ^= 0xFF
            path.write_bytes(bytes(damaged))
            assert_refused(path, f"{name}.npy")  # zip's CRC-32 of that member


@pytest.mark.parametrize("content", [b"", b"not an archive at all", b"PK\x03\x04" + b"\x00" * 40])
def test_files_that_are_no_archive_are_refused(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    assert_refused(path)


def test_a_single_array_file_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as f:
        np.save(f, np.ones(3))
    assert_refused(path, "single array")


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load_state(tmp_path / "nothing.npz")


def _leave_a_mark(path):
    """What unpickling the planted object would call: it writes `path`."""
    with open(path, "w") as f:
        f.write("unpickled")


class Planted:
    def __init__(self, mark):
        self.mark = mark

    def __reduce__(self):
        return _leave_a_mark, (self.mark,)


def test_a_pickled_object_is_refused_and_never_unpickled(model, tmp_path):
    mark = tmp_path / "was_unpickled"
    state = model.state_dict()
    state["0.weight"] = np.array([Planted(str(mark))], dtype=object)
    path = tmp_path / "model.npz"
    np.savez(path, **state)  # np.savez pickles object arrays
    assert_refused(path, "pickle")
    assert not mark.exists(), "load_state unpickled the planted object"


def test_load_state_dict_names_every_missing_extra_and_misshapen_key(model):
    before = model.state_dict()
    state = dict(before)
    del state["0.bias"], state["2.weight"]
    state["9.weight"] = np.ones(2)
    state["2.bias"] = np.ones(5)
    with pytest.raises(ValueError, match=r"load_state_dict \(MLP\)") as info:
        model.load_state_dict(state)
    message = str(info.value)
    for part in (
        "missing keys ['0.bias', '2.weight']",
        "unexpected keys ['9.weight']",
        r"2.bias has shape (5,), expected (2,)",
    ):
        assert part in message
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in before.items()), "model was changed"


def test_a_file_with_a_misshapen_array_is_refused_by_load_state_dict(model, tmp_path):
    state = model.state_dict()
    state["0.weight"] = state["0.weight"].T
    path = tmp_path / "model.npz"
    nn.save(state, path)
    with pytest.raises(ValueError, match=r"0\.weight has shape \(3, 4\), expected \(4, 3\)"):
        model.load_state_dict(nn.load_state(path))


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash", [Crash, KeyboardInterrupt])
def test_a_save_that_fails_half_way_leaves_the_old_file_and_no_temporary(model, saved, monkeypatch, crash):
    path, old = saved
    written = []
    real_writer = np.lib.format.write_array

    def writer(fh, array, *args, **kwargs):
        if written:
            raise crash("the disk filled up")  # after the first array is written
        written.append(array.shape)
        real_writer(fh, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", writer)
    for p in model.parameters():
        p.data = p.data + 1.0
    with pytest.raises(crash):
        nn.save(model, path)
    assert written, "the writer was not the one nn.save uses"
    assert path.read_bytes() == old
    assert os.listdir(path.parent) == [path.name]


def test_a_failed_rename_leaves_no_temporary(model, saved, monkeypatch):
    path, old = saved

    def refuse(src, dst):
        raise PermissionError(f"cannot replace {dst}")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        nn.save(model, path)
    assert path.read_bytes() == old
    assert os.listdir(path.parent) == [path.name]
