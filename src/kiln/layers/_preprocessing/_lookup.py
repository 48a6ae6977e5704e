"""StringLookup and IntegerLookup: Keras's lookup layers on a host-side vocabulary table."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._symbolic import is_symbolic
from ._index_lookup import INT_DTYPE, IndexLookup
from ._vocab import as_string_array


class StringLookup(IndexLookup):
    """Maps strings to integer indices from a vocabulary (or, with `invert=True`, back).

    Runs on the host: strings cannot be traced by `jax.jit`, so apply the layer to the data
    before `fit` (as Keras users do in `tf.data`), or call it eagerly. Outputs are JAX
    arrays (integers; float32 for "tf_idf"); `invert=True` returns a NumPy array of str.

    Indices: `0` is the mask token (when `mask_token` is set and output_mode is "int"), then
    `num_oov_indices` OOV indices, then the vocabulary. With several OOV indices an unknown
    string goes to `FarmHash64(string) % num_oov_indices` (TensorFlow's hash bucket).

    Args:
        max_tokens: maximum vocabulary size, special tokens included (None: unlimited).
        num_oov_indices: number of OOV indices (default 1; 0 makes unknown tokens an error).
        mask_token: the token that maps to index 0 (None: no mask).
        oov_token: the token returned for OOV indices by `invert=True` (default "[UNK]").
        vocabulary: a list of strings (never a file path); it may start with the special
            tokens. Otherwise call `adapt(data)`.
        idf_weights: IDF weights for "tf_idf" mode, one per vocabulary entry.
        invert: map indices to strings instead.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: make the encoded outputs `max_tokens` wide.
        sparse: must be False.
        encoding: the text encoding used to decode bytes inputs (default "utf-8").

    Example:
        >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> np.asarray(layer([["a", "c", "d"], ["d", "z", "b"]])).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _is_string = True

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]", vocabulary: Any = None,
                 idf_weights: Any = None, invert: bool = False, output_mode: str = "int",
                 pad_to_max_tokens: bool = False, sparse: bool = False, encoding: str = "utf-8",
                 name: str | None = None, salt: Any = None, **kwargs: Any):
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens,
                         salt=salt, name=name, **kwargs)

    def _to_array(self, data: Any) -> np.ndarray:
        return as_string_array(data, self.encoding, "StringLookup")

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if is_symbolic(inputs):
            raise TypeError("StringLookup works on host data (strings cannot be traced by JAX), "
                            "so it cannot be a layer of a functional model. Apply it to the data "
                            "first: ids = lookup(strings); model.fit(ids, y).")
        return self._host_call(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integer tokens (e.g. sparse ids) to contiguous indices, or back with `invert=True`.

    NumPy / list inputs are looked up on the host with exact int64 tokens; JAX arrays (and
    tracers inside a jitted model) use a jax.numpy `searchsorted` lookup, so the layer also
    works inside `fit` (tokens then use JAX's default int width, int32 unless x64 is on).

    Indices: `0` is the mask token (when `mask_token` is set and output_mode is "int"), then
    `num_oov_indices` OOV indices, then the vocabulary. With several OOV indices an unknown
    token `t` goes to `t mod num_oov_indices` ("floormod") or to the FarmHash bucket of its
    decimal string ("farmhash", host only). With `num_oov_indices=0` an unknown token is an
    error on the host; inside `jax.jit` it cannot raise and gives -1 instead.

    Args:
        max_tokens: maximum vocabulary size, special tokens included (None: unlimited).
        num_oov_indices: number of OOV indices (default 1).
        mask_token: the token that maps to index 0 (None: no mask).
        oov_token: the token returned for OOV indices by `invert=True` (default -1).
        vocabulary: a list of ints (never a file path), or call `adapt(data)`.
        vocabulary_dtype: must be "int64" (as in Keras).
        idf_weights: IDF weights for "tf_idf" mode, one per vocabulary entry.
        invert: map indices to tokens instead.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        sparse: must be False.
        pad_to_max_tokens: make the encoded outputs `max_tokens` wide.
        oov_method: "floormod" (default) or "farmhash".

    Example:
        >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> np.asarray(layer(np.array([[12, 1138, 42], [42, 1000, 36]]))).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _is_string = False

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary: Any = None,
                 vocabulary_dtype: str = "int64", idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False, pad_to_max_tokens: bool = False,
                 oov_method: str = "floormod", salt: Any = None, name: str | None = None,
                 **kwargs: Any):
        if vocabulary_dtype != "int64":
            raise ValueError("IntegerLookup supports only vocabulary_dtype='int64' (as Keras); "
                             f"received {vocabulary_dtype!r}.")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens,
                         oov_method, salt, name=name, **kwargs)

    def _to_array(self, data: Any) -> np.ndarray:
        arr = np.asarray(data)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"IntegerLookup expects integer tokens; received an array of dtype "
                            f"{arr.dtype}. Cast it (x.astype('int64')) or use StringLookup for "
                            "strings.")
        return arr.astype(np.int64)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, (np.ndarray, list, tuple, int, np.integer)):
            return self._host_call(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs: jax.Array) -> jax.Array:
        if not jnp.issubdtype(inputs.dtype, jnp.integer):
            raise TypeError(f"IntegerLookup expects integer tokens; received dtype {inputs.dtype}.")
        limit = np.iinfo(INT_DTYPE).max
        if len(self._table) and np.abs(self._table.keys).max() > limit:
            raise ValueError("IntegerLookup's vocabulary has tokens beyond the device int range "
                             f"(|t| > {limit}); call the layer on NumPy int64 data instead, or "
                             "enable jax_enable_x64.")
        if self.invert:
            return self._invert(jnp, inputs)
        return self._encode(self._lookup_ids(jnp, inputs))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["vocabulary_dtype"] = self.vocabulary_dtype
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config

