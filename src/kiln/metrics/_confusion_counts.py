"""Pure confusion-matrix counting at thresholds, the core of Precision, Recall and AUC.

`confusion_increments` returns how much one batch adds to the true/false positive/negative
counts at each threshold. It follows Keras's `update_confusion_matrix_variables` step for
step, including the bucketed fast path Keras takes for evenly spaced thresholds, so the
counts (and the floating-point sums) agree with Keras's.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config
from ._shapes import match_rank

NEG_INF = -1e10  # The threshold used with top_k: every kept prediction counts as positive.
KINDS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds: Any, default: float = 0.5) -> list[float]:
    """The thresholds as a list; None gives `[default]`. Each must lie in [0, 1]."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [
        thresholds]
    bad = [t for t in values if t is None or t < 0 or t > 1]
    if bad:
        raise ValueError(
            f"Threshold values must be in [0, 1]; received {bad}. Pass thresholds such as "
            "0.5 or [0.25, 0.5, 0.75]."
        )
    return [float(t) for t in values]


def evenly_spaced(thresholds: Sequence[float]) -> bool:
    """True for 3+ thresholds equal to `i / (n - 1)` within epsilon (Keras's fast-path test)."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_config.epsilon()))


def filter_top_k(scores: jax.Array, k: int) -> jax.Array:
    """Keeps the `k` largest scores on the last axis; the others become `NEG_INF`."""
    _, idx = jax.lax.top_k(scores, k)
    mask = jnp.sum(jax.nn.one_hot(idx, scores.shape[-1], axis=-1), axis=-2)
    return scores * mask + NEG_INF * (1 - mask)


def confusion_increments(kinds: Sequence[str], y_true: Any, y_pred: Any,
                         thresholds: Sequence[float], *, evenly: bool = False,
                         top_k: int | None = None, class_id: int | None = None,
                         sample_weight: Any = None, multi_label: bool = False,
                         label_weights: Any = None, dtype: str = "float32"
                         ) -> dict[str, jax.Array]:
    """One batch's (weighted) confusion counts at each threshold.

    A prediction is positive at threshold `t` when `y_pred > t`; any non-zero label is
    positive. Counts are summed over every element (over samples only, per label, when
    `multi_label`).

    Args:
        kinds: which counts to return, among "tp", "fp", "tn", "fn".
        y_true: labels, shape (N,) or (N, L).
        y_pred: scores, same shape (a trailing 1 may differ).
        thresholds: the T thresholds.
        evenly: use the bucketed path (valid when thresholds are evenly spaced in [0, 1],
            possibly with end points just outside).
        top_k: only the top k scores of each row can be positive.
        class_id: only this column of the last axis counts.
        sample_weight: optional weights broadcastable to y_pred.
        multi_label: count per label (last axis) instead of over all elements.
        label_weights: optional per-label weights (not with `multi_label`).
        dtype: the dtype of the counts.

    Returns:
        `{kind: counts}`, each of shape (T,) or (T, L) with `multi_label`.
    """
    y_true = jnp.asarray(y_true).astype(dtype)
    y_pred = jnp.asarray(y_pred).astype(dtype)
    with_eps = bool(evenly and (thresholds[0] < 0.0 or thresholds[-1] > 1.0))
    thresholds = jnp.asarray(np.asarray(thresholds), dtype)
    y_pred, y_true = match_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = jnp.expand_dims(jnp.asarray(sample_weight).astype(dtype), -1)
        _, sample_weight = match_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "class_id needs predictions of shape (num_samples, num_classes); received "
                f"shape {y_pred.shape}. Drop class_id for single-column predictions."
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if label_weights is not None:
        label_weights = jnp.broadcast_to(jnp.asarray(label_weights, dtype)[None], y_pred.shape)
    if evenly:
        return _bucketed(kinds, y_true, y_pred, thresholds.shape[0], with_eps, sample_weight,
                         label_weights, multi_label)
    return _compared(kinds, y_true, y_pred, thresholds, sample_weight, label_weights,
                     multi_label)


def _bucketed(kinds, y_true, y_pred, num_thresholds, with_eps, sample_weight,
              label_weights, multi_label) -> dict[str, jax.Array]:
    """Counts by bucketing each score, then a reversed cumulative sum (O(N + T))."""
    flat = (lambda a: a) if multi_label else (lambda a: a.reshape(-1))
    sw = 1.0 if sample_weight is None else flat(
        jnp.broadcast_to(sample_weight.astype(y_pred.dtype), y_pred.shape))
    lw = 1.0 if label_weights is None else flat(label_weights)
    weights = jnp.asarray(sw * lw).astype(y_true.dtype)
    y_pred = jnp.clip(y_pred, 0.0, 1.0)
    y_true = y_true.astype(bool).astype(y_true.dtype)
    y_true, y_pred = flat(y_true), flat(y_pred)
    positives = y_true * weights
    negatives = (1.0 - y_true) * weights
    # Score p lands in bucket ceil(p * (T - 1)) - 1: it is above thresholds 0..bucket.
    buckets = jnp.ceil(y_pred * (jnp.asarray(num_thresholds, y_pred.dtype) - 1)) - 1
    if with_eps:
        buckets = jax.nn.relu(buckets)  # score 0 still beats the -epsilon threshold
    buckets = buckets.astype(jnp.int32)

    def above(labels):
        if multi_label:
            per_label = jax.vmap(lambda d, s: jax.ops.segment_sum(d, s, num_thresholds))(
                labels.T, buckets.T)
            return jnp.flip(jnp.cumsum(jnp.flip(per_label), axis=1)).T
        counts = jax.ops.segment_sum(labels, buckets, num_thresholds)
        return jnp.flip(jnp.cumsum(jnp.flip(counts)))

    out = {"tp": above(positives), "fp": above(negatives)}
    axis = 0 if multi_label else None
    if "fn" in kinds:
        out["fn"] = jnp.sum(positives, axis=axis) - out["tp"]
    if "tn" in kinds:
        out["tn"] = jnp.sum(negatives, axis=axis) - out["fp"]
    return {k: out[k] for k in kinds}


def _compared(kinds, y_true, y_pred, thresholds, sample_weight, label_weights,
              multi_label) -> dict[str, jax.Array]:
    """Counts by comparing every score with every threshold (any thresholds)."""
    if multi_label:
        preds, labels = y_pred[None], y_true.astype(bool)[None]  # (1, N, L)
        thr = thresholds.reshape(-1, 1, 1)
    else:
        preds, labels = y_pred.reshape(1, -1), y_true.astype(bool).reshape(1, -1)
        thr = thresholds.reshape(-1, 1)
    weights = None
    if sample_weight is not None:
        weights = jnp.broadcast_to(sample_weight.astype(y_pred.dtype), y_pred.shape)
    if label_weights is not None and not multi_label:
        weights = label_weights if weights is None else weights * label_weights
    if weights is not None:
        weights = weights[None] if multi_label else weights.reshape(1, -1)
    pred_pos = preds > thr
    cells = {"tp": (labels, pred_pos), "fp": (~labels, pred_pos),
             "tn": (~labels, ~pred_pos), "fn": (labels, ~pred_pos)}

    def count(label, pred):
        hit = jnp.logical_and(label, pred)
        if weights is None:
            return jnp.sum(hit.astype(y_pred.dtype), axis=1)
        return jnp.sum(jnp.where(hit, weights, 0), axis=1)

    return {k: count(*cells[k]) for k in kinds}
