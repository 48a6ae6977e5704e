"""Xception, InceptionV3, InceptionResNetV2 and NASNetMobile: kiln builds Keras's
architectures (same layer names, classes and configs, same weights, paths and shapes, in the
same order; with Keras's weights copied in, the same outputs: Xception and InceptionV3, the
cheaper two to compile). The smallest inputs Keras allows (71x71, 75x75, 32x32),
weights=None, each model built once per module. NASNetLarge (~8 s to build in the two
libraries) is checked through the arguments it passes to the NASNet builder, and that
builder's `skip_reduction=True` path on a small configuration. Keras's weight-file names,
origins and hashes are read from Keras's constructors (the download stopped).

While the models are built, jax.random's samplers draw with NumPy in both libraries: each
distinct weight shape would otherwise compile its own XLA sampling program, in each library
(InceptionResNetV2 alone: ~40 s instead of ~6 s). The values are replaced by set_weights
before any number is compared."""

import contextlib
import inspect
from unittest import mock

import h5py
import keras
import numpy as np
import pytest
from keras.src.applications import inception_resnet_v2 as k_irv2
from keras.src.applications import inception_v3 as k_iv3
from keras.src.applications import nasnet as k_nas
from keras.src.applications import xception as k_xc
from keras.src.legacy.saving import legacy_h5_format

import kiln

from ._applications_helpers import numpy_sampling
from kiln.applications import (
    _common,
    _inception_resnet_v2,
    _inception_v3,
    _nasnet,
    _xception,
    inception_resnet_v2,
    inception_v3,
    nasnet,
    xception,
)

CASES = {  # name: (kiln module, keras module, kwargs)
    "Xception": (xception, k_xc, {"include_top": False, "input_shape": (71, 71, 3),
                                  "pooling": "max"}),
    "InceptionV3": (inception_v3, k_iv3, {"include_top": True, "input_shape": (75, 75, 3),
                                          "classes": 7, "classifier_activation": None}),
    "InceptionResNetV2": (inception_resnet_v2, k_irv2, {"include_top": False,
                                                        "input_shape": (75, 75, 3),
                                                        "pooling": "avg"}),
    "NASNetMobile": (nasnet, k_nas, {"include_top": True, "input_shape": (32, 32, 3),
                                     "classes": 7, "classifier_activation": None}),
}
MODULES = {name: case[:2] for name, case in CASES.items()} | {"NASNetLarge": (nasnet, k_nas)}
URLS = {"Xception": _xception.xception_url, "InceptionV3": _inception_v3.inception_v3_url,
        "InceptionResNetV2": _inception_resnet_v2.inception_resnet_v2_url,
        "NASNetMobile": lambda include_top: _nasnet.nasnet_url(224, include_top),
        "NASNetLarge": lambda include_top: _nasnet.nasnet_url(331, include_top)}


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    kiln_mod, keras_mod, kwargs = CASES[request.param]
    # Module fixtures run before the per-test fresh names of conftest: start both over here.
    kiln.backend.clear_session()
    keras.backend.clear_session(free_memory=False)
    with numpy_sampling():
        km = getattr(keras_mod, request.param)(weights=None, **kwargs)
        lm = getattr(kiln_mod, request.param)(weights=None, **kwargs)
    return request.param, km, lm




def test_same_architecture(pair):
    _, km, lm = pair
    assert lm.name == km.name
    assert [l.name for l in lm.layers] == [l.name for l in km.layers]
    assert [type(l).__name__ for l in lm.layers] == [type(l).__name__ for l in km.layers]
    assert [w.path for w in lm.weights] == [w.path for w in km.weights]
    assert [tuple(w.shape) for w in lm.weights] == [tuple(w.shape) for w in km.weights]
    assert [w.path for w in lm.trainable_weights] == [w.path for w in km.trainable_weights]
    assert tuple(lm.output.shape) == tuple(km.output.shape)
    assert lm.count_params() == km.count_params()


def test_same_layer_configs(pair):
    # Every argument both libraries write has the same value (keys only one side writes,
    # such as Keras's `quantization_config`, belong to the layer classes, not to the models).
    _, km, lm = pair
    for k_layer, layer in zip(km.layers, lm.layers):
        assert _common_config(layer.get_config(), k_layer.get_config()) == _common_config(
            k_layer.get_config(), layer.get_config()), layer.name


