"""nn.save as open() would write: the file's mode follows the umask (or the replaced file's mode),
a name at the file system's length limit works, a missing directory is named in the error."""

import errno
import os
import stat

import numpy as np
import pytest

import nn


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    def set_umask(value):
        previous.append(os.umask(value))

    previous = []
    yield set_umask
    if previous:
        os.umask(previous[0])


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, umask, mask, mode):
    umask(mask)
    path = tmp_path / "model.npz"
    nn.save(nn.Linear(2, 1), path)
    with open(tmp_path / "plain", "w"):
        pass
    assert mode_of(path) == mode == mode_of(tmp_path / "plain")
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "plain"]


def test_replacing_a_file_keeps_its_mode(tmp_path, umask):
    umask(0o077)
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    nn.save(nn.Linear(2, 1, rng=0), path)
    assert mode_of(path) == 0o644
    os.chmod(path, 0o640)
    nn.save(nn.Linear(2, 1, rng=0), path)
    assert mode_of(path) == 0o640
    assert set(nn.load_state(path)) == {"weight", "bias"}


def test_a_symbolic_link_is_written_through_as_open_does(tmp_path):
    real = tmp_path / "real.npz"
    real.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    nn.save(nn.Linear(2, 1, rng=0), link)
    assert link.is_symlink() and set(nn.load_state(real)) == {"weight", "bias"}


def test_a_name_at_the_length_limit_works(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    path = tmp_path / ("m" * (limit - 4) + ".npz")
    model = nn.Linear(3, 2, rng=0)
    nn.save(model, path)
    np.testing.assert_array_equal(nn.load_state(path)["weight"], model.weight.data)
    assert os.listdir(tmp_path) == [path.name]
    with pytest.raises(OSError) as too_long:  # one past it: the file system's own error
        nn.save(model, tmp_path / ("m" * (limit + 1)))
    assert too_long.value.errno == errno.ENAMETOOLONG
    assert os.listdir(tmp_path) == [path.name]


def test_a_missing_directory_raises_file_not_found_naming_it(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(FileNotFoundError, match=r"save: the directory does not exist: '.*/no/such'") as caught:
        nn.save(nn.Linear(2, 1), missing / "model.npz")
    assert caught.value.filename == str(missing) and caught.value.errno == errno.ENOENT
    assert not (tmp_path / "no").exists()
