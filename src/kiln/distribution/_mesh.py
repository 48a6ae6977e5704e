"""Devices, meshes and layouts: Keras's `DeviceMesh`, `TensorLayout` and `LayoutMap` on
`jax.sharding`."""

from __future__ import annotations

import collections.abc
import math
import re
from typing import Any, Iterator

import jax
import numpy as np


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of `device_type` ("cpu", "gpu" or "tpu"; default: JAX's default backend)
    as Keras's strings, `"<platform>:<id>"`.

    Example:
        >>> list_devices("cpu")[0]
        'cpu:0'
    """
    devices = jax.devices(device_type.lower()) if device_type else jax.devices()
    return [f"{d.platform}:{d.id}" for d in devices]


def get_device_count(device_type: str | None = None) -> int:
    """How many devices of `device_type` there are (all processes together).

    Example:
        >>> get_device_count("cpu") >= 1
        True
    """
    return len(jax.devices(device_type.lower()) if device_type else jax.devices())


def _to_jax_device(device: Any) -> Any:
    if not isinstance(device, str):
        return device
    kind, _, index = device.partition(":")
    for d in jax.devices(kind.lower()):
        if str(d.id) == index:
            return d
    raise ValueError(f"Unknown device {device!r}; expected one of "
                     f"{list_devices(kind.lower())} (see kiln.distribution.list_devices()).")


class DeviceMesh:
    """A grid of devices with named axes, the stage a `Distribution` shards over.

    Args:
        shape: the grid's shape, e.g. `(2, 4)`; its product is the number of devices.
        axis_names: one name per axis, e.g. `("batch", "model")`.
        devices: the devices (strings such as "cpu:0" or JAX devices); default: all of them.

    Example:
        >>> mesh = DeviceMesh((1,), ["batch"], devices=["cpu:0"])
        >>> mesh.shape, mesh.axis_names, mesh.devices.shape
        ((1,), ['batch'], (1,))
    """

    def __init__(self, shape: Any, axis_names: Any, devices: Any = None):
        if not shape or not axis_names:
            raise ValueError(f"DeviceMesh needs a non-empty shape and axis_names; received "
                             f"shape={shape}, axis_names={axis_names}.")
        if len(shape) != len(axis_names):
            raise ValueError(f"DeviceMesh's shape and axis_names must have the same length; "
                             f"received shape={shape} ({len(shape)} axes) and axis_names="
                             f"{axis_names} ({len(axis_names)}). Name every axis once.")
        devices = np.array(list_devices() if devices is None else devices, dtype=object)
        if math.prod(shape) != devices.size:
            raise ValueError(f"DeviceMesh shape {tuple(shape)} holds {math.prod(shape)} "
                             f"devices but {devices.size} were given (devices.shape="
                             f"{devices.shape}). Pass a shape whose product is {devices.size}, "
                             "or the matching list of devices.")
        self._shape = tuple(shape)
        self._axis_names = list(axis_names)
        self._devices = devices.reshape(shape)
        self._jax_mesh = None

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def axis_names(self) -> list:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def backend_mesh(self) -> jax.sharding.Mesh:
        """The `jax.sharding.Mesh` of these devices."""
        if self._jax_mesh is None:
            flat = [_to_jax_device(d) for d in self._devices.flatten()]
            grid = np.array(flat, dtype=object).reshape(self._shape)
            self._jax_mesh = jax.sharding.Mesh(grid, tuple(self._axis_names))
        return self._jax_mesh

    def __repr__(self) -> str:
        return (f"<DeviceMesh shape={self._shape}, axis_names={self._axis_names}>")


class TensorLayout:
    """How one tensor is split over a mesh: one mesh axis name (or None, not split) per
    tensor dimension.

    Args:
        axes: e.g. `(None, "model")` splits the last dimension over the "model" axis.
        device_mesh: the mesh; a `LayoutMap` fills it in when None.

    Example:
        >>> mesh = DeviceMesh((1,), ["model"], devices=["cpu:0"])
        >>> TensorLayout((None, "model"), mesh).backend_layout.spec
        P(None, 'model')
    """

    def __init__(self, axes: Any, device_mesh: DeviceMesh | None = None):
        self._axes = tuple(axes)
        self._device_mesh = None
        self.device_mesh = device_mesh

    @property
    def axes(self) -> tuple:
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh | None) -> None:
        if self._device_mesh is not None:
            raise ValueError(f"This TensorLayout already has a device mesh "
                             f"({self._device_mesh}); create a new TensorLayout instead.")
        self._device_mesh = device_mesh
        if device_mesh is not None:
            self._validate_axes()

    def _validate_axes(self) -> None:
        names = set(self._device_mesh.axis_names)
        bad = [a for a in self._axes if a is not None and a not in names]
        if bad:
            raise ValueError(f"TensorLayout axes {list(self._axes)} name {bad}, which the mesh "
                             f"does not have; its axes are {self._device_mesh.axis_names}. "
                             "Use those names or None.")

    @property
    def backend_layout(self) -> jax.sharding.NamedSharding:
        """The `jax.sharding.NamedSharding` of this layout."""
        if self._device_mesh is None:
            raise ValueError("This TensorLayout has no device mesh; pass `device_mesh=` or "
                             "put it in a LayoutMap, which gives it the map's mesh.")
        spec = jax.sharding.PartitionSpec(*self._axes)
        return jax.sharding.NamedSharding(self._device_mesh.backend_mesh, spec)

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self._axes}, device_mesh={self._device_mesh}>"


class LayoutMap(collections.abc.MutableMapping):
    """Variable paths (or regular expressions over them) to `TensorLayout`s.

    A lookup returns the layout of the exact key, else of the one key that `re.fullmatch`es
    the path (several matching keys are an error), else None.

    Example:
        >>> mesh = DeviceMesh((1,), ["model"], devices=["cpu:0"])
        >>> layouts = LayoutMap(mesh)
        >>> layouts["dense.*kernel"] = (None, "model")
        >>> layouts["dense_1/kernel"].axes, layouts["dense_1/bias"]
        ((None, 'model'), None)
    """

    def __init__(self, device_mesh: DeviceMesh | None):
        self._layout_map: dict[str, TensorLayout] = {}
        self._device_mesh = device_mesh

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    def __getitem__(self, key: str) -> TensorLayout | None:
        if key in self._layout_map:
            return self._layout_map[key]
        matches = [p for p in self._layout_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(f"Path {key!r} matches several LayoutMap keys: {matches}. Make "
                             "the patterns exclusive so that each path matches at most one.")
        return self._layout_map[matches[0]] if matches else None

    def __setitem__(self, key: str, layout: Any) -> None:
        if key in self._layout_map:
            raise ValueError(f"{key!r} is already in the LayoutMap (as "
                             f"{self._layout_map[key]}); delete it first to replace it.")
        if isinstance(layout, tuple):
            layout = TensorLayout(layout)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"LayoutMap values must be TensorLayout or a tuple of axis names; "
                             f"received {type(layout).__name__} {layout!r}.")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key: str) -> None:
        del self._layout_map[key]

    def __len__(self) -> int:
        return len(self._layout_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout_map)
