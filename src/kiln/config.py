"""Global settings, as `keras.config`."""

from ._config import epsilon, floatx, set_epsilon, set_floatx

__all__ = ["epsilon", "floatx", "set_epsilon", "set_floatx"]
