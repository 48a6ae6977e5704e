"""IndexLookup: the shared core of StringLookup and IntegerLookup (tokens <-> indices).

Keras builds these on TensorFlow hash tables inside `tf.data`. kiln keeps the vocabulary as
a Python list and looks tokens up with a sorted table:

- StringLookup runs on the host (NumPy): strings cannot enter `jax.jit`. Apply it to the data
  before `fit`, or call it eagerly; it returns JAX arrays ready for a model.
- IntegerLookup runs on the host for NumPy/list inputs (exact int64) and in jax.numpy for JAX
  arrays, so it also works inside a jitted model (ids then use JAX's default int width).

Index layout (as Keras): `[mask (int mode only)] + [OOV] * num_oov_indices + tokens`.
`adapt(data)` orders tokens by decreasing frequency, ties by decreasing token.
"""

from __future__ import annotations

from typing import Any, Iterable

import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from ._encoding import check_output_mode, encode_categorical
from ._farmhash import hash_bucket
from ._vocab import (Accumulator, LookupTable, inverse_document_frequency, invert_lookup,
                     sorted_tokens, vocabulary_list)

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
# Keras's lookup outputs are int64; JAX keeps int32 unless x64 is enabled.
INT_DTYPE = jax.dtypes.canonicalize_dtype(np.int64)


