"""TextVectorization: strings -> standardized tokens -> vocabulary indices, on the host.

Matches Keras's TensorFlow pipeline: "lower" lowercases ASCII letters only
(`tf.strings.lower`), "strip_punctuation" removes ASCII punctuation, "whitespace" splits on
runs of ASCII whitespace, "character" splits into Unicode code points, and `ngrams` joins
consecutive tokens with a space, all widths of a row in the order given.
"""

from __future__ import annotations

import re
import string
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from .._symbolic import is_symbolic
from ._encoding import check_output_mode
from ._lookup import StringLookup
from ._vocab import as_string_array

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NO_PUNCT = str.maketrans("", "", string.punctuation)
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")


def standardize_text(text: str, mode: str) -> str:
    """Keras's built-in standardizations of one string."""
    if mode in ("lower", "lower_and_strip_punctuation"):
        text = text.translate(_LOWER)
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = text.translate(_NO_PUNCT)
    return text


def split_text(text: str, mode: str) -> list[str]:
    """Whitespace tokens (no empty ones) or the characters of `text`."""
    if mode == "character":
        return list(text)
    return [t for t in _WHITESPACE.split(text) if t]


def make_ngrams(tokens: list[str], widths: tuple[int, ...]) -> list[str]:
    """All n-grams of each width (in order), joined by a space; rows too short give none."""
    return [" ".join(tokens[i:i + w]) for w in widths for i in range(len(tokens) - w + 1)]


def _map_strings(arr: np.ndarray, fn: Callable[[str], str]) -> np.ndarray:
    return np.array([fn(s) for s in arr.ravel().tolist()], dtype=str).reshape(arr.shape)


