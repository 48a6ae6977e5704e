"""`pad_sequences`, as `keras.utils.pad_sequences`.

Example:
    >>> pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def _sample_shape(sequences: Sequence[Any]) -> tuple[int, ...]:
    """The shape of one timestep: taken from the first non-empty sequence (Keras's rule)."""
    for seq in sequences:
        if len(seq):
            return np.asarray(seq).shape[1:]
    return ()


def _check_args(padding: str, truncating: str) -> None:
    if padding not in ("pre", "post"):
        raise ValueError(f'padding must be "pre" or "post"; received padding={padding!r}.')
    if truncating not in ("pre", "post"):
        raise ValueError('truncating must be "pre" or "post"; received '
                         f"truncating={truncating!r}.")


def _lengths(sequences: Sequence[Any]) -> list[int]:
    for i, seq in enumerate(sequences):
        if not hasattr(seq, "__len__"):
            raise ValueError(f"pad_sequences expects every entry to be a sequence; entry {i} is "
                             f"{seq!r}. Wrap scalars in a list.")
    return [len(seq) for seq in sequences]


def pad_sequences(sequences: Sequence[Any], maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pads (or truncates) a list of sequences to one length: a `(len(sequences), maxlen)` array.

    Args:
        sequences: a list of sequences (lists or arrays; each timestep may itself be an array).
        maxlen: the output length; default the longest sequence's length.
        dtype: the output dtype (strings need a string or object dtype).
        padding: "pre" or "post": pad before or after each sequence.
        truncating: "pre" or "post": drop values from the start or the end of longer sequences.
        value: the padding value.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post").tolist()
        [[1, 2], [4, 0]]
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences expects a list of sequences; received a "
                         f"{type(sequences).__name__} without a length.")
    _check_args(padding, truncating)
    lengths = _lengths(sequences)
    maxlen = int(np.max(lengths)) if maxlen is None and lengths else (maxlen or 0)
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and not is_text:
        raise ValueError(f"dtype {dtype!r} cannot hold the string padding value {value!r}; "
                         "pass dtype=object or a string dtype.")
    out = np.full((len(sequences), maxlen) + _sample_shape(sequences), value, dtype=dtype)
    for i, seq in enumerate(sequences):
        if not len(seq) or not maxlen:
            continue
        kept = np.asarray(seq, dtype=dtype)
        kept = kept[-maxlen:] if truncating == "pre" else kept[:maxlen]
        if kept.shape[1:] != out.shape[2:]:
            raise ValueError(f"Sequence {i} has timesteps of shape {kept.shape[1:]}, expected "
                             f"{out.shape[2:]} (the first non-empty sequence's); give every "
                             "timestep the same shape.")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out
