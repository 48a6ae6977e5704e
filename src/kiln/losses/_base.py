"""`Loss` (reduction and sample weights) and `LossFunctionWrapper` (a per-sample function).

Every built-in loss class is a `LossFunctionWrapper` parameterisation: the per-sample function
does the maths, the wrapper casts inputs, matches ranks, weights and reduces.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._config import floatx
from .._utils import to_snake_case
from ._crossentropy import sparse_categorical_crossentropy, sparse_categorical_valid_mask
from ._functions import function_from_config
from ._reduction import reduce_weighted_values, squeeze_or_expand_to_same_rank, standardize_reduction

# Per-sample functions whose losses only count where a mask is true (Keras attaches that mask
# to the loss tensor; kiln asks this table instead). Called with (y_true, y_pred, **fn_kwargs).
VALID_MASKS: dict[Callable, Callable] = {
    sparse_categorical_crossentropy: sparse_categorical_valid_mask,
}

_MIXED_POLICIES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def _compute_dtype(dtype: Any) -> str:
    """The dtype a loss computes in: floatx by default, a policy's compute dtype if given one."""
    if dtype is None:
        return floatx()
    dtype = getattr(dtype, "compute_dtype", dtype)
    dtype = _MIXED_POLICIES.get(dtype, dtype) if isinstance(dtype, str) else dtype
    try:
        return np.dtype(jnp.dtype(dtype)).name
    except TypeError as err:
        raise ValueError(
            f"Invalid loss dtype {dtype!r}. Expected a float dtype name such as 'float32', "
            "'float16' or 'bfloat16', or a mixed-precision policy name such as 'mixed_float16'."
        ) from err


def _cast(x: Any, dtype: str) -> Any:
    if isinstance(x, dict):
        return jax.tree_util.tree_map(lambda leaf: jnp.asarray(leaf, dtype), x)
    return jnp.asarray(x, dtype)


class Loss:
    """Base class of losses: subclass it and implement `call(y_true, y_pred)`.

    `call` returns per-sample losses; `__call__` casts both inputs to the loss dtype, calls it,
    multiplies by `sample_weight` (ranks matched as in Keras), then reduces:

    - `"sum_over_batch_size"` (default) and `"mean"`: `sum(loss * w) / number_of_loss_values`
      (NOT divided by `sum(w)`);
    - `"mean_with_sample_weight"`: `sum(loss * w) / sum(w)` (0 when `sum(w) == 0`);
    - `"sum"`: `sum(loss * w)`; `"none"` or None: the weighted per-sample values.

    Args:
        name: the loss's name (snake case of the class name by default).
        reduction: one of the reductions above.
        dtype: the computation dtype; floatx ("float32") by default, even under mixed precision.

    Example:
        >>> class Absolute(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)
        >>> float(Absolute()([[0.0], [1.0]], [[1.0], [1.0]], sample_weight=[2.0, 1.0]))
        1.0
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype_arg = dtype
        self._dtype = _compute_dtype(dtype)

    @property
    def dtype(self) -> str:
        """The dtype inputs are cast to and the loss is computed in."""
        return self._dtype

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> jax.Array:
        """The reduced, weighted loss (see the class docstring). Jittable."""
        y_true = _cast(y_true, self.dtype)
        y_pred = _cast(y_pred, self.dtype)
        values = self.call(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight=sample_weight,
                                      mask=self.valid_mask(y_true, y_pred),
                                      reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true: Any, y_pred: Any) -> jax.Array:
        """Per-sample losses; subclasses implement it."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `call(self, y_true, y_pred)` returning "
            "per-sample losses, or wrap a function with LossFunctionWrapper(fn)."
        )

    def valid_mask(self, y_true: Any, y_pred: Any) -> Any:
        """Boolean array, True where a per-sample loss counts, or None (all count).

        Mean reductions divide by the number of valid entries (Keras's mask rule).
        """
        del y_true, y_pred
        return None

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable (Keras's format)."""
        config: dict[str, Any] = {"name": self.name, "reduction": self.reduction}
        if self._dtype_arg is not None:
            config["dtype"] = getattr(self._dtype_arg, "name", self._dtype_arg)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Loss":
        """Rebuilds a loss from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _serialize_function(fn: Callable) -> dict[str, Any]:
    # Keras's format for a plain function inside a config.
    return {"module": "builtins", "class_name": "function", "config": fn.__name__,
            "registered_name": "function"}


class LossFunctionWrapper(Loss):
    """A `Loss` from a per-sample function `fn(y_true, y_pred, **fn_kwargs)`.

    Before calling `fn`, `y_true` is squeezed or expanded to `y_pred`'s rank when they differ by
    one trailing size-1 axis (so a `(N,)` target works against an `(N, 1)` output), as in Keras.

    The keyword arguments are readable as attributes: `loss.from_logits`. An argument that was
    not given reads as `fn`'s default (e.g. `LossFunctionWrapper(binary_crossentropy)
    .from_logits` is False). `fn_kwargs` is the one source the call uses.

    Args:
        fn: the per-sample loss function.
        reduction, name, dtype: as in `Loss`; `name` defaults to `fn.__name__`.
        **kwargs: extra keyword arguments passed to `fn`.

    Example:
        >>> from kiln.losses import binary_crossentropy
        >>> loss = LossFunctionWrapper(binary_crossentropy, from_logits=True)
        >>> loss.fn is binary_crossentropy, loss.from_logits
        (True, True)
    """

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **kwargs: Any):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper expects a function fn(y_true, y_pred); "
                            f"received {fn!r} of type {type(fn).__name__}.")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self.fn_kwargs = dict(kwargs)

    def __getattr__(self, attr: str) -> Any:
        # Only reached when normal lookup fails: expose fn's arguments (given or default).
        kwargs = self.__dict__.get("fn_kwargs")
        if kwargs is not None and not attr.startswith("__"):
            if attr in kwargs:
                return kwargs[attr]
            default = _default_argument(self.__dict__.get("fn"), attr)
            if default is not inspect.Parameter.empty:
                return default
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    @property
    def _fn_kwargs(self) -> dict[str, Any]:
        """Keras's private name for `fn_kwargs`, kept for code that reads it."""
        return self.fn_kwargs

    def call(self, y_true: Any, y_pred: Any) -> jax.Array:
        """`fn(y_true, y_pred, **fn_kwargs)` after matching y_true's rank to y_pred's."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def valid_mask(self, y_true: Any, y_pred: Any) -> Any:
        mask_fn = VALID_MASKS.get(self.fn)
        if mask_fn is None:
            return None
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return mask_fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # A subclass that fixes `fn` in its own constructor does not take it back.
        if type(self).__init__ is LossFunctionWrapper.__init__:
            config["fn"] = _serialize_function(self.fn)
        config.update(self.fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LossFunctionWrapper":
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            config["fn"] = function_from_config(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        config = self.get_config()
        if "fn" in config:
            config["fn"] = getattr(self.fn, "__name__", self.fn)
        args = ", ".join(f"{k}={v!r}" if k != "fn" else f"fn={v}" for k, v in config.items())
        return f"{type(self).__name__}({args})"


def _default_argument(fn: Any, name: str) -> Any:
    """The default value of `fn`'s parameter `name`, or `inspect.Parameter.empty`."""
    try:
        param = inspect.signature(fn).parameters.get(name)
    except (TypeError, ValueError):
        return inspect.Parameter.empty
    return inspect.Parameter.empty if param is None else param.default
