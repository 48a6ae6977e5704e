"""Eager checks of what fit/evaluate receive: empty data, NaN/inf, features against the Input.

Keras 3 checks none of the values (NaN trains to a NaN loss, `batch_size=0` silently becomes
32) and reports a wrong feature width from deep inside the first layer. kiln checks on the host,
before anything is traced, and names the argument, the index and the fix.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np

from .. import _config
from .._errors import ConfigurationWarning
from .._utils import closest_names

_KILN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn(message: str) -> None:
    """Warns with the stack level of the first frame outside kiln: the user's own line, whether
    the check ran from compile(), fit() or evaluate()."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_KILN_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, ConfigurationWarning, stacklevel=level)


def named_leaves(tree: Any, argument: str) -> list[tuple[str, np.ndarray]]:
    """`[(name, array)]` for an array, a list or a dict of arrays: `x`, `x[1]`, `x['age']`."""
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [leaf for k, v in tree.items() for leaf in named_leaves(v, f"{argument}[{k!r}]")]
    if isinstance(tree, (list, tuple)):
        return [leaf for i, v in enumerate(tree) for leaf in named_leaves(v, f"{argument}[{i}]")]
    return [(argument, np.asarray(tree))]


def check_not_empty(tree: Any, argument: str) -> None:
    """Refuses an array with 0 samples (Keras then loops on no data or fails with empty logs)."""
    for name, a in named_leaves(tree, argument):
        if a.ndim and a.shape[0] == 0:
            raise ValueError(
                f"`{name}` is empty: its shape is {a.shape}, i.e. 0 samples. There is nothing to "
                "train or evaluate on. Pass at least one sample; if the data was filtered or "
                "split, check that step (e.g. print(len(x)) before fit).")


def check_finite(tree: Any, argument: str, where: str = "") -> None:
    """Refuses NaN or infinity in a float array, naming the first bad index.

    Args:
        tree: an array, a list or a dict of arrays.
        argument: the argument's name for the message ("x", "y", "sample_weight").
        where: appended after the index, e.g. " of the first batch".
    """
    if not _config.check_finite_enabled():
        return
    for name, a in named_leaves(tree, argument):
        if a.dtype.kind not in "fc" and "float" not in a.dtype.name:
            continue  # integers and booleans cannot hold NaN
        # A float64 sum is finite exactly when every value is (it cannot overflow from float32
        # data), and costs no temporary array: the slow search runs only on bad data.
        if a.size == 0 or np.isfinite(np.sum(a, dtype=np.float64)):
            continue
        values = np.asarray(a, np.float64)
        bad = ~np.isfinite(values)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        value = float(values[first])
        what = "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
        index = first[0] if len(first) == 1 else first
        raise ValueError(
            f"`{name}` contains {what} at index {index}{where} ({int(bad.sum())} of {a.size} "
            f"values are NaN or infinite). Training on them makes the loss NaN. Fix: drop or "
            "impute those samples (e.g. keep = np.isfinite(x).all(axis=1); x, y = x[keep], "
            "y[keep]; or sklearn's SimpleImputer), or, if they are intended (a custom loss that "
            "masks them), turn this check off with kiln.config.set_check_finite(False).")


# -- features against the model's Input ---------------------------------------------------------

def expected_inputs(model: Any) -> tuple[str, list[tuple[str, tuple]]] | None:
    """`(structure, [(input name, batch shape)])` where the model's inputs are known, else None.

    structure is "single", "list" or "dict" (how the functional model's inputs were given).
    """
    functional = getattr(model, "_functional", None)
    if functional is not None:
        inputs = functional[0]
        if isinstance(inputs, dict):
            return "dict", [(k, tuple(t.shape)) for k, t in inputs.items()]
        leaves = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if not all(hasattr(t, "shape") for t in leaves):
            return None
        pairs = [(t.name or t.node.layer.name, tuple(t.shape)) for t in leaves]
        return ("list" if isinstance(inputs, (list, tuple)) else "single"), pairs
    layer = getattr(model, "_input_layer", None)  # Sequential: from Input, input_shape or a fit
    if layer is not None and getattr(layer, "batch_shape", None) is not None:
        return "single", [(layer.name, tuple(layer.batch_shape))]
    return None


