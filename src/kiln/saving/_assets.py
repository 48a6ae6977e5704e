"""A layer's own files in a `.keras` archive: Keras's `save_assets(dir)` / `load_assets(dir)`.

A layer that defines `save_assets` writes files into a fresh folder when the model is saved;
they go into the archive as `assets/<layer path>/<file>` (the paths of `model.weights.h5`,
as Keras lays them out). On load, a layer that defines `load_assets` gets a fresh folder
holding just its own files. Member names were checked by `_safety.check_zip` (no absolute or
`..` paths); each is checked again here before it is written, so nothing lands outside the
folder.

Example:
    >>> import kiln
    >>> collect(kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)]))
    {}
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from ..layers._layer import Layer
from ._h5_weights import walk

__all__ = ["collect", "restore"]


def _prefix(path: str) -> str:
    return posixpath.join("assets", path) + "/" if path else "assets/"


def collect(model: Layer) -> dict[str, bytes]:
    """`{archive member name: bytes}` of every file the layers' `save_assets` write."""
    members: dict[str, bytes] = {}
    for path, layer in walk(model):
        save = getattr(layer, "save_assets", None)
        if not callable(save):
            continue
        with tempfile.TemporaryDirectory(prefix="kiln-assets-") as folder:
            save(folder)
            for root, _, files in os.walk(folder):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, folder).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        members[_prefix(path) + rel] = f.read()
    return members


def restore(model: Layer, members: dict[str, bytes]) -> None:
    """Calls each layer's `load_assets` with a folder holding its files from the archive."""
    for path, layer in walk(model):
        load = getattr(layer, "load_assets", None)
        if not callable(load):
            continue
        prefix = _prefix(path)
        with tempfile.TemporaryDirectory(prefix="kiln-assets-") as folder:
            for name, data in members.items():
                if name.startswith(prefix):
                    _write_inside(folder, name[len(prefix):], data)
            load(folder)


def _write_inside(folder: str, rel: str, data: bytes) -> None:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", "..") or "\\" in p for p in parts):
        raise ValueError(f"Refusing the archive member asset {rel!r}: asset names must be "
                         "relative paths without '..' or backslashes.")
    target = os.path.join(folder, *parts)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as f:
        f.write(data)
