"""Recurrent layers: shapes, weights, masks, dropout, configs, errors, and training in models."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln.layers._bidirectional import Bidirectional
from kiln.layers._embedding import Embedding
from kiln.layers._layer import Layer
from kiln.layers._recurrent import GRU, LSTM, RNN, SimpleRNN
from kiln.layers._rnn_cells import GRUCell, LSTMCell, SimpleRNNCell


@pytest.fixture
def x(rng):
    return rng.normal(size=(2, 5, 4)).astype("float32")


@pytest.mark.parametrize("cls,n_states", [(SimpleRNN, 1), (LSTM, 2), (GRU, 1)])
def test_output_and_state_shapes(cls, n_states, x):
    assert cls(4)(x).shape == (2, 4)
    assert cls(4, return_sequences=True)(x).shape == (2, 5, 4)
    out = cls(4, return_sequences=True, return_state=True)(x)
    assert len(out) == 1 + n_states
    assert [o.shape for o in out] == [(2, 5, 4)] + [(2, 4)] * n_states
    np.testing.assert_allclose(out[0][:, -1], out[1])  # the last output is the state h


def test_weights_have_keras_names_shapes_and_init(x):
    lstm, gru, gru_v1 = LSTM(4), GRU(4), GRU(4, reset_after=False)
    for layer in (lstm, gru, gru_v1):
        layer(x)
    assert [w.path for w in lstm.weights] == [
        "lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias"]
    assert [w.shape for w in lstm.weights] == [(4, 16), (4, 16), (16,)]
    # unit_forget_bias: the forget gate (second block of i, f, c, o) starts at one.
    np.testing.assert_array_equal(lstm.weights[2].numpy(), np.repeat([0, 1, 0, 0], 4))
    rec = lstm.weights[1].numpy()
    np.testing.assert_allclose(rec @ rec.T, np.eye(4), atol=1e-5)  # orthogonal rows
    assert [w.shape for w in gru.weights] == [(4, 12), (4, 12), (2, 12)]
    assert gru_v1.weights[2].shape == (12,)
    assert lstm.count_params() == 4 * 16 + 4 * 16 + 16


def test_masked_steps_carry_the_state_forward(x):
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = LSTM(4, return_sequences=True)
    seq = layer(x, mask=mask)
    np.testing.assert_allclose(seq[0, 3], seq[0, 2])  # masked: repeats the last output
    np.testing.assert_allclose(seq[0, 4], seq[0, 2])
    last = LSTM(4)
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x, mask=mask)[0], last(x[:, :3])[0], rtol=1e-5, atol=1e-6)
    assert layer.compute_mask(x, mask) is mask
    assert last.compute_mask(x, mask) is None


def test_go_backwards_reads_the_reversed_sequence(x):
    fwd = GRU(4, return_sequences=True)
    fwd(x)
    bwd = GRU(4, return_sequences=True, go_backwards=True)
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    np.testing.assert_allclose(bwd(x), fwd(x[:, ::-1]), rtol=1e-5, atol=1e-6)


def test_dropout_is_training_only_and_shared_across_steps():
    # Linear cell with zero recurrence: output_t = (x_t * input_mask) @ kernel, so a constant
    # input gives the same output at every step only if the mask is reused at every step.
    layer = SimpleRNN(4, activation=None, use_bias=False, recurrent_initializer="zeros",
                      dropout=0.5, return_sequences=True, seed=1)
    x = jnp.ones((2, 5, 4))
    out = layer(x, training=True)
    np.testing.assert_allclose(out[:, 0], out[:, 4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out, layer(x, training=False))
    plain = SimpleRNN(4, activation=None, use_bias=False, return_sequences=True)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, training=False), plain(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_recurrent_dropout_uses_per_gate_masks(cls, x):
    layer = cls(4, dropout=0.3, recurrent_dropout=0.3)
    assert layer.implementation == 1  # Keras's per-gate masks once recurrent_dropout is set
    dp, rec = layer.cell.dropout_masks(2, 4, training=True)
    assert dp.shape == (layer.cell.gates, 2, 4) and rec.shape == (layer.cell.gates, 2, 4)
    assert set(np.unique(np.asarray(dp))) <= {0.0, np.float32(1 / 0.7)}
    assert layer(x, training=True).shape == (2, 4)


def test_initial_state_and_its_errors(x):
    layer = LSTM(4, return_state=True)
    h0, c0 = jnp.ones((2, 4)), jnp.zeros((2, 4))
    out, h, c = layer(x, initial_state=[h0, c0])
    assert not np.allclose(out, layer(x)[0])
    with pytest.raises(ValueError, match=r"2 array\(s\) of shapes \[\(2, 4\), \(2, 4\)\]"):
        layer(x, initial_state=[h0])


def test_cells_step_like_their_layers(x):
    for cell_cls, layer_cls in ((SimpleRNNCell, SimpleRNN), (LSTMCell, LSTM), (GRUCell, GRU)):
        layer = layer_cls(4, return_state=True)
        out = layer(x[:, :1])
        cell = cell_cls(4)
        states = [jnp.zeros((2, 4))] * (2 if cell_cls is LSTMCell else 1)
        cell(x[:, 0], states)
        cell.set_weights(layer.get_weights())
        y, new_states = cell(x[:, 0], states)
        np.testing.assert_allclose(y, out[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(new_states[-1], out[-1], rtol=1e-5, atol=1e-6)


class MinimalCell(Layer):
    """Keras's documented custom-cell example: `h_t = x_t K + h_{t-1} R`."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), "orthogonal",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        h = inputs @ self.kernel.value + states[0] @ self.recurrent_kernel.value
        return h, [h]


