"""Saving and loading parameters as .npz archives: no pickle in either direction."""

import errno
import os
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from .module import Module

# Everything reading a damaged archive can raise (zip structure, compression, .npy headers).
# what NumPy and zipfile raise on damaged archives (NotImplementedError: a mangled compression method)
_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    KeyError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
)


def _temporary_beside(path):
    """(fd, name) of a new file in path's directory, created with mode 0o666 so that the
    umask applies as it does for open(). The name takes at most 40 characters of the
    target's, so a target name at the file system's length limit works."""
    directory, name = os.path.split(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "save: the directory does not exist", directory)
    while True:
        tmp = os.path.join(directory, f"{name[:40]}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue  # 64 random bits: taken only by a leftover of a crash
        return fd, tmp


def save(model: Module | Mapping[str, npt.ArrayLike], path: str | os.PathLike[str]) -> None:
    """Write `model.state_dict()` (or a dict of arrays) to exactly `path` as an .npz archive.

    The archive is written to a temporary file in the same directory and then
    renamed over `path`, so a crash never leaves a half-written file there.
    Unlike np.savez, no ".npz" is appended and any key is allowed. The file gets
    the mode open() would give it; a symbolic link is written through, as open()
    does; a missing directory raises FileNotFoundError naming it.
    """
    state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
    path = os.path.realpath(os.fspath(path))
    try:
        existing_mode = stat.S_IMODE(os.stat(path).st_mode)  # open() keeps a file's mode
    except FileNotFoundError:
        existing_mode = None
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
                for name, value in state.items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        if existing_mode is not None:
            os.chmod(tmp, existing_mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_state(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The state dict saved by `save`, for `Module.load_state_dict`.

    Read with allow_pickle=False: a corrupt, truncated or pickled file, or one
    that is not an .npz archive, raises ValueError (nothing is ever unpickled).
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except _READ_ERRORS as exc:
        raise ValueError(f"load_state: {path} is not a readable .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load_state: {path} holds a single array, not an .npz archive of parameters")
    try:
        with archive:
            return {name: archive[name] for name in archive.files}
    except _READ_ERRORS as exc:
        raise ValueError(f"load_state: {path} is corrupt or truncated ({exc})") from None
