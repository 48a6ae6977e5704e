"""Keras's distribution strategies (`DataParallel`, `ModelParallel`), the global
distribution, `distribute_tensor` and multi-process `initialize`."""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Iterator

import jax
import numpy as np
from jax.experimental import multihost_utils

from .. import _random
from ._mesh import DeviceMesh, LayoutMap, TensorLayout, list_devices

DEFAULT_BATCH_DIM_NAME = "batch"
_GLOBAL = {"distribution": None}


class Distribution:
    """Base class: where a model's variables and data live on a `DeviceMesh`.

    Example:
        >>> dist = DataParallel(devices=["cpu:0"])
        >>> isinstance(dist, Distribution), dist.batch_dim_name
        (True, 'batch')
    """

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True):
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_process = jax.process_count()
        self._process_id = jax.process_index()

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str | None:
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, value: bool) -> None:
        self._auto_shard_dataset = value

    @property
    def num_processes(self) -> int:
        return self._num_process

    @property
    def data_shard_id(self) -> int:
        return self._process_id

    @property
    def num_model_replicas(self) -> int:
        raise NotImplementedError

    def get_data_layout(self, data_shape: Any) -> TensorLayout:
        """The layout of a batch: its first dimension split over the batch axis."""
        axes = [None] * len(data_shape)
        axes[0] = self._batch_dim_name
        return TensorLayout(axes, self._device_mesh)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        raise NotImplementedError

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        raise NotImplementedError

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Makes this the global distribution inside a `with` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device_mesh={self._device_mesh}>"


def _replicated_layout(mesh: DeviceMesh, variable: Any) -> TensorLayout:
    return TensorLayout([None] * len(variable.shape), mesh)


class DataParallel(Distribution):
    """Every device holds all the weights and works on its slice of each batch.

    Args:
        device_mesh: a mesh (its first axis is the batch axis); or
        devices: a list of devices (a 1D mesh with axis "batch"); default: all devices.
        auto_shard_dataset: kept for Keras compatibility (kiln splits each batch).

    Example:
        >>> dist = DataParallel(devices=["cpu:0"])
        >>> dist.get_data_layout((16, 3)).axes, dist.num_model_replicas
        (('batch', None), 1)
    """

    def __init__(self, device_mesh: DeviceMesh | None = None, devices: Any = None,
                 auto_shard_dataset: bool = True):
        if device_mesh:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(f"DataParallel expects `device_mesh` to be a DeviceMesh; "
                                 f"received {type(device_mesh).__name__}.")
            if device_mesh.devices.ndim != 1:
                warnings.warn(f"DataParallel expects a 1D mesh; received "
                              f"{device_mesh.devices.ndim} axes. The first axis "
                              f"({device_mesh.axis_names[0]!r}) splits the batch.")
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            return
        devices = np.array(devices if devices else list_devices(), dtype=object)
        mesh = DeviceMesh(devices.shape, [DEFAULT_BATCH_DIM_NAME], devices)
        super().__init__(mesh, DEFAULT_BATCH_DIM_NAME, auto_shard_dataset)

    @property
    def num_model_replicas(self) -> int:
        return int(self.device_mesh.devices.size)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        """Replicated on every device (or the variable's own `_layout`)."""
        own = getattr(variable, "_layout", None)
        return own if own is not None else _replicated_layout(self.device_mesh, variable)

    def get_tensor_layout(self, path: str) -> None:
        return None


