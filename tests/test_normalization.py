"""Normalization layers: weights, modes, purity under jit, masks, configs, errors, and use in
a model. Numbers against Keras are in tests/parity/test_normalization_parity.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln._variables import bind, collect_writes
from kiln.layers._normalization import (BatchNormalization, GroupNormalization,
                                        LayerNormalization, RMSNormalization, UnitNormalization,
                                        moments)


def test_batch_normalization_weights_follow_keras_order_and_flags():
    bn = BatchNormalization()
    bn(np.zeros((2, 3), "float32"))
    assert [v.name for v in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [v.trainable for v in bn.weights] == [True, True, False, False]
    assert [v.name for v in bn.trainable_weights] == ["gamma", "beta"]
    bn2 = BatchNormalization(center=False, scale=False)
    bn2(np.zeros((2, 3), "float32"))
    assert [v.name for v in bn2.weights] == ["moving_mean", "moving_variance"]


def test_batch_normalization_training_uses_batch_statistics(rng):
    x = rng.normal(3.0, 2.0, size=(64, 4)).astype("float32")
    bn = BatchNormalization(momentum=0.5)
    y = np.asarray(bn(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), x.var(0) / (x.var(0) + 1e-3), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    # Inference uses the moving statistics (so it is not normalized yet).
    y_inf = np.asarray(bn(x, training=False))
    expected = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y_inf, expected, rtol=1e-5, atol=1e-5)


def test_frozen_batch_normalization_is_in_inference_mode(rng):
    x = rng.normal(3.0, 2.0, size=(8, 2)).astype("float32")
    bn = BatchNormalization()
    bn(x)
    bn.trainable = False
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4
    np.testing.assert_allclose(bn(x, training=True), bn(x, training=False))
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.0)


def test_batch_normalization_is_pure_under_jit(rng):
    """Bound values in, moving statistics out as writes; the layer's own values untouched."""
    x = jnp.asarray(rng.normal(size=(6, 3)).astype("float32"))
    bn = BatchNormalization(momentum=0.9)
    bn(x)
    variables = bn.weights

    @jax.jit
    def step(values, x):
        with bind(dict(zip(variables, values))) as scope:
            y = bn(x, training=True)
        writes = collect_writes(scope)
        return y, [writes.get(v, val) for v, val in zip(variables, values)]

    values = [v.value for v in variables]
    _, new = step(values, x)
    np.testing.assert_allclose(new[2], 0.1 * np.asarray(x).mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.0)  # nothing mutated


def test_masked_moments_ignore_masked_values(rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0]], bool)
    mean, var = moments(jnp.asarray(x), [0, 1], jnp.asarray(mask)[..., None])
    kept = x[mask]
    np.testing.assert_allclose(np.squeeze(mean), kept.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.squeeze(var), kept.var(0), rtol=1e-5)
    bn = BatchNormalization()
    bn(x, training=True, mask=mask)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * kept.mean(0), rtol=1e-4)
    with pytest.raises(ValueError, match="one dimension less"):
        bn(x, training=True, mask=mask[0])


@pytest.mark.parametrize("layer,shape,weights", [
    (LayerNormalization(), (2, 3, 4), [(4,), (4,)]),
    (LayerNormalization(axis=[1, 2]), (2, 3, 4), [(3, 4), (3, 4)]),
    (LayerNormalization(rms_scaling=False, center=False), (2, 4), [(4,)]),
    (GroupNormalization(groups=2), (2, 3, 4), [(4,), (4,)]),
    (RMSNormalization(), (2, 3, 4), [(4,)]),
    (UnitNormalization(axis=[1, 2]), (2, 3, 4), []),
])
def test_shapes_dtypes_and_weights(layer, shape, weights):
    y = layer(np.ones(shape, "float32"))
    assert y.shape == shape and y.dtype == jnp.float32
    assert [v.shape for v in layer.weights] == weights


