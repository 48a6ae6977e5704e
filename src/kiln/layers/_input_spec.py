"""`InputSpec`: the rank, dtype and shape a layer accepts, checked when it is called.

A layer that sets `self.input_spec` (one spec, or a list with one per input) has its first
call argument checked before it builds or runs, as Keras does, with an error that names the
layer, the input, what was expected and what was received.

Example:
    >>> spec = InputSpec(ndim=3)
    >>> spec.ndim, spec.shape
    (3, None)
    >>> check_inputs("conv", spec, (None, 4))
    Traceback (most recent call last):
    ...
    ValueError: Input 0 of layer 'conv' is incompatible with the layer: expected ndim=3, found ndim=2. Full shape received: (None, 4). Fix: reshape the input (or add an axis) so that its rank is 3.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class InputSpec:
    """What one input of a layer must look like (Keras's `keras.layers.InputSpec`).

    Args:
        dtype: the expected dtype, or None.
        shape: the full expected shape (batch included; None matches any size); sets `ndim`.
        ndim / max_ndim / min_ndim: the rank, or its bounds.
        axes: `{axis: size}` that must hold.
        allow_last_axis_squeeze: accept rank N+1 with a last axis of 1 (or N-1 when the
            spec's last axis is 1).
        name: the key of this input when inputs are given as a dict.
        optional: whether None is accepted.
    """

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None, axes: Any = None,
                 allow_last_axis_squeeze: bool = False, name: str | None = None,
                 optional: bool = False):
        self.dtype = np.dtype(dtype).name if dtype is not None else None
        self.shape = None if shape is None else tuple(None if d is None else int(d)
                                                      for d in shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name, self.optional = name, optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError, AttributeError):
            raise TypeError(f"InputSpec: `axes` must be a dict with integer keys; received "
                            f"axes={axes!r}.") from None

    def __repr__(self) -> str:
        fields = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape),
                  ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                  ("min_ndim", self.min_ndim), ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(fields)})"

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "InputSpec":
        return cls(**config)


def _fail(layer: str, i: int, shape: tuple, expected: str, found: str, fix: str) -> None:
    raise ValueError(f"Input {i} of layer '{layer}' is incompatible with the layer: expected "
                     f"{expected}, found {found}. Full shape received: {shape}. Fix: {fix}.")


def _check_rank(layer: str, i: int, spec: InputSpec, shape: tuple) -> None:
    rank = len(shape)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
        _fail(layer, i, shape, f"ndim={spec.ndim}", f"ndim={rank}",
              f"reshape the input (or add an axis) so that its rank is {spec.ndim}")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        _fail(layer, i, shape, f"max_ndim={spec.max_ndim}", f"ndim={rank}",
              f"give an input of rank {spec.max_ndim} or less")
    if spec.min_ndim is not None and rank < spec.min_ndim:
        _fail(layer, i, shape, f"min_ndim={spec.min_ndim}", f"ndim={rank}",
              f"give an input of rank {spec.min_ndim} or more")


def _check_one(layer: str, i: int, spec: InputSpec, shape: tuple, dtype: Any) -> None:
    _check_rank(layer, i, spec, shape)
    if spec.dtype is not None and dtype is not None and np.dtype(dtype).name != spec.dtype:
        _fail(layer, i, shape, f"dtype={spec.dtype}", f"dtype={np.dtype(dtype).name}",
              f"cast the input to {spec.dtype}")
    for axis, size in spec.axes.items():
        if size is not None and -len(shape) <= axis < len(shape):
            got = shape[axis]
            if got is not None and got != size:
                _fail(layer, i, shape, f"axis {axis} of size {size}", f"size {got}",
                      f"give inputs whose axis {axis} has {size} entries (or rebuild the "
                      "layer for the new size)")
    if spec.shape is not None and not spec.allow_last_axis_squeeze:
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                _fail(layer, i, shape, f"shape={spec.shape}", f"shape={shape}",
                      f"give inputs of shape {spec.shape} (None matches any size)")


def check_inputs(layer: str, specs: Any, inputs: Any) -> None:
    """Checks `inputs` (arrays, KerasTensors or shape tuples) against `specs`."""
    if specs is None:
        return
    specs = list(specs) if isinstance(specs, (list, tuple)) else [specs]
    if isinstance(inputs, dict):
        inputs = [inputs.get(s.name) for s in specs] if all(s.name for s in specs) else list(
            inputs.values())
    elif len(specs) == 1 or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    if len(inputs) != len(specs):
        raise ValueError(f"Layer '{layer}' expects {len(specs)} input(s) (its input_spec), "
                         f"but received {len(inputs)}. Fix: pass one tensor per spec.")
    for i, (spec, x) in enumerate(zip(specs, inputs)):
        if spec is None or (x is None and spec.optional):
            continue
        if isinstance(x, tuple) and all(d is None or isinstance(d, int) for d in x):
            shape, dtype = x, None
        else:
            shape, dtype = tuple(getattr(x, "shape", np.shape(x))), getattr(x, "dtype", None)
        _check_one(layer, i, spec, shape, dtype)


__all__ = ["InputSpec", "check_inputs"]