class ModelParallel(Distribution):
    """Variables split over the mesh as a `LayoutMap` says; batches split over the batch
    axis (default: the mesh's first axis).

    Example:
        >>> mesh = DeviceMesh((1, 1), ["batch", "model"], devices=["cpu:0"])
        >>> layouts = LayoutMap(mesh)
        >>> layouts[".*kernel"] = (None, "model")
        >>> dist = ModelParallel(layout_map=layouts)
        >>> dist.batch_dim_name, dist.get_tensor_layout("d/kernel").axes
        ('batch', (None, 'model'))
    """

    def __init__(self, *, layout_map: LayoutMap | None = None, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True, **kwargs: Any):
        kwargs.pop("device_mesh", None)
        if layout_map is None:
            raise ValueError("ModelParallel needs `layout_map=`: a LayoutMap of variable paths "
                             "to layouts. For replicated weights use DataParallel.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(f"ModelParallel's `layout_map` must be a LayoutMap; received "
                             f"{type(layout_map).__name__}.")
        mesh = layout_map.device_mesh
        batch_dim_name = batch_dim_name or mesh.axis_names[0]
        if batch_dim_name not in mesh.axis_names:
            raise ValueError(f"batch_dim_name={batch_dim_name!r} is not an axis of the mesh "
                             f"{mesh.axis_names}; pick one of those.")
        super().__init__(mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def num_model_replicas(self) -> int:
        return int(self.device_mesh.shape[self.device_mesh.axis_names.index(
            self.batch_dim_name)])

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        """The variable's `_layout`, else the LayoutMap's entry for `variable.path`, else
        replicated."""
        own = getattr(variable, "_layout", None)
        if own is not None:
            return own
        layout = self._layout_map[variable.path]
        return layout if layout is not None else _replicated_layout(self.device_mesh, variable)

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        return self._layout_map[path]


def set_distribution(value: Distribution | None) -> None:
    """Sets the global distribution (None: back to one device).

    Example:
        >>> set_distribution(DataParallel(devices=["cpu:0"]))
        >>> type(distribution()).__name__
        'DataParallel'
        >>> set_distribution(None)
    """
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(f"set_distribution expects a Distribution or None; received "
                         f"{type(value).__name__}.")
    _GLOBAL["distribution"] = value


def distribution() -> Distribution | None:
    """The global distribution, or None.

    Example:
        >>> distribution() is None
        True
    """
    return _GLOBAL["distribution"]


def distribute_tensor(tensor: Any, layout: Any) -> Any:
    """`tensor` laid out as `layout` (a TensorLayout or a jax Sharding): moved eagerly, a
    sharding constraint under tracing.

    Example:
        >>> import numpy as np
        >>> mesh = DeviceMesh((1,), ["batch"], devices=["cpu:0"])
        >>> distribute_tensor(np.ones((2, 3)), TensorLayout(("batch", None), mesh)).shape
        (2, 3)
    """
    sharding = layout.backend_layout if isinstance(layout, TensorLayout) else layout
    if isinstance(tensor, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    return jax.device_put(tensor, sharding)


def _from_env(value: Any, name: str, cast: Any) -> Any:
    if value is None and name in os.environ:
        return cast(os.environ[name])
    return value


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Joins this process to a multi-process run (`jax.distributed.initialize`).

    Args:
        job_addresses: "host:port,host:port,..." (the first is the coordinator); default:
            KERAS_DISTRIBUTION_JOB_ADDRESSES.
        num_processes: default: KERAS_DISTRIBUTION_NUM_PROCESSES.
        process_id: this process's index; default: KERAS_DISTRIBUTION_PROCESS_ID.

    Call it first, before anything touches a device. Afterwards every process uses process
    0's global seed, so unseeded weights start equal. `jax.devices()` then lists every
    process's devices and `jax.local_devices()` this process's own; a distribution built
    after it spans them all. For CPU devices the processes need JAX's CPU collectives: this
    JAX uses Gloo over TCP by default, and `initialize` selects it when the
    `jax_cpu_collectives_implementation` option is unset (None); GPUs and TPUs bring
    their own.

    Example:
        >>> callable(initialize)
        True
    """
    job_addresses = _from_env(job_addresses, "KERAS_DISTRIBUTION_JOB_ADDRESSES", str)
    num_processes = _from_env(num_processes, "KERAS_DISTRIBUTION_NUM_PROCESSES", int)
    process_id = _from_env(process_id, "KERAS_DISTRIBUTION_PROCESS_ID", int)
    coordinator = job_addresses.split(",")[0].strip() if job_addresses else None
    if jax.config.jax_cpu_collectives_implementation is None:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id)
    seed = np.int32(_random._base_seed())
    shared = int(multihost_utils.broadcast_one_to_all(seed))
    _random.set_random_seed(shared)
