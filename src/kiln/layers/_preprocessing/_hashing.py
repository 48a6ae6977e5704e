"""Hashing and HashedCrossing: Keras 3's hashing-trick layers, on the host with NumPy.

Keras computes them with TensorFlow string ops: `Hashing` is
`tf.strings.to_hash_bucket_fast` (FarmHash `Fingerprint64(s) % bins`) or, with a `salt`,
`tf.strings.to_hash_bucket_strong` (keyed SipHash-2-4); `HashedCrossing` is
`tf.sparse.cross_hashed` (each feature's fingerprint folded into the key `0xDECAFCAFFE` with
`FingerprintCat64`). kiln has no TensorFlow, so the three hashes are computed here in Python,
once per distinct value. Integers are hashed as their decimal strings (floats are first
truncated to int64), as Keras does. Like StringLookup, the layers run on host data (NumPy
arrays, lists, concrete JAX arrays), outside the compiled step: apply them to the data
before `fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from .._symbolic import is_symbolic
from ._encoding import check_output_mode, encode_categorical
from ._farmhash import fingerprint64
from ._index_lookup import INT_DTYPE

__all__ = ["HashedCrossing", "Hashing", "fingerprint_cat64", "sip_hash64"]

_M64 = (1 << 64) - 1
_CROSS_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash_key
_CAT_MUL = 0xC6A4A7935BD1E995


def _rotl(v: int, shift: int) -> int:
    return ((v << shift) | (v >> (64 - shift))) & _M64


def _sip_rounds(v: list[int], count: int) -> None:
    for _ in range(count):
        v[0] = (v[0] + v[1]) & _M64
        v[1] = _rotl(v[1], 13) ^ v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & _M64
        v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & _M64
        v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & _M64
        v[1] = _rotl(v[1], 17) ^ v[2]
        v[2] = _rotl(v[2], 32)


def sip_hash64(data: bytes, key: Sequence[int]) -> int:
    """SipHash-2-4 of `data` under the 128-bit key `(k0, k1)` (two uint64 words), as
    TensorFlow's `StrongKeyedHash` (highwayhash's SipHash) computes it.

    Example (the reference test vector, key bytes 00..0f, empty message):
        >>> hex(sip_hash64(b"", (0x0706050403020100, 0x0F0E0D0C0B0A0908)))
        '0x726fdb47dd0e0e31'
    """
    k0, k1 = (int(k) & _M64 for k in key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    n = len(data)
    tail = ((n & 0xFF) << 56) | int.from_bytes(data[n - n % 8:], "little")
    words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, n - n % 8, 8)]
    for m in words + [tail]:
        v[3] ^= m
        _sip_rounds(v, 2)
        v[0] ^= m
    v[2] ^= 0xFF
    _sip_rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def fingerprint_cat64(fp1: Any, fp2: Any) -> Any:
    """TensorFlow's `FingerprintCat64`: combines two 64-bit fingerprints (order matters).

    Takes Python ints (returns an int) or uint64 arrays (returns an array, elementwise).

    Example:
        >>> fingerprint_cat64(1, 2) != fingerprint_cat64(2, 1)
        True
    """
    mul = np.uint64(_CAT_MUL)
    a, b = np.asarray(fp1, np.uint64), np.asarray(fp2, np.uint64)
    with np.errstate(over="ignore"):  # uint64 products wrap modulo 2**64, as in C++
        result = (a ^ mul) ^ (_shift_mix(b * mul) * mul)
        result = _shift_mix(_shift_mix(result * mul) * mul)
    return int(result) if result.ndim == 0 else result


def _shift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> np.uint64(47))


def _host_array(inputs: Any, label: str) -> np.ndarray:
    """The inputs as a NumPy array of str (bytes decoded as UTF-8), integers or floats."""
    if is_symbolic(inputs):
        raise TypeError(f"{label} works on host data (its hashes are computed in Python, as "
                        "Keras computes them with TensorFlow outside the model), so it cannot be "
                        f"a layer of a functional model. Apply it to the data first: "
                        f"ids = {label.lower()}_layer(data); model.fit(ids, y).")
    if isinstance(inputs, jax.core.Tracer):
        raise TypeError(f"{label} cannot run inside jax.jit or a compiled step (it hashes on the "
                        "host); call it on NumPy data before fit/predict.")
    arr = np.asarray(inputs)
    if arr.dtype.kind == "S":
        return np.char.decode(arr, "utf-8")
    if arr.dtype.kind == "O":
        flat = [x.decode("utf-8") if isinstance(x, bytes) else x for x in arr.ravel()]
        if not all(isinstance(x, str) for x in flat):
            raise TypeError(f"{label} expects strings or integers; received an object array "
                            f"holding {sorted({type(x).__name__ for x in flat})}.")
        return np.array(flat, dtype=str).reshape(arr.shape)
    if arr.dtype.kind not in "Uiubf":
        raise TypeError(f"{label} expects strings or integers; received dtype {arr.dtype}.")
    return arr


def _as_tokens(arr: np.ndarray) -> np.ndarray:
    """Keras's conversion before hashing: floats to int64, then numbers to decimal strings."""
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "b":
        return np.where(arr, "true", "false")  # tf.as_string of a bool
    if arr.dtype.kind == "f":
        arr = np.trunc(arr).astype(np.int64)
    return arr.astype(np.int64).astype(str)


