"""`Mean`, `Sum` and `MeanMetricWrapper`: running (weighted) sums of per-sample values."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from ._base import Metric, direction_of
from ._functions import FUNCTIONS
from ._shapes import divide_no_nan, match_rank


def to_samplewise(values: Any, sample_weight: Any, reduce: Callable, dtype: str
                  ) -> tuple[jax.Array, jax.Array | None]:
    """Reduces `values` to one number per sample and applies `sample_weight`.

    Values are first reduced over the axes the weight lacks, multiplied by the (broadcast)
    weight, then reduced over every non-batch axis; a weight of rank > 1 is reduced over its
    non-batch axes too. Matches Keras's `reduce_to_samplewise_values`.

    Args:
        values: per-element values, shape (N, ...) or a scalar.
        sample_weight: None or weights broadcastable to `values` after rank matching.
        reduce: `jnp.mean` (for Mean) or `jnp.sum` (for Sum).
        dtype: the computation dtype.

    Returns:
        `(values, sample_weight)`: weighted values of shape (N,) (or scalar) and the
        per-sample weights (None when no weight was given).
    """
    values = jnp.asarray(values).astype(dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight).astype(dtype)
        values, sample_weight = match_rank(values, sample_weight)
        w_ndim = sample_weight.ndim
        if values.ndim > w_ndim:
            values = reduce(values, axis=tuple(range(w_ndim, values.ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen: `total += sum(values * sample_weight)`.

    Args:
        name: the metric's name.
        dtype: the computation dtype.

    Example:
        >>> m = Sum()
        >>> float(m([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0]))
        4.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, _ = to_samplewise(values, sample_weight, jnp.sum, self.dtype)
        self.total.assign_add(jnp.sum(values))

    def result(self) -> jax.Array:
        return self.total.value.astype(self.dtype)


class Mean(Metric):
    """The (weighted) mean of the values seen.

    `total += sum(v * w)`, `count += sum(w)` (or the number of samples when unweighted),
    `result = total / count` (0 when `count == 0`). Values of rank > 1 are first averaged
    over their non-batch axes, so each sample counts once.

    Args:
        name: the metric's name.
        dtype: the computation dtype.

    Example:
        >>> m = Mean()
        >>> float(m([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0]))
        2.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, sample_weight = to_samplewise(values, sample_weight, jnp.mean, self.dtype)
        self.total.assign_add(jnp.sum(values))
        if sample_weight is not None:
            num_samples = jnp.sum(sample_weight)
        else:
            num_samples = values.shape[0] if values.ndim >= 1 else 1
        self.count.assign_add(jnp.asarray(num_samples, self.dtype))

    def result(self) -> jax.Array:
        return divide_no_nan(self.total.value, self.count.value.astype(self.dtype))


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function `fn(y_true, y_pred, **fn_kwargs)`.

    `fn`'s output is reduced to one value per sample (mean over non-batch axes), weighted
    by `sample_weight`, and averaged over every sample seen.

    Args:
        fn: the per-sample function.
        name: the metric's name; defaults to "mean_metric_wrapper" as in Keras.
        dtype: the computation dtype.
        **fn_kwargs: keyword arguments passed to `fn` on every update.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: jnp.abs(t - p), name="l1")
        >>> float(m(jnp.array([[0.0, 1.0]]), jnp.array([[1.0, 1.0]])))
        0.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None,
                 **fn_kwargs: Any):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = fn_kwargs
        # Keras marks wrapped loss functions "down"; subclasses set their own direction.
        if type(self)._direction is None and direction_of(fn) is not None:
            self._direction = direction_of(fn)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        fn = self._fn
        if FUNCTIONS.get(getattr(fn, "__name__", None)) is fn:
            fn = fn.__name__  # kiln's own functions are saved by name
        return {**super().get_config(), "fn": fn, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "MeanMetricWrapper":
        config = dict(config)
        if isinstance(config.get("fn"), str):
            name = config["fn"]
            if name not in FUNCTIONS:
                raise ValueError(
                    f"Cannot rebuild MeanMetricWrapper: unknown function {name!r}. Known "
                    f"functions: {sorted(FUNCTIONS)}. Pass the function itself as `fn`."
                )
            config["fn"] = FUNCTIONS[name]
        return cls(**config)
