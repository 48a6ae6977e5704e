"""FarmHash `Fingerprint64` (farmhashna::Hash64) in pure Python.

TensorFlow's `tf.strings.to_hash_bucket_fast(s, n)` is `Fingerprint64(s) % n`, and Keras's
lookup layers use it to spread out-of-vocabulary strings over `num_oov_indices > 1` buckets
(and integers, written in decimal, when `IntegerLookup(oov_method="farmhash")`). kiln has no
TensorFlow, so the fingerprint is computed here; it runs on the host, once per distinct
out-of-vocabulary token.
"""

from __future__ import annotations

_M64 = (1 << 64) - 1
# Three primes between 2**63 and 2**64 used by FarmHash.
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _rot(v: int, shift: int) -> int:
    return ((v >> shift) | (v << (64 - shift))) & _M64


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 8], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _mix16(u: int, v: int, mul: int) -> int:
    """Murmur-style combination of two 64-bit words."""
    a = ((u ^ v) * mul) & _M64
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M64
    b ^= b >> 47
    return (b * mul) & _M64


def _short(data: bytes) -> int:
    """0 to 16 bytes."""
    n = len(data)
    if n >= 8:
        mul = _K2 + 2 * n
        a = (_u64(data, 0) + _K2) & _M64
        b = _u64(data, n - 8)
        c = (_rot(b, 37) * mul + a) & _M64
        d = ((_rot(a, 25) + b) * mul) & _M64
        return _mix16(c, d, mul)
    if n >= 4:
        mul = _K2 + 2 * n
        return _mix16(n + (_u32(data, 0) << 3), _u32(data, n - 4), mul)
    if n > 0:
        y = (data[0] + (data[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (data[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M64) * _K2) & _M64
    return _K2


def _medium(data: bytes) -> int:
    """17 to 32 bytes."""
    n = len(data)
    mul = _K2 + 2 * n
    a = (_u64(data, 0) * _K1) & _M64
    b = _u64(data, 8)
    c = (_u64(data, n - 8) * mul) & _M64
    d = (_u64(data, n - 16) * _K2) & _M64
    return _mix16((_rot((a + b) & _M64, 43) + _rot(c, 30) + d) & _M64,
                  (a + _rot((b + _K2) & _M64, 18) + c) & _M64, mul)


def _long(data: bytes) -> int:
    """33 to 64 bytes."""
    n = len(data)
    mul = _K2 + 2 * n
    a = (_u64(data, 0) * _K2) & _M64
    b = _u64(data, 8)
    c = (_u64(data, n - 8) * mul) & _M64
    d = (_u64(data, n - 16) * _K2) & _M64
    y = (_rot((a + b) & _M64, 43) + _rot(c, 30) + d) & _M64
    z = _mix16(y, (a + _rot((b + _K2) & _M64, 18) + c) & _M64, mul)
    e = (_u64(data, 16) * mul) & _M64
    f = _u64(data, 24)
    g = ((y + _u64(data, n - 32)) * mul) & _M64
    h = ((z + _u64(data, n - 24)) * mul) & _M64
    return _mix16((_rot((e + f) & _M64, 43) + _rot(g, 30) + h) & _M64,
                  (e + _rot((f + a) & _M64, 18) + g) & _M64, mul)


def _weak32(data: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    """A quick 128-bit mix of the 32 bytes at `at` with two seeds."""
    w, x, y, z = (_u64(data, at + k) for k in (0, 8, 16, 24))
    a = (a + w) & _M64
    b = _rot((b + a + z) & _M64, 21)
    c = a
    a = (a + x + y) & _M64
    b = (b + _rot(a, 44)) & _M64
    return (a + z) & _M64, (b + c) & _M64


def _round(data: bytes, at: int, state: tuple, mul: int, last: bool) -> tuple:
    """One 64-byte round of the loop over strings longer than 64 bytes."""
    x, y, z, v, w = state
    x = (_rot((x + y + v[0] + _u64(data, at + 8)) & _M64, 37) * mul) & _M64
    y = (_rot((y + v[1] + _u64(data, at + 48)) & _M64, 42) * mul) & _M64
    x ^= (w[1] * 9) & _M64 if last else w[1]
    y = (y + (v[0] * 9 if last else v[0]) + _u64(data, at + 40)) & _M64
    z = (_rot((z + w[0]) & _M64, 33) * mul) & _M64
    v = _weak32(data, at, (v[1] * mul) & _M64, (x + w[0]) & _M64)
    w = _weak32(data, at + 32, (z + w[1]) & _M64, (y + _u64(data, at + 16)) & _M64)
    return z, y, x, v, w  # x and z swap places after every round


def fingerprint64(data: bytes) -> int:
    """FarmHash's `Fingerprint64` of `data`, as an unsigned 64-bit Python int.

    Example:
        >>> hex(fingerprint64(b"a"))
        '0xb3454265b6df75e3'
    """
    n = len(data)
    if n <= 16:
        return _short(data)
    if n <= 32:
        return _medium(data)
    if n <= 64:
        return _long(data)
    y = (81 * _K1 + 113) & _M64
    z = (_shift_mix((y * _K2 + 113) & _M64) * _K2) & _M64
    state = ((81 * _K2 + _u64(data, 0)) & _M64, y, z, (0, 0), (0, 0))
    for at in range(0, ((n - 1) // 64) * 64, 64):
        state = _round(data, at, state, _K1, last=False)
    x, y, z, v, w = state
    mul = _K1 + ((z & 0xFF) << 1)
    w0 = (w[0] + ((n - 1) & 63)) & _M64
    v = ((v[0] + w0) & _M64, v[1])
    w = ((w0 + v[0]) & _M64, w[1])
    x, y, z, v, w = _round(data, n - 64, (x, y, z, v, w), mul, last=True)
    return _mix16((_mix16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _M64,
                  (_mix16(v[1], w[1], mul) + x) & _M64, mul)


def hash_bucket(token: str | bytes, num_buckets: int, encoding: str = "utf-8") -> int:
    """`tf.strings.to_hash_bucket_fast` for one token: `Fingerprint64(token) % num_buckets`."""
    data = token if isinstance(token, bytes) else str(token).encode(encoding)
    return fingerprint64(data) % num_buckets
