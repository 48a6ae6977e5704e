"""EfficientNet, EfficientNetV2 and ConvNeXt: kiln builds Keras's architectures (same layer
names, classes and configs, same weights, paths and shapes, in the same order; with Keras's
weights copied in, the same outputs). Only the smallest variant of each family is built
(32x32 inputs, weights=None); the larger variants are checked through the arguments Keras's
constructors pass to their family builder, the block tables, signatures and Keras's
weight-file names, origins and hashes.

While the models are built, jax.random's samplers draw with NumPy in both libraries: each
distinct weight shape would otherwise compile its own XLA sampling program, in each library
(about 30 s of this file's time). The values are replaced by set_weights before any number
is compared, and the initializer configs are compared separately.

ConvNeXt's residual `+` is a graph operation in both (in `model.operations`, not `layers`)."""

import inspect
from unittest import mock

import h5py
import keras
import numpy as np
import pytest
from keras.src.applications import convnext as k_cnx
from keras.src.applications import efficientnet as k_eff
from keras.src.applications import efficientnet_v2 as k_eff2
from keras.src.legacy.saving import legacy_h5_format

import kiln

from ._applications_helpers import numpy_sampling
from kiln.applications import (
    _common,
    _convnext,
    _efficientnet,
    _efficientnet_v2,
    convnext,
    efficientnet,
    efficientnet_v2,
)

CASES = {  # name: (kiln constructor, keras constructor, kwargs)
    "EfficientNetB0": (efficientnet.EfficientNetB0, keras.applications.EfficientNetB0,
                       {"include_top": False, "input_shape": (32, 32, 3)}),
    "EfficientNetV2B0": (efficientnet_v2.EfficientNetV2B0, keras.applications.EfficientNetV2B0,
                         {"include_top": True, "input_shape": (32, 32, 3), "classes": 7,
                          "classifier_activation": None}),
    "ConvNeXtTiny": (convnext.ConvNeXtTiny, keras.applications.ConvNeXtTiny,
                     {"include_top": False, "input_shape": (32, 32, 3), "pooling": "avg"}),
}
FAMILIES = {  # kiln module, keras module, the keras family builder, its variants
    "efficientnet": (efficientnet, k_eff, "EfficientNet", [f"B{i}" for i in range(8)]),
    "efficientnet_v2": (efficientnet_v2, k_eff2, "EfficientNetV2",
                        ["B0", "B1", "B2", "B3", "S", "M", "L"]),
    "convnext": (convnext, k_cnx, "ConvNeXt", ["Tiny", "Small", "Base", "Large", "XLarge"]),
}


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    kiln_fn, keras_fn, kwargs = CASES[request.param]
    # Module fixtures run before the per-test fresh names of conftest: start both over here.
    kiln.backend.clear_session()
    keras.backend.clear_session(free_memory=False)
    with numpy_sampling():
        return request.param, keras_fn(weights=None, **kwargs), kiln_fn(weights=None, **kwargs)




def test_same_architecture(pair):
    name, km, lm = pair
    want_layers = km.layers
    assert [op.name for op in lm.operations] == [op.name for op in km.operations]
    assert lm.name == km.name
    assert [l.name for l in lm.layers] == [l.name for l in want_layers]
    assert [type(l).__name__ for l in lm.layers] == [type(l).__name__ for l in want_layers]
    assert [w.path for w in lm.weights] == [w.path for w in km.weights]
    assert [tuple(w.shape) for w in lm.weights] == [tuple(w.shape) for w in km.weights]
    assert [w.path for w in lm.trainable_weights] == [w.path for w in km.trainable_weights]
    assert tuple(lm.output.shape) == tuple(km.output.shape)
    assert lm.count_params() == km.count_params()


def test_same_layer_configs(pair):
    # Every argument both libraries write (initializers included) has the same value; keys
    # only one side writes (Keras's `quantization_config`, `renorm_*`, ...) belong to the
    # layer classes, not to these models.
    name, km, lm = pair
    want_layers = km.layers
    for k_layer, layer in zip(want_layers, lm.layers):
        assert _common_config(layer.get_config(), k_layer.get_config()) == _common_config(
            k_layer.get_config(), layer.get_config()), layer.name


def _common_config(config, other):
    """`config` on the keys `other` also has (dtype left out), nested configs likewise."""
    if isinstance(config, dict) and isinstance(other, dict):
        return {k: _common_config(v, other[k]) for k, v in config.items()
                if k in other and k != "dtype"}
    if isinstance(config, (list, tuple)) and isinstance(other, (list, tuple)):
        return [_common_config(a, b) for a, b in zip(config, other)]
    if isinstance(config, (list, tuple)) and len(config) == 1:
        return config[0]  # LayerNormalization's axis: Keras writes [-1], kiln -1
    return config


