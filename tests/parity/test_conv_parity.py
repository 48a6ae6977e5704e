"""Convolution and pooling layers agree with Keras 3 (JAX backend) on the same weights.

Each case builds the layer in Keras and in kiln with the same arguments, checks that the
weights have the same shapes in the same order, sets the same random weights in both with
set_weights, and compares outputs on random inputs within 1e-5 relative.
"""

import keras
import numpy as np
import pytest

from kiln.layers import _conv, _conv_separable, _pooling

RTOL, ATOL = 1e-5, 1e-6


def _kiln_class(name):
    for module in (_conv, _conv_separable, _pooling):
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"kiln has no {name}")


def cheap_initializers(name):
    """Constant initializers for every weight of layer class `name`.

    Random initializers compile a sampler for each new weight shape (about a second each on a
    small CPU); the tests draw the weights with NumPy and set them in both libraries instead.
    """
    if name.startswith("Separable"):
        return {"depthwise_initializer": "zeros", "pointwise_initializer": "zeros"}
    if name.startswith("Depthwise"):
        return {"depthwise_initializer": "zeros"}
    if name.startswith("Conv"):
        return {"kernel_initializer": "zeros"}
    return {}


def paired_layers(name, kwargs, x, seed=1):
    """The Keras layer and kiln's, built on `x` and holding the same random weights."""
    kwargs = {**cheap_initializers(name), **kwargs}
    k_layer = getattr(keras.layers, name)(**kwargs)
    k_layer(x)
    n_layer = _kiln_class(name)(**kwargs)
    n_layer(x)
    shapes = [w.shape for w in k_layer.get_weights()]
    assert [w.shape for w in n_layer.get_weights()] == shapes
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=shape).astype("float32") for shape in shapes]
    k_layer.set_weights(weights)
    n_layer.set_weights(weights)
    return k_layer, n_layer


def _assert_same(name, kwargs, shape, seed=0):
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    k_layer, n_layer = paired_layers(name, kwargs, x)
    expected = np.asarray(k_layer(x))
    got = np.asarray(n_layer(x))
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    _assert_same_config(k_layer.get_config(), n_layer.get_config())


def _assert_same_config(k_config, n_config):
    """Same keys and values as Keras's config; initializers compared by class name. (Keras's
    pooling layers keep `padding` as typed, e.g. 'SAME'; kiln stores it lowercased.)"""
    assert set(n_config) == set(k_config)
    for key, value in k_config.items():
        if key.endswith("initializer"):
            assert n_config[key]["class_name"] == value["class_name"], key
        elif key == "padding":
            assert n_config[key] == value.lower()
        elif key not in ("name", "dtype"):
            assert n_config[key] == value, key


CONV_CASES = [
    ("Conv1D", {"filters": 3, "kernel_size": 3}, (2, 9, 4)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
     (2, 9, 4)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal",
                "data_format": "channels_first"}, (2, 4, 9)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "strides": 2, "padding": "same", "groups": 2,
                "activation": "relu"}, (2, 9, 4)),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (2, 7, 8, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": (3, 2), "strides": 2, "padding": "same",
                "groups": 2, "use_bias": False}, (2, 7, 8, 4)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same",
                "data_format": "channels_first", "activation": "tanh"}, (2, 3, 7, 8)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "strides": (1, 2, 1)}, (1, 4, 5, 3, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 3, "padding": "same",
                "data_format": "channels_first"}, (1, 2, 4, 3, 3)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_conv_matches_keras(name, kwargs, shape):
    _assert_same(name, kwargs, shape)


