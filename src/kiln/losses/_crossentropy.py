"""Probabilistic per-sample losses: the cross-entropies, focal losses, KL divergence, Poisson.

Each function returns one value per sample (reduced over `axis`), with Keras 3's JAX-backend
numerics: label smoothing first, then probabilities are clipped to `[eps, 1 - eps]`
(`eps = kiln.config.epsilon()`, 1e-7); the categorical losses renormalise probabilities to sum
to one first; the logits paths use `log_softmax` / `log_sigmoid` and never clip. Like Keras on
JAX, probabilities are never turned back into logits.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp

from .._config import epsilon, floatx


def as_float_pair(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    """`y_pred` as a float array (floatx if it was not float) and `y_true` cast to its dtype."""
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(floatx())
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def _check_same_shape(loss: str, y_true: jax.Array, y_pred: jax.Array, hint: str = "") -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`{loss}` expects y_true and y_pred of the same shape; received "
            f"y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}.{hint}"
        )


def _check_axis(loss: str, axis: Any) -> None:
    # Keras rejects bools explicitly: `axis=True` would otherwise silently mean axis 1.
    if isinstance(axis, bool):
        raise ValueError(f"`{loss}` expects an int `axis`; received axis={axis!r}.")


def _warn_single_class(loss: str, y_pred: jax.Array) -> None:
    if y_pred.ndim and y_pred.shape[-1] == 1:
        # Keras warns with SyntaxWarning here: a 1-class softmax/CE is always 0.
        warnings.warn(
            f"`{loss}` received y_pred.shape={y_pred.shape} with a single class, so the loss "
            "is constant. Use 'binary_crossentropy' for two classes with one sigmoid output.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y_true: jax.Array, label_smoothing: float, dtype: Any) -> jax.Array:
    # Keras divides by the size of y_true's LAST axis, whatever `axis` is.
    num_classes = jnp.asarray(y_true.shape[-1], dtype)
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


def _log_probs(y_pred: jax.Array, from_logits: bool, axis: int) -> jax.Array:
    """log of class probabilities: log_softmax of logits, or log of renormalised, clipped probs."""
    if from_logits:
        return jax.nn.log_softmax(y_pred, axis=axis)
    eps = epsilon()
    probs = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    return jnp.log(jnp.clip(probs, eps, 1.0 - eps))


def _elementwise_bce(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    if from_logits:
        return -y_true * jax.nn.log_sigmoid(y_pred) - (1.0 - y_true) * jax.nn.log_sigmoid(-y_pred)
    eps = epsilon()
    p = jnp.clip(y_pred, eps, 1.0 - eps)
    return -(y_true * jnp.log(p) + (1.0 - y_true) * jnp.log(1.0 - p))


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> jax.Array:
    """Binary cross-entropy, averaged over `axis`.

    `y = y*(1-ls) + 0.5*ls`; with probabilities `p = clip(y_pred, eps, 1-eps)` and
    `loss = mean(-(y*log(p) + (1-y)*log(1-p)), axis)`; with logits `x`,
    `loss = mean(-y*log_sigmoid(x) - (1-y)*log_sigmoid(-x), axis)`.

    Args:
        y_true: targets in [0, 1], same shape as `y_pred`.
        y_pred: probabilities, or logits when `from_logits=True`.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in [0, 1]; moves targets towards 0.5.
        axis: the axis averaged over.

    Returns:
        Per-sample losses, shape `y_pred.shape` without `axis`.

    Example:
        >>> float(binary_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0])  # doctest: +ELLIPSIS
        0.693...
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    return jnp.mean(_elementwise_bce(y_true, y_pred, from_logits), axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> jax.Array:
    """Categorical cross-entropy for one-hot (or soft) targets: `-sum(y * log p, axis)`.

    `y = y*(1-ls) + ls/num_classes`; with probabilities `p = clip(y_pred / sum(y_pred), eps,
    1-eps)` (renormalised first); with logits `log p = log_softmax(y_pred)`.

    Args:
        y_true: one-hot or soft targets, same shape as `y_pred`.
        y_pred: probabilities, or logits when `from_logits=True`.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in [0, 1]; mixes targets with the uniform distribution.
        axis: the class axis.

    Returns:
        Per-sample losses, shape `y_pred.shape` without `axis`.

    Example:
        >>> float(categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0])  # doctest: +ELLIPSIS
        0.693...
    """
    _check_axis("categorical_crossentropy", axis)
    y_true, y_pred = as_float_pair(y_true, y_pred)
    _warn_single_class("categorical_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    _check_same_shape(
        "categorical_crossentropy", y_true, y_pred,
        " For integer class labels use 'sparse_categorical_crossentropy', or one-hot encode y.",
    )
    if y_pred.ndim < 1:
        raise ValueError("`categorical_crossentropy` expects y_true and y_pred of rank >= 1; "
                         f"received scalars (shape {y_pred.shape}).")
    return -jnp.sum(y_true * _log_probs(y_pred, from_logits, axis), axis=axis)


def _squeeze_class_axis(y_true: jax.Array, y_pred: jax.Array, axis: int) -> jax.Array:
    """Drops a size-1 class axis from integer labels, as Keras does ((N, 1) -> (N,))."""
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = jnp.squeeze(y_true, axis)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
    return y_true


def sparse_categorical_valid_mask(y_true: Any, y_pred: Any, from_logits: bool = False,
                                  ignore_class: int | None = None, axis: int = -1) -> Any:
    """Where a label counts for `sparse_categorical_crossentropy` (None without ignore_class).

    The `Loss` wrapper uses it so that mean reductions divide by the number of valid labels,
    as Keras does through the mask it attaches to the loss values.
    """
    del from_logits
    if ignore_class is None:
        return None
    y_pred = jnp.asarray(y_pred)
    y_true = _squeeze_class_axis(jnp.asarray(y_true), y_pred, axis)
    class_axis = axis % y_pred.ndim
    shape = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    return jnp.reshape(y_true != ignore_class, shape)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> jax.Array:
    """Categorical cross-entropy for integer labels: `-log p[label]`.

    Labels are cast to int32 (a trailing size-1 axis is squeezed). Probabilities are
    renormalised and clipped as in `categorical_crossentropy`; logits go through log_softmax.
    A label outside `[0, num_classes)` gives a loss of 0 with no error, as in Keras on JAX
    (kiln's `fit` checks label ranges before training).

    Args:
        y_true: integer labels of shape `y_pred.shape[:-1]` (or with a trailing 1).
        y_pred: probabilities, or logits when `from_logits=True`.
        from_logits: whether `y_pred` holds logits.
        ignore_class: a label value whose positions get loss 0 and are left out of the mean.
        axis: the class axis.

    Returns:
        Per-sample losses, shape `y_pred.shape` without `axis`.

    Example:
        >>> float(sparse_categorical_crossentropy([1], [[0.5, 0.5]])[0])  # doctest: +ELLIPSIS
        0.693...
    """
    y_pred = as_float_pair(0, y_pred)[1]
    y_true = _squeeze_class_axis(jnp.asarray(y_true), y_pred, axis)
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = jnp.where(valid, y_true, 0)
        # Keras fills ignored rows with 0 (NaN after renormalising, masked later); 1 keeps
        # every intermediate finite and gives the same result.
        y_pred = jnp.where(jnp.expand_dims(valid, axis), y_pred, 1.0)
    labels = y_true.astype(jnp.int32)
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            "`sparse_categorical_crossentropy` expects integer labels of shape "
            f"{y_pred.shape[:-1]} (y_pred.shape[:-1]); received y_true.shape={labels.shape} for "
            f"y_pred.shape={y_pred.shape}. If y is one-hot, use 'categorical_crossentropy'."
        )
    log_prob = _log_probs(y_pred, from_logits, axis)
    # jax.nn.one_hot gives an all-zero row for out-of-range labels: hence the silent 0.
    one_hot = jax.nn.one_hot(labels, y_pred.shape[axis], axis=axis, dtype=log_prob.dtype)
    losses = -jnp.sum(one_hot * log_prob, axis=axis)
    if valid is not None:
        losses = jnp.where(jnp.reshape(valid, losses.shape), losses, 0.0)
    return losses


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> jax.Array:
    """Binary focal cross-entropy (Lin et al., 2017), averaged over `axis`.

    `p_t = y*p + (1-y)*(1-p)`, `loss = mean((1 - p_t)^gamma * bce, axis)` where `bce` is the
    clipped binary cross-entropy of `p` (`sigmoid(y_pred)` for logits). With
    `apply_class_balancing`, each term is also weighted by `y*alpha + (1-y)*(1-alpha)`.

    Args:
        y_true: targets in [0, 1]; y_pred: probabilities or logits.
        apply_class_balancing: whether to apply the `alpha` weighting.
        alpha: weight of the positive class when balancing.
        gamma: focusing parameter; 0 gives plain binary cross-entropy.
        from_logits, label_smoothing, axis: as in `binary_crossentropy`.

    Returns:
        Per-sample losses, shape `y_pred.shape` without `axis`.
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    _check_same_shape("binary_focal_crossentropy", y_true, y_pred)
    bce = _elementwise_bce(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = jnp.power(1.0 - p_t, jnp.asarray(gamma, y_pred.dtype)) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return jnp.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> jax.Array:
    """Categorical focal cross-entropy: `sum(alpha * (1-p)^gamma * -y*log(p), axis)`.

    `p` is `softmax(y_pred)` for logits, then (always) renormalised and clipped to
    `[eps, 1-eps]`, as Keras does.

    Args:
        y_true: one-hot targets; y_pred: probabilities or logits.
        alpha: weighting factor; gamma: focusing parameter.
        from_logits, label_smoothing, axis: as in `categorical_crossentropy`.

    Returns:
        Per-sample losses, shape `y_pred.shape` without `axis`.
    """
    _check_axis("categorical_focal_crossentropy", axis)
    y_true, y_pred = as_float_pair(y_true, y_pred)
    _warn_single_class("categorical_focal_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    eps = epsilon()
    p = jnp.clip(y_pred / jnp.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    modulating = jnp.power(1.0 - p, jnp.asarray(gamma, p.dtype))
    return jnp.sum(modulating * alpha * (-y_true * jnp.log(p)), axis=axis)


def kl_divergence(y_true: Any, y_pred: Any) -> jax.Array:
    """Kullback-Leibler divergence `sum(y * log(y / p), -1)`, both clipped to `[eps, 1]`.

    Returns:
        Per-sample values, shape `y_pred.shape[:-1]`.
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    eps = epsilon()
    y_true = jnp.clip(y_true, eps, 1)
    y_pred = jnp.clip(y_pred, eps, 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> jax.Array:
    """Poisson loss `mean(p - y * log(p + eps), -1)` (`y_pred` is the predicted rate).

    Returns:
        Per-sample values, shape `y_pred.shape[:-1]`.
    """
    y_true, y_pred = as_float_pair(y_true, y_pred)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + epsilon()), axis=-1)
