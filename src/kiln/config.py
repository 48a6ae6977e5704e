"""Global settings, as `keras.config`, plus kiln's switches for its input checks."""

from ._config import (
    check_finite_enabled,
    debug_checks_enabled,
    disable_debug_checks,
    enable_debug_checks,
    epsilon,
    floatx,
    set_check_finite,
    set_epsilon,
    set_floatx,
)
from ._errors import ConfigurationWarning
from .dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy

__all__ = [
    "ConfigurationWarning", "DTypePolicy", "check_finite_enabled", "debug_checks_enabled",
    "dtype_policy",
    "disable_debug_checks", "enable_debug_checks", "epsilon", "floatx", "set_check_finite",
    "set_dtype_policy", "set_epsilon", "set_floatx",
]
