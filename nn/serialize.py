"""Saving and loading parameters as .npz archives: no pickle in either direction."""
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

# Everything reading a damaged archive can raise (zip structure, compression, .npy headers).
# what NumPy and zipfile raise on damaged archives (NotImplementedError: a mangled compression method)
_READ_ERRORS = (ValueError, OSError, EOFError, KeyError, NotImplementedError, zipfile.BadZipFile,
                zlib.error, struct.error)


def save(model, path):
    """Write `model.state_dict()` (or a dict of arrays) to exactly `path` as an .npz archive.

    The archive is written to a temporary file in the same directory and then
    renamed over `path`, so a crash never leaves a half-written file there.
    Unlike np.savez, no ".npz" is appended and any key is allowed.
    """
    state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               prefix=os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
                for name, value in state.items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_state(path):
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
