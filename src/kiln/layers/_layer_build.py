"""Keras's build-config pair of a `Layer` (mixed into `Layer`): what `build` was given, and
building again from it, as saving writes and reads it.

Example:
    >>> import kiln
    >>> layer = kiln.layers.Dense(2)
    >>> layer.get_build_config() is None
    True
    >>> layer.build_from_config({"input_shape": [None, 3]})
    >>> layer.get_build_config(), layer.kernel.shape
    ({'input_shape': (None, 3)}, (3, 2))
"""

from __future__ import annotations

from typing import Any

from .._utils import kiln_default


class LayerBuild:
    """`get_build_config` / `build_from_config`, as Keras names them."""

    @kiln_default
    def get_build_config(self) -> dict | None:
        """`{"input_shape": shape}` of a built layer (None before it is built)."""
        shape = self.__dict__.get("_build_shape")
        if not getattr(self, "built", False) or shape is None:
            return None
        return {"input_shape": as_shape(shape)}

    @kiln_default
    def build_from_config(self, config: dict | None) -> None:
        """Builds the layer from `get_build_config()`'s dict (Keras's `shapes_dict` too)."""
        if not config or getattr(self, "built", False):
            return
        if "input_shape" in config:
            self._maybe_build(as_shape(config["input_shape"]))
        elif "shapes_dict" in config:
            self.build(**config["shapes_dict"])
            self.built = True


def as_shape(shape: Any) -> Any:
    """Lists (as JSON gives them) back to tuples, nested shapes included."""
    if isinstance(shape, (list, tuple)):
        if all(d is None or isinstance(d, int) for d in shape):
            return tuple(shape)
        return [as_shape(s) for s in shape]
    if isinstance(shape, dict):
        return {k: as_shape(v) for k, v in shape.items()}
    return shape