TRANSPOSE_CASES = [
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": pad,
                         "output_padding": op}, (2, 5, 4, 2))
    for pad in ("valid", "same") for op in (None, 1)
] + [
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 4, "strides": 3, "padding": "same",
                         "data_format": "channels_first"}, (2, 2, 5)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3}, (2, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same",
                         "activation": "relu"}, (2, 5, 4, 2)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2}, (1, 3, 2, 3, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", TRANSPOSE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TRANSPOSE_CASES)])
def test_conv_transpose_matches_keras(name, kwargs, shape):
    _assert_same(name, kwargs, shape)


DEPTHWISE_CASES = [
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same",
                         "strides": 2}, (2, 7, 7, 3)),
    ("DepthwiseConv2D", {"kernel_size": 2, "data_format": "channels_first"}, (2, 3, 5, 5)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 3, "dilation_rate": 2},
     (2, 9, 2)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2,
                         "padding": "same", "activation": "relu"}, (2, 6, 6, 3)),
    ("SeparableConv2D", {"filters": 2, "kernel_size": 2, "strides": 2,
                         "data_format": "channels_first"}, (2, 3, 6, 6)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "strides": 2}, (2, 9, 3)),
]


@pytest.mark.parametrize("name,kwargs,shape", DEPTHWISE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(DEPTHWISE_CASES)])
def test_depthwise_and_separable_match_keras(name, kwargs, shape):
    _assert_same(name, kwargs, shape)


_POOL_LAYOUTS = [(1, "channels_last", (2, 8, 3)), (2, "channels_first", (2, 3, 7, 6)),
                 (2, "channels_last", (2, 7, 6, 3)), (3, "channels_last", (2, 5, 3, 4, 2))]
POOL_CASES = [
    (f"{mode}Pooling{rank}D", {"pool_size": 3 if rank < 3 else 2, "strides": 2,
                                "padding": pad, "data_format": fmt}, shape)
    for mode in ("Max", "Average")
    for p, pad in enumerate(("valid", "same"))
    for rank, fmt, shape in _POOL_LAYOUTS[p::2] + _POOL_LAYOUTS[1 - p::2][:1]
] + [
    ("MaxPooling2D", {}, (2, 7, 6, 3)),
    ("MaxPooling1D", {"pool_size": 2, "strides": 1, "padding": "SAME"}, (2, 7, 3)),
    ("AveragePooling2D", {"pool_size": (3, 2), "strides": (1, 2), "padding": "same"},
     (2, 5, 6, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", POOL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL_CASES)])
def test_pooling_matches_keras(name, kwargs, shape):
    _assert_same(name, kwargs, shape)


GLOBAL_CASES = [
    (f"Global{mode}Pooling{rank}D", {"keepdims": (m + rank) % 2 == 0,
                                     "data_format": ("channels_last", "channels_first")[rank % 2]},
     shape)
    for m, mode in enumerate(("Max", "Average"))
    for rank, shape in [(1, (2, 5, 3)), (2, (2, 5, 4, 3)), (3, (2, 3, 4, 2, 3))]
]


@pytest.mark.parametrize("name,kwargs,shape", GLOBAL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(GLOBAL_CASES)])
def test_global_pooling_matches_keras(name, kwargs, shape):
    _assert_same(name, kwargs, shape)


def test_global_average_pooling_1d_with_mask_matches_keras(rng):
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 0, 1]], dtype=bool)
    expected = np.asarray(keras.layers.GlobalAveragePooling1D()(x, mask=mask))
    got = np.asarray(_pooling.GlobalAveragePooling1D()(x, mask=mask))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name,kwargs", [
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
])
def test_gradients_match_keras(rng, name, kwargs):
    """Input and weight gradients agree with Keras's (through kiln's binding scope).
    Conv2D and MaxPooling2D gradients are covered by test_convnet_parity's training run."""
    import jax

    from kiln._variables import bind

    x = rng.normal(size=(2, 6, 5, 3)).astype("float32")
    k_layer, n_layer = paired_layers(name, kwargs, x)
    weights = k_layer.get_weights()

    def keras_loss(inputs, ws):
        out, _ = k_layer.stateless_call(ws, [], inputs)
        return (out ** 2).sum()

    def kiln_loss(inputs, ws):
        with bind(dict(zip(n_layer.weights, ws))):
            return (n_layer(inputs) ** 2).sum()

    expected = jax.jit(jax.grad(keras_loss, argnums=(0, 1)))(x, weights)
    got = jax.jit(jax.grad(kiln_loss, argnums=(0, 1)))(x, weights)
    for g, e in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-5, atol=1e-5)
