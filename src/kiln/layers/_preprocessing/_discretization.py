"""Discretization: buckets continuous values by boundaries, learned by approximate quantiles.

`call` is pure jax.numpy (jittable); `adapt` runs on the host with NumPy and follows Keras's
quantile-summary algorithm step for step (same sorting, stride, interpolation and float32
casts), so adapted `bin_boundaries` equal Keras's.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from ._encoding import check_output_mode, encode_categorical


def summarize(values: Any, epsilon: float) -> np.ndarray:
    """A `(2, k)` summary of `values`: every `step`-th sorted value, each weighing `step`.

    `step = max(n / (1 / epsilon), 1)`, so about `1 / epsilon` points are kept.
    """
    values = np.sort(np.reshape(values, [-1]))
    # Written as Keras writes it (n / (1/eps), not n * eps): int(step) must round alike.
    step = max(np.size(values) / (1.0 / epsilon), 1)
    points = values[int(step - 1)::int(step)]
    return np.stack([points, np.ones_like(points) * step])


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Re-samples a summary at the cumulative-weight fractions `epsilon, 2*epsilon, ..., 1`.

    A summary already shorter than `1 / epsilon` points is returned unchanged.
    """
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    cum_fraction = cumulative / cumulative[-1]
    points = np.interp(fractions, cum_fraction, summary[0])
    new_cumulative = np.interp(fractions, cum_fraction, cumulative)
    weights = new_cumulative - np.concatenate((np.array([0]), new_cumulative[:-1]))
    return np.stack((points, weights)).astype("float32")


def merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    """Merges two summaries (sorted by value) and compresses the result."""
    merged = np.concatenate((first, second), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def bin_boundaries_from_summary(summary: np.ndarray, num_bins: int) -> list[float]:
    """The `num_bins - 1` inner quantile boundaries of a summary."""
    return compress_summary(summary, 1.0 / num_bins)[0, :-1].tolist()


def digitize(inputs: Any, boundaries: Sequence[float]) -> jax.Array:
    """Bucket ids: `i` such that `boundaries[i-1] <= x < boundaries[i]` (int32)."""
    bins = jnp.asarray(boundaries, dtype=jnp.float32)
    return jnp.digitize(jnp.asarray(inputs), bins).astype(jnp.int32)


class Discretization(Layer):
    """Buckets continuous values into ranges given by `bin_boundaries`.

    With `bin_boundaries=[0., 1., 2.]` there are 4 buckets: `x < 0`, `0 <= x < 1`,
    `1 <= x < 2` and `2 <= x`. With `num_bins`, call `adapt(data)` to place the boundaries at
    approximate quantiles of the data (error about `epsilon`).

    Args:
        bin_boundaries: sorted list of boundaries (or None to adapt).
        num_bins: the number of buckets to learn with `adapt` (exclusive with bin_boundaries).
        epsilon: quantile approximation error used by `adapt` (default 0.01).
        output_mode: "int" (int32 bucket ids, default), "one_hot", "multi_hot" or "count"
            (float outputs in the layer's dtype).
        sparse: must be False.

    `call` is jittable; `adapt` runs on the host.

    Example:
        >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])(np.array([[-1.5, 0.5, 2.0]])).tolist()
        [[0, 1, 3]]
    """

    def __init__(self, bin_boundaries: Sequence[float] | None = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.output_mode = check_output_mode(output_mode, ("int", "one_hot", "multi_hot", "count"),
                                             "Discretization")
        if sparse:
            raise ValueError("Discretization(sparse=True) is not supported: kiln produces dense "
                             "arrays only. Use sparse=False.")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"Discretization num_bins must be >= 0; received {num_bins}.")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Pass either `num_bins` (then adapt) or `bin_boundaries` to "
                             f"Discretization, not both; received num_bins={num_bins} and "
                             f"bin_boundaries={bin_boundaries}.")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization needs `bin_boundaries=[...]`, or `num_bins=n` "
                             "followed by adapt(data).")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.sparse = False
        self.summary = None if self.bin_boundaries else np.array([[], []], dtype="float32")

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learns `num_bins - 1` quantile boundaries from an array or an iterable of batches."""
        if self.num_bins is None:
            raise ValueError("This Discretization layer was created with bin_boundaries; "
                             "create it with num_bins=n to adapt it.")
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, (np.ndarray, jax.Array)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        """Adds a batch to the running quantile summary."""
        summary = summarize(np.array(data).astype("float32"), self.epsilon)
        self.summary = merge_summaries(summary, self.summary, self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is not None:
            self.bin_boundaries = bin_boundaries_from_summary(self.summary, self.num_bins)

    def reset_state(self) -> None:
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    def call(self, inputs: jax.Array) -> jax.Array:
        if self.bin_boundaries is None:
            raise ValueError("This Discretization layer has no boundaries yet: call "
                             "adapt(data) first, or pass bin_boundaries=[...].")
        ids = digitize(inputs.astype(jnp.float32), self.bin_boundaries)
        dtype = jnp.int32 if self.output_mode == "int" else self.dtype
        return encode_categorical(ids, self.output_mode, len(self.bin_boundaries) + 1, dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries,
                "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Discretization":
        config = dict(config)
        # After adapt both are set, which the constructor refuses: restore the boundaries after.
        boundaries = config.pop("bin_boundaries", None)
        if config.get("num_bins") is None:
            return cls(bin_boundaries=boundaries, **config)
        layer = cls(**config)
        layer.bin_boundaries = boundaries
        return layer
