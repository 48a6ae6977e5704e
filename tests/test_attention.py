"""Attention layers: shapes, masks, causality, dropout, configs, errors, training in models."""

import numpy as np
import pytest

import kiln
from kiln.layers._attention import MultiHeadAttention
from kiln.layers._dense_attention import AdditiveAttention, Attention
from kiln.layers._embedding import Embedding
from kiln.layers._pooling import GlobalAveragePooling1D


@pytest.fixture
def qv(rng):
    return (rng.normal(size=(2, 4, 4)).astype("float32"),
            rng.normal(size=(2, 5, 4)).astype("float32"))


def test_multi_head_attention_shapes(qv):
    q, v = qv
    mha = MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3)
    out, scores = mha(q, v, return_attention_scores=True)
    assert out.shape == (2, 4, 4) and scores.shape == (2, 2, 4, 5)
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-5)
    assert [w.shape for w in mha.weights] == [(4, 2, 2), (2, 2), (4, 2, 2), (2, 2), (4, 2, 3),
                                               (2, 3), (2, 3, 4), (4,)]
    assert MultiHeadAttention(2, 2, output_shape=3)(q, v).shape == (2, 4, 3)


def test_key_differs_from_value(qv, rng):
    q, v = qv
    key = rng.normal(size=(2, 5, 3)).astype("float32")
    mha = MultiHeadAttention(2, 2)
    assert mha(q, v, key).shape == (2, 4, 4)
    assert mha.weights[2].shape == (3, 2, 2)  # the key projection reads the key's width


def test_causal_mask_hides_the_future(rng):
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    later = x.copy()
    later[:, 3:] += 10.0
    for dropout in (0.0, 0.2):  # both numeric paths
        mha = MultiHeadAttention(2, 2, dropout=dropout)
        a = mha(x, x, use_causal_mask=True)
        b = mha(later, later, use_causal_mask=True)
        np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-5, atol=1e-6)
        assert not np.allclose(a[:, 3:], b[:, 3:])


def test_dropout_only_in_training(qv):
    q, v = qv
    mha = MultiHeadAttention(2, 2, dropout=0.5, seed=3)
    _, s_inf = mha(q, v, return_attention_scores=True, training=False)
    out_train = mha(q, v, training=True)
    assert not np.allclose(out_train, mha(q, v, training=False))
    plain = MultiHeadAttention(2, 2)
    plain(q, v)
    plain.set_weights(mha.get_weights())
    np.testing.assert_allclose(mha(q, v, training=False), plain(q, v), rtol=1e-5, atol=1e-6)
    att = Attention(dropout=0.5)
    assert not np.allclose(att([q, q], training=True), att([q, q], training=False))


def test_dense_attention_masks_and_shapes(qv):
    q, _ = qv
    v = q[:, :3] * 2.0
    q_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    v_mask = np.array([[1, 0, 0], [1, 1, 1]], bool)
    for layer in (Attention(), Attention(use_scale=True, score_mode="concat"), AdditiveAttention()):
        out, scores = layer([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
        assert out.shape == (2, 4, 4) and scores.shape == (2, 4, 3)
        np.testing.assert_array_equal(out[0, 2:], 0.0)  # masked queries output zeros
        np.testing.assert_allclose(scores[0, :, 1:], 0.0, atol=1e-6)  # masked values unused
        np.testing.assert_array_equal(layer.compute_mask([q, v], [q_mask, v_mask]), q_mask)
    assert AdditiveAttention().compute_mask([q, v]) is None
    additive = AdditiveAttention()
    additive([q, v])
    assert [w.shape for w in additive.weights] == [(4,)]


def test_configs_round_trip():
    layers = [MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=(5,),
                                 kernel_initializer="he_normal", use_gate=True),
              Attention(use_scale=True, score_mode="concat", dropout=0.2),
              AdditiveAttention(use_scale=False)]
    for layer in layers:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_errors_teach_the_fix(qv):
    q, v = qv
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 2)
    with pytest.raises(TypeError, match=r"mha\(x, x\)"):
        MultiHeadAttention(2, 2)(q)
    with pytest.raises(ValueError, match=r"\[query, value\]"):
        Attention()(q)
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="general")
    with pytest.raises(ValueError, match="value and key must agree"):
        MultiHeadAttention(2, 2)(q, v, q)


def test_attention_model_trains(rng):
    tokens = rng.integers(1, 16, size=(32, 6))
    y = tokens[:, 0] % 3
    inputs = kiln.Input((6,), dtype="int32")
    x = Embedding(16, 4)(inputs)
    x = MultiHeadAttention(2, 2, dropout=0.1)(x, x)
    model = kiln.Model(inputs, kiln.layers.Dense(3, activation="softmax")(
        GlobalAveragePooling1D()(x)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    history = model.fit(tokens, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before[1], model.get_weights()[1])


def test_embedding_mask_reaches_self_attention():
    tokens = np.array([[3, 5, 0, 0, 0], [1, 4, 4, 2, 6]], "int32")
    inputs = kiln.Input((5,), dtype="int32")
    emb = Embedding(8, 4, mask_zero=True)
    mha = MultiHeadAttention(2, 2)
    embedded = emb(inputs)
    model = kiln.Model(inputs, mha(embedded, embedded))
    out = model(tokens)
    x = emb(tokens)
    mask = tokens != 0
    expected = mha(x, x, query_mask=mask, value_mask=mask)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(out, mha(x, x))
