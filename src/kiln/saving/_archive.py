"""The `.keras` zip (`config.json`, `metadata.json`, `model.weights.h5`) and atomic writes.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> atomic_write(path, lambda f: f.write(b"hi"))
    >>> open(path, "rb").read()
    b'hi'
"""

from __future__ import annotations

import datetime
import io
import json
import os
import tempfile
import zipfile
import zlib
from typing import Any, Callable

from . import _safety

__all__ = ["KERAS_VERSION", "atomic_write", "read_archive", "write_archive"]

KERAS_VERSION = "3.15.1"  # the Keras release whose format kiln writes
_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


def atomic_write(filepath: str, write: Callable[[Any], Any]) -> None:
    """Calls `write(fileobj)` on a temporary file next to `filepath`, then fsyncs and
    `os.replace`s it over `filepath`; on any error the old file is intact and no temp is
    left. A folder that cannot be written raises PermissionError naming it."""
    folder = os.path.dirname(os.path.abspath(filepath))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".kiln-", suffix=".tmp", dir=folder)
    except PermissionError as e:
        raise PermissionError(f"Cannot write {filepath!r}: the folder {folder!r} is not "
                              "writable. Choose another path or fix its permissions.") from e
    try:
        with os.fdopen(fd, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_archive(fileobj: Any, config: dict, weights: bytes) -> None:
    """Writes the three members of a `.keras` archive to an open binary file."""
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps(metadata))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", weights)


def read_archive(filepath: str) -> tuple[dict, bytes]:
    """`(config, weights bytes)` of a `.keras` archive, read in memory after the checks of
    `_safety.check_zip`. Raises ValueError for anything that is not a valid archive."""
    size = os.path.getsize(filepath)
    try:
        with zipfile.ZipFile(filepath, "r") as zf:
            _safety.check_zip(zf, size)
            names = set(zf.namelist())
            if "config.json" not in names:
                raise ValueError(f"{filepath!r} is not a .keras archive: it has no config.json "
                                 f"(members: {sorted(names)[:10]}).")
            config = json.loads(zf.read("config.json").decode("utf-8"))
            weights = zf.read("model.weights.h5") if "model.weights.h5" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, UnicodeDecodeError,
            json.JSONDecodeError, NotImplementedError, OSError, zlib.error) as e:
        raise ValueError(f"Cannot read {filepath!r} as a .keras archive ({type(e).__name__}: "
                         f"{e}). Is it a complete file saved by kiln or Keras 3?") from e
    if not isinstance(config, dict):
        raise ValueError(f"{filepath!r}: config.json holds {type(config).__name__}, "
                         "expected a dict.")
    return config, weights


def as_fileobj(data: bytes) -> io.BytesIO:
    """`data` as a seekable binary file."""
    return io.BytesIO(data)
