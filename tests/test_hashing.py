"""Hashing and HashedCrossing, and the hashes behind them (FarmHash Fingerprint64, keyed
SipHash-2-4, FingerprintCat64).

Keras computes both layers with TensorFlow, which is not installed, so Keras cannot run them
here. The expected values are independent published ones: the outputs printed in Keras 3.15's
docstrings (keras/src/layers/preprocessing/hashing.py, hashed_crossing.py), the examples of
TensorFlow's `tf.strings.to_hash_bucket_fast` / `to_hash_bucket_strong` API pages, and
SipHash's reference test vectors (Aumasson & Bernstein, appendix A / the reference
implementation's vectors.h). Config keys are checked against Keras's `get_config` source.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln.layers._preprocessing._farmhash import fingerprint64
from kiln.layers._preprocessing._hashing import (HashedCrossing, Hashing, fingerprint_cat64,
                                                 sip_hash64)

LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]
REFERENCE_KEY = (0x0706050403020100, 0x0F0E0D0C0B0A0908)  # key bytes 00 01 .. 0f


def as_list(x):
    return np.asarray(x).tolist()


def flat(x):
    return np.asarray(x).ravel().tolist()


# -- the hashes ------------------------------------------------------------------------------

def test_siphash_reference_vectors():
    # vectors.h of the SipHash reference code: message bytes 00 .. (n-1) under key 00..0f.
    expected = {0: 0x726FDB47DD0E0E31, 1: 0x74F839C593DC67FD, 7: 0xAB0200F58B01D137,
                8: 0x93F5F5799A932462, 15: 0xA129CA6149BE45E5, 63: 0x958A324CEB064572}
    for n, value in expected.items():
        assert sip_hash64(bytes(range(n)), REFERENCE_KEY) == value, n


def test_tensorflow_documented_buckets():
    # tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) -> [0, 2, 2]
    assert [fingerprint64(s.encode()) % 3 for s in ("Hello", "TensorFlow", "2.x")] == [0, 2, 2]
    # tf.strings.to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2]) -> [2, 0]
    assert [sip_hash64(s, (1, 2)) % 3 for s in (b"Hello", b"TF")] == [2, 0]
    assert as_list(Hashing(3)(["Hello", "TensorFlow", "2.x"])) == [0, 2, 2]
    assert as_list(Hashing(3, salt=[1, 2])(["Hello", "TF"])) == [2, 0]


def test_fingerprint_cat64_mixes_in_order():
    assert fingerprint_cat64(1, 2) != fingerprint_cat64(2, 1)
    assert fingerprint_cat64(0, 0) != 0
    assert all(0 <= fingerprint_cat64(a, b) < 2 ** 64 for a in (0, 2 ** 64 - 1) for b in (5, 9))
    a = np.array([0, 1, 2 ** 64 - 1, 0xDECAFCAFFE], np.uint64)
    b = np.array([7, 2 ** 63, 3, 101], np.uint64)
    assert fingerprint_cat64(a, b).tolist() == [fingerprint_cat64(int(x), int(y))
                                                for x, y in zip(a, b)]


# -- Hashing ---------------------------------------------------------------------------------

def test_hashing_keras_docstring_values():
    assert flat(Hashing(num_bins=3)(LETTERS)) == [1, 0, 1, 1, 2]
    assert flat(Hashing(3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])) == [1, 1, 0, 2, 2]
    assert flat(Hashing(3, salt=[133, 137])(LETTERS)) == [1, 2, 1, 0, 2]
    assert flat(Hashing(3, salt=133)(LETTERS)) == [0, 0, 2, 1, 0]


def test_hashing_integers_hash_as_decimal_strings():
    ints = np.array([[1, 25, -7], [1000, 0, 3]])
    strings = np.array([["1", "25", "-7"], ["1000", "0", "3"]])
    assert as_list(Hashing(7)(ints)) == as_list(Hashing(7)(strings))
    assert as_list(Hashing(7)([2.9, -1.5])) == as_list(Hashing(7)(["2", "-1"]))  # truncated
    assert as_list(Hashing(7)(jnp.array([4, 5]))) == as_list(Hashing(7)(["4", "5"]))
    assert as_list(Hashing(7)(np.array([b"x", b"y"]))) == as_list(Hashing(7)(["x", "y"]))
    assert as_list(Hashing(5, mask_value=0)([0, 3, 0])) == [0, 1 + fingerprint64(b"3") % 4, 0]


def test_hashing_output_modes():
    ids = np.asarray(Hashing(4)([["a", "b", "a"], ["c", "c", "c"]]))
    assert ids.dtype == jax.dtypes.canonicalize_dtype(np.int64)
    one_hot = np.asarray(Hashing(4, output_mode="one_hot")([["a"], ["b"]]))
    assert one_hot.shape == (2, 4) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot.argmax(-1), flat(Hashing(4)([["a"], ["b"]])))
    count = np.asarray(Hashing(4, output_mode="count")([["a", "b", "a"], ["c", "c", "c"]]))
    np.testing.assert_array_equal(count, [np.bincount(r, minlength=4) for r in ids])
    multi = np.asarray(Hashing(4, output_mode="multi_hot")([["a", "b", "a"], ["c", "c", "c"]]))
    np.testing.assert_array_equal(multi, count > 0)
    assert Hashing(4, output_mode="count").compute_output_shape((None, 3)) == (None, 4)
    assert Hashing(4).compute_output_shape((None, 3)) == (None, 3)
    assert Hashing(4, dtype="int32")(["a"]).dtype == jnp.int32


def test_hashing_argument_errors():
    for kwargs, match in ((dict(num_bins=0), "positive"), (dict(num_bins=3, salt="x"), "salt"),
                          (dict(num_bins=3, salt=[1, 2, 3]), "salt"),
                          (dict(num_bins=3, sparse=True), "sparse"),
                          (dict(num_bins=3, output_mode="tf_idf"), "output_mode"),
                          (dict(num_bins=3, dtype="float32"), "int32")):
        with pytest.raises(ValueError, match=match):
            Hashing(**kwargs)


def test_hashing_runs_on_host_data_only():
    layer = Hashing(3)
    with pytest.raises(TypeError, match="functional model"):
        layer(kiln.Input((2,), dtype="int32"))
    with pytest.raises(TypeError, match="jax.jit"):
        jax.jit(layer.__call__)(jnp.array([1, 2]))
    with pytest.raises(TypeError, match="strings or integers"):
        layer(np.array([object()], dtype=object))


def test_hashing_config():
    layer = Hashing(num_bins=5, mask_value="", salt=7, output_mode="one_hot", name="h")
    config = json.loads(json.dumps(layer.get_config()))
    # Keras's keys: Layer's, then num_bins, salt, mask_value, output_mode, sparse.
    assert sorted(config) == sorted(["name", "trainable", "dtype", "num_bins", "salt",
                                     "mask_value", "output_mode", "sparse"])
    assert config["salt"] == [7, 7] and config["dtype"] == "float32"
    back = Hashing.from_config(config)
    assert back.get_config() == config
    np.testing.assert_array_equal(back(LETTERS), layer(LETTERS))
    assert Hashing(3).get_config()["dtype"] == "int64"


# -- HashedCrossing --------------------------------------------------------------------------

FEAT1 = np.array(["A", "B", "A", "B", "A"])
FEAT2 = np.array([101, 101, 101, 102, 102])


def test_hashed_crossing_keras_docstring_values():
    assert as_list(HashedCrossing(num_bins=5)((FEAT1, FEAT2))) == [1, 4, 1, 1, 3]
    one_hot = np.asarray(HashedCrossing(5, output_mode="one_hot")((FEAT1, FEAT2)))
    np.testing.assert_array_equal(one_hot, np.eye(5, dtype="float32")[[1, 4, 1, 1, 3]])


def test_hashed_crossing_definition_and_shapes():
    # Strings enter by Fingerprint64, integers by value, folded into 0xDECAFCAFFE.
    expected = fingerprint_cat64(fingerprint_cat64(0xDECAFCAFFE, fingerprint64(b"B")), 102) % 9
    assert as_list(HashedCrossing(9)((["B"], [102]))) == [expected]
    layer = HashedCrossing(9)
    column = as_list(layer((FEAT1, FEAT2)))
    assert as_list(layer((FEAT1[:, None], FEAT2[:, None]))) == [[v] for v in column]
    assert as_list(layer((np.array("B"), np.array(102)))) == expected
    assert as_list(layer([FEAT1, FEAT2, FEAT1])) != column  # a third feature changes the cross
    assert as_list(layer((FEAT2, FEAT1))) != column  # order matters
    assert layer.compute_output_shape(((None, 1), (None, 1))) == (None, 1)
    assert HashedCrossing(9, output_mode="one_hot").compute_output_shape(((4,), (4,))) == (4, 9)


def test_hashed_crossing_input_errors():
    layer = HashedCrossing(4)
    for inputs, match in ((FEAT1, "list or tuple"), ((FEAT1,), "at least two"),
                          ((FEAT1, FEAT2[:3]), "equal shapes"),
                          ((np.ones((5, 2), int), np.ones((5, 2), int)), r"\(batch, 1\)"),
                          ((FEAT1, FEAT2 * 0.5), "integers or strings")):
        with pytest.raises(ValueError, match=match):
            layer(inputs)
    with pytest.raises(ValueError, match="sparse"):
        HashedCrossing(4, sparse=True)
    with pytest.raises(ValueError, match="output_mode"):
        HashedCrossing(4, output_mode="multi_hot")


def test_hashed_crossing_config():
    layer = HashedCrossing(6, name="cross")
    config = json.loads(json.dumps(layer.get_config()))
    assert config == {"num_bins": 6, "output_mode": "int", "sparse": False, "name": "cross",
                      "dtype": "int64"}
    back = HashedCrossing.from_config(config)
    assert back.get_config() == config
    assert as_list(back((FEAT1, FEAT2))) == as_list(layer((FEAT1, FEAT2)))
    assert HashedCrossing(6, output_mode="one_hot").get_config()["dtype"] == "float32"
