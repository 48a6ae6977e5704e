"""`Lambda`: wraps a Python function as a layer, without ever serializing its code.

Keras stores a lambda's bytecode in the model config and runs it when the file is loaded
unless safe mode stops it (the source of several CVEs, see the inventory §9). kiln stores
only the function's name, so a config can never carry code; rebuilding a Lambda needs the
function itself.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from .. import _serialization
from ._layer import Layer


def _describe(fn: Callable) -> dict[str, Any]:
    """A JSON-friendly reference to `fn`: its module and name, no code."""
    return {"class_name": "function", "module": getattr(fn, "__module__", None),
            "config": getattr(fn, "__name__", type(fn).__name__)}


def _params(fn: Callable) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


class Lambda(Layer):
    """Runs `function(inputs, **arguments)` as a layer.

    Args:
        function: a jax.numpy (or `kiln.ops`) function of the inputs. If it names `mask` or
            `training` parameters, they are passed.
        output_shape: accepted for Keras compatibility; kiln infers output shapes by tracing.
        mask: None, a fixed mask, or `mask(inputs, previous_mask)` giving the output mask.
        arguments: extra keyword arguments for `function`.

    `get_config` records the function's name only (never its code). `from_config` on such a
    config raises: to rebuild a model holding a Lambda, construct the Lambda again with its
    function, or write a small Layer subclass instead (the safe, portable choice).

    Example:
        >>> import jax.numpy as jnp
        >>> Lambda(lambda x: x * 2)(jnp.ones((2, 3))).sum()
        Array(12., dtype=float32)
    """

    def __init__(self, function: Callable, output_shape: Any = None, mask: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda(function=...) must be callable; received {function!r}.")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        wanted = _params(function)
        self._wants_mask, self._wants_training = "mask" in wanted, "training" in wanted

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        kwargs = dict(self.arguments)
        if self._wants_mask:
            kwargs["mask"] = mask
        if self._wants_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "function": _describe(self.function),
                  "arguments": self.arguments}
        if self._output_shape is not None:
            config["output_shape"] = (_describe(self._output_shape) if callable(self._output_shape)
                                      else self._output_shape)
        if self.mask is not None:
            config["mask"] = _describe(self.mask) if callable(self.mask) else self.mask
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Lambda":
        """Rebuilds a Lambda when `config['function']` is a callable, or, outside safe mode
        (`deserialize(..., safe_mode=False)`), a function *name* found among the registered
        or custom objects. Code stored in a config (`__lambda__`) is never loaded.

        Raises:
            ValueError: in safe mode (the default) for a config naming a function, and
                always for stored code.
        """
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") in ("function", "__lambda__"):
                config[key] = _function_from_config(config.get("name"), key, value)
        return cls(**config)


def _function_from_config(layer: Any, key: str, value: dict[str, Any]) -> Callable:
    if value.get("class_name") == "function" and not _serialization.in_safe_mode():
        return _serialization.resolve(value.get("config"), label=f"Lambda {key} function")
    raise ValueError(
        f"Cannot rebuild Lambda layer '{layer}': its config names the {key} "
        f"{value.get('config')!r} but holds no code, and kiln never runs code from a config. "
        "Rebuild the layer in Python with Lambda(<function>, ...), replace it with a Layer "
        "subclass, or (for a named function) load with safe_mode=False and pass the function "
        f"in custom_objects={{'{value.get('config')}': <function>}}.")
