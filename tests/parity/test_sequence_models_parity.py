"""Training parity with Keras 3 (JAX backend) for sequence models: a masked LSTM classifier
(Sequential) and a transformer block (functional), built the same way, Keras's initial weights
copied into kiln, trained 2 epochs with shuffle=False and no dropout: per-epoch losses agree
within 1e-3 relative and so do the trained weights."""

import keras
import numpy as np

import kiln
from kiln.layers._attention import MultiHeadAttention
from kiln.layers._embedding import Embedding
from kiln.layers._merging import Add
from kiln.layers._normalization import LayerNormalization
from kiln.layers._pooling import GlobalAveragePooling1D
from kiln.layers._recurrent import LSTM

VOCAB, LENGTH, N = 12, 7, 32  # 2 batches of 16
FIT = {"epochs": 2, "batch_size": 16, "shuffle": False, "verbose": 0}


def _tokens(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB, size=(N, LENGTH)).astype("int32")
    lengths = rng.integers(3, LENGTH + 1, size=N)
    tokens[np.arange(LENGTH)[None, :] >= lengths[:, None]] = 0  # right padding
    return tokens


# Both models are built with zero kernels (cheap); Keras's then get random matrices (biases,
# LayerNormalization scales and the LSTM's forget bias keep their initial values) and kiln
# copies them.
ZERO = {"kernel_initializer": "zeros"}


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.4, size=w.shape) if w.ndim > 1 else w
                       for w in model.get_weights()])


def _train_both(km, nm, x, y, loss):
    _randomize(km)
    nm.set_weights(km.get_weights())
    km.compile(optimizer="adam", loss=loss)
    nm.compile(optimizer="adam", loss=loss)
    kh = km.fit(x, y, **FIT).history["loss"]
    nh = nm.fit(x, y, **FIT).history["loss"]
    np.testing.assert_allclose(nh, kh, rtol=1e-3)
    for n, k in zip(nm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(n, k, rtol=1e-3, atol=1e-5)


def test_masked_lstm_classifier_trains_like_keras():
    x = _tokens()
    y = (np.sum(x >= VOCAB // 2, axis=1) > np.sum((x > 0) & (x < VOCAB // 2), axis=1))
    y = y.astype("float32")

    def build(lib, embedding, lstm):
        return lib.Sequential([lib.Input((LENGTH,), dtype="int32"),
                               embedding(VOCAB, 8, mask_zero=True, embeddings_initializer="zeros"),
                               lstm(8, recurrent_initializer="zeros", **ZERO),
                               lib.layers.Dense(1, activation="sigmoid", **ZERO)])

    km = build(keras, keras.layers.Embedding, keras.layers.LSTM)
    nm = build(kiln, Embedding, LSTM)
    _train_both(km, nm, x, y, "binary_crossentropy")


def _transformer(lib, embedding, attention, add, norm, pool):
    tokens = lib.Input((LENGTH,), dtype="int32")
    x = embedding(VOCAB, 8, embeddings_initializer="zeros")(tokens)
    x = norm()(add()([x, attention(num_heads=2, key_dim=4, **ZERO)(x, x)]))
    hidden = lib.layers.Dense(16, activation="relu", **ZERO)(x)
    x = norm()(add()([x, lib.layers.Dense(8, **ZERO)(hidden)]))
    outputs = lib.layers.Dense(3, activation="softmax", **ZERO)(pool()(x))
    return lib.Model(tokens, outputs)


def test_transformer_block_trains_like_keras():
    x = _tokens(1)
    y = (x[:, 0] % 3).astype("int32")
    kl = keras.layers
    km = _transformer(keras, kl.Embedding, kl.MultiHeadAttention, kl.Add,
                      kl.LayerNormalization, kl.GlobalAveragePooling1D)
    nm = _transformer(kiln, Embedding, MultiHeadAttention, Add, LayerNormalization,
                      GlobalAveragePooling1D)
    assert [w.shape for w in nm.weights] == [tuple(w.shape) for w in km.weights]
    _train_both(km, nm, x, y, "sparse_categorical_crossentropy")
