"""Parity of the preprocessing layers with Keras 3 (JAX backend).

Rescaling, Normalization, CategoryEncoding and Discretization run in Keras without
TensorFlow and are compared directly. Keras's StringLookup, IntegerLookup and
TextVectorization require TensorFlow, which is not installed, so their expected values are
the outputs printed in Keras 3.15's own docstring examples (keras/src/layers/preprocessing/
string_lookup.py, integer_lookup.py, text_vectorization.py), which pin down index layout,
frequency ordering, OOV hashing and TF-IDF.
"""

import keras
import numpy as np
import pytest

from kiln.layers._preprocessing import (CategoryEncoding, Discretization, IntegerLookup,
                                        Normalization, Rescaling, StringLookup, TextVectorization)

RNG = np.random.default_rng(7)
X3 = (RNG.normal(size=(12, 3, 4)) * 3 + 1).astype("float32")


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# -- Rescaling ---------------------------------------------------------------------------------

@pytest.mark.parametrize("scale,offset", [(1 / 255, 0.0), (1 / 127.5, -1),
                                          ([0.5, 2.0, 3.0, 4.0], 1.0)])
def test_rescaling(scale, offset):
    x = RNG.integers(0, 255, size=(2, 3, 4))
    ours, theirs = Rescaling(scale, offset), keras.layers.Rescaling(scale, offset)
    out = ours(x)
    assert out.dtype == np.float32
    close(out, theirs(x))