def test_layer_normalization_normalizes_each_sample(rng):
    x = rng.normal(5.0, 3.0, size=(4, 10)).astype("float32")
    y = np.asarray(LayerNormalization(epsilon=0.0)(x))
    np.testing.assert_allclose(y.mean(1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(1), 1.0, rtol=1e-4)
    with pytest.warns(UserWarning, match="deprecated"):
        LayerNormalization(rms_scaling=True)


def test_group_and_unit_normalization_formulas(rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    y = np.asarray(GroupNormalization(groups=2, epsilon=0.0)(x))
    group = x[..., :2].reshape(2, -1)
    expected = (group - group.mean(1, keepdims=True)) / group.std(1, keepdims=True)
    np.testing.assert_allclose(y[..., :2].reshape(2, -1), expected, rtol=1e-4, atol=1e-5)
    u = np.asarray(UnitNormalization()(x))
    np.testing.assert_allclose(np.linalg.norm(u, axis=-1), 1.0, rtol=1e-5)
    r = np.asarray(RMSNormalization(epsilon=0.0)(x))
    np.testing.assert_allclose(np.sqrt((r ** 2).mean(-1)), 1.0, rtol=1e-5)


def test_half_precision_inputs_are_computed_in_float32():
    x = np.linspace(-2, 2, 12, dtype="float16").reshape(3, 4)
    for layer in (LayerNormalization(), BatchNormalization(), GroupNormalization(2)):
        assert layer(x, training=True).dtype == jnp.float32  # Keras casts to compute_dtype


def test_errors_teach_the_fix():
    with pytest.raises(ValueError, match="divisors of 6"):
        GroupNormalization(groups=4)(np.ones((2, 6), "float32"))
    with pytest.raises(ValueError, match="positive int"):
        GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="out of bounds"):
        LayerNormalization(axis=3)(np.ones((2, 6), "float32"))
    with pytest.raises(TypeError, match="int or a list"):
        LayerNormalization(axis="last")
    with pytest.raises(TypeError, match="one int"):
        BatchNormalization(axis=[1, 2])
    with pytest.raises(NotImplementedError, match="renorm"):
        BatchNormalization(renorm=True)


def test_config_round_trip():
    layers = [
        BatchNormalization(axis=1, momentum=0.9, epsilon=1e-4, center=False,
                           gamma_initializer="random_normal", gamma_regularizer="l2"),
        LayerNormalization(axis=[1, 2], epsilon=1e-5, beta_initializer="ones"),
        GroupNormalization(groups=4, scale=False, beta_regularizer=kiln.regularizers.L1(0.1)),
        RMSNormalization(axis=1, epsilon=1e-4),
        UnitNormalization(axis=[1, 2]),
    ]
    for layer in layers:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config, layer.name


def test_gamma_regularizer_adds_to_losses():
    bn = BatchNormalization(gamma_regularizer=kiln.regularizers.L2(0.5))
    bn(np.ones((2, 3), "float32"))
    np.testing.assert_allclose(sum(bn.losses), 0.5 * 3)


def test_sequential_model_with_normalization_layers_fits(rng):
    x = rng.normal(2.0, 3.0, size=(32, 4, 4)).astype("float32")
    y = x.mean(axis=(1, 2))[:, None]
    model = kiln.Sequential([kiln.Input((4, 4)),
                             BatchNormalization(gamma_constraint=lambda w: jnp.minimum(w, 0.9)),
                             LayerNormalization(),
                             GroupNormalization(groups=2), RMSNormalization(),
                             UnitNormalization(), kiln.layers.Flatten(), kiln.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"][0])
    bn = model.layers[0]
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)  # the state came back from the step
    assert bn.gamma.numpy().max() <= 0.9  # the constraint ran after each update
    # Inference uses moving statistics: a sample's prediction does not depend on its batch.
    np.testing.assert_allclose(model(x[:3]), np.asarray(model(x))[:3], rtol=1e-5, atol=1e-6)
