"""Global settings, as `keras.config`, plus kiln's switches for its input checks.

Example:
    >>> import kiln
    >>> kiln.config.backend(), kiln.config.image_data_format(), kiln.config.floatx()
    ('jax', 'channels_last', 'float32')
"""

from ._config import (
    check_finite_enabled,
    debug_checks_enabled,
    disable_debug_checks,
    enable_debug_checks,
    epsilon,
    flag,
    floatx,
    image_data_format,
    max_epochs,
    max_steps_per_epoch,
    set_check_finite,
    set_epsilon,
    set_flag,
    set_floatx,
    set_image_data_format,
    set_max_epochs,
    set_max_steps_per_epoch,
)
from ._errors import ConfigurationWarning
from ._serialization import enable_unsafe_deserialization
from .dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy

__all__ = [
    "ConfigurationWarning", "DTypePolicy", "backend", "check_finite_enabled",
    "debug_checks_enabled", "disable_debug_checks", "disable_flash_attention",
    "disable_interactive_logging", "disable_traceback_filtering", "dtype_policy",
    "enable_debug_checks", "enable_flash_attention", "enable_interactive_logging",
    "enable_traceback_filtering", "enable_unsafe_deserialization", "epsilon", "floatx",
    "image_data_format", "is_flash_attention_enabled", "is_interactive_logging_enabled",
    "is_nnx_enabled", "is_traceback_filtering_enabled", "max_epochs", "max_steps_per_epoch",
    "set_backend", "set_check_finite", "set_dtype_policy", "set_epsilon", "set_floatx",
    "set_image_data_format", "set_max_epochs", "set_max_steps_per_epoch",
]


def backend() -> str:
    """The backend: kiln always runs on JAX."""
    return "jax"


def set_backend(backend: str) -> None:
    """Keras switches backends here; kiln is JAX only, so only "jax" is accepted."""
    if backend != "jax":
        raise ValueError(f"kiln runs on JAX only. Received: backend={backend!r}. Fix: use "
                         "'jax', or Keras itself for the other backends.")


def is_nnx_enabled() -> bool:
    """Keras's Flax-NNX variable mode: never on in kiln (its variables are kiln's own)."""
    return False


def enable_flash_attention() -> None:
    """Asks attention layers for the flash kernel (XLA chooses the kernel on each device)."""
    set_flag("flash_attention", True)


def disable_flash_attention() -> None:
    """Forbids the flash attention kernel."""
    set_flag("flash_attention", False)


def is_flash_attention_enabled() -> bool | None:
    """None (the default: the device decides), True or False, as last set."""
    return flag("flash_attention")


def enable_traceback_filtering() -> None:
    """Keras trims its own frames from tracebacks; kiln records the switch (and keeps its
    tracebacks whole, since its frames are few)."""
    set_flag("traceback_filtering", True)


def disable_traceback_filtering() -> None:
    """The other side of `enable_traceback_filtering`."""
    set_flag("traceback_filtering", False)


def is_traceback_filtering_enabled() -> bool:
    """Whether `enable_traceback_filtering` is in force (the default)."""
    return bool(flag("traceback_filtering"))


def enable_interactive_logging() -> None:
    """Progress bars and messages go to stdout (the default)."""
    set_flag("interactive_logging", True)


def disable_interactive_logging() -> None:
    """Progress bars and messages go to the `kiln` logger (logging.INFO) instead of stdout,
    as Keras sends them to absl logging."""
    set_flag("interactive_logging", False)


def is_interactive_logging_enabled() -> bool:
    """Whether messages go to stdout (True) or to the `kiln` logger."""
    return bool(flag("interactive_logging"))