def _hash_each(tokens: np.ndarray, fn: Callable[[bytes], int]) -> np.ndarray:
    """`fn(token.encode())` for every token, computed once per distinct token (uint64)."""
    uniq, where = np.unique(tokens.ravel(), return_inverse=True)
    hashes = np.array([fn(t.encode("utf-8")) for t in uniq.tolist()], dtype=np.uint64)
    return hashes[where].reshape(tokens.shape)


class Hashing(Layer):
    """Hashes strings or integers into `num_bins` bins (the hashing trick).

    The bin of a value is `Fingerprint64(str(value)) % num_bins` (TensorFlow's
    `to_hash_bucket_fast`), or with `salt` its keyed SipHash-2-4 modulo `num_bins`
    (`to_hash_bucket_strong`). With `mask_value`, values equal to it go to bin 0 and the
    others to `1 + hash % (num_bins - 1)`. Runs on host data; outputs are JAX arrays.

    Args:
        num_bins: the number of bins, the mask bin included.
        mask_value: the value mapped to bin 0, or None (default).
        salt: None (FarmHash), an int `s` (same as `[s, s]`) or two ints: the SipHash key.
        output_mode: "int" (default), "one_hot", "multi_hot" or "count".
        sparse: must be False (kiln outputs dense arrays).

    Example (values from Keras's docstring):
        >>> layer = Hashing(num_bins=3)
        >>> np.asarray(layer([["A"], ["B"], ["C"], ["D"], ["E"]])).ravel().tolist()
        [1, 0, 1, 1, 2]
    """

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else None
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"Hashing(num_bins=...) must be a positive integer; received "
                             f"num_bins={num_bins!r}.")
        self.output_mode = check_output_mode(output_mode, ("int", "one_hot", "multi_hot",
                                                           "count"), "Hashing")
        if self.output_mode == "int" and self.dtype_policy.name not in ("int32", "int64"):
            raise ValueError(f"Hashing(output_mode='int') needs dtype 'int32' or 'int64'; "
                             f"received dtype={self.dtype_policy.name!r}.")
        if sparse:
            raise ValueError("Hashing(sparse=True) is not supported: kiln produces dense arrays "
                             "only (Keras supports it on TensorFlow alone). Use sparse=False.")
        self.num_bins, self.mask_value, self.sparse = num_bins, mask_value, False
        self.strong_hash = salt is not None
        self.salt = _check_salt(salt)

    def _bins(self, values: np.ndarray) -> np.ndarray:
        bins, mask = self.num_bins, None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask_value = self.mask_value
            if isinstance(mask_value, bytes):
                mask_value = mask_value.decode("utf-8")
            mask = values == mask_value
        if self.strong_hash:
            hashes = _hash_each(_as_tokens(values), lambda b: sip_hash64(b, self.salt))
        else:
            hashes = _hash_each(_as_tokens(values), fingerprint64)
        ids = (hashes % np.uint64(bins)).astype(np.int64)
        return ids if mask is None else np.where(mask, 0, ids + 1)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        values = _host_array(inputs, "Hashing")
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        ids = self._bins(values)
        if self.output_mode == "int":
            return jnp.asarray(ids.astype(INT_DTYPE if self.dtype == "int64" else self.dtype))
        return encode_categorical(ids, self.output_mode, self.num_bins, self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}