class TextVectorization(Layer):
    """Turns raw strings into token ids (or multi-hot / count / TF-IDF vectors).

    Runs on the host, like Keras's own TensorFlow-based layer (which lives in `tf.data`):
    strings cannot be traced by `jax.jit`. Vectorize the texts first, then fit on the ids:
    `model.fit(vectorizer(texts), y)`. Outputs are JAX arrays.

    Args:
        max_tokens: maximum vocabulary size, including the padding ("") and OOV ("[UNK]")
            entries in "int" mode (only "[UNK]" in the other modes).
        standardize: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation",
            None, or a callable receiving a NumPy array of str and returning one.
        split: "whitespace" (default), "character", None (whole strings are tokens), or a
            callable receiving a 1-D NumPy array of str and returning one token list per string.
        ngrams: None, an int n (widths 1..n) or a tuple of widths.
        output_mode: "int" (default), "multi_hot", "count", "tf_idf"; or "one_hot" with
            split=None.
        output_sequence_length: in "int" mode, pad or truncate every row to this length
            (otherwise rows are padded with 0 to the longest in the batch).
        pad_to_max_tokens: make encoded outputs `max_tokens` wide.
        vocabulary: a list of strings (never a file path), or call `adapt(texts)`.
        idf_weights: IDF weights for "tf_idf" with a given vocabulary.
        sparse / ragged: must be False.
        encoding: used to decode bytes inputs.

    Example:
        >>> layer = TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
        >>> np.asarray(layer(["foo qux bar", "qux baz"])).tolist()
        [[4, 1, 3, 0], [1, 2, 0, 0]]
    """

    def __init__(self, max_tokens: int | None = None,
                 standardize: str | Callable | None = "lower_and_strip_punctuation",
                 split: str | Callable | None = "whitespace", ngrams: int | tuple | None = None,
                 output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary: Any = None, idf_weights: Any = None,
                 sparse: bool = False, ragged: bool = False, encoding: str = "utf-8",
                 name: str | None = None, **kwargs: Any):
        kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(name=name, **kwargs)
        mode = check_output_mode(output_mode, ("int", "one_hot", "multi_hot", "count", "tf_idf"),
                                 "TextVectorization")
        _check_text_args(standardize, split, ngrams, mode, output_sequence_length, sparse, ragged)
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode, self._output_sequence_length = mode, output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=mode,
            encoding=encoding, has_input_vocabulary=has_input_vocabulary)
        self.built = True

    # -- vocabulary ----------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary in index order (with "" and "[UNK]" first in "int" mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Sets the vocabulary (a list of strings) and, for "tf_idf", its IDF weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Builds the vocabulary from texts: a list/array of strings (one document each) or
        an iterable of such batches (`steps` limits how many are read)."""
        self._lookup_layer.reset_state()
        if isinstance(data, (str, bytes, list, tuple, np.ndarray, jax.Array)):
            arr = as_string_array(data, self._encoding, "TextVectorization")
            self.update_state(arr[:, None] if arr.ndim == 1 else arr)
        else:
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            raise ValueError(f"Cannot adapt TextVectorization '{self.name}': its vocabulary was "
                             "given with the `vocabulary` argument.")
        rows = self._tokenize(data)
        if isinstance(rows, np.ndarray):  # split=None: rows of whole strings
            rows = rows.reshape(1, -1) if rows.ndim < 2 else rows
            rows = [row.ravel().tolist() for row in rows]
        lookup.update_rows(rows)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    # -- preprocessing ---------------------------------------------------------------------------
    def _tokenize(self, inputs: Any) -> Any:
        """Standardized strings; then (unless split is None) one token list per string."""
        arr = as_string_array(inputs, self._encoding, "TextVectorization")
        if callable(self._standardize):
            arr = as_string_array(self._standardize(arr), self._encoding, "standardize output")
        elif self._standardize is not None:
            arr = _map_strings(arr, lambda s: standardize_text(s, self._standardize))
        if self._split is None:
            return arr
        if arr.ndim > 1:
            if arr.shape[-1] != 1 or arr.ndim > 2:
                raise ValueError("TextVectorization tokenizes a batch of strings of shape (N,) or "
                                 f"(N, 1); received shape {arr.shape}.")
            arr = arr[..., 0]
        flat = arr.reshape(-1)
        if callable(self._split):
            rows = [[str(t) for t in row] for row in self._split(flat)]
            if len(rows) != len(flat):
                raise ValueError(f"The split callable returned {len(rows)} token lists for "
                                 f"{len(flat)} strings; return one list per string.")
        else:
            rows = [split_text(s, self._split) for s in flat.tolist()]
        if self._ngrams is not None:
            rows = [make_ngrams(r, self._ngrams) for r in rows]
        return rows if arr.ndim else rows[:1]

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> jax.Array:
        if is_symbolic(inputs):
            raise TypeError("TextVectorization works on host data (strings cannot be traced by "
                            "JAX), so it cannot be a layer of a functional model. Vectorize the "
                            "texts first: model.fit(vectorizer(texts), y).")
        scalar = np.ndim(inputs) == 0
        lookup, rows = self._lookup_layer, self._tokenize(inputs)
        if isinstance(rows, np.ndarray):  # split=None: a dense lookup
            return self._fit_length(lookup._encode(lookup._lookup_ids(np, rows)))
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        flat = np.array([t for r in rows for t in r], dtype=str)
        ids = lookup._lookup_ids(np, flat)
        if self._output_mode == "int":
            width = self._output_sequence_length
            width = int(lengths.max(initial=0)) if width is None else width
            out = _pad_rows(ids, lengths, width, 0)
        else:
            out = _pad_rows(ids, lengths, int(lengths.max(initial=0)), -1)
        out = lookup._encode(out)
        return out[0] if scalar else out

    def _fit_length(self, out: jax.Array) -> jax.Array:
        """Pads or truncates the last axis to output_sequence_length (int mode)."""
        length = self._output_sequence_length
        if self._output_mode != "int" or length is None:
            return out
        out = out[..., :length]
        pad = [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])]
        return jnp.pad(out, pad)

    # -- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        lookup = self._lookup_layer.get_config()
        return {**super().get_config(), "max_tokens": lookup["max_tokens"],
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup["pad_to_max_tokens"], "sparse": False,
                "ragged": False, "vocabulary": lookup["vocabulary"],
                "idf_weights": lookup["idf_weights"], "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TextVectorization":
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)


def _pad_rows(ids: np.ndarray, lengths: np.ndarray, width: int, fill: int) -> np.ndarray:
    """Scatters the flat ids of ragged rows into an (N, width) array, truncating long rows."""
    out = np.full((len(lengths), width), fill, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    cols = np.arange(len(ids)) - starts
    keep = cols < width
    out[rows[keep], cols[keep]] = ids[keep]
    return out


def _check_text_args(standardize: Any, split: Any, ngrams: Any, mode: str, length: Any,
                     sparse: bool, ragged: bool) -> None:
    if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
        raise ValueError(f"TextVectorization standardize must be one of {_STANDARDIZE}, None or "
                         f"a callable; received {standardize!r}.")
    if not (split is None or callable(split) or split in _SPLIT):
        raise ValueError(f"TextVectorization split must be one of {_SPLIT}, None or a callable; "
                         f"received {split!r}.")
    if not (ngrams is None or isinstance(ngrams, int)
            or (isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
        raise ValueError(f"TextVectorization ngrams must be None, an int or a tuple of ints; "
                         f"received {ngrams!r}.")
    if ngrams is not None and split is None:
        raise ValueError("TextVectorization ngrams need tokens: set split (e.g. 'whitespace').")
    if mode == "int" and not (length is None or isinstance(length, int)):
        raise ValueError(f"output_sequence_length must be None or an int; received {length!r}.")
    if mode != "int" and length is not None:
        raise ValueError("output_sequence_length only applies to output_mode='int'; received "
                         f"output_mode={mode!r} with output_sequence_length={length}.")
    if mode == "one_hot" and split is not None:
        raise ValueError("TextVectorization(output_mode='one_hot') encodes one token per string: "
                         "use split=None, or output_mode='multi_hot' / 'count' for split texts.")
    if sparse or ragged:
        raise ValueError("TextVectorization(sparse=True / ragged=True) is not supported: kiln "
                         "produces dense arrays (int rows are padded with 0).")
