"""Keras's distribution API on `jax.sharding`: run a model's steps over several devices.

Example:
    >>> import kiln
    >>> mesh = kiln.distribution.DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    >>> kiln.distribution.DataParallel(device_mesh=mesh).num_model_replicas
    1
"""

from ._distribution import DataParallel as DataParallel
from ._distribution import Distribution as Distribution
from ._distribution import ModelParallel as ModelParallel
from ._distribution import distribute_tensor as distribute_tensor
from ._distribution import distribution as distribution
from ._distribution import initialize as initialize
from ._distribution import set_distribution as set_distribution
from ._mesh import DeviceMesh as DeviceMesh
from ._mesh import LayoutMap as LayoutMap
from ._mesh import TensorLayout as TensorLayout
from ._mesh import get_device_count as get_device_count
from ._mesh import list_devices as list_devices

__all__ = [
    "DataParallel", "DeviceMesh", "Distribution", "LayoutMap", "ModelParallel", "TensorLayout",
    "distribute_tensor", "distribution", "get_device_count", "initialize", "list_devices",
    "set_distribution",
]