def test_same_outputs_with_keras_weights(pair):
    _, km, lm = pair
    # Keras's initial weights, with the normalization statistics and LayerScale (1e-6, which
    # would hide the blocks) made non-trivial, so a swapped order or a wrong formula shows.
    rng = np.random.default_rng(0)
    weights = [_perturbed(v, rng) for v in km.weights]
    km.set_weights(weights)
    lm.set_weights(weights)
    for layer in km.layers:  # Keras's Normalization reads its mean and variance weights in
        if hasattr(layer, "finalize_state"):  # finalize_state (its weight loading calls it,
            layer.finalize_state()  # set_weights does not); kiln's reads them in call
    # Pixels in 0..255 (the models rescale them): noise and a smooth colour ramp.
    ramp = np.linspace(0, 255, 32)[None, :, None, None] * np.array([1.0, 0.5, 0.2])
    x = np.concatenate([rng.uniform(0, 255, (1, 32, 32, 3)),
                        np.broadcast_to(ramp, (1, 32, 32, 3))]).astype("float32")
    want = np.asarray(km.predict(x, verbose=0))
    got = np.asarray(lm.predict(x, verbose=0))
    assert got.shape == want.shape
    assert np.isfinite(want).all() and np.abs(want).max() > 1e-2
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_keras_legacy_h5_file_loads(pair, tmp_path):
    # A legacy HDF5 weight file (the format of Keras's 'imagenet' files) written by Keras from
    # its model loads into kiln's through _common.load_weights, layer by layer.
    _, km, lm = pair
    path = str(tmp_path / "weights.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, km)
    lm.set_weights([np.zeros(w.shape, w.dtype) for w in lm.weights])
    _common.load_weights(lm, path, url=None)
    for w, k_w in zip(lm.weights, km.weights):
        np.testing.assert_array_equal(np.asarray(w.numpy()), np.asarray(k_w.numpy()), w.path)


def _perturbed(v, rng):
    w = np.asarray(v.numpy())
    kind = v.path.rsplit("/", 1)[-1]
    if kind in ("gamma", "moving_variance", "variance"):
        return rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
    if kind in ("beta", "moving_mean", "mean"):
        return rng.normal(0, 0.1, w.shape).astype(w.dtype)
    if kind.startswith("variable"):  # LayerScale's gamma (Keras's automatic name)
        return rng.uniform(0.1, 0.5, w.shape).astype(w.dtype)
    return w


def test_scaled_variant_architecture():
    # EfficientNetB2 (width 1.1, depth 1.2): the channel and repeat rounding, and the drop
    # rates that depend on the block count (after the B0 build, ~1 s a model). EfficientNetV2's
    # rounding is compared with Keras's function below; ConvNeXt has no scaling.
    kiln.backend.clear_session()
    keras.backend.clear_session(free_memory=False)
    kwargs = {"weights": None, "include_top": False, "input_shape": (32, 32, 3)}
    with numpy_sampling():
        km = keras.applications.EfficientNetB2(**kwargs)
        lm = efficientnet.EfficientNetB2(**kwargs)
    assert [(w.path, tuple(w.shape)) for w in lm.weights] == [
        (w.path, tuple(w.shape)) for w in km.weights]
    assert lm.count_params() == km.count_params()
    assert [l.name for l in lm.layers] == [l.name for l in km.layers]
    for k_layer, layer in zip(km.layers, lm.layers):
        assert _common_config(layer.get_config(), k_layer.get_config()) == _common_config(
            k_layer.get_config(), layer.get_config()), layer.name


def _builder_args(keras_module, builder, fn):
    """The arguments a Keras constructor passes to its family builder (nothing is built)."""
    with mock.patch.object(keras_module, builder, lambda *a, **k: (a, k)):
        return fn(weights=None)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_same_signatures_and_variant_configs(family):
    kiln_mod, keras_mod, builder, variants = FAMILIES[family]
    public = getattr(keras.applications, family)  # Keras's public module
    assert sorted(kiln_mod.__all__) == sorted(n for n in dir(public) if not n.startswith("_"))
    for variant in variants:
        fn_name = builder + variant
        kiln_fn, keras_fn = getattr(kiln_mod, fn_name), getattr(keras_mod, fn_name)
        want = [(p.name, p.default) for p in inspect.signature(keras_fn).parameters.values()]
        assert [(p.name, p.default) for p in inspect.signature(kiln_fn).parameters.values()] \
            == want, fn_name
        args, kwargs = _builder_args(keras_mod, builder, keras_fn)
        assert _kiln_config(family, variant) == _keras_config(family, args, kwargs), fn_name


def _kiln_config(family, variant):
    v = variant.lower()
    if family == "efficientnet":
        return _efficientnet.VARIANTS[v] + (f"efficientnet{v}",)
    if family == "efficientnet_v2":
        return _efficientnet_v2.VARIANTS[v] + (f"efficientnetv2-{v}",)
    c = _convnext.MODEL_CONFIGS[v]
    return (c["depths"], c["projection_dims"], c["default_size"], 0.0, 1e-6, f"convnext_{v}")


def _keras_config(family, args, kwargs):
    if family == "efficientnet":  # (width, depth, size, dropout_rate), name=...
        return tuple(args) + (kwargs["name"],)
    if family == "efficientnet_v2":
        return (kwargs["width_coefficient"], kwargs["depth_coefficient"],
                kwargs["default_size"], kwargs["name"])
    return (kwargs["depths"], kwargs["projection_dims"], kwargs["default_size"],
            kwargs["drop_path_rate"], kwargs["layer_scale_init_value"], kwargs["name"])


def test_same_block_tables_and_rounding():
    assert _efficientnet.DEFAULT_BLOCKS_ARGS == k_eff.DEFAULT_BLOCKS_ARGS
    assert _efficientnet_v2.DEFAULT_BLOCKS_ARGS == k_eff2.DEFAULT_BLOCKS_ARGS
    assert _convnext.MODEL_CONFIGS == k_cnx.MODEL_CONFIGS
    assert _efficientnet.CONV_KERNEL_INITIALIZER == k_eff.CONV_KERNEL_INITIALIZER
    assert _efficientnet.DENSE_KERNEL_INITIALIZER == k_eff.DENSE_KERNEL_INITIALIZER
    for width in (1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0):  # EfficientNetV2's is module level
        for filters in (16, 24, 32, 40, 80, 112, 192, 320, 1280):
            assert (_efficientnet_v2.round_filters(filters, width, 8, 8)
                    == k_eff2.round_filters(filters, width, 8, 8))
    # EfficientNet's rounding is a closure in Keras (compared through EfficientNetB2 above):
    # to the nearest multiple of 8, one more where that loses over 10% (11 -> 8 -> 16).
    assert [_efficientnet.round_filters(f, 1.1) for f in (32, 40, 10)] == [32, 48, 16]


class _Stop(Exception):
    pass


def _keras_file(keras_module, patches, fn, **kwargs):
    """(file name, origin, hash) that Keras's `fn(weights="imagenet")` asks for, with its
    blocks patched out (so building costs little) and the download stopped."""
    def get_file(fname, origin, cache_subdir, file_hash):
        raise _Stop((fname, origin, file_hash))
    with mock.patch.object(keras_module.file_utils, "get_file", get_file), numpy_sampling(), \
            mock.patch.multiple(keras_module, **patches), pytest.raises(_Stop) as stop:
        fn(weights="imagenet", input_shape=(32, 32, 3), **kwargs)
    return stop.value.args[0]


def _skip_block(*args, **kwargs):
    return args[0] if args else (lambda x: x)


BLOCKS = {"efficientnet": ("block",), "efficientnet_v2": ("MBConvBlock", "FusedMBConvBlock"),
          "convnext": ("ConvNeXtBlock",)}  # Keras's block functions, patched out
BUILDERS = {"efficientnet": _efficientnet, "efficientnet_v2": _efficientnet_v2,
            "convnext": _convnext}


@pytest.mark.parametrize("family, variant", [
    ("efficientnet", "B3"), ("efficientnet_v2", "S"), ("convnext", "Small")])
def test_same_imagenet_file(family, variant):
    _, keras_mod, builder, _ = FAMILIES[family]
    want = _keras_file(keras_mod, {b: _skip_block for b in BLOCKS[family]},
                       getattr(keras_mod, builder + variant), include_top=False)
    assert BUILDERS[family].weights_file(variant.lower(), False) == want
    assert want[0].endswith("_notop.h5")


# Keras's registered names of its convnext layers (what its configs name them by). Until
# they are registered in kiln's registry, they are passed as custom objects.
CONVNEXT_LAYERS = {"LayerScale": _convnext.LayerScale,
                   "StochasticDepth": _convnext.StochasticDepth}


def test_convnext_layers_load_from_keras_configs():
    # Keras writes LayerScale / StochasticDepth under its convnext module, registered under
    # their class names; kiln's classes take those configs and write the same keys.
    for k_layer in (k_cnx.LayerScale(1e-6, 4, name="ls"),
                    k_cnx.StochasticDepth(0.25, name="sd")):
        name = keras.saving.get_registered_name(type(k_layer))
        assert CONVNEXT_LAYERS[name].__name__ == name
        config = keras.saving.serialize_keras_object(k_layer)
        layer = kiln.layers.deserialize(config, custom_objects=CONVNEXT_LAYERS)
        assert isinstance(layer, CONVNEXT_LAYERS[name])
        assert set(layer.get_config()) == set(k_layer.get_config())
        assert layer.name == k_layer.name
        rebuilt = type(layer).from_config(layer.get_config())
        assert rebuilt.get_config() == layer.get_config()
    scale = kiln.layers.deserialize(keras.saving.serialize_keras_object(
        k_cnx.LayerScale(0.5, 3)), custom_objects=CONVNEXT_LAYERS)
    np.testing.assert_allclose(scale(np.ones((1, 3), "float32")), 0.5)


def test_stochastic_depth_drops_whole_samples():
    x = np.ones((256, 2, 3), "float32")
    y = np.asarray(_convnext.StochasticDepth(0.25)(x, training=True))
    per_sample = y.reshape(256, -1)
    assert set(np.unique(per_sample).tolist()) <= {0.0, float(np.float32(1.0) / 0.75)}
    assert (per_sample == per_sample[:, :1]).all()  # one draw per sample
    assert 0.1 < (per_sample[:, 0] == 0).mean() < 0.4
    assert (np.asarray(_convnext.StochasticDepth(0.25)(x)) == x).all()  # not training
