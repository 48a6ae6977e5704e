"""Reshaping, Lambda and merge layers: shapes, configs, errors and use in models."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln.layers import Dense, Flatten, Input
from kiln.layers._lambda import Lambda
from kiln.layers._merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                  Subtract, add, average, concatenate, dot, maximum, minimum,
                                  multiply, subtract)
from kiln.layers._reshaping import (Cropping1D, Cropping2D, Cropping3D, Permute, RepeatVector,
                                    UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D,
                                    ZeroPadding2D, ZeroPadding3D)

SHAPE_CASES = [
    (Permute((2, 1)), (4, 10, 3), (4, 3, 10)),
    (RepeatVector(3), (2, 5), (2, 3, 5)),
    (Cropping1D(), (2, 6, 3), (2, 4, 3)),
    (Cropping1D((0, 2)), (2, 6, 3), (2, 4, 3)),
    (Cropping2D(((1, 1), (2, 0))), (1, 6, 6, 3), (1, 4, 4, 3)),
    (Cropping2D(1, data_format="channels_first"), (1, 3, 6, 5), (1, 3, 4, 3)),
    (Cropping3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2)),
    (ZeroPadding1D(), (2, 4, 3), (2, 6, 3)),
    (ZeroPadding2D(((1, 0), (2, 2))), (1, 4, 4, 3), (1, 5, 8, 3)),
    (ZeroPadding2D((1, 2), data_format="channels_first"), (1, 3, 4, 4), (1, 3, 6, 8)),
    (ZeroPadding3D(1), (1, 2, 2, 2, 3), (1, 4, 4, 4, 3)),
    (UpSampling1D(3), (2, 4, 3), (2, 12, 3)),
    (UpSampling2D((2, 3)), (1, 4, 4, 3), (1, 8, 12, 3)),
    (UpSampling2D(interpolation="bilinear"), (1, 3, 3, 2), (1, 6, 6, 2)),
    (UpSampling3D(), (1, 2, 2, 2, 1), (1, 4, 4, 4, 1)),
]


@pytest.mark.parametrize("layer,in_shape,out_shape", SHAPE_CASES,
                         ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(SHAPE_CASES)])
def test_reshaping_shapes(layer, in_shape, out_shape):
    assert layer(jnp.ones(in_shape)).shape == out_shape
    assert layer.compute_output_shape((None,) + in_shape[1:]) == (None,) + out_shape[1:]


def test_reshaping_values():
    x = jnp.arange(6.0).reshape(1, 3, 2)
    np.testing.assert_array_equal(np.asarray(Permute((2, 1))(x))[0], np.arange(6.0).reshape(3, 2).T)
    np.testing.assert_array_equal(np.asarray(Cropping1D((1, 0))(x))[0], [[2, 3], [4, 5]])
    np.testing.assert_array_equal(np.asarray(ZeroPadding1D((0, 1))(x))[0, -1], [0, 0])
    np.testing.assert_array_equal(np.asarray(UpSampling1D(2)(x))[0, :2], [[0, 1], [0, 1]])
    np.testing.assert_array_equal(np.asarray(RepeatVector(2)(x[:, 0]))[0], [[0, 1], [0, 1]])


MERGE_CASES = [
    (Add(), [[1.0, 2.0], [3.0, 4.0]], [4.0, 6.0]),
    (Subtract(), [[1.0, 2.0], [3.0, 5.0]], [-2.0, -3.0]),
    (Multiply(), [[1.0, 2.0], [3.0, 4.0], [2.0, 2.0]], [6.0, 16.0]),
    (Average(), [[1.0, 2.0], [3.0, 6.0]], [2.0, 4.0]),
    (Maximum(), [[1.0, 5.0], [3.0, 4.0]], [3.0, 5.0]),
    (Minimum(), [[1.0, 5.0], [3.0, 4.0]], [1.0, 4.0]),
]


@pytest.mark.parametrize("layer,values,expected", MERGE_CASES,
                         ids=[type(c[0]).__name__ for c in MERGE_CASES])
def test_elementwise_merges(layer, values, expected):
    out = layer([jnp.array([v]) for v in values])
    np.testing.assert_allclose(np.asarray(out), [expected])


def test_concatenate_and_dot():
    a, b = jnp.ones((2, 3)), jnp.full((2, 4), 2.0)
    assert Concatenate()([a, b]).shape == (2, 7)
    assert Concatenate(axis=1)([jnp.ones((2, 1, 3)), jnp.ones((2, 2, 3))]).shape == (2, 3, 3)
    np.testing.assert_allclose(np.asarray(Dot(axes=1)([a, a])), [[3.0], [3.0]])
    cos = Dot(axes=1, normalize=True)([jnp.array([[3.0, 4.0]]), jnp.array([[3.0, 4.0]])])
    np.testing.assert_allclose(np.asarray(cos), [[1.0]], rtol=1e-6)
    assert Dot(axes=(2, 2))([jnp.ones((2, 5, 3)), jnp.ones((2, 4, 3))]).shape == (2, 5, 4)


def test_merge_errors_are_explained():
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="exactly 2"):
        Subtract()([jnp.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match="match"):
        Add()([jnp.ones((2, 3)), jnp.ones((2, 4))])
    with pytest.raises(ValueError, match="except on axis"):
        Concatenate()([jnp.ones((2, 3, 1)), jnp.ones((2, 4, 1))])
    with pytest.raises(ValueError, match="contracted"):
        Dot(axes=1)([jnp.ones((2, 3)), jnp.ones((2, 4))])
    with pytest.raises(ValueError, match="batch axis"):
        Dot(axes=(0, 1))([jnp.ones((2, 3)), jnp.ones((2, 3))])


@pytest.mark.parametrize("make,error,match", [
    (lambda: Permute((1, 3)), ValueError, "permutation"),
    (lambda: RepeatVector(0), ValueError, "positive"),
    (lambda: RepeatVector(2.0), TypeError, "int"),
    (lambda: Cropping2D(((1, 1), (1, 1), (1, 1))), ValueError, "cropping"),
    (lambda: ZeroPadding2D(-1), ValueError, "negative"),
    (lambda: UpSampling2D(interpolation="cubic"), ValueError, "interpolation"),
    (lambda: Dot(axes=(1, 2, 3)), ValueError, "axes"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_cropping_everything_is_refused():
    with pytest.raises(ValueError, match="removes all"):
        Cropping1D((2, 2))(jnp.ones((1, 4, 2)))


@pytest.mark.parametrize("layer", [
    Permute((2, 1)), RepeatVector(4), Cropping1D((1, 2)), Cropping2D(((1, 0), (0, 2))),
    Cropping3D(2), ZeroPadding1D(3), ZeroPadding2D(2, data_format="channels_first"),
    ZeroPadding3D(), UpSampling1D(3), UpSampling2D(interpolation="bilinear"), UpSampling3D(),
    Add(), Subtract(), Concatenate(axis=1), Dot(axes=(1, 2), normalize=True),
], ids=lambda l: type(l).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    json.dumps(config)


def test_lambda_config_holds_no_code_and_refuses_to_load():
    def double(x):
        return x * 2

    layer = Lambda(double, arguments={})
    config = layer.get_config()
    text = json.dumps(config)
    assert "double" in text and "code" not in text
    with pytest.raises(ValueError, match="holds no code"):
        Lambda.from_config(config)
    anonymous = Lambda(lambda x: x + 1).get_config()
    assert anonymous["function"]["config"] == "<lambda>"
    with pytest.raises(ValueError, match="Layer subclass"):
        Lambda.from_config(anonymous)


def test_lambda_passes_arguments_mask_and_training():
    layer = Lambda(lambda x, scale, training=None: x * scale + (1.0 if training else 0.0),
                   arguments={"scale": 3.0})
    np.testing.assert_allclose(np.asarray(layer(jnp.ones((1, 2)), training=True)), [[4.0, 4.0]])
    np.testing.assert_allclose(np.asarray(layer(jnp.ones((1, 2)))), [[3.0, 3.0]])
    masked = Lambda(lambda x, mask=None: x * mask[..., None], mask=lambda x, m: m)
    mask = jnp.array([[True, False]])
    np.testing.assert_allclose(np.asarray(masked(jnp.ones((1, 2, 1)), mask=mask)), [[[1.], [0.]]])
    assert masked.compute_mask(None, mask) is mask
    with pytest.raises(TypeError, match="callable"):
        Lambda(3)


def test_functional_helpers_build_a_model(rng):
    a, b = Input((4,), name="a"), Input((4,), name="b")
    merged = concatenate([add([a, b]), subtract([a, b]), multiply([a, b]), average([a, b]),
                          maximum([a, b]), minimum([a, b]), dot([a, b], axes=1)])
    assert merged.shape == (None, 25)
    out = Dense(1, kernel_initializer="ones")(Lambda(jnp.tanh)(merged))
    model = kiln.Model([a, b], out)
    model.compile(optimizer="adam", loss="mse")
    xa, xb = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
    history = model.fit([xa, xb], rng.normal(size=(8, 1)), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_reshaping_layers_train_in_a_sequential_model(rng):
    model = kiln.Sequential([
        Input((6, 6, 2)), ZeroPadding2D(1), Cropping2D(((1, 1), (0, 2))), UpSampling2D(),
        Permute((2, 1, 3)), Flatten(), RepeatVector(2), UpSampling1D(2), Cropping1D((1, 0)),
        ZeroPadding1D((0, 1)), Flatten(),
        Dense(2, activation="softmax", kernel_initializer="zeros")])
    assert model.output_shape == (None, 2)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(8, 6, 6, 2)).astype("float32")
    history = model.fit(x, rng.integers(0, 2, size=8), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_merge_layers_run_under_jit():
    layer = Dot(axes=-1, normalize=True)
    x = [jnp.ones((2, 3)), jnp.arange(6.0).reshape(2, 3)]
    np.testing.assert_allclose(np.asarray(jax.jit(layer)(x)), np.asarray(layer(x)), rtol=1e-6)
