"""ConvLSTM1D/2D/3D and GroupQueryAttention: shapes, weights, masks, states, dropout,
errors, config round trips and a one-epoch fit of a tiny model with each layer."""

import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GroupQueryAttention
from kiln.layers._attention import MultiHeadAttention
from kiln.layers._conv_lstm import ConvLSTMCell
from kiln.layers._pooling import GlobalAveragePooling1D

OURS = (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GroupQueryAttention)



def test_conv_lstm_weights_and_shapes(rng):
    x = rng.normal(size=(2, 3, 6, 6, 2)).astype("float32")
    layer = ConvLSTM2D(4, 3, strides=2, padding="same", return_sequences=True,
                       return_state=True)
    out, h, c = layer(x)
    assert out.shape == (2, 3, 3, 3, 4) and h.shape == c.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(out[:, -1], h)
    assert [w.path for w in layer.weights] == ["conv_lstm2d/conv_lstm_cell/kernel",
                                               "conv_lstm2d/conv_lstm_cell/recurrent_kernel",
                                               "conv_lstm2d/conv_lstm_cell/bias"]
    bias = np.asarray(layer.cell.bias.value)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert ConvLSTM1D(2, 3)(x[..., 0, :]).shape == (2, 4, 2)
    # channels_first: (batch, time, channels=1, 6, 6, 2) -> (batch, filters, 5, 5, 1)
    first = ConvLSTM3D(2, 2, data_format="channels_first")(x[:, :, None])
    assert first.shape == (2, 2, 5, 5, 1)


def test_conv_lstm_symbolic_model_shape():
    inputs = kiln.Input((3, 5, 5, 1))
    out = ConvLSTM2D(2, 3, return_sequences=True)(inputs)
    assert tuple(out.shape) == (None, 3, 3, 3, 2)


def test_conv_lstm_mask_skips_steps(rng):
    x = rng.normal(size=(2, 4, 5, 2)).astype("float32")
    layer = ConvLSTM1D(3, 3, padding="same", return_state=True)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    _, h, c = layer(x, mask=mask)
    _, h2, c2 = layer(x[:, :2])
    np.testing.assert_allclose(h[0], h2[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c[0], c2[0], rtol=1e-5, atol=1e-6)
    _, h4, _ = layer(x)
    np.testing.assert_allclose(h[1], h4[1], rtol=1e-5, atol=1e-6)


def test_conv_lstm_initial_state_and_go_backwards(rng):
    x = rng.normal(size=(1, 3, 4, 4, 1)).astype("float32")
    layer = ConvLSTM2D(2, 3, padding="same", return_state=True)
    _, h, c = layer(x)
    continued = layer(x, initial_state=[h, c])[0]
    assert not np.allclose(continued, layer(x)[0])
    backwards = ConvLSTM2D(2, 3, padding="same", go_backwards=True)
    backwards.build(x.shape)
    backwards.set_weights(layer.get_weights())
    np.testing.assert_allclose(backwards(x), layer(x[:, ::-1])[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"initial_state as \[h, c\] of shapes"):
        layer(x, initial_state=[h[..., :1], c])


def test_conv_lstm_dropout_only_in_training(rng):
    x = rng.normal(size=(2, 3, 4, 4, 1)).astype("float32")
    layer = ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    plain = ConvLSTM2D(2, 3)
    plain.build(x.shape)
    layer.build(x.shape)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x), plain(x), rtol=1e-6)
    assert not np.allclose(layer(x, training=True), plain(x))


def test_conv_lstm_cell_step_matches_layer(rng):
    x = rng.normal(size=(2, 1, 5, 5, 2)).astype("float32")
    layer = ConvLSTM2D(3, 3)
    out = layer(x)
    cell = layer.cell
    h, (h2, _) = cell(x[:, 0], cell.get_initial_state(2))
    np.testing.assert_allclose(h, out, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(h2, h)
    again = ConvLSTMCell.from_config(cell.get_config())
    assert again.rank == 2 and again.kernel_size == (3, 3)


def test_conv_lstm_errors_teach_the_fix():
    with pytest.raises(ValueError, match=r"expects inputs of rank 5.*received shape"):
        ConvLSTM2D(2, 3)(jnp.ones((1, 5, 5, 2)))
    with pytest.raises(ValueError, match=r"stateful=True\) is not supported"):
        ConvLSTM2D(2, 3, stateful=True)
    with pytest.raises(ValueError, match="strides > 1 cannot be combined"):
        ConvLSTM1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="filters=...\\) must be a positive int"):
        ConvLSTM3D(0, 3)
    with pytest.raises(ValueError, match="padding"):
        ConvLSTM1D(2, 3, padding="causal")


