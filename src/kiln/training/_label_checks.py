"""Labels against the loss and the output: format, range and shape, checked on the host.

Each check gets a `Case` (one output: the loss it is compiled with, its labels, the predicted
shape) and raises ValueError naming the labels seen, what the loss expects, and the fix.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._input_checks import warn

_ACCURACY_CLASSES = ("Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
                     "SparseCategoricalAccuracy")


class LossInfo(NamedTuple):
    """What a built-in loss expects: its kind ("binary", "categorical", "sparse",
    "regression"), function name, `from_logits` and `ignore_class`."""

    kind: str
    name: str
    from_logits: bool
    ignore_class: Any


class Output(NamedTuple):
    """One model output: its name, producing layer, activation name (None if unknown), width."""

    name: str
    layer: Any
    activation: str | None
    width: int | None


class Case(NamedTuple):
    """One output of one batch: its loss, labels `y`, predicted shape `pred` (batch dim may be
    None), the known output layer (or None), and how to name the labels in a message."""

    info: LossInfo | None
    y: np.ndarray
    pred: tuple
    out: Output | None
    argument: str
    code: str  # how to write the labels in a code fix: "y", or "labels" for one of several

    @property
    def k(self) -> int | None:
        return self.pred[-1] if self.pred else None

    @property
    def where(self) -> str:
        layer = f"the output layer '{self.out.layer.name}'" if self.out else "the output"
        return f"{layer} ({self.k} unit{'s' if self.k != 1 else ''})"

    @property
    def one_per_sample(self) -> bool:
        """Whether y holds one value per prediction row (shape pred[:-1], or with a trailing 1)."""
        lead = self.pred[1:-1]
        return _match(self.y.shape[1:], lead) or _match(self.y.shape[1:], lead + (1,))


def _match(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(p is None or q is None or p == q for p, q in zip(a, b))


def _finite(y: np.ndarray) -> np.ndarray:
    return y[np.isfinite(y)] if y.dtype.kind == "f" else y


def _integral(y: np.ndarray) -> bool:
    values = _finite(y)
    return y.dtype.kind in "iub" or bool(np.all(np.mod(values, 1) == 0))


def _fmt(v: Any) -> str:
    return str(int(v)) if float(v).is_integer() else f"{float(v):.4g}"


def _shape(pred: tuple, drop_last: bool = False) -> str:
    """A shape for a message, the batch axis as N: `(N, 3)`."""
    dims = ["N"] + [str(d) for d in pred[1:len(pred) - drop_last]]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _first_index(mask: np.ndarray) -> Any:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return idx[0] if len(idx) == 1 else idx


def check_sparse(c: Case) -> None:
    """Integer class indices in [0, units) with the output's leading shape."""
    if c.k == 1:
        raise one_unit_error(c.info, c.where)
    if not c.one_per_sample:
        if c.y.shape[1:] == tuple(c.pred[1:]) and _is_one_hot(c.y):
            raise ValueError(
                f"`{c.argument}` looks one-hot (shape {c.y.shape}, a single 1 per row), but "
                "sparse_categorical_crossentropy expects one integer class index per sample, "
                f"shape {_shape(c.pred, drop_last=True)}. Fix: use loss='categorical_crossentropy', or pass "
                f"{c.code}.argmax(axis=-1).")
        raise ValueError(
            f"sparse_categorical_crossentropy expects `{c.argument}` to hold one integer class "
            f"index per sample, shape {_shape(c.pred, drop_last=True)}, for {c.where}; received "
            f"shape {c.y.shape}. Fix: pass one label per sample, or use "
            "loss='categorical_crossentropy' for one-hot labels.")
    if not _integral(c.y):
        bad = _first_index(np.isfinite(c.y) & (np.mod(c.y, 1) != 0))
        raise ValueError(
            f"sparse_categorical_crossentropy expects integer class indices, but `{c.argument}` "
            f"holds non-integer values such as {_fmt(c.y[bad])} (at index {bad}). Fix: for "
            "continuous targets use loss='mean_squared_error' with a linear output; for class "
            "probabilities use loss='categorical_crossentropy'.")
    _check_label_range(c)


def _check_label_range(c: Case) -> None:
    valid = c.y if c.info.ignore_class is None else c.y[c.y != c.info.ignore_class]
    if c.k is None or valid.size == 0:
        return
    lo, hi = valid.min(), valid.max()
    if lo >= 0 and hi < c.k:
        return
    bad = _first_index((c.y == (hi if hi >= c.k else lo)))
    if lo == 1 and hi == c.k:
        fix = f"the labels look 1-based (1 to {c.k}): subtract 1 ({c.code} - 1)"
    elif lo >= 0:
        fix = (f"give the output layer {int(hi) + 1} units (one per class), or re-encode the "
               f"labels as 0 to {c.k - 1} (e.g. sklearn's LabelEncoder)")
    else:
        fix = (f"re-encode the labels as 0 to {c.k - 1} (e.g. sklearn's LabelEncoder); to skip a "
               f"padding label such as {_fmt(lo)}, pass ignore_class={_fmt(lo)} to the loss")
    raise ValueError(
        f"`{c.argument}` holds class indices from {_fmt(lo)} to {_fmt(hi)} (first bad label "
        f"{_fmt(c.y[bad])} at index {bad}), but {c.where} only allows 0 to {c.k - 1}. "
        f"sparse_categorical_crossentropy on JAX silently gives such labels a loss of 0. "
        f"Fix: {fix}.")


