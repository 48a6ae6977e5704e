"""The few `keras.backend` helpers that user code still calls."""

from ._config import epsilon, floatx, set_epsilon, set_floatx
from ._naming import clear_session


def backend() -> str:
    """kiln always runs on JAX."""
    return "jax"


__all__ = ["backend", "clear_session", "epsilon", "floatx", "set_epsilon", "set_floatx"]
