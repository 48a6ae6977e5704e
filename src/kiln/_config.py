"""Global numeric settings that Keras exposes under `keras.config`."""

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