class IndexLookup(Layer):
    """Shared machinery of StringLookup and IntegerLookup (see their docstrings)."""

    _is_string = True

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any,
                 oov_token: Any, vocabulary: Any = None, idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod",
                 salt: Any = None, **kwargs: Any):
        kwargs.pop("vocabulary_size", None)  # Keras config keys with no meaning here
        kwargs.pop("dtype", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(**kwargs)
        label = type(self).__name__
        self.output_mode = check_output_mode(output_mode, _MODES, label)
        _check_args(label, max_tokens, num_oov_indices, invert, self.output_mode, sparse,
                    pad_to_max_tokens, oov_method, salt, idf_weights)
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.sparse, self.pad_to_max_tokens = bool(invert), False, pad_to_max_tokens
        self.oov_method, self.salt = oov_method, salt
        self.input_vocabulary = None if vocabulary is None else vocabulary_list(vocabulary, label)
        self.input_idf_weights = None if idf_weights is None else np.asarray(idf_weights).tolist()
        self._has_input_vocabulary = has_input_vocabulary
        if self.output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{label}(output_mode='tf_idf', vocabulary=...) also needs "
                             "idf_weights=[...] (one weight per vocabulary entry).")
        self._tokens: list = []
        self._table = LookupTable([], self._token_start_index(), self._is_string)
        self._idf: np.ndarray | None = None
        self._accumulator = Accumulator(self.output_mode == "tf_idf")
        self.built = True
        if vocabulary is not None:
            self.set_vocabulary(self.input_vocabulary, idf_weights)

    # -- vocabulary ----------------------------------------------------------------------------
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary in index order; position `i` is the token of index `i`.

        Args:
            include_special_tokens: whether to include the mask and OOV entries.
        """
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def _clean_token(self, token: Any) -> Any:
        if self._is_string:
            if isinstance(token, bytes):
                return token.decode(getattr(self, "encoding", "utf-8"))
            return token
        return int(token)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Sets the vocabulary (a list; it may start with the special tokens) and, in
        "tf_idf" mode, the IDF weights (same length as `vocabulary`)."""
        label = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{label} in output_mode='tf_idf' needs idf_weights with the "
                             "vocabulary.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"idf_weights only apply to output_mode='tf_idf'; this {label} uses "
                             f"{self.output_mode!r}.")
        vocab = [self._clean_token(t) for t in vocabulary_list(vocabulary, label)]
        if not vocab:
            raise ValueError(f"{label} cannot use an empty vocabulary.")
        start = self._token_start_index()
        special = ([self.mask_token] * self._oov_start_index()
                   + [self.oov_token] * self.num_oov_indices)
        found_special = vocab[:start] == special
        tokens = vocab[start:] if found_special else vocab
        _check_tokens(label, tokens, special, self.mask_token,
                      self.oov_token if self.invert else None)
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(f"{label} vocabulary has {start + len(tokens)} entries (special "
                             f"tokens included), more than max_tokens={self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf = np.asarray(idf_weights, dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(vocab):
                raise ValueError(f"{label} idf_weights must be 1-D with one weight per vocabulary "
                                 f"entry ({len(vocab)}); received shape {idf.shape}.")
            front = 0 if found_special else start
            # Special-token slots get the mean weight, as in Keras.
            self._idf = self._pad_idf(idf, front, 0.0 if found_special else np.average(idf))

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        self._table = LookupTable(self._tokens, self._token_start_index(), self._is_string)

    def _pad_idf(self, idf: np.ndarray, front: int, front_value: float) -> np.ndarray:
        back = 0
        if self.pad_to_max_tokens and self.max_tokens is not None:
            back = self.max_tokens - front - len(idf)
        return np.pad(idf, (front, back), constant_values=(front_value, 0)).astype(np.float32)

    # -- adapt -----------------------------------------------------------------------------------
    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learns the vocabulary (and document frequencies for "tf_idf") from `data`.

        Args:
            data: an array or (nested) list of tokens, each row one document; or an iterable
                of such batches (a generator, a dataset), where a 1-D batch is one document.
            steps: how many batches of an iterable to read (all when None).
        """
        self.reset_state()
        if isinstance(data, (list, tuple, np.ndarray, jax.Array)):
            arr = self._to_array(data)
            self.update_state(arr[:, None] if arr.ndim == 1 else arr)
        else:
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        """Counts the tokens of one batch."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt {type(self).__name__} '{self.name}': its vocabulary "
                             "was given with the `vocabulary` argument.")
        arr = self._to_array(data)
        arr = arr.reshape(1, -1) if arr.ndim < 2 else arr
        self._accumulator.update(row.ravel().tolist() for row in arr)

    def update_rows(self, rows: Iterable[list]) -> None:
        """Counts the tokens of already-tokenized rows (used by TextVectorization)."""
        self._accumulator.update(rows)

    def finalize_state(self) -> None:
        """Turns the counts into the vocabulary (most frequent first)."""
        acc = self._accumulator
        if self._has_input_vocabulary or not acc.counts:
            return
        start = self._token_start_index()
        limit = self.max_tokens - start if self.max_tokens else None
        tokens = sorted_tokens(acc.counts, (self.mask_token, self.oov_token), limit)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf = inverse_document_frequency([acc.doc_counts[t] for t in tokens], acc.num_documents)
            self._idf = self._pad_idf(idf, start, np.mean(idf))
        self.reset_state()

    def reset_state(self) -> None:
        self._accumulator = Accumulator(self.output_mode == "tf_idf")

    # -- lookup ----------------------------------------------------------------------------------
    def _lookup_ids(self, xp: Any, inputs: Any) -> Any:
        """Vocabulary index of each token (mask -> 0 in "int" mode, dropped (-1) otherwise)."""
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        ids = self._table.lookup(xp, inputs, default)
        is_mask = (inputs == self.mask_token) if self.mask_token is not None else None
        if self.num_oov_indices > 1:
            ids = self._oov_buckets(xp, inputs, ids)
        elif self.num_oov_indices == 0 and xp is np:
            missing = (ids == -1) if is_mask is None else (ids == -1) & ~is_mask
            if missing.any():
                unknown = sorted(set(inputs[missing].tolist()))[:10]
                raise ValueError(f"{type(self).__name__} has num_oov_indices=0, so every input "
                                 f"must be in the vocabulary; found {unknown}. Set "
                                 "num_oov_indices=1 to map unknown tokens to an OOV index.")
        if is_mask is not None:
            ids = xp.where(is_mask, 0 if self.output_mode == "int" else -1, ids)
        return ids

    def _oov_buckets(self, xp: Any, inputs: Any, ids: Any) -> Any:
        """Spreads OOV tokens over the OOV indices: floormod for integers, else FarmHash."""
        start, n = self._oov_start_index(), self.num_oov_indices
        if not self._is_string and self.oov_method == "floormod":
            return xp.where(ids == -1, xp.mod(inputs, n) + start, ids)
        if xp is not np:
            raise ValueError("IntegerLookup(oov_method='farmhash') hashes decimal strings on the "
                             "host and cannot run inside jax.jit; call it on NumPy data, or use "
                             "oov_method='floormod'.")
        ids, missing = np.array(ids), ids == -1
        if missing.any():
            uniq, where = np.unique(inputs[missing], return_inverse=True)
            encoding = getattr(self, "encoding", "utf-8")
            buckets = np.array([hash_bucket(str(u if self._is_string else int(u)), n, encoding)
                                for u in uniq.tolist()], dtype=np.int64)
            ids[missing] = buckets[where] + start
        return ids

    def _encode(self, ids: Any) -> jax.Array:
        if self.output_mode == "int":
            return jnp.asarray(ids)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if (not self.pad_to_max_tokens and not self._tokens) or (
                self.output_mode == "tf_idf" and self._idf is None):
            raise RuntimeError(f"{type(self).__name__} in output_mode={self.output_mode!r} needs a "
                               "vocabulary before it is called: pass vocabulary=[...] or call "
                               "adapt(data) first.")
        if self.output_mode != "tf_idf":
            return encode_categorical(ids, self.output_mode, depth, INT_DTYPE)
        counts = encode_categorical(ids, "count", depth, jnp.float32)
        return counts * jnp.asarray(self._idf)

    def _invert(self, xp: Any, indices: Any) -> Any:
        values = self.get_vocabulary()
        values = np.array(values, dtype=object) if self._is_string else np.array(values, np.int64)
        return invert_lookup(xp, indices, values, self._token_start_index(), self.oov_token,
                             self.mask_token)

    def _host_call(self, inputs: Any) -> Any:
        if self.invert:
            idx = np.asarray(inputs)
            if idx.dtype.kind not in "iu":
                raise TypeError(f"{type(self).__name__}(invert=True) maps integer indices back to "
                                f"tokens; received an array of dtype {idx.dtype}.")
            out = self._invert(np, idx.astype(np.int64))
            return out.astype(str) if self._is_string else jnp.asarray(out.astype(np.int64))
        return self._encode(self._lookup_ids(np, self._to_array(inputs)))

    # -- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        vocabulary, idf = self.input_vocabulary, self.input_idf_weights
        if vocabulary is None and self._tokens:
            # kiln keeps an adapted vocabulary in the config (Keras writes it to an asset file).
            vocabulary = self.get_vocabulary()
            if self._idf is not None:
                idf = self._idf[:self.vocabulary_size()].tolist()
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "idf_weights": idf, "vocabulary": vocabulary,
                "vocabulary_size": self.vocabulary_size() if self._tokens else None,
                "oov_method": self.oov_method, "salt": self.salt}


