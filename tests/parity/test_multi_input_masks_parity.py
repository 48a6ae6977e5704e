"""Masks from Embedding(mask_zero=True) reach layers with several inputs, as in Keras."""

import keras
import numpy as np

import kiln


def _build(lib, kind):
    a = lib.Input((6,), dtype="int32")
    b = lib.Input((5 if kind == "attention" else 6,), dtype="int32")
    ea = lib.layers.Embedding(20, 8, mask_zero=True)(a)
    eb = lib.layers.Embedding(20, 8, mask_zero=True)(b)
    if kind == "add":
        h = lib.layers.Add()([ea, eb])
    else:
        h = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4)(ea, eb)
    out = lib.layers.GlobalAveragePooling1D()(h)
    return lib.Model([a, b], out)


def _inputs(rng, kind):
    a = rng.integers(1, 20, (4, 6))
    b = rng.integers(1, 20, (4, 5 if kind == "attention" else 6))
    a[:, 4:] = 0  # padding at the end of the sequences
    b[:, 3:] = 0
    return [a.astype("int32"), b.astype("int32")]


def _compare(kind):
    rng = np.random.default_rng(0)
    km, nm = _build(keras, kind), _build(kiln, kind)
    nm.set_weights(km.get_weights())
    x = _inputs(rng, kind)
    np.testing.assert_allclose(nm.predict(x, verbose=0), km.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_masks_reach_merge_layers():
    _compare("add")


def test_masks_reach_cross_attention():
    _compare("attention")
