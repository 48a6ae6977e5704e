"""Python arguments of a layer called on symbolic tensors (flags, sizes) reach `call` as
Python values, as in Keras: a functional model with `use_causal_mask=True` builds and matches
Keras's numbers (it used to fail on a traced bool)."""

import keras
import numpy as np

import kiln


def _model(lib):
    q = lib.Input((4, 6))
    out = lib.layers.MultiHeadAttention(2, 3, name="mha")(q, q, use_causal_mask=True)
    return lib.Model(q, out)


def test_causal_mask_flag_in_a_functional_model_matches_keras():
    km, lm = _model(keras), _model(kiln)
    lm.set_weights(km.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    np.testing.assert_allclose(lm.predict(x, verbose=0), km.predict(x, verbose=0), atol=1e-5)
    node = lm.get_layer("mha")._inbound_nodes[-1]
    assert node.kwargs["use_causal_mask"] is True