def _is_one_hot(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0, 1)).all() and (y.sum(axis=-1) == 1).all())


def check_categorical(c: Case) -> None:
    """One-hot (or probability) rows of the output's shape."""
    if c.k == 1:
        raise one_unit_error(c.info, c.where)
    shape = _shape(c.pred)
    if c.one_per_sample and c.k and c.k > 1:
        if _integral(c.y):
            raise ValueError(
                f"{c.info.name} expects one-hot labels of shape {shape} for {c.where}; "
                f"`{c.argument}` holds integer class labels of shape {c.y.shape}. Fix: use "
                "loss='sparse_categorical_crossentropy', or one-hot encode them with "
                f"kiln.utils.to_categorical({c.code}, {c.k}).")
    if not _match(c.y.shape[1:], tuple(c.pred[1:])):
        raise ValueError(
            f"{c.info.name} expects `{c.argument}` to have one column per class, shape {shape} "
            f"for {c.where}; received shape {c.y.shape}. Fix: one-hot encode the labels with "
            f"kiln.utils.to_categorical(labels, {c.k}), or give the output layer "
            f"{c.y.shape[-1] if c.y.ndim > 1 else 'one'} unit(s) per class.")


def check_binary(c: Case) -> None:
    """Labels in [0, 1], one per output unit."""
    values = np.unique(_finite(c.y))
    if values.size and (values[0] < 0 or values[-1] > 1):
        lo, hi = values[0], values[-1]
        seen = ", ".join(_fmt(v) for v in values[:8])
        seen += f", ... ({values.size} distinct values)" if values.size > 8 else ""
        if _integral(values) and lo >= 0:
            n = int(hi) + 1
            fix = (f"these look like {n} class indices: use loss='sparse_categorical_crossentropy'"
                   f" with Dense({n}, activation='softmax') (or one-hot labels with "
                   "'categorical_crossentropy')")
        elif set(values.tolist()) <= {-1, 1}:
            fix = f"map -1/+1 labels to 0/1 with ({c.code} + 1) / 2"
        else:
            fix = ("for continuous targets use loss='mean_squared_error' with a linear output; "
                   "rescale probabilities into [0, 1]")
        raise ValueError(
            f"{c.info.name} expects labels in [0, 1] (0/1 classes or probabilities); "
            f"`{c.argument}` holds {seen} (smallest {_fmt(lo)}, largest {_fmt(hi)}). Fix: {fix}.")
    if c.k and c.k > 1 and c.one_per_sample:
        raise ValueError(
            f"{c.info.name} scores each of the {c.k} units of {c.where} against its own 0/1 label,"
            f" but `{c.argument}` has one label per sample (shape {c.y.shape}), which would be "
            f"broadcast against every unit. Fix: for one class out of {c.k} per sample use "
            "loss='sparse_categorical_crossentropy'; for multi-label targets pass labels of "
            f"shape {_shape(c.pred)}.")
    if c.k and c.k > 1 and not _match(c.y.shape[1:], tuple(c.pred[1:])):
        raise ValueError(
            f"{c.info.name} expects `{c.argument}` of shape {_shape(c.pred)} (one "
            f"0/1 label per unit of {c.where}); received {c.y.shape}. Fix: give the output "
            "layer one unit per label column, or pass labels with one column per unit.")


def check_regression(c: Case) -> None:
    """A regression loss on a softmax output given one class label per sample."""
    if c.out is None or c.out.activation != "softmax" or not c.k or c.k < 2:
        return
    if c.one_per_sample:
        raise ValueError(
            f"{c.info.name} on {c.where} with softmax compares every unit with `{c.argument}`, "
            f"which has one value per sample (shape {c.y.shape}): the label is broadcast against "
            f"all {c.k} units and the loss means nothing. Fix: for class labels use "
            "loss='sparse_categorical_crossentropy' (or one-hot encode them with "
            f"kiln.utils.to_categorical({c.code}, {c.k})); for one regression target use "
            "Dense(1) with no activation.")


LABEL_CHECKS = {"sparse": check_sparse, "categorical": check_categorical,
                "binary": check_binary, "regression": check_regression}


def check_metrics(c: Case, metrics: list) -> None:
    """Warns for accuracy on continuous regression targets (it counts exact matches)."""
    if c.info is None or c.info.kind != "regression" or _integral(c.y):
        return
    accuracy = [m for m in metrics if type(m).__name__ in _ACCURACY_CLASSES]
    if accuracy:
        warn(f"metric '{accuracy[0].name}' counts exact class matches, but loss='{c.info.name}' "
             f"is a regression loss and `{c.argument}` holds continuous values, so accuracy "
             "stays near 0 and means nothing. Fix: track a regression metric instead, e.g. "
             "metrics=['mae'] or kiln.metrics.RootMeanSquaredError().")


def one_unit_error(info: LossInfo, where: str) -> ValueError:
    """Categorical or sparse cross-entropy on a single unit: the loss is always 0."""
    return ValueError(
        f"loss='{info.name}' needs one output unit per class, but {where} has just one: a "
        "cross-entropy over a single class is always 0, so nothing is learned. Fix: for two classes "
        "use loss='binary_crossentropy' with Dense(1, activation='sigmoid'); for N classes use "
        "Dense(N, activation='softmax').")
