"""Regularization, activation, embedding and masking layers: random layers' statistics and
training/inference behaviour, masks through models, configs, errors, and use in a model.
Numbers against Keras are in tests/parity/test_misc_layers_parity.py."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln import _scope
from kiln.layers._activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from kiln.layers._embedding import Embedding, Masking
from kiln.layers._regularization import (ActivityRegularization, AlphaDropout, GaussianDropout,
                                         GaussianNoise, SpatialDropout1D, SpatialDropout2D,
                                         SpatialDropout3D)


# -- random layers ----------------------------------------------------------------------------
@pytest.mark.parametrize("layer,shape,shared_axes", [
    (SpatialDropout1D(0.4), (64, 5, 8), (1,)),
    (SpatialDropout2D(0.4), (32, 3, 3, 8), (1, 2)),
    (SpatialDropout2D(0.4, data_format="channels_first"), (32, 8, 3, 3), (2, 3)),
    (SpatialDropout3D(0.4), (32, 2, 2, 2, 8), (1, 2, 3)),
])
def test_spatial_dropout_drops_whole_channels(layer, shape, shared_axes):
    x = np.ones(shape, "float32")
    y = np.asarray(layer(x, training=True))
    # Every feature map is all dropped or all kept (and scaled by 1 / (1 - rate)).
    assert np.all(y.min(axis=shared_axes) == y.max(axis=shared_axes))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.6)}
    assert abs((y == 0).mean() - 0.4) < 0.1
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(layer(x), x)  # inference by default


def test_spatial_dropout_checks_rank_and_rate():
    with pytest.raises(ValueError, match="rank 4"):
        SpatialDropout2D(0.5)(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        SpatialDropout1D(1.0)
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.5, data_format="nhwc")


def test_gaussian_noise_statistics(rng):
    x = rng.normal(size=(200, 100)).astype("float32")
    noise = np.asarray(GaussianNoise(0.3)(x, training=True)) - x
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.3) < 0.01
    np.testing.assert_array_equal(GaussianNoise(0.3)(x, training=False), x)
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(1.5)


def test_gaussian_dropout_statistics():
    x = np.full((200, 100), 2.0, "float32")
    factor = np.asarray(GaussianDropout(0.2)(x, training=True)) / 2.0
    assert abs(factor.mean() - 1.0) < 0.01
    assert abs(factor.std() - math.sqrt(0.2 / 0.8)) < 0.01
    np.testing.assert_array_equal(GaussianDropout(0.2)(x), x)


def test_alpha_dropout_keeps_mean_and_variance(rng):
    x = rng.normal(size=(400, 100)).astype("float32")
    y = np.asarray(AlphaDropout(0.2)(x, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1.0) < 0.03
    # Dropped values all land on one point: a * alpha' + b.
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((0.8) * (1 + 0.2 * alpha_p ** 2)) ** -0.5
    dropped_value = a * alpha_p - a * alpha_p * 0.2
    assert abs(np.isclose(y, dropped_value).mean() - 0.2) < 0.02
    # With noise_shape=(None, 1) a whole row is dropped or kept.
    shared = np.asarray(AlphaDropout(0.5, noise_shape=(None, 1))(x, training=True))
    constant_rows = np.all(shared == shared[:, :1], axis=1)
    assert np.all(constant_rows | np.all(shared[:, 1:] != shared[:, :1], axis=1))
    assert 0.35 < constant_rows.mean() < 0.65
    np.testing.assert_array_equal(AlphaDropout(0.2)(x), x)


def test_random_layers_use_the_step_key_inside_jit():
    """Inside a pure call the noise derives from the context key: reproducible per key."""
    layer = GaussianNoise(0.5, seed=1)
    x = jnp.zeros((3, 4))

    @jax.jit
    def noisy(key):
        with _scope.bind({}, training=True, key=key):
            return layer(x)

    a, b = noisy(jax.random.key(0)), noisy(jax.random.key(0))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, noisy(jax.random.key(1)))


def test_activity_regularization_adds_a_loss():
    x = np.array([[1.0, -2.0], [3.0, 0.0]], "float32")
    layer = ActivityRegularization(l1=0.1, l2=0.01)
    np.testing.assert_array_equal(layer(x), x)
    expected = (0.1 * 6.0 + 0.01 * 14.0) / 2  # divided by the batch size, as Keras
    np.testing.assert_allclose(layer.losses, [expected], rtol=1e-6)
    assert layer.get_config()["l1"] == 0.1


# -- activation layers --------------------------------------------------------------------------
def test_activation_layer_formulas():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], "float32")
    np.testing.assert_allclose(ReLU()(x), [0, 0, 0, 0.5, 3.0])
    np.testing.assert_allclose(ReLU(max_value=1.0)(x), [0, 0, 0, 0.5, 1.0])
    np.testing.assert_allclose(LeakyReLU()(x), [-0.6, -0.15, 0, 0.5, 3.0], rtol=1e-6)
    np.testing.assert_allclose(ELU(alpha=2.0)(x), np.where(x > 0, x, 2.0 * np.expm1(x)),
                               rtol=1e-6)
    probs = np.asarray(Softmax()(x[None]))
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-6)


def test_activation_layer_argument_errors():
    for bad in (lambda: ReLU(max_value=-1.0), lambda: ReLU(negative_slope=-0.1),
                lambda: ReLU(threshold=None), lambda: LeakyReLU(negative_slope=-1)):
        with pytest.raises(ValueError, match="non-negative"):
            bad()
    with pytest.warns(UserWarning, match="negative_slope"):
        assert LeakyReLU(alpha=0.1).negative_slope == 0.1


def test_softmax_mask_zeroes_masked_positions():
    x = np.zeros((1, 4), "float32")
    y = np.asarray(Softmax()(x, mask=np.array([[True, True, False, False]])))
    np.testing.assert_allclose(y, [[0.5, 0.5, 0.0, 0.0]])
    with pytest.raises(ValueError, match="does not broadcast"):
        Softmax()(x, mask=np.ones((1, 3), bool))


def test_prelu_weight_shape_and_formula():
    layer = PReLU(alpha_initializer=kiln.initializers.Constant(0.25), shared_axes=[1, 2])
    x = -np.ones((2, 3, 3, 4), "float32")
    np.testing.assert_allclose(layer(x), -0.25 * np.ones_like(x))
    assert layer.alpha.shape == (1, 1, 4)
    with pytest.raises(ValueError, match="shared_axes"):
        PReLU(shared_axes=[0])(x)


# -- embedding and masking ----------------------------------------------------------------------
def test_embedding_lookup_mask_and_errors():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    emb = Embedding(4, 3, mask_zero=True, weights=[table])
    assert emb.supports_masking
    np.testing.assert_array_equal(emb(np.array([[2, 0]])), table[[[2, 0]]])
    np.testing.assert_array_equal(emb.compute_mask(np.array([[2, 0]])), [[True, False]])
    assert emb.embeddings.shape == (4, 3) and emb.weights[0].name == "embeddings"
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\]"):
        emb(np.array([[4]]))
    with pytest.raises(ValueError, match="positive integer"):
        Embedding(0, 3)
    with pytest.warns(UserWarning, match="input_length"):
        Embedding(4, 3, input_length=5)


def test_embedding_initializer_default_is_keras_uniform():
    emb = Embedding(50, 40)
    emb(np.zeros((1, 1), "int32"))
    w = emb.embeddings.numpy()
    assert w.min() >= -0.05 and w.max() <= 0.05 and w.std() > 0.02


class _RecordMask(kiln.layers.Layer):
    """Test helper: passes inputs through and records the mask it was given."""

    supports_masking = True

    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs


@pytest.mark.parametrize("first,x,expected", [
    (lambda: Embedding(5, 2, mask_zero=True), np.array([[1, 0, 3]]), [[True, False, True]]),
    (lambda: Masking(), np.array([[[1.0], [0.0], [2.0]]], "float32"), [[True, False, True]]),
])
def test_masks_reach_downstream_layers_in_models(first, x, expected):
    recorder = _RecordMask()
    model = kiln.Sequential([first(), recorder])
    model(x)
    np.testing.assert_array_equal(recorder.seen, expected)
    inputs = kiln.Input(x.shape[1:], dtype=str(x.dtype))
    recorder2 = _RecordMask()
    functional = kiln.Model(inputs, recorder2(first()(inputs)))
    functional(x)
    np.testing.assert_array_equal(recorder2.seen, expected)


def test_masking_zeroes_masked_timesteps():
    x = np.array([[[1.0, 0.5], [-1.0, -1.0], [0.0, -1.0]]], "float32")
    layer = Masking(mask_value=-1.0)
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False, True]])
    np.testing.assert_array_equal(layer(x), [[[1.0, 0.5], [0.0, 0.0], [0.0, -1.0]]])


def test_config_round_trip():
    layers = [
        SpatialDropout1D(0.3, seed=2), SpatialDropout2D(0.3, data_format="channels_first"),
        SpatialDropout3D(0.1), GaussianNoise(0.2, seed=1), GaussianDropout(0.4),
        AlphaDropout(0.1, noise_shape=(None, 1)), ActivityRegularization(0.1, 0.2),
        ReLU(max_value=6.0, threshold=0.1), LeakyReLU(0.2), ELU(0.5), Softmax(axis=[1, 2]),
        PReLU(alpha_initializer="ones", alpha_regularizer="l2", shared_axes=[1]),
        Embedding(10, 3, embeddings_initializer="he_normal", embeddings_regularizer="l1",
                  mask_zero=True),
        Masking(-1.0),
    ]
    for layer in layers:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config, layer.name


def test_sequential_model_with_these_layers_fits(rng):
    ids = rng.integers(0, 8, size=(32, 5)).astype("int32")
    y = (ids.mean(axis=1, keepdims=True) > 3.5).astype("float32")
    model = kiln.Sequential([
        kiln.Input((5,), dtype="int32"), Embedding(8, 4, embeddings_regularizer="l2"),
        SpatialDropout1D(0.2), GaussianNoise(0.1), kiln.layers.Reshape((20,)),
        kiln.layers.Dense(6), PReLU(), GaussianDropout(0.1), AlphaDropout(0.1),
        ActivityRegularization(l2=0.01), kiln.layers.Dense(2), Softmax()])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    history = model.fit(ids, y, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert not np.allclose(model.get_weights()[0], before[0])  # the embeddings trained
    # Inference is deterministic (the random layers are off).
    np.testing.assert_array_equal(model(ids), model(ids))