def test_rnn_runs_a_custom_cell(x):
    custom = RNN(MinimalCell(4), return_sequences=True)
    out = custom(x)
    linear = SimpleRNN(4, activation=None, use_bias=False, return_sequences=True)
    linear(x)
    linear.set_weights(custom.get_weights())
    np.testing.assert_allclose(out, linear(x), rtol=1e-5, atol=1e-6)


def test_configs_round_trip():
    layers = [SimpleRNN(3, activation="relu", dropout=0.1, seed=4), LSTM(3, unit_forget_bias=False,
              kernel_regularizer="l2", return_sequences=True), GRU(3, reset_after=False,
              go_backwards=True), RNN(LSTMCell(2), return_state=True),
              Bidirectional(GRU(2, return_sequences=True), merge_mode="ave")]
    for layer in layers:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    assert type(layers[-1].backward_layer) is GRU and layers[-1].backward_layer.go_backwards


def test_errors_teach_the_fix(x):
    with pytest.raises(ValueError, match=r"stateful=True\) is not supported yet"):
        LSTM(3, stateful=True)
    with pytest.raises(ValueError, match="positive int"):
        GRU(0)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        SimpleRNN(2)(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))


def test_lstm_classifier_trains_in_sequential_with_embedding_mask(rng):
    tokens = rng.integers(1, 12, size=(32, 6))
    tokens[::2, 4:] = 0  # padding masked by the embedding
    y = (tokens[:, 0] > 6).astype("float32")
    model = kiln.Sequential([kiln.Input((6,), dtype="int32"), Embedding(12, 4, mask_zero=True),
                             Bidirectional(LSTM(4), merge_mode="sum"),
                             kiln.layers.Dense(1, activation="sigmoid")])
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(tokens, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not np.allclose(a, b) for a, b in zip(before[1:], model.get_weights()[1:]))
    assert model.output_shape == (None, 1)


def test_functional_model_passes_states_between_layers(x):
    inputs = kiln.Input((5, 4))
    gru = GRU(4, return_sequences=True, return_state=True)
    seq, h = gru(inputs)
    rnn = SimpleRNN(4)
    last = rnn(seq, initial_state=[h])
    model = kiln.Model(inputs, last)
    assert last.shape == (None, 4)
    expected_seq, expected_h = gru(x)
    np.testing.assert_allclose(jax.jit(model)(x), rnn(expected_seq, initial_state=[expected_h]),
                               rtol=1e-5, atol=1e-6)
