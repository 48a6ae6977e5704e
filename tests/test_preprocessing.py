"""Unit tests of the preprocessing layers: shapes, dtypes, errors, config, jit and fit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln.layers._core import Dense, Input
from kiln.layers._preprocessing import (CategoryEncoding, Discretization, IntegerLookup,
                                        Normalization, Rescaling, StringLookup, TextVectorization,
                                        fingerprint64)
from kiln.models._sequential import Sequential


def as_list(x):
    return np.asarray(x).tolist()


def roundtrip(layer):
    return type(layer).from_config(layer.get_config())


# -- numeric layers --------------------------------------------------------------------------

def test_numeric_layers_run_inside_jit(rng):
    x = rng.normal(size=(4, 3)).astype("float32")
    norm = Normalization()
    norm.adapt(x)
    disc = Discretization(bin_boundaries=[-0.5, 0.5])
    layers = [Rescaling(2.0, 1.0), norm, disc, Discretization([0.0], output_mode="one_hot")]
    for layer in layers:
        np.testing.assert_allclose(jax.jit(layer)(jnp.asarray(x)), layer(x), rtol=1e-6)
    ids = jnp.array([[0, 2], [1, 1]])
    enc = CategoryEncoding(3, output_mode="count")
    assert as_list(jax.jit(enc)(ids)) == [[1, 0, 1], [0, 2, 0]]


def test_normalization_batches_equal_whole_data(rng):
    x = rng.normal(size=(30, 4)).astype("float32") * 2 + 3
    whole, batched = Normalization(), Normalization()
    whole.adapt(x)
    batched.adapt(x[i:i + 7] for i in range(0, 30, 7))
    for a, b in zip(whole.get_weights(), batched.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.get_weights()[1], x.var(axis=0), rtol=1e-5)  # population


def test_normalization_errors_and_config(rng):
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="out of range"):
        Normalization(axis=3)(np.ones((2, 3)))
    fixed = Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    with pytest.raises(ValueError, match="fixed"):
        fixed.adapt(np.ones((2, 2)))
    np.testing.assert_allclose(roundtrip(fixed)(np.ones((1, 2))), [[0.0, -1.0]])
    adapted = Normalization(axis=None)
    adapted.adapt(rng.normal(size=(8, 2)))
    again = roundtrip(adapted)
    again.build((None, 2))
    again.set_weights(adapted.get_weights())
    np.testing.assert_allclose(again(np.ones((1, 2))), adapted(np.ones((1, 2))))


def test_category_encoding_errors_and_config():
    with pytest.raises(ValueError, match="num_tokens"):
        CategoryEncoding()
    with pytest.raises(ValueError, match="Did you mean 'one_hot'"):
        CategoryEncoding(3, output_mode="onehot")
    with pytest.raises(ValueError, match="count_weights"):
        CategoryEncoding(3)(np.array([[0]]), count_weights=np.ones((1, 1)))
    layer = CategoryEncoding(4, output_mode="binary")
    assert layer.output_mode == "multi_hot"
    assert roundtrip(layer).get_config() == layer.get_config()


def test_discretization_config_after_adapt(rng):
    layer = Discretization(num_bins=4)
    layer.adapt(rng.normal(size=(200,)))
    assert len(layer.bin_boundaries) == 3
    again = roundtrip(layer)
    assert again.bin_boundaries == layer.bin_boundaries and again.num_bins == 4
    with pytest.raises(ValueError, match="either"):
        Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="adapt"):
        Discretization(num_bins=3)(np.zeros((2, 1)))


def test_fit_with_numeric_preprocessing(rng):
    x = rng.normal(size=(32, 3)).astype("float32") * 5 + 2
    y = x.sum(axis=1, keepdims=True)
    norm = Normalization()
    norm.adapt(x * 0.5)
    before = norm.get_weights()
    model = Sequential([Input((3,)), Rescaling(0.5), norm, Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert [w.trainable for w in norm.weights] == [False, False, False]
    for a, b in zip(norm.get_weights(), before):  # fit never changes the adapted statistics
        np.testing.assert_array_equal(a, b)
    hidden = Sequential(model.layers[:2])
    np.testing.assert_allclose(hidden.predict(x, verbose=0).mean(axis=0), 0.0, atol=1e-5)


def test_fit_with_integer_lookup_in_model(rng):
    ids = rng.choice([7, 70, 700], size=(16, 3)).astype("int32")
    model = Sequential([Input((3,), dtype="int32"),
                        IntegerLookup(vocabulary=[7, 70], output_mode="multi_hot"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(ids, rng.normal(size=(16, 1)), epochs=1, verbose=0)
    assert model.predict(ids, verbose=0).shape == (16, 1)


# -- lookups ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,bad", [(StringLookup, "vocab.txt"), (IntegerLookup, "ids.txt"),
                                     (TextVectorization, "/tmp/words.txt")])
def test_vocabulary_path_is_refused(cls, bad):
    with pytest.raises(ValueError, match="only a list"):
        cls(vocabulary=bad)
    layer = cls()
    with pytest.raises(ValueError, match="splitlines"):
        layer.set_vocabulary(bad)


def test_integer_lookup_host_and_jit_agree():
    for kwargs in [dict(), dict(num_oov_indices=3), dict(mask_token=0), dict(output_mode="count"),
                   dict(output_mode="one_hot"), dict(invert=True, mask_token=0)]:
        layer = IntegerLookup(vocabulary=[5, 9, 2, 40], **kwargs)
        x = np.array([[5, 0, 2], [41, 40, -3]])
        np.testing.assert_array_equal(layer(x), jax.jit(layer)(jnp.asarray(x)))


def test_lookup_mask_token():
    layer = StringLookup(vocabulary=["a", "b"], mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert as_list(layer([["a", "", "x"]])) == [[2, 0, 1]]
    multi = StringLookup(vocabulary=["a", "b"], mask_token="", output_mode="multi_hot")
    assert multi.get_vocabulary() == ["[UNK]", "a", "b"]  # no mask slot outside "int" mode
    assert as_list(multi([["", "b"]])) == [[0, 0, 1]]
    inverse = IntegerLookup(vocabulary=[3, 4], mask_token=0, invert=True)
    assert as_list(inverse(np.array([0, 1, 2, 3, 9]))) == [0, -1, 3, 4, -1]


def test_lookup_adapt_max_tokens_and_special_tokens():
    layer = StringLookup(max_tokens=3, mask_token="[PAD]")
    layer.adapt(np.array([["x", "y", "y", "[PAD]"], ["z", "z", "z", "[UNK]"]]))
    assert layer.get_vocabulary() == ["[PAD]", "[UNK]", "z"]
    assert layer.vocabulary_size() == 3
    assert layer.get_vocabulary(include_special_tokens=False) == ["z"]


def test_lookup_tf_idf_adapt():
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt([["a", "a", "b"], ["b", "c", "c"]])  # rows are documents
    idf = {"a": np.log(1 + 2 / 2), "b": np.log(1 + 2 / 3), "c": np.log(1 + 2 / 2)}
    assert layer.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    weights = np.array([idf["c"], idf["b"], idf["a"]])
    expected = [weights.mean(), 2 * idf["c"], 0.0, idf["a"]]
    np.testing.assert_allclose(layer([["c", "c", "a", "q"]])[0], expected, rtol=1e-6)
    again = roundtrip(layer)
    np.testing.assert_allclose(again([["c", "q"]]), layer([["c", "q"]]), rtol=1e-6)


def test_lookup_adapt_generator_batch_is_one_document():
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(iter([np.array(["a", "b"]), np.array(["a"])]))  # two documents
    assert layer.get_vocabulary() == ["[UNK]", "a", "b"]
    np.testing.assert_allclose(layer._idf[1:], np.log(1 + 2 / np.array([3.0, 2.0])), rtol=1e-6)


def test_lookup_errors():
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "b"])
    with pytest.raises(ValueError, match="repeats"):
        StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="mask token"):
        StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="invert=True"):
        StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="idf_weights"):
        StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse"):
        IntegerLookup(sparse=True)
    with pytest.raises(ValueError, match="salt"):
        StringLookup(salt=3)
    with pytest.raises(RuntimeError, match="adapt"):
        StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(TypeError, match="IntegerLookup"):
        StringLookup(vocabulary=["a"])(np.array([1, 2]))
    with pytest.raises(ValueError, match="Cannot adapt"):
        IntegerLookup(vocabulary=[1]).adapt(np.array([1, 2]))
    with pytest.raises(TypeError, match="functional"):
        StringLookup(vocabulary=["a"])(Input((2,)))


def test_lookup_config_roundtrip_keeps_adapted_vocabulary():
    layer = IntegerLookup(num_oov_indices=2, mask_token=0)
    layer.adapt(np.array([[4, 4, 9], [9, 9, 1]]))
    config = layer.get_config()
    assert config["vocabulary"] == [0, -1, -1, 9, 4, 1]
    again = roundtrip(layer)
    assert again.get_vocabulary() == layer.get_vocabulary()
    x = np.array([[1, 4, 9, 0, 13]])
    np.testing.assert_array_equal(again(x), layer(x))
    given = StringLookup(vocabulary=("x", "y"), output_mode="count", pad_to_max_tokens=True,
                         max_tokens=6)
    assert given.get_config()["vocabulary"] == ["x", "y"]
    assert roundtrip(given)(["y", "y"]).shape == (6,)


def test_string_lookup_bytes_and_scalars():
    layer = StringLookup(vocabulary=["é", "b"])
    assert as_list(layer(np.array([["é".encode()], [b"b"]]))) == [[1], [2]]
    assert int(layer("b")) == 2


def test_fingerprint64_known_values():
    # FarmHash's published Fingerprint64 test strings, one per length branch.
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F
    assert fingerprint64(b"abcdefghi") == 0x332C8ED4DAE5BA42
    assert fingerprint64(b"0123456789*01234567") == 0xCF1C7D3AD54F9215
    assert fingerprint64(b"Discard medicine more than two years old.") == 0xE8F89AB6DF9BDD25
    quote = b"Give me a rock, paper and scissors and I will move the world.  CCFestoon"
    assert fingerprint64(quote) == 0xA2B8BF3032021993


# -- TextVectorization ------------------------------------------------------------------------

def test_text_standardize_and_split():
    layer = TextVectorization(split="character", output_mode="int")
    layer.adapt(["Ab, A!"])
    # ASCII-only lowercasing (tf.strings.lower), ASCII punctuation removed, space kept.
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", " "]
    plain = TextVectorization(standardize="lower", vocabulary=["école", "Éc", "x.y"])
    assert as_list(plain(["ÉC x.y\tÉCOLE"])) == [[3, 4, 1]]
    custom = TextVectorization(standardize=lambda a: np.char.upper(a),
                               split=lambda a: [s.split("-") for s in a], vocabulary=["A", "B"])
    assert as_list(custom(["a-b-c", "b"])) == [[2, 3, 1], [3, 0, 0]]


def test_text_ngrams_max_tokens_and_padding():
    tri = TextVectorization(ngrams=(1, 3))
    tri.adapt(["foo bar baz"])
    vocab = tri.get_vocabulary()
    assert "foo bar baz" in vocab and "foo" in vocab and "foo bar" not in vocab
    small = TextVectorization(max_tokens=5)
    small.adapt(["a b c d e f g h i j"])
    assert len(small.get_vocabulary()) == 5
    padded = TextVectorization(output_mode="multi_hot", vocabulary=["foo", "bar"], max_tokens=8,
                               pad_to_max_tokens=True)
    assert as_list(padded(["foo baz"])) == [[1, 1, 0, 0, 0, 0, 0, 0]]
    cut = TextVectorization(output_sequence_length=2, vocabulary=["a", "b", "c"])
    assert as_list(cut(["a b c", "", "c"])) == [[2, 3], [0, 0], [4, 0]]


def test_text_count_tf_idf_and_split_none():
    counts = TextVectorization(output_mode="count", vocabulary=["a", "b"])
    assert as_list(counts(["a a b z", "b"])) == [[1, 2, 1], [0, 0, 1]]
    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(["x y", "y"])
    np.testing.assert_allclose(tfidf(["y y q"])[0][:2],
                               [np.mean([np.log(1 + 2 / 3), np.log(1 + 2 / 2)]),
                                2 * np.log(1 + 2 / 3)], rtol=1e-6)
    whole = TextVectorization(split=None, standardize=None, vocabulary=["New York", "Paris"])
    assert as_list(whole([["Paris"], ["New York"], ["Rome"]])) == [[3], [2], [1]]


def test_text_adapt_generator_and_config():
    layer = TextVectorization(output_sequence_length=3)
    layer.adapt((batch for batch in [["hello world", "foo bar"], ["baz qux", "hello foo"]]))
    assert layer.get_vocabulary()[2:4] == ["hello", "foo"]
    config = layer.get_config()
    assert config["vocabulary"][:4] == ["", "[UNK]", "hello", "foo"]
    again = roundtrip(layer)
    np.testing.assert_array_equal(again(["foo hello zz"]), layer(["foo hello zz"]))
    assert as_list(layer(["foo hello zz"])) == [[3, 2, 1]]
    ngram = TextVectorization(ngrams=2, vocabulary=["a b"])
    assert roundtrip(ngram).get_config()["ngrams"] == 2


def test_text_errors():
    with pytest.raises(ValueError, match="standardize"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="split=None"):
        TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="ragged"):
        TextVectorization(ragged=True)
    with pytest.raises(ValueError, match=r"\(N, 1\)"):
        TextVectorization(vocabulary=["a"])([["a", "b"]])
    with pytest.raises(TypeError, match="functional"):
        TextVectorization()(kiln.layers.Input((1,)))