def _common_config(config, other):
    """`config` on the keys `other` also has (dtype left out), nested configs likewise."""
    if isinstance(config, dict) and isinstance(other, dict):
        return {k: _common_config(v, other[k]) for k, v in config.items()
                if k in other and k != "dtype"}
    if isinstance(config, (list, tuple)) and isinstance(other, (list, tuple)):
        return [_common_config(a, b) for a, b in zip(config, other)]
    return config


def test_same_outputs_with_keras_weights(pair):
    name, km, lm = pair
    if name not in ("Xception", "InceptionV3"):
        pytest.skip("numbers on two models (compiling each of the others costs ~5-10 s); "
                    "their layer classes are those of these two, plus CustomScaleLayer "
                    "(tested below) and Cropping2D / ZeroPadding2D")
    # Keras's initial weights, with BatchNormalization's statistics made non-trivial (so
    # inference mode is exercised and a swapped order shows); activations stay finite.
    rng = np.random.default_rng(0)
    weights = [_perturbed(v, rng) for v in km.weights]
    km.set_weights(weights)
    lm.set_weights(weights)
    x = rng.uniform(-1, 1, (2,) + tuple(km.input.shape[1:])).astype("float32")
    want = np.asarray(km.predict(x, verbose=0))  # (compiled calls: faster than eager)
    got = np.asarray(lm.predict(x, verbose=0))
    assert got.shape == want.shape
    assert np.isfinite(want).all() and np.abs(want).max() > 1e-2
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def _perturbed(v, rng):
    w = np.asarray(v.numpy())
    kind = v.path.rsplit("/", 1)[-1]
    if kind in ("gamma", "moving_variance"):
        return rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
    if kind in ("beta", "moving_mean"):
        return rng.normal(0, 0.1, w.shape).astype(w.dtype)
    return w