# -- Normalization -----------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, None, (1, 2), 1])
def test_normalization_adapt(axis):
    ours, theirs = Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    ours.adapt(X3)
    theirs.adapt(X3)
    assert [w.path.split("/")[-1] for w in ours.weights] == [w.name for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.shape == b.shape and a.dtype == b.dtype
        close(a, b)
    close(ours(X3), theirs(X3))


def test_normalization_set_weights_from_keras_and_invert():
    theirs = keras.layers.Normalization(invert=True)
    theirs.adapt(X3)
    ours = Normalization(invert=True)
    ours.build(X3.shape)
    ours.set_weights(theirs.get_weights())
    close(ours(X3), theirs(X3))


@pytest.mark.parametrize("mean,variance,invert", [
    (3.0, 2.0, False),
    ([1.0, 2.0, 3.0, 4.0], [1.0, 0.5, 2.0, 0.0], False),  # a zero variance hits epsilon
    ([1.0, 2.0, 3.0, 4.0], [1.0, 0.5, 2.0, 4.0], True)])
def test_normalization_given_statistics(mean, variance, invert):
    ours = Normalization(mean=mean, variance=variance, invert=invert)
    theirs = keras.layers.Normalization(mean=mean, variance=variance, invert=invert)
    close(ours(X3), theirs(X3))
    assert ours.get_weights() == [] == theirs.get_weights()
    ref = theirs.get_config()
    got = ours.get_config()
    for key in ("mean", "variance", "invert"):
        assert got[key] == ref[key]
    assert tuple(got["axis"]) == tuple(ref["axis"])


def test_normalization_integer_data():
    x = RNG.integers(0, 10, size=(16, 3))
    ours, theirs = Normalization(), keras.layers.Normalization()
    ours.adapt(x)
    theirs.adapt(x)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        close(a, b)


# -- CategoryEncoding --------------------------------------------------------------------------

INPUTS = [np.array([3, 2, 0, 1]), np.array([[0, 1], [2, 5]]), np.array([[1], [2]]), np.array(2)]


@pytest.mark.parametrize("mode", ["multi_hot", "one_hot", "count"])
@pytest.mark.parametrize("index", range(len(INPUTS)))
def test_category_encoding(mode, index):
    x = INPUTS[index]
    a = np.asarray(CategoryEncoding(num_tokens=5, output_mode=mode)(x))
    b = np.asarray(keras.layers.CategoryEncoding(num_tokens=5, output_mode=mode)(x))
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def test_category_encoding_count_weights():
    ids, w = np.array([[0, 1, 1], [2, 4, 4]]), RNG.random((2, 3)).astype("float32")
    a = CategoryEncoding(5, output_mode="count")(ids, count_weights=w)
    b = keras.layers.CategoryEncoding(5, output_mode="count")(ids, count_weights=w)
    close(a, b)


# -- Discretization ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_boundaries(mode):
    bounds = [-1.0, 0.0, 0.5, 2.0]
    x = np.array([[-2.0, -1.0, 0.25], [0.5, 1.999, 7.0]], dtype="float32")
    a = np.asarray(Discretization(bin_boundaries=bounds, output_mode=mode)(x))
    b = np.asarray(keras.layers.Discretization(bin_boundaries=bounds, output_mode=mode)(x))
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def _keras_adapted(num_bins, epsilon, batches):
    # Keras's adapt() first checks isinstance(data, tf.data.Dataset), which needs TensorFlow;
    # these three calls are exactly what it does next for arrays and lists of batches.
    layer = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    layer.reset_state()
    for batch in batches:
        layer.update_state(batch)
    layer.finalize_state()
    return layer


@pytest.mark.parametrize("num_bins,epsilon,n", [(4, 0.01, 1000), (5, 0.01, 37), (3, 0.1, 70),
                                               (10, 0.05, 513)])
def test_discretization_adapt_array(num_bins, epsilon, n):
    data = RNG.gamma(2.0, size=(n, 1)).astype("float32")
    ours = Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(data)
    theirs = _keras_adapted(num_bins, epsilon, [data])
    assert ours.bin_boundaries == theirs.bin_boundaries
    np.testing.assert_array_equal(np.asarray(ours(data)), np.asarray(theirs(data)))


def test_discretization_adapt_batches():
    batches = [RNG.normal(size=(k,)).astype("float32") for k in (300, 41, 128)]
    ours = Discretization(num_bins=6, epsilon=0.02)
    ours.adapt(iter(batches))
    assert ours.bin_boundaries == _keras_adapted(6, 0.02, batches).bin_boundaries


# -- StringLookup (expected values from Keras's docstring examples) ------------------------------

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DATA4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def as_list(x):
    return np.asarray(x).tolist()


def test_string_lookup_keras_examples():
    assert as_list(StringLookup(vocabulary=VOCAB)(DATA)) == [[1, 3, 4], [4, 0, 2]]
    layer = StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert as_list(layer(DATA)) == [[5, 3, 1], [1, 2, 4]]
    # Two OOV indices: "m" and "z" land in FarmHash64 buckets 0 and 1, as in TensorFlow.
    two = StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert as_list(two([["a", "c", "d"], ["m", "z", "b"]])) == [[2, 4, 5], [0, 1, 3]]


def test_string_lookup_encoded_modes_keras_examples():
    one_hot = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    assert as_list(one_hot) == np.eye(5)[[1, 2, 3, 4, 0]].tolist()
    multi = StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(DATA4)
    assert as_list(multi) == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = StringLookup(vocabulary=VOCAB, output_mode="count")(DATA4)
    assert as_list(count) == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    assert np.issubdtype(np.asarray(count).dtype, np.integer)  # Keras returns int64 counts


def test_string_lookup_tf_idf_keras_examples():
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    close(layer(DATA4), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]])
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    close(layer(DATA4), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]])


def test_string_lookup_invert_keras_examples():
    inverse = StringLookup(vocabulary=VOCAB, invert=True)
    expected = [["a", "c", "d"], ["d", "[UNK]", "b"]]
    assert as_list(inverse([[1, 3, 4], [4, 0, 2]])) == expected
    assert as_list(inverse(StringLookup(vocabulary=VOCAB)(DATA))) == expected


# -- IntegerLookup (expected values from Keras's docstring examples) -----------------------------

IVOCAB = [12, 36, 1138, 42]
IDATA = np.array([[12, 1138, 42], [42, 1000, 36]])
IDATA4 = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])


def test_integer_lookup_keras_examples():
    assert as_list(IntegerLookup(vocabulary=IVOCAB)(IDATA)) == [[1, 3, 4], [4, 0, 2]]
    layer = IntegerLookup()
    layer.adapt(IDATA)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert as_list(layer(IDATA)) == [[5, 2, 1], [1, 3, 4]]
    two = IntegerLookup(vocabulary=IVOCAB, num_oov_indices=2)
    assert as_list(two(np.array([[12, 1138, 42], [37, 1000, 36]]))) == [[2, 4, 5], [1, 0, 3]]


