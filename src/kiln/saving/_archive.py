"""The `.keras` zip (`config.json`, `metadata.json`, `model.weights.h5`) and atomic writes,
run in place or in a background thread (`BackgroundWriter`).

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
import threading
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from . import _safety

__all__ = ["KERAS_VERSION", "BackgroundWriter", "atomic_write", "read_archive", "wait_for",
           "write_archive"]

KERAS_VERSION = "3.15.1"  # the Keras release whose format kiln writes
_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
_pending: dict[str, threading.Thread] = {}  # absolute path -> the thread writing it
_pending_lock = threading.Lock()


def wait_for(*filepaths: str) -> None:
    """Blocks until no background write of any of `filepaths` is in flight (its error, if
    any, goes to the writer that started it)."""
    for path in filepaths:
        with _pending_lock:
            thread = _pending.get(os.path.abspath(path))
        if thread is not None and thread is not threading.current_thread():
            thread.join()


def atomic_write(filepath: str, write: Callable[[Any], Any]) -> None:
    """Calls `write(fileobj)` on a temporary file next to `filepath`, then fsyncs and
    `os.replace`s it over `filepath`; on any error the old file is intact and no temp is
    left. A folder that cannot be written raises PermissionError naming it."""
    wait_for(filepath)  # a background write of the same file lands first, not after
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


class BackgroundWriter:
    """Runs `atomic_write`s in one background thread, one batch of files at a time: `submit`
    first waits for the previous batch and re-raises its error, `wait` does the same. What
    the write functions capture must already be host data (take copies before `submit`).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> writer = BackgroundWriter()
        >>> writer.submit([(path, lambda f: f.write(b"hi"))])
        >>> writer.wait()
        >>> open(path, "rb").read()
        b'hi'
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, jobs: list[tuple[str, Callable[[Any], Any]]]) -> None:
        """Writes each `(filepath, write)` in order, in the background; stops at an error."""
        self.wait()
        thread = threading.Thread(target=self._run, args=(jobs,), name="kiln-checkpoint-writer")
        with _pending_lock:
            for path, _ in jobs:
                _pending[os.path.abspath(path)] = thread
        self._thread = thread
        thread.start()

    def _run(self, jobs: list[tuple[str, Callable[[Any], Any]]]) -> None:
        try:
            for path, write in jobs:
                atomic_write(path, write)
        except BaseException as e:  # noqa: BLE001 (re-raised in the training thread by wait)
            self._error = e
        finally:
            with _pending_lock:
                for path, _ in jobs:
                    if _pending.get(os.path.abspath(path)) is threading.current_thread():
                        del _pending[os.path.abspath(path)]

    def wait(self) -> None:
        """Joins the write in flight, if any, and re-raises its error."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error


def write_archive(fileobj: Any, config: dict, weights: bytes,
                  metadata: dict | None = None, assets: dict[str, bytes] | None = None) -> None:
    """Writes the members of a `.keras` archive to an open binary file, uncompressed (as
    Keras: deflating the weights costs far more than it saves); `assets` are the layers'
    own files (`assets/<layer path>/<name>`)."""
    metadata = metadata or archive_metadata()
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps(metadata))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", weights)
        for name, data in (assets or {}).items():
            zf.writestr(name, data)


def archive_metadata() -> dict:
    """`metadata.json` for an archive saved now."""
    return {"keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}


def read_archive(filepath: str) -> tuple[dict, bytes, dict[str, bytes]]:
    """`(config, weights bytes, {asset member: bytes})` of a `.keras` archive, read in memory
    after the checks of `_safety.check_zip`. Raises ValueError for anything that is not a
    valid archive."""
    wait_for(filepath)
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
            assets = {n: zf.read(n) for n in sorted(names)
                      if n.startswith("assets/") and not n.endswith("/")}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, UnicodeDecodeError,
            json.JSONDecodeError, NotImplementedError, OSError, zlib.error) as e:
        raise ValueError(f"Cannot read {filepath!r} as a .keras archive ({type(e).__name__}: "
                         f"{e}). Is it a complete file saved by kiln or Keras 3?") from e
    if not isinstance(config, dict):
        raise ValueError(f"{filepath!r}: config.json holds {type(config).__name__}, "  # noqa: TRY004
                         "expected a dict.")
    return config, weights, assets


def as_fileobj(data: bytes) -> io.BytesIO:
    """`data` as a seekable binary file."""
    return io.BytesIO(data)
