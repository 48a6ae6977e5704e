"""Attention layers against Keras 3 (JAX backend): Keras's weights copied in with set_weights;
outputs and attention scores agree within 1e-5 relative. Covers both of Keras's numeric paths
for MultiHeadAttention (XLA attention, and einsum + masked softmax when scores are returned),
explicit, causal, value and fully masked rows, gating, output_shape/value_dim, and attention
over several axes; Attention and AdditiveAttention in every score mode with masks."""

import keras
import jax.numpy as jnp
import numpy as np
import pytest

from kiln.layers._attention import MultiHeadAttention
from kiln.layers._dense_attention import AdditiveAttention, Attention

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 4, 6)).astype("float32")
V = RNG.normal(size=(2, 5, 6)).astype("float32")
ATTN_MASK = RNG.random((2, 4, 5)) > 0.3
ATTN_MASK[0, 1] = False  # a fully masked query row
Q_MASK = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], bool)


def _assert_same(expected, received):
    expected = expected if isinstance(expected, (tuple, list)) else [expected]
    received = received if isinstance(received, (tuple, list)) else [received]
    assert len(expected) == len(received)
    for e, r in zip(expected, received):
        assert tuple(e.shape) == tuple(r.shape)
        np.testing.assert_allclose(np.asarray(r), np.asarray(e), rtol=1e-5, atol=1e-6)


def _mha_pair(query, value, **kwargs):
    # Both sides start from zeros (cheap to build); random weights are set in Keras and copied.
    kwargs = {"kernel_initializer": "zeros", **kwargs}
    k = keras.layers.MultiHeadAttention(2, 3, **kwargs)
    k(query, value, return_attention_scores=True)  # Keras's XLA path rejects value_dim != key_dim
    k.set_weights([RNG.normal(scale=0.5, size=w.shape) for w in k.get_weights()])
    ours = MultiHeadAttention(2, 3, **kwargs)
    ours(query, value)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in k.weights]
    ours.set_weights(k.get_weights())
    return k, ours


CALLS = [
    {},
    {"attention_mask": ATTN_MASK},
    {"use_causal_mask": True},
    {"use_causal_mask": True, "attention_mask": ATTN_MASK},
    {"value_mask": V_MASK},
    {"return_attention_scores": True},
    {"return_attention_scores": True, "use_causal_mask": True, "attention_mask": ATTN_MASK},
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: "+".join(c) or "plain")
def test_multi_head_attention_matches_keras(call):
    k, ours = _mha_pair(Q, V)
    _assert_same(k(Q, V, **call), ours(Q, V, **call))


@pytest.mark.parametrize("kwargs", [{"use_gate": True, "use_bias": False},
                                    {"value_dim": 4, "output_shape": 3},
                                    {"sliding_window": 2}])
def test_multi_head_attention_variants_match_keras(kwargs):
    # value_dim != key_dim only runs on Keras's einsum path (its XLA path rejects it).
    k, ours = _mha_pair(Q, V, **kwargs)
    call = {"return_attention_scores": True, "attention_mask": ATTN_MASK}
    _assert_same(k(Q, V, **call), ours(Q, V, **call))


def test_multi_head_attention_weight_layout_is_keras():
    _, ours = _mha_pair(Q, V)
    assert [w.path for w in ours.weights] == [
        f"{ours.name}/{p}/{w}" for p in ("query", "key", "value", "attention_output")
        for w in ("kernel", "bias")]
    assert [w.shape for w in ours.weights] == [(6, 2, 3), (2, 3), (6, 2, 3), (2, 3),
                                                (6, 2, 3), (2, 3), (2, 3, 6), (6,)]


@pytest.mark.parametrize("axes", [None, (2,)])
def test_multi_head_attention_over_several_axes_matches_keras(axes):
    x = RNG.normal(size=(2, 3, 4, 6)).astype("float32")
    k, ours = _mha_pair(x, x, attention_axes=axes)
    _assert_same(k(x, x, return_attention_scores=True), ours(x, x, return_attention_scores=True))


def test_self_attention_mask_from_embedding_matches_keras():
    tokens = np.array([[3, 5, 2, 0, 0], [1, 4, 4, 2, 6]], "int32")
    emb = keras.layers.Embedding(8, 6, mask_zero=True, embeddings_initializer="zeros")
    emb.build(tokens.shape)
    emb.set_weights([RNG.normal(size=(8, 6))])
    k, ours = _mha_pair(emb(tokens), emb(tokens))
    x = emb(tokens)  # carries Keras's mask, used for query and value (Keras's call removes it)
    mask = np.asarray(emb.compute_mask(tokens))
    expected = k(x, x)
    _assert_same(expected, ours(np.asarray(x), np.asarray(x), query_mask=mask, value_mask=mask))
    # A propagated mask (kiln's `mask=`) on a tensor used as query and value masks both.
    same = jnp.asarray(x)
    _assert_same(expected, ours(same, same, mask=mask))


@pytest.mark.parametrize("kind,kwargs", [("Attention", {}),
                                         ("Attention", {"use_scale": True, "score_mode": "concat"}),
                                         ("AdditiveAttention", {}),
                                         ("AdditiveAttention", {"use_scale": False})])
@pytest.mark.parametrize("call", [{}, {"mask": [Q_MASK, V_MASK]},
                                  {"use_causal_mask": True, "return_attention_scores": True},
                                  {"mask": [None, V_MASK], "return_attention_scores": True}],
                         ids=["plain", "masks", "causal", "value_mask"])
def test_dense_attention_matches_keras(kind, kwargs, call):
    ours_cls = {"Attention": Attention, "AdditiveAttention": AdditiveAttention}[kind]
    inputs = [Q, V, 2 * V]
    k = getattr(keras.layers, kind)(**kwargs)
    expected = k(inputs, **call)
    ours = ours_cls(**kwargs)
    ours(inputs)
    ours.set_weights(k.get_weights())
    _assert_same(expected, ours(inputs, **call))


def test_attention_configs_read_like_keras():
    for kind, ours in (("MultiHeadAttention", MultiHeadAttention(2, 3)),
                       ("Attention", Attention()), ("AdditiveAttention", AdditiveAttention())):
        expected = getattr(keras.layers, kind)(*((2, 3) if ours.__class__ is MultiHeadAttention
                                                 else ())).get_config()
        assert sorted(ours.get_config()) == sorted(expected), kind