def check_features(model: Any, x: Any, argument: str = "x") -> None:
    """Checks that x has the structure (inputs, dict keys) and shapes the model's Input expects."""
    expected = expected_inputs(model)
    if expected is None or x is None:
        return
    for arg, input_name, shape, value in _pair_inputs(expected, x, argument):
        if isinstance(value, (dict, list, tuple)):
            continue
        _compare_shape(arg, input_name, shape, tuple(np.shape(value)))


def _pair_inputs(expected: tuple, x: Any, argument: str) -> list[tuple]:
    structure, pairs = expected
    names = [n for n, _ in pairs]
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            hints = {m: closest_names(m, [k for k in x if k not in names]) for m in missing}
            hint = "; ".join(f"{m!r} looks like {h[0]!r}" for m, h in hints.items() if h)
            raise ValueError(
                f"`{argument}` is a dict with keys {sorted(map(str, x))} but the model's inputs "
                f"are named {names}: missing {missing}{' (' + hint + ')' if hint else ''}. Fix: "
                "key each array by the name of its Input (kiln.Input(shape, name=...)).")
        extra = [k for k in x if k not in names]
        if extra:
            warn(f"`{argument}` has keys {extra} that are not inputs of the model (its inputs are "
                 f"{names}); those arrays are ignored. Check the key or the Input's name for a "
                 "typo, or drop them from the dict.")
        return [(f"{argument}[{n!r}]", n, s, x[n]) for n, s in pairs]
    if isinstance(x, (list, tuple)):
        if len(x) != len(pairs):
            raise ValueError(
                f"The model has {len(pairs)} input(s) {names} but `{argument}` is a list of "
                f"{len(x)} arrays. Fix: pass one array per input, in that order (or a dict keyed "
                "by input name)" + (", or stack the arrays into one with np.stack / "
                "np.concatenate." if len(pairs) == 1 else "."))
        return [(f"{argument}[{i}]", n, s, v) for i, ((n, s), v) in enumerate(zip(pairs, x))]
    if len(pairs) > 1:
        raise ValueError(
            f"The model has {len(pairs)} inputs {names} but `{argument}` is one array of shape "
            f"{np.shape(x)}. Fix: pass a list with one array per input, in that order, or a dict "
            f"keyed by input name, e.g. {{{names[0]!r}: ..., {names[1]!r}: ...}}.")
    return [(argument, pairs[0][0], pairs[0][1], x)]


def _compare_shape(arg: str, input_name: str, expected: tuple, received: tuple) -> None:
    exp, rec = expected[1:], received[1:]  # the batch size may differ
    if len(exp) == len(rec):
        bad = [i for i, (e, r) in enumerate(zip(exp, rec)) if e is not None and e != r]
        if not bad:
            return
        if len(exp) == 1:
            raise ValueError(
                f"`{arg}` has shape {received}: {rec[0]} features per sample, but the model's "
                f"input '{input_name}' expects shape {expected} ({exp[0]} features). Fix: pass "
                "the same feature columns the model was built with, or build it with "
                f"kiln.Input(shape={rec}).")
        axis = bad[0] + 1
        raise ValueError(
            f"`{arg}` has shape {received} but the model's input '{input_name}' expects shape "
            f"{expected} (None means any size): axis {axis} is {received[axis]}, expected "
            f"{expected[axis]}. Fix: resize or crop the data to that shape, or build the model "
            f"with kiln.Input(shape={rec}).")
    # Keras expands (N,) to (N, 1) (and squeezes a trailing 1) for an Input of the other rank.
    if rec + (1,) == exp or rec == exp + (1,):
        return
    raise ValueError(
        f"`{arg}` has shape {received} (rank {len(received)}) but the model's input "
        f"'{input_name}' expects rank {len(expected)}, shape {expected}. Fix: "
        f"{_rank_hint(arg, exp, rec)}")


def _rank_hint(arg: str, exp: tuple, rec: tuple) -> str:
    target = "(N, " + ", ".join(str(d) for d in exp) + ")"
    if None not in exp and None not in rec and int(np.prod(exp)) == int(np.prod(rec)):
        return f"reshape it with {arg}.reshape(-1, {', '.join(str(d) for d in exp)})."
    if len(rec) > len(exp):
        return (f"build the model with kiln.Input(shape={rec}) and put a Flatten layer after it "
                f"if the next layer expects vectors, or reshape {arg} to {target}.")
    return f"reshape {arg} to {target}, or build the model with kiln.Input(shape={rec})."