def _check_args(label: str, max_tokens: Any, num_oov: int, invert: bool, mode: str, sparse: bool,
                pad: bool, oov_method: str, salt: Any, idf_weights: Any) -> None:
    if max_tokens is not None and max_tokens <= 1:
        raise ValueError(f"{label} max_tokens must be > 1 when set; received {max_tokens}.")
    if pad and max_tokens is None:
        raise ValueError(f"{label}(pad_to_max_tokens=True) needs max_tokens to be set.")
    if num_oov < 0:
        raise ValueError(f"{label} num_oov_indices must be >= 0; received {num_oov}.")
    if oov_method not in ("floormod", "farmhash"):
        raise ValueError(f"{label} oov_method must be 'floormod' or 'farmhash'; received "
                         f"{oov_method!r}.")
    if salt is not None:
        raise ValueError(f"{label}(salt=...) needs TensorFlow's keyed SipHash, which kiln does not "
                         "implement; leave salt=None (unsalted FarmHash is used).")
    if invert and mode != "int":
        raise ValueError(f"{label}(invert=True) needs output_mode='int'; received {mode!r}.")
    if sparse:
        raise ValueError(f"{label}(sparse=True) is not supported: kiln produces dense arrays only.")
    if idf_weights is not None and mode != "tf_idf":
        raise ValueError(f"{label} idf_weights only apply to output_mode='tf_idf'; received "
                         f"output_mode={mode!r}.")


def _check_tokens(label: str, tokens: list, special: list, mask: Any, oov_if_invert: Any) -> None:
    seen, repeated = set(), []
    for t in tokens:
        if t in seen and t not in repeated:
            repeated.append(t)
        seen.add(t)
    if repeated:
        raise ValueError(f"{label} vocabulary repeats {repeated[:10]}; every token must appear "
                         "once.")
    for name, token in (("mask", mask), ("OOV", oov_if_invert)):
        if token is not None and token in seen:
            raise ValueError(f"{label} vocabulary contains the {name} token {token!r} among the "
                             "regular tokens. Leave special tokens out, or put them first in "
                             f"exactly this order: {special}.")
