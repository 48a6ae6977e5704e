"""Checks made before a saved file is used: zip members, HDF5 objects, names.

Example:
    >>> check_name("dense_1")
    'dense_1'
    >>> check_name("../evil")
    Traceback (most recent call last):
    ...
    ValueError: Refusing the name '../evil' in a saved file: names may not contain path separators or '..'. The file is malformed or crafted; re-save it with kiln or Keras.
"""

from __future__ import annotations

import stat
import zipfile
from typing import Any

import h5py
import numpy as np

__all__ = ["MAX_MEMBERS", "check_h5", "check_name", "check_zip"]

MAX_MEMBERS = 10000
MAX_RATIO = 200  # declared uncompressed size / file size
_SLACK = 1 << 20  # bytes always allowed, for tiny files


def _refuse(what: str) -> ValueError:
    return ValueError(f"Refusing {what}. The file is malformed or crafted; re-save it with "
                      "kiln or Keras.")


def check_name(name: str) -> str:
    """`name` if it is a plain name (no '/', '\\\\' or '..'), else ValueError."""
    if not name or "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise ValueError(f"Refusing the name {name!r} in a saved file: names may not contain "
                         "path separators or '..'. The file is malformed or crafted; re-save it "
                         "with kiln or Keras.")
    return name


def check_zip(zf: zipfile.ZipFile, size: int) -> None:
    """Refuses absolute or `..` member paths, symlinks, too many members, and declared
    uncompressed sizes far beyond the archive's size (decompression bombs)."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(f"an archive with {len(infos)} members (at most {MAX_MEMBERS} allowed)")
    total = 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
            raise _refuse(f"the archive member {name!r} (absolute or '..' path)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(f"the archive member {name!r} (a symbolic link)")
        total += info.file_size
    if total > MAX_RATIO * size + _SLACK:
        raise _refuse(f"an archive of {size} bytes declaring {total} uncompressed bytes "
                      "(a decompression bomb?)")


def check_h5(f: h5py.File, size: int) -> dict[str, np.ndarray]:
    """Every dataset of `f` as `{path: array}`, after refusing links, external storage,
    virtual datasets, object/variable-length dtypes and shapes that dwarf the file."""
    out: dict[str, np.ndarray] = {}
    _visit(f, "", size, out, [0])
    return out


def _visit(group: h5py.Group, prefix: str, size: int, out: dict, budget: list) -> None:
    for name in group.keys():
        check_name(name)
        path = f"{prefix}/{name}" if prefix else name
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise _refuse(f"the HDF5 link '{path}' ({type(link).__name__}): only plain groups "
                          "and datasets are read")
        obj = group[name]
        if isinstance(obj, h5py.Group):
            _visit(obj, path, size, out, budget)
        elif isinstance(obj, h5py.Dataset):
            out[path] = _read(obj, path, size, budget)
        else:
            raise _refuse(f"the HDF5 object '{path}' of type {type(obj).__name__}")


def _read(ds: h5py.Dataset, path: str, size: int, budget: list) -> np.ndarray:
    if ds.is_virtual:
        raise _refuse(f"the virtual dataset '{path}'")
    if ds.external:
        raise _refuse(f"the dataset '{path}' stored in external files")
    kind = ds.dtype.kind
    if kind not in "biufc" or ds.dtype.hasobject or h5py.check_vlen_dtype(ds.dtype) is not None:
        raise _refuse(f"the dataset '{path}' of dtype {ds.dtype} (only numeric arrays are read)")
    nbytes = int(np.prod(ds.shape, dtype=np.int64)) * ds.dtype.itemsize
    budget[0] += nbytes
    if budget[0] > MAX_RATIO * size + _SLACK:
        raise _refuse(f"the dataset '{path}' of shape {ds.shape}: the file's {size} bytes "
                      "cannot hold it (a decompression bomb?)")
    return np.asarray(ds[()])
