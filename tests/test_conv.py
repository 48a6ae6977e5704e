"""Convolution and pooling layers: shapes, weights, configs, errors and use in a model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
from kiln.layers import Dense, Input
from kiln.layers._conv import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D,
                               Conv3DTranspose)
from kiln.layers._conv_ops import transpose_padding
from kiln.layers._conv_separable import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                         SeparableConv2D)
from kiln.layers._pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                  GlobalAveragePooling2D, GlobalMaxPooling3D, MaxPooling1D,
                                  MaxPooling2D, MaxPooling3D)

# Constant initializers keep the tests fast: a random initializer compiles a sampler for each
# new weight shape (about a second each on a small CPU). Weights that matter are set with NumPy.
K = {"kernel_initializer": "ones"}
D = {"depthwise_initializer": "ones"}
S = {**D, "pointwise_initializer": "ones"}


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32")
                       for w in model.get_weights()])


SHAPE_CASES = [
    (Conv1D(4, 3, **K), (2, 10, 3), (2, 8, 4)),
    (Conv1D(4, 3, padding="causal", dilation_rate=2, **K), (2, 10, 3), (2, 10, 4)),
    (Conv1D(4, 3, strides=2, padding="same", **K), (2, 9, 3), (2, 5, 4)),
    (Conv2D(8, 3, **K), (2, 28, 28, 1), (2, 26, 26, 8)),
    (Conv2D(8, (3, 1), data_format="channels_first", **K), (2, 1, 6, 5), (2, 8, 4, 5)),
    (Conv2D(6, 3, groups=3, padding="same", **K), (2, 5, 5, 3), (2, 5, 5, 6)),
    (Conv3D(2, 2, **K), (1, 3, 4, 5, 2), (1, 2, 3, 4, 2)),
    (Conv1DTranspose(3, 3, strides=2, **K), (2, 4, 2), (2, 9, 3)),
    (Conv2DTranspose(4, 3, strides=2, padding="same", **K), (1, 5, 5, 2), (1, 10, 10, 4)),
    (Conv2DTranspose(4, 3, strides=2, output_padding=1, **K), (1, 5, 5, 2), (1, 12, 12, 4)),
    (Conv3DTranspose(2, 2, strides=2, **K), (1, 2, 2, 2, 3), (1, 4, 4, 4, 2)),
    (DepthwiseConv1D(3, depth_multiplier=2, **D), (2, 6, 3), (2, 4, 6)),
    (DepthwiseConv2D(3, depth_multiplier=2, **D), (1, 8, 8, 3), (1, 6, 6, 6)),
    (SeparableConv1D(5, 3, padding="same", **S), (2, 6, 3), (2, 6, 5)),
    (SeparableConv2D(8, 3, padding="same", **S), (1, 6, 6, 3), (1, 6, 6, 8)),
    (MaxPooling1D(), (2, 7, 3), (2, 3, 3)),
    (MaxPooling2D(), (1, 28, 28, 3), (1, 14, 14, 3)),
    (MaxPooling2D(3, strides=2, padding="same"), (1, 7, 7, 3), (1, 4, 4, 3)),
    (MaxPooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2)),
    (AveragePooling1D(2, strides=1), (2, 5, 3), (2, 4, 3)),
    (AveragePooling2D(2, data_format="channels_first"), (1, 3, 6, 4), (1, 3, 3, 2)),
    (GlobalAveragePooling2D(), (2, 5, 4, 3), (2, 3)),
    (GlobalAveragePooling2D(keepdims=True), (2, 5, 4, 3), (2, 1, 1, 3)),
    (GlobalMaxPooling3D(data_format="channels_first"), (2, 3, 2, 2, 2), (2, 3)),
]


@pytest.mark.parametrize("layer,in_shape,out_shape", SHAPE_CASES,
                         ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(SHAPE_CASES)])
def test_output_shapes_and_dtype(layer, in_shape, out_shape):
    out = layer(jnp.ones(in_shape))
    assert out.shape == out_shape
    assert out.dtype == jnp.float32
    assert layer.compute_output_shape((None,) + in_shape[1:]) == (None,) + out_shape[1:]


def test_weight_names_shapes_and_order_follow_keras():
    conv = Conv2D(8, (3, 2), groups=2, **K)
    conv(jnp.ones((1, 5, 5, 4)))
    assert [(w.name, w.shape) for w in conv.weights] == [("kernel", (3, 2, 2, 8)),
                                                         ("bias", (8,))]
    trans = Conv2DTranspose(5, 3, use_bias=False, **K)
    trans(jnp.ones((1, 4, 4, 2)))
    assert [(w.name, w.shape) for w in trans.weights] == [("kernel", (3, 3, 5, 2))]
    depth = DepthwiseConv2D(3, depth_multiplier=2, **D)
    depth(jnp.ones((1, 5, 5, 3)))
    assert [(w.name, w.shape) for w in depth.weights] == [("kernel", (3, 3, 3, 2)),
                                                          ("bias", (6,))]
    sep = SeparableConv1D(4, 3, depth_multiplier=2, **S)
    sep(jnp.ones((1, 5, 3)))
    assert [(w.name, w.shape) for w in sep.weights] == [
        ("depthwise_kernel", (3, 3, 2)), ("pointwise_kernel", (1, 6, 4)), ("bias", (4,))]


def test_conv_computes_a_cross_correlation():
    """A hand-checked 1-d case: output[t] = sum_k x[t + k] * w[k] (no kernel flip)."""
    layer = Conv1D(1, 2, use_bias=False, **K)
    layer(jnp.ones((1, 3, 1)))
    layer.set_weights([np.array([1.0, 10.0], "float32").reshape(2, 1, 1)])
    x = np.array([1.0, 2.0, 3.0], "float32").reshape(1, 3, 1)
    np.testing.assert_allclose(np.asarray(layer(x)).ravel(), [21.0, 32.0])


def test_causal_padding_only_sees_the_past():
    layer = Conv1D(1, 3, padding="causal", kernel_initializer="ones", use_bias=False)
    x = np.zeros((1, 6, 1), "float32")
    x[0, 3, 0] = 1.0
    out = np.asarray(layer(x)).ravel()
    np.testing.assert_allclose(out, [0, 0, 0, 1, 1, 1])


def test_same_average_pooling_divides_by_the_real_inputs():
    out = AveragePooling1D(2, strides=2, padding="same")(jnp.arange(3.0).reshape(1, 3, 1))
    np.testing.assert_allclose(np.asarray(out).ravel(), [0.5, 2.0])


def test_masked_global_average_pooling_ignores_masked_steps():
    x = jnp.array([[[1.0], [3.0], [100.0]]])
    out = GlobalAveragePooling1D()(x, mask=jnp.array([[True, True, False]]))
    np.testing.assert_allclose(np.asarray(out), [[2.0]])


def test_integer_images_follow_keras_dtypes():
    """uint8 images: convolutions and averages give float32, max pooling keeps uint8."""
    x = np.full((1, 4, 4, 1), 3, np.uint8)
    assert Conv2D(2, 2, **K)(x).dtype == jnp.float32
    assert AveragePooling2D(2)(x).dtype == jnp.float32
    assert GlobalAveragePooling2D()(x).dtype == jnp.float32
    pooled = MaxPooling2D()(x)
    assert pooled.dtype == jnp.uint8 and int(pooled.max()) == 3


def test_layers_run_under_jit():
    layer = SeparableConv1D(3, 3, padding="same", **S)
    x = jnp.arange(10.0).reshape(1, 5, 2)
    eager = layer(x)
    np.testing.assert_allclose(np.asarray(jax.jit(layer)(x)), np.asarray(eager), rtol=1e-6)
    causal = Conv1D(2, 2, padding="causal", **K)
    assert jax.jit(causal)(x).shape == (1, 5, 2)
    assert jax.jit(MaxPooling1D())(x).shape == (1, 2, 2)


@pytest.mark.parametrize("layer", [
    Conv1D(3, 2, strides=2, padding="causal", activation="relu", kernel_regularizer="l2"),
    Conv2D(4, (3, 2), dilation_rate=2, groups=2, data_format="channels_first", use_bias=False,
           kernel_initializer="he_normal", bias_initializer="ones"),
    Conv3DTranspose(2, 3, strides=2, padding="same", output_padding=1),
    DepthwiseConv2D(3, depth_multiplier=2, depthwise_regularizer="l1"),
    SeparableConv2D(4, 3, depth_multiplier=3, pointwise_initializer="zeros"),
    MaxPooling2D(3, strides=1, padding="same"),
    AveragePooling1D(4, data_format="channels_first"),
    GlobalAveragePooling2D(keepdims=True),
], ids=lambda l: type(l).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_conv_config_matches_keras_keys_and_values():
    config = Conv2D(8, 3, padding="SAME", activation="relu").get_config()
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1)
    assert config["padding"] == "same" and config["data_format"] == "channels_last"
    assert config["activation"] == "relu" and config["groups"] == 1
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert MaxPooling2D().get_config()["strides"] == (2, 2)


@pytest.mark.parametrize("make,match", [
    (lambda: Conv2D(0, 3), "filters"),
    (lambda: Conv2D(6, 3, groups=4), "divisible"),
    (lambda: Conv2D(4, 3, padding="causal"), "padding"),
    (lambda: Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: Conv2D(4, 3, data_format="NHWC"), "data_format"),
    (lambda: Conv2DTranspose(4, 3, strides=2, output_padding=2), "output_padding"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: MaxPooling2D(padding="full"), "padding"),
])
def test_bad_arguments_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="rank 4"):
        Conv2D(2, 3)(jnp.ones((2, 5, 3)))
    with pytest.raises(ValueError, match="too small"):
        Conv2D(2, 5)(jnp.ones((1, 3, 8, 1)))
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv2D(4, 1, groups=2)(jnp.ones((1, 3, 3, 3)))


def test_convnet_trains_in_a_sequential_model(rng):
    model = kiln.Sequential([
        Input((8, 8, 1)), Conv2D(4, 3, activation="relu", padding="same", **K), MaxPooling2D(),
        DepthwiseConv2D(3, padding="same", **D), Conv2DTranspose(2, 2, strides=2, **K),
        GlobalAveragePooling2D(), Dense(3, activation="softmax", **K)])
    assert model.output_shape == (None, 3)
    randomize(model)
    x = rng.normal(size=(16, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=16)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_transpose_padding_gives_keras_lengths():
    """Keras's lengths: `in * stride` ('same'), `(in - 1) * stride + max(k, stride)` ('valid'),
    plus output_padding."""
    def length(n, k, s, pad, op):
        left, right = transpose_padding(k, s, 1, pad, op)
        return (n - 1) * s + 1 + left + right - (k - 1)
    assert length(5, 3, 2, "same", None) == 10
    assert length(5, 3, 2, "valid", None) == 11
    assert length(5, 1, 3, "valid", None) == 15
    assert length(5, 3, 2, "valid", 1) == 12
