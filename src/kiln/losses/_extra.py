"""Keras 3's less common losses: CTC, Circle and Categorical Generalized Cross-Entropy.

Each is a per-sample pure function plus a `LossFunctionWrapper` class, registered under
Keras's names like the other built-in losses. Formulas follow Keras 3 (`keras/src/losses`):
`ctc` is the forward (alpha) recursion over blank-augmented labels that optax implements
(`optax.ctc_loss`, which Keras's JAX backend reproduces), blank index 0.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .. import _registry
from ..ops import nn as ops_nn
from ._base import Loss, LossFunctionWrapper

_SBS = "sum_over_batch_size"


def ctc(y_true: Any, y_pred: Any) -> jax.Array:
    """Connectionist Temporal Classification loss, one value per sequence.

    Args:
        y_true: integer labels `(batch, max_label_length)`; 0 is the blank / padding index.
        y_pred: logits `(batch, time, num_classes)` (not softmax-normalized).

    Returns:
        `(batch,)` negative log-likelihoods of the label sequences.

    Example:
        >>> logits = jnp.zeros((1, 4, 3))
        >>> round(float(ctc(jnp.array([[1, 2]]), logits)[0]), 4)
        1.6864
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_true.ndim != 2:
        raise ValueError("ctc expects y_true of shape (batch_size, max_length) with integer "
                         f"labels; received shape {tuple(y_true.shape)}.")
    if y_pred.ndim != 3:
        raise ValueError("ctc expects y_pred of shape (batch_size, max_length, num_classes) "
                         f"(logits); received shape {tuple(y_pred.shape)}.")
    # Keras: every output frame counts; a label position counts while it is not the blank.
    lengths = jnp.sum(y_true != 0, axis=-1)
    frames = jnp.full(y_pred.shape[:1], y_pred.shape[1])
    return ops_nn.ctc_loss(y_true, y_pred, lengths, frames, mask_index=0)


def _pos_neg_masks(query: jax.Array, key: jax.Array,
                   remove_diagonal: bool) -> tuple[jax.Array, jax.Array]:
    # Same label -> positive pair, otherwise negative; optionally drop self-pairs.
    positive = query.reshape(-1, 1) == key.reshape(-1, 1).T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~jnp.eye(query.size, key.size, dtype=bool)
    return positive, negative


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80, margin: float = 0.4) -> jax.Array:
    """Circle loss (Sun et al. 2020) between integer labels and L2-normalized embeddings.

    Args:
        y_true: integer labels `(batch,)`.
        y_pred: unit-norm embeddings `(batch, dim)`.
        ref_labels / ref_embeddings: the reference set (default: the batch itself).
        remove_diagonal: drop self-similarities from the positive pairs.
        gamma: the scale; margin: the relaxation factor.

    Returns:
        `(batch,)` losses, `softplus(logsumexp(positive terms) + logsumexp(negative terms))`.

    Example:
        >>> emb = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> circle(jnp.array([0, 0, 1]), emb).shape
        (3,)
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(jnp.int32)
    ref_embeddings = y_pred if ref_embeddings is None else jnp.asarray(ref_embeddings)
    ref_labels = y_true if ref_labels is None else jnp.asarray(ref_labels).astype(jnp.int32)
    distances = jnp.maximum(1 - jnp.matmul(y_pred, ref_embeddings.T), 0.0)
    positive, negative = _pos_neg_masks(y_true, ref_labels, remove_diagonal)
    pos_w = jnp.maximum((margin + distances) * positive.astype(distances.dtype), 0.0)
    neg_w = jnp.maximum((1 + margin - distances) * negative.astype(distances.dtype), 0.0)
    pos_terms = -1 * gamma * pos_w * (margin - distances)
    neg_terms = gamma * neg_w * ((1 - margin) - distances)
    p_loss = jax.nn.logsumexp(jnp.where(positive, pos_terms, -jnp.inf), axis=1)
    n_loss = jax.nn.logsumexp(jnp.where(negative, neg_terms, -jnp.inf), axis=1)
    return jax.nn.softplus(p_loss + n_loss)


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> jax.Array:
    """Generalized cross-entropy (Zhang & Sabuncu 2018): `(1 - p ** q) / q`.

    Args:
        y_true: integer class indices `(batch,)` or `(batch, 1)`.
        y_pred: class probabilities `(batch, num_classes)`.
        q: the noise parameter in (0, 1): near 0 like cross-entropy, near 1 like MAE.

    Returns:
        `(batch,)` losses; `p` is the predicted probability of the true class.

    Example:
        >>> p = jnp.array([[0.75, 0.25]])
        >>> float(categorical_generalized_cross_entropy(jnp.array([1]), p, 0.5)[0])
        1.0
    """
    y_pred = jnp.asarray(y_pred)
    labels = jnp.asarray(y_true).astype(jnp.int32)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]  # (batch, 1) labels, as Keras documents them
    one_hot = jax.nn.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
    p = jnp.sum(y_pred * one_hot, axis=-1)
    return (1 - jnp.power(p, q)) / q


class CTC(LossFunctionWrapper):
    """CTC loss over `(batch, max_length)` labels and `(batch, time, classes)` logits.

    Example:
        >>> round(float(CTC()(jnp.array([[1, 2]]), jnp.zeros((1, 4, 3)))), 4)
        1.6864
    """

    def __init__(self, reduction: str | None = _SBS, name: str = "ctc", dtype: Any = None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)

    def call(self, y_true: Any, y_pred: Any) -> jax.Array:
        # Labels and logits differ in rank by design: no rank matching.
        return ctc(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        return Loss.get_config(self)


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (see `circle`).

    The mean reductions count only the samples whose loss is positive, as Keras masks them.

    Example:
        >>> emb = jnp.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
        >>> float(Circle()(jnp.array([0, 0, 1]), emb)) > 0
        True
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = _SBS, name: str = "circle", dtype: Any = None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)

    def call(self, y_true: Any, y_pred: Any) -> jax.Array:
        return circle(y_true, y_pred, **self.fn_kwargs)

    def valid_mask(self, y_true: Any, y_pred: Any) -> Any:
        return self.call(y_true, y_pred) > 0

    def get_config(self) -> dict[str, Any]:
        return {**Loss.get_config(self), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Noise-robust generalized cross-entropy (see `categorical_generalized_cross_entropy`).

    Example:
        >>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
        >>> float(loss(jnp.array([1]), jnp.array([[0.75, 0.25]])))
        1.0
    """

    def __init__(self, q: float = 0.5, reduction: str | None = _SBS,
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy expects q in the open "
                             f"interval (0, 1); received q={q!r}. Pick e.g. q=0.5.")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)

    def call(self, y_true: Any, y_pred: Any) -> jax.Array:
        # Integer labels against probabilities: Keras does no rank matching here either.
        return categorical_generalized_cross_entropy(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**Loss.get_config(self), "q": self.q}


for _obj in (ctc, circle, categorical_generalized_cross_entropy, CTC, Circle,
             CategoricalGeneralizedCrossEntropy):
    _registry.register(_obj, "losses")