@pytest.mark.parametrize("layer", [
    ConvLSTM1D(2, 3, return_sequences=True, kernel_regularizer="l2", seed=4),
    ConvLSTM2D(2, (3, 2), strides=2, padding="same", dropout=0.2, unit_forget_bias=False),
    ConvLSTM3D(2, 2, data_format="channels_first", go_backwards=True),
    GroupQueryAttention(4, 4, 2, use_gate=True, sliding_window=3, dropout=0.1, seed=2),
])
def test_configs_round_trip(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    again = kiln.layers.deserialize(kiln.layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == config


def test_group_query_attention_shapes_and_scores(rng):
    q = rng.normal(size=(2, 3, 8)).astype("float32")
    v = rng.normal(size=(2, 5, 6)).astype("float32")
    gqa = GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    out, scores = gqa(q, v, return_attention_scores=True)
    assert out.shape == (2, 3, 8) and scores.shape == (2, 4, 3, 5)
    np.testing.assert_allclose(np.sum(scores, -1), 1.0, rtol=1e-5)
    assert gqa.name == "grouped_query_attention"
    assert [w.shape for w in gqa.get_weights()] == [(8, 4, 2), (4, 2), (6, 2, 2), (2, 2),
                                                    (6, 2, 2), (2, 2), (4, 2, 8), (8,)]
    np.testing.assert_allclose(gqa(q, v), out, rtol=1e-5, atol=1e-6)


def test_group_query_attention_with_all_heads_is_multi_head_attention(rng):
    q = rng.normal(size=(2, 4, 6)).astype("float32")
    mask = rng.random((2, 4, 4)) > 0.3
    gqa = GroupQueryAttention(3, 2, 2)
    mha = MultiHeadAttention(2, 3)
    gqa(q, q)
    mha(q, q)
    mha.set_weights(gqa.get_weights())
    np.testing.assert_allclose(gqa(q, q, attention_mask=mask), mha(q, q, attention_mask=mask),
                               rtol=1e-5, atol=1e-6)


def test_group_query_attention_masks_and_dropout(rng):
    x = rng.normal(size=(1, 4, 4)).astype("float32")
    gqa = GroupQueryAttention(2, 2, 1, dropout=0.5, seed=0)
    _, scores = gqa(x, x, use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.asarray(scores)[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]]
                  == 0)
    np.testing.assert_allclose(gqa(x, x), gqa(x, x))
    assert not np.allclose(gqa(x, x, training=True), gqa(x, x))


def test_group_query_attention_errors_teach_the_fix():
    with pytest.raises(ValueError, match="divisible by num_key_value_heads"):
        GroupQueryAttention(4, 3, 2)
    with pytest.raises(ValueError, match="sliding_window"):
        GroupQueryAttention(4, 2, 2, sliding_window=0)
    with pytest.raises(TypeError, match="needs a `value`"):
        GroupQueryAttention(4, 2, 2)(jnp.ones((1, 2, 4)))
    with pytest.raises(ValueError, match="not supported with flash_attention"):
        GroupQueryAttention(4, 2, 2, flash_attention=True, dropout=0.1)


@pytest.mark.parametrize("shape,layer", [
    ((3, 6, 2), ConvLSTM1D(2, 3)),
    ((3, 5, 5, 1), ConvLSTM2D(2, 3, padding="same")),
    ((2, 3, 3, 3, 1), ConvLSTM3D(2, 2)),
])
def test_conv_lstm_sequential_fits(rng, shape, layer):
    x = rng.normal(size=(16,) + shape).astype("float32")
    y = rng.integers(0, 2, size=(16, 1)).astype("float32")
    model = kiln.Sequential([kiln.Input(shape), layer, kiln.layers.Flatten(),
                             kiln.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.get_weights()
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before[0], model.get_weights()[0])


def test_group_query_attention_model_fits(rng):
    # Attention takes (query, value): a functional model (Sequential passes one input).
    x = rng.normal(size=(16, 5, 4)).astype("float32")
    y = rng.integers(0, 2, size=(16, 1)).astype("float32")
    inputs = kiln.Input((5, 4))
    h = GroupQueryAttention(2, 4, 2, dropout=0.1)(inputs, inputs)
    model = kiln.Model(inputs, kiln.layers.Dense(1, activation="sigmoid")(
        GlobalAveragePooling1D()(h)))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.get_weights()
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before[0], model.get_weights()[0])