def test_integer_lookup_oov_methods_keras_example():
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    floormod = IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="floormod")
    farmhash = IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    assert as_list(floormod(oov)) == [0] * 6
    assert as_list(farmhash(oov)) == [3, 3, 2, 2, 0, 1]


def test_integer_lookup_encoded_modes_keras_examples():
    one_hot = IntegerLookup(vocabulary=IVOCAB, output_mode="one_hot")(
        np.array([12, 36, 1138, 42, 7]))
    assert as_list(one_hot) == np.eye(5)[[1, 2, 3, 4, 0]].tolist()
    assert as_list(IntegerLookup(vocabulary=IVOCAB, output_mode="multi_hot")(IDATA4)) == \
        [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    assert as_list(IntegerLookup(vocabulary=IVOCAB, output_mode="count")(IDATA4)) == \
        [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    tfidf = IntegerLookup(vocabulary=[-1] + IVOCAB, output_mode="tf_idf",
                          idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    close(tfidf(IDATA4), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]])


def test_integer_lookup_invert_keras_example():
    inverse = IntegerLookup(vocabulary=IVOCAB, invert=True)
    assert as_list(inverse(np.array([[1, 3, 4], [4, 0, 2]]))) == [[12, 1138, 42], [42, -1, 36]]


# -- TextVectorization (expected values from Keras's docstring and tests) -----------------------

def test_text_vectorization_keras_examples():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert as_list(layer([["foo qux bar"], ["qux baz"]])) == [[4, 1, 3, 0], [1, 2, 0, 0]]
    fixed = TextVectorization(max_tokens=5000, output_sequence_length=4,
                              vocabulary=["earth", "wind", "and", "fire"])
    assert fixed.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    given = TextVectorization(output_sequence_length=4, vocabulary=["baz", "bar", "foo"])
    assert as_list(given([["foo qux bar"], ["qux baz"]])) == [[4, 1, 3, 0], [1, 2, 0, 0]]


# -- configs written by Keras load in kiln ---------------------------------------------------------

def test_keras_configs_load():
    pairs = [(Rescaling, keras.layers.Rescaling(0.5, offset=2.0)),
             (Normalization, keras.layers.Normalization(axis=None, mean=2.0, variance=4.0)),
             (CategoryEncoding, keras.layers.CategoryEncoding(4, output_mode="count")),
             (Discretization, keras.layers.Discretization(bin_boundaries=[0.0, 1.0],
                                                          output_mode="one_hot"))]
    x = np.array([[0.0, 1.0, 3.0]], dtype="float32")
    for cls, theirs in pairs:
        ours = cls.from_config(theirs.get_config())
        np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(theirs(x)))


def test_keras_lookup_config_dicts_load():
    # Keys and values as Keras's get_config writes them (Keras cannot build these without TF).
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    lookup = {"name": "string_lookup", "trainable": True, "dtype": policy, "invert": False,
              "max_tokens": None, "num_oov_indices": 1, "oov_token": "[UNK]", "mask_token": None,
              "output_mode": "int", "sparse": False, "pad_to_max_tokens": False,
              "idf_weights": None, "vocabulary": VOCAB, "vocabulary_size": 5,
              "oov_method": "floormod", "salt": None, "encoding": "utf-8"}
    assert as_list(StringLookup.from_config(lookup)(DATA)) == [[1, 3, 4], [4, 0, 2]]
    ints = {**lookup, "name": "integer_lookup", "oov_token": -1, "vocabulary": IVOCAB,
            "vocabulary_dtype": "int64"}
    del ints["encoding"]
    assert as_list(IntegerLookup.from_config(ints)(IDATA)) == [[1, 3, 4], [4, 0, 2]]
    text = {"name": "text_vectorization", "trainable": True, "dtype": policy, "max_tokens": None,
            "standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None,
            "output_mode": "int", "output_sequence_length": 4, "pad_to_max_tokens": False,
            "sparse": False, "ragged": False, "vocabulary": ["baz", "bar", "foo"],
            "idf_weights": None, "encoding": "utf-8", "vocabulary_size": 5}
    layer = TextVectorization.from_config(text)
    assert as_list(layer([["foo qux bar"], ["qux baz"]])) == [[4, 1, 3, 0], [1, 2, 0, 0]]
