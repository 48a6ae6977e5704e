"""Reductions and sample weighting shared by every `Loss` (Keras's `losses/loss.py` rules).

All functions here are pure jax.numpy on static shapes, so they trace inside `jax.jit`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction: Any) -> str | None:
    """Returns `reduction` unchanged if Keras accepts it, otherwise raises a ValueError."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid reduction {reduction!r}. Expected one of {list(REDUCTIONS)}: "
            "'sum_over_batch_size' (the default) and 'mean' divide the weighted sum by the "
            "number of loss values, 'mean_with_sample_weight' divides it by the sum of the "
            "sample weights, 'sum' does not divide, and 'none'/None returns per-sample losses."
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple[Any, Any]:
    """Makes two arrays the same rank when their ranks differ by exactly one.

    Matches Keras's rule: the higher-ranked array must end in a size-1 axis. That axis is
    squeezed away, except when the other array is rank 1 (and `expand_rank_1`), in which case
    the rank-1 array gains a trailing axis instead. Other combinations are returned unchanged.

    Example:
        >>> a, b = squeeze_or_expand_to_same_rank(jnp.zeros((4,)), jnp.zeros((4, 1)))
        >>> a.shape, b.shape
        ((4, 1), (4, 1))
    """
    rank1, rank2 = len(x1.shape), len(x2.shape)
    if rank1 == rank2 + 1 and x1.shape[-1] == 1:
        if rank2 == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    elif rank2 == rank1 + 1 and x2.shape[-1] == 1:
        if rank1 == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def _divide_no_nan(x: Any, y: Any) -> Any:
    safe = jnp.where(y == 0, 1, y)
    return jnp.where(y == 0, 0, x / safe)


def _mask_to_weight(sample_weight: Any, mask: Any, dtype: Any, reduction: str | None) -> Any:
    """Folds a validity mask (e.g. from `ignore_class`) into the sample weights.

    For the mean-type reductions valid entries get weight `total/valid`, so that dividing the
    weighted sum by `total` gives `sum/valid`: the mean over valid entries only (Keras's
    `apply_mask`).
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(mask.size, dtype)
        valid = jnp.sum(mask.astype(dtype))
        float_mask = jnp.where(mask.astype(bool), _divide_no_nan(total, valid), 0).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_values(values: Any, sample_weight: Any = None,
                  reduction: str | None = "sum_over_batch_size") -> Any:
    """Reduces already-weighted loss values.

    `"sum"`: `sum(values)`. `"sum_over_batch_size"`/`"mean"`: `sum(values) / values.size`.
    `"mean_with_sample_weight"`: `sum(values) / sum(sample_weight)` (0 when that is 0), or
    `/ values.size` without weights. Scalars, empty vectors and `"none"`/None are returned as is.
    """
    if reduction is None or reduction == "none" or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = jnp.sum(sample_weight).astype(loss.dtype)
    else:
        divisor = jnp.asarray(values.size, loss.dtype)
    return _divide_no_nan(loss, divisor)


def reduce_weighted_values(values: Any, sample_weight: Any = None, mask: Any = None,
                           reduction: str | None = "sum_over_batch_size", dtype: Any = None) -> Any:
    """Applies the mask and sample weights to per-sample `values`, then reduces them.

    Args:
        values: per-sample losses.
        sample_weight: optional weights; ranks are matched with `squeeze_or_expand_to_same_rank`
            and then broadcast against `values`.
        mask: optional boolean array, True where a value counts.
        reduction: one of `REDUCTIONS`.
        dtype: the computation dtype (the loss's dtype).

    Returns:
        The reduced loss (a scalar), or the weighted values for `"none"`.
    """
    reduction = standardize_reduction(reduction)
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
    sample_weight = _mask_to_weight(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)