def _check_salt(salt: Any) -> list[int] | None:
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(s) for s in salt]
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError(f"Hashing(salt=...) must be an int or a pair of ints (the SipHash key); "
                     f"received salt={salt!r}.")


class HashedCrossing(Layer):
    """Crosses scalar categorical features by hashing them together into `num_bins` bins.

    For each sample, the features (strings hashed by `Fingerprint64`, integers taken as
    their int64 value) are folded left to right into `0xDECAFCAFFE` with `FingerprintCat64`,
    modulo `num_bins`: TensorFlow's `tf.sparse.cross_hashed`. Inputs are a list or tuple of at
    least two arrays of equal shape `()`, `(batch,)` or `(batch, 1)`, of strings or integers.

    Args:
        num_bins: the number of bins.
        output_mode: "int" (default) or "one_hot".
        sparse: must be False.

    Example (values from Keras's docstring):
        >>> layer = HashedCrossing(num_bins=5)
        >>> feat1, feat2 = np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])
        >>> np.asarray(layer((feat1, feat2))).tolist()
        [1, 4, 1, 1, 3]
    """

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False,
                 name: str | None = None, dtype: Any = None, **kwargs: Any):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("HashedCrossing(sparse=True) can only be used with TensorFlow; "
                             "kiln produces dense arrays. Use sparse=False.")
        self.output_mode = check_output_mode(output_mode, ("int", "one_hot"), "HashedCrossing")
        self.num_bins, self.sparse = num_bins, False

    def _columns(self, inputs: Any) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError("HashedCrossing should be called on a list or tuple of at least two "
                             f"inputs; received {type(inputs).__name__}.")
        columns = [_host_array(x, "HashedCrossing") for x in inputs]
        shape = columns[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError("HashedCrossing inputs must have shape (), (batch,) or (batch, 1); "
                             f"received shape {shape}.")
        if any(c.shape != shape for c in columns[1:]):
            raise ValueError("HashedCrossing inputs must have equal shapes; received "
                             f"{[c.shape for c in columns]}.")
        if any(c.dtype.kind not in "Uiu" for c in columns):
            raise ValueError("HashedCrossing inputs must be integers or strings; received "
                             f"dtypes {[str(c.dtype) for c in columns]}.")
        return columns

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        columns = self._columns(inputs)
        features = [_hash_each(c, fingerprint64) if c.dtype.kind == "U"
                    else c.astype(np.int64).astype(np.uint64) for c in columns]
        crossed = np.full(columns[0].shape, _CROSS_KEY, dtype=np.uint64)
        for feature in features:
            crossed = np.asarray(fingerprint_cat64(crossed, feature), np.uint64)
        crossed = (crossed % np.uint64(self.num_bins)).astype(np.int64)
        if self.output_mode == "int":
            return jnp.asarray(crossed.astype(INT_DTYPE if self.dtype == "int64" else self.dtype))
        return encode_categorical(crossed, "one_hot", self.num_bins, self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if first and first[-1] == 1:
            return first[:-1] + (self.num_bins,)
        return first + (self.num_bins,)

    def get_config(self) -> dict[str, Any]:
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}