def test_keras_legacy_h5_file_loads(pair, tmp_path):
    # A legacy HDF5 weight file (the format of Keras's 'imagenet' files) written by Keras from
    # its model loads into kiln's through _common.load_weights.
    name, km, lm = pair
    if name not in ("Xception", "InceptionV3"):
        pytest.skip("the same loader for every family: checked on the two cheaper files")
    path = str(tmp_path / "weights.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, km)
    lm.set_weights([np.zeros(w.shape, w.dtype) for w in lm.weights])
    _common.load_weights(lm, path, url=None)
    for w, k_w in zip(lm.weights, km.weights):
        np.testing.assert_array_equal(np.asarray(w.numpy()), np.asarray(k_w.numpy()), w.path)


@pytest.mark.parametrize("name", list(MODULES))
def test_same_signature_and_module_surface(name):
    kiln_mod, keras_mod = MODULES[name]
    public = getattr(keras.applications, kiln_mod.__name__.rsplit(".", 1)[-1])
    assert sorted(kiln_mod.__all__) == sorted(n for n in dir(public) if not n.startswith("_"))
    want = [(p.name, p.default) for p in
            inspect.signature(getattr(keras_mod, name)).parameters.values()]
    assert [(p.name, p.default) for p in
            inspect.signature(getattr(kiln_mod, name)).parameters.values()] == want
    pixels = np.array([[[[0.0, 100.0, 255.0]]]], "float32")
    np.testing.assert_allclose(kiln_mod.preprocess_input(pixels),
                               keras_mod.preprocess_input(pixels.copy()), rtol=1e-6)


class _Stop(Exception):
    pass


def _shape_only_conv(x, filters, *kernel, padding="same", strides=1, **kwargs):
    """Keras's `conv2d_bn` replaced by a pooling of the same window, strides and padding:
    the same spatial shapes at a fraction of the build cost (no weights); one channel kept,
    so that the concatenations stay small."""
    kernel = kernel[0] if len(kernel) == 1 else tuple(kernel)
    return keras.layers.AveragePooling2D(kernel, strides=strides, padding=padding)(x[..., :1])


def _skip_cell(ip, p, *args, **kwargs):
    return ip, ip


@pytest.mark.parametrize("name", list(MODULES))
@pytest.mark.parametrize("include_top", [True, False])
def test_same_imagenet_file(name, include_top):
    # (file name, origin, hash) that Keras's constructor asks for with weights="imagenet".
    _, keras_mod = MODULES[name]

    def get_file(fname, origin, cache_subdir, file_hash):
        raise _Stop((fname, origin, file_hash))
    if name == "Xception":  # (no block helper to patch: built in full, ~1 s)
        blocks = contextlib.nullcontext()
    elif keras_mod is k_nas:
        blocks = mock.patch.multiple(keras_mod, _normal_a_cell=_skip_cell,
                                     _reduction_a_cell=_skip_cell)
    else:
        blocks = mock.patch.multiple(keras_mod, conv2d_bn=_shape_only_conv,
                                     **({"inception_resnet_block": lambda x, *a, **k: x}
                                        if name == "InceptionResNetV2" else {}))
    with mock.patch.object(keras_mod.file_utils, "get_file", get_file), numpy_sampling(), \
            blocks, pytest.raises(_Stop) as stop:
        getattr(keras_mod, name)(weights="imagenet", include_top=include_top)
    assert URLS[name](include_top) == stop.value.args[0]


def test_custom_scale_layer_matches_keras():
    # Keras's config (registered name "CustomScaleLayer") loads into kiln's class, which
    # writes the same keys and computes x + scale * residual.
    k_layer = k_irv2.CustomScaleLayer(0.17, name="scale")
    config = keras.saving.serialize_keras_object(k_layer)
    assert config["registered_name"] == "CustomScaleLayer"
    layer = kiln.layers.deserialize(config)
    assert isinstance(layer, _inception_resnet_v2.CustomScaleLayer)
    assert (layer.name, layer.scale) == ("scale", 0.17)
    assert set(layer.get_config()) == set(k_layer.get_config())
    x, up = np.ones((1, 2, 2, 3), "float32"), np.full((1, 2, 2, 3), 2.0, "float32")
    np.testing.assert_allclose(np.asarray(layer([x, up])), np.asarray(k_layer([x, up])))
    with pytest.raises(ValueError, match="list of two tensors"):
        layer(x)


def test_nasnet_large_builder_arguments():
    # NASNetLarge passes Keras's arguments to the shared NASNet builder (nothing is built).
    with mock.patch.object(k_nas, "NASNet", lambda *a, **k: (a, k)):
        want = k_nas.NASNetLarge(weights=None, pooling="avg")
    with mock.patch.object(_nasnet, "nasnet", lambda *a, **k: (a, k)):
        assert nasnet.NASNetLarge(weights=None, pooling="avg") == want
    with mock.patch.object(k_nas, "NASNet", lambda *a, **k: (a, k)):
        want = k_nas.NASNetMobile(weights=None, include_top=False)
    with mock.patch.object(_nasnet, "nasnet", lambda *a, **k: (a, k)):
        assert nasnet.NASNetMobile(weights=None, include_top=False) == want


def test_small_nasnet_with_skip_reduction():
    # NASNetLarge's `skip_reduction=True` (NASNetMobile's is False), on a small NASNet-A.
    kiln.backend.clear_session()
    keras.backend.clear_session(free_memory=False)
    kwargs = {"input_shape": (32, 32, 3), "penultimate_filters": 192, "num_blocks": 1,
              "stem_block_filters": 8, "skip_reduction": True, "weights": None,
              "include_top": False}
    with numpy_sampling():
        km = k_nas.NASNet(**kwargs)
        lm = _nasnet.nasnet(**kwargs)
    assert lm.name == km.name == "NASNet"
    assert [(l.name, type(l).__name__) for l in lm.layers] == [
        (l.name, type(l).__name__) for l in km.layers]
    assert [(w.path, tuple(w.shape)) for w in lm.weights] == [
        (w.path, tuple(w.shape)) for w in km.weights]
    assert lm.count_params() == km.count_params()
    with pytest.raises(ValueError, match="multiple"):
        _nasnet.nasnet(**{**kwargs, "penultimate_filters": 100})
