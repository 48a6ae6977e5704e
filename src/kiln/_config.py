"""Global numeric settings that Keras exposes under `keras.config`."""

from typing import Any

_EPSILON = 1e-7
_FLOATX = "float32"


def epsilon() -> float:
    """The fuzz factor used by losses and optimizers (Keras's default is 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor returned by `epsilon()`."""
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    """The default float dtype, as a string ("float32")."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float dtype ("float16", "bfloat16", "float32" or "float64")."""
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            f"floatx must be one of float16, bfloat16, float32, float64; received {value!r}."
        )
    _FLOATX = value


# -- input checks (kiln's own switches; Keras has no such checks) ----------------------------

_CHECK_FINITE = True
_DEBUG_CHECKS = False


def set_check_finite(enabled: bool) -> None:
    """Turns the NaN/infinity check of in-memory fit/evaluate inputs on (default) or off.

    The check costs one pass over the data; turn it off for data that may hold non-finite values
    on purpose (e.g. a custom loss that masks NaN labels).
    """
    global _CHECK_FINITE
    _CHECK_FINITE = bool(enabled)


def check_finite_enabled() -> bool:
    """Whether fit/evaluate refuse in-memory inputs that contain NaN or infinity."""
    return _CHECK_FINITE


def enable_debug_checks() -> None:
    """Checks every batch a generator yields (not only the first) against the model and losses.

    Like `jax_debug_nans`, this is for hunting a bad batch: it reads each batch on the host.
    """
    global _DEBUG_CHECKS
    _DEBUG_CHECKS = True


def disable_debug_checks() -> None:
    """Back to the default: only the first batch of a generator is checked."""
    global _DEBUG_CHECKS
    _DEBUG_CHECKS = False


def debug_checks_enabled() -> bool:
    """Whether every generator batch is checked (see `enable_debug_checks`)."""
    return _DEBUG_CHECKS


# -- Keras's other global settings -------------------------------------------------------------

_SETTINGS: dict[str, Any] = {"image_data_format": "channels_last", "max_epochs": None,
                             "max_steps_per_epoch": None, "flash_attention": None,
                             "traceback_filtering": True, "interactive_logging": True}


def image_data_format() -> str:
    """The default `data_format` of image layers: "channels_last" unless set.

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return _SETTINGS["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Sets the `data_format` image layers made from now on use when given None."""
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format!r}.")
    _SETTINGS["image_data_format"] = value


def max_epochs() -> int | None:
    """The cap on `fit`'s epochs set by `set_max_epochs` (None: no cap)."""
    return _SETTINGS["max_epochs"]


def set_max_epochs(epochs: int | None) -> None:
    """Caps the epochs of every `fit` (for quick runs of long scripts); None removes the cap."""
    _SETTINGS["max_epochs"] = None if epochs is None else int(epochs)


def max_steps_per_epoch() -> int | None:
    """The cap on steps per epoch set by `set_max_steps_per_epoch` (None: no cap)."""
    return _SETTINGS["max_steps_per_epoch"]


def set_max_steps_per_epoch(steps: int | None) -> None:
    """Caps the steps of each `fit` epoch; None removes the cap."""
    _SETTINGS["max_steps_per_epoch"] = None if steps is None else int(steps)


def set_flag(name: str, value: Any) -> None:
    """Sets one of the switches of `_SETTINGS` (flash attention, traceback filtering, logging)."""
    _SETTINGS[name] = value


def flag(name: str) -> Any:
    """Reads one of the switches of `_SETTINGS`."""
    return _SETTINGS[name]
