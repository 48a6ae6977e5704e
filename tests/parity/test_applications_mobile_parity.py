"""MobileNet (V1), MobileNetV2, MobileNetV3 and DenseNet against Keras: same layer names and
classes, same weights (paths and shapes) in the same order, same parameter count and output
shape; with Keras's weights copied in (set_weights), the same outputs; a legacy HDF5 file of
Keras's weights loads. weights=None, 32x32 inputs, each model built once per module (building
costs ~1-3 s a model in each library).

Time decides the sizes: a whole DenseNet121 costs ~8 s to build in the two libraries and
~15 s for Keras to compile its predict, so DenseNet is compared whole through both
libraries' generic `DenseNet(blocks, ...)` with small blocks (same blocks, same code), and
DenseNet121/169/201 and MobileNetV3Large by the arguments each passes to its blocks, recorded
with the blocks stubbed out (cheap). The same stubs let both libraries stop at the download
of weights="imagenet", whose file name, URL and hash are compared.

MobileNetV3's squeeze-excite gate is `ReLU(6)(x + 3) * (1 / 6)` in both: a ReLU layer between
two graph operations, which `operations` lists and `layers` does not."""

import warnings

import h5py
import keras
import numpy as np
import pytest
from keras.src.applications import densenet as k_densenet
from keras.src.applications import mobilenet as k_mobilenet
from keras.src.applications import mobilenet_v2 as k_mobilenet_v2
from keras.src.applications import mobilenet_v3 as k_mobilenet_v3
from keras.src.legacy.saving import legacy_h5_format
from keras.src.utils import file_utils as k_file_utils

import kiln
from kiln.applications import (
    _common,
    _densenet,
    _mobilenet,
    _mobilenet_v3,
    densenet,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
)

_TINY = (1, 2, 1, 1)  # dense stage sizes of the small DenseNet
_SMALL = {"input_shape": (32, 32, 3)}
CASES = {  # name: (kiln constructor, keras constructor, kwargs, input range)
    "MobileNet": (mobilenet.MobileNet, keras.applications.MobileNet,
                  {**_SMALL, "alpha": 0.25, "depth_multiplier": 2, "classes": 5}, (-1, 1)),
    "MobileNetV2": (mobilenet_v2.MobileNetV2, keras.applications.MobileNetV2,
                    {**_SMALL, "alpha": 0.35, "classes": 7, "classifier_activation": None},
                    (-1, 1)),
    "MobileNetV3Small": (mobilenet_v3.MobileNetV3Small, keras.applications.MobileNetV3Small,
                         {**_SMALL, "alpha": 0.75, "classes": 7, "classifier_activation": None},
                         (0, 255)),
    "DenseNet": (lambda **kw: _densenet.densenet(_TINY, **kw),
                 lambda **kw: k_densenet.DenseNet(list(_TINY), **kw),
                 {**_SMALL, "include_top": True, "classes": 7, "input_tensor": None,
                  "pooling": None, "classifier_activation": None}, (-1, 1)),
}


def _fresh_names():
    # Module fixtures run before the per-test fresh names of conftest: start both over here.
    kiln.backend.clear_session()
    keras.backend.clear_session(free_memory=False)


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    kiln_fn, keras_fn, kwargs, _ = CASES[request.param]
    _fresh_names()
    return request.param, keras_fn(weights=None, **kwargs), kiln_fn(weights=None, **kwargs)


def test_same_architecture(pair):
    name, km, lm = pair
    assert lm.name == km.name
    assert [l.name for l in lm.layers] == [l.name for l in km.layers]
    assert [type(l).__name__ for l in lm.layers] == [type(l).__name__ for l in km.layers]
    assert [op.name for op in lm.operations] == [op.name for op in km.operations]
    assert [w.path for w in lm.weights] == [w.path for w in km.weights]
    assert [tuple(w.shape) for w in lm.weights] == [tuple(w.shape) for w in km.weights]
    assert [w.path for w in lm.trainable_weights] == [w.path for w in km.trainable_weights]
    assert tuple(lm.output.shape) == tuple(km.output.shape)
    assert lm.count_params() == km.count_params()


def test_same_outputs_with_keras_weights(pair):
    name, km, lm = pair
    low_high = CASES[name][3]
    # Keras's initial weights, with BatchNormalization's four made non-trivial (so inference
    # mode is exercised and a swapped order shows); activations stay finite.
    rng = np.random.default_rng(0)
    weights = [_perturbed(v, rng) for v in km.weights]
    km.set_weights(weights)
    lm.set_weights(weights)
    x = rng.uniform(*low_high, (2, 32, 32, 3)).astype("float32")
    want = np.asarray(km.predict(x, verbose=0))  # (compiled calls: several times faster
    got = np.asarray(lm.predict(x, verbose=0))  # than eager ones, in both libraries)
    assert got.shape == want.shape
    assert np.isfinite(want).all() and np.abs(want).max() > 1e-2
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_keras_legacy_h5_loads(pair, tmp_path):
    """Keras's pretrained files are legacy HDF5 (weights under the layer names): one that
    Keras writes for its model loads into kiln's through `_common.load_weights`."""
    _, km, lm = pair
    rng = np.random.default_rng(2)
    km.set_weights([rng.normal(size=w.shape).astype("float32") for w in km.get_weights()])
    path = str(tmp_path / "weights.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, km)
    _common.load_weights(lm, path, None)
    for want, got in zip(km.weights, lm.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(got.numpy()), np.asarray(want.numpy()))


def _perturbed(v, rng):
    w = np.asarray(v.numpy())
    kind = v.path.rsplit("/", 1)[-1]
    if kind in ("gamma", "moving_variance"):
        return rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
    if kind in ("beta", "moving_mean"):
        return rng.normal(0, 0.1, w.shape).astype(w.dtype)
    return w


# -- weights="imagenet": the file each library would download ------------------------------

class _Download(Exception):
    pass


def _stop(*args, **kwargs):
    raise _Download(args[0], args[1], kwargs.get("file_hash"))


def _skip_block(x, *args, **kwargs):
    return x


URL_CASES = {  # name: (kiln constructor, keras constructor, kwargs)
    "MobileNet": (mobilenet.MobileNet, keras.applications.MobileNet,
                  {"alpha": 0.5, "input_shape": (160, 160, 3), "include_top": False}),
    "MobileNetV2": (mobilenet_v2.MobileNetV2, keras.applications.MobileNetV2,
                    {"alpha": 0.35, "input_shape": (96, 96, 3), "include_top": False}),
    "MobileNetV3Small": (mobilenet_v3.MobileNetV3Small, keras.applications.MobileNetV3Small,
                         {"alpha": 0.75, "include_top": False}),
    "MobileNetV3Large": (mobilenet_v3.MobileNetV3Large, keras.applications.MobileNetV3Large,
                         {"minimalistic": True}),
    "DenseNet169": (densenet.DenseNet169, keras.applications.DenseNet169,
                    {"include_top": False}),
}


@pytest.fixture
def stubbed(monkeypatch):
    """Both libraries with their blocks skipped and `get_file` stopping the build."""
    monkeypatch.setattr(k_file_utils, "get_file", _stop)
    monkeypatch.setattr(_common, "get_file", _stop)
    for module, block in ((k_mobilenet, "_depthwise_conv_block"),
                          (k_mobilenet_v2, "_inverted_res_block"),
                          (k_mobilenet_v3, "_inverted_res_block"),
                          (k_densenet, "dense_block"), (k_densenet, "transition_block"),
                          (_mobilenet, "depthwise_block"), (_mobilenet, "inverted_res_block"),
                          (_mobilenet_v3, "inverted_res_block"),
                          (_densenet, "dense_block"), (_densenet, "transition_block")):
        monkeypatch.setattr(module, block, _skip_block)


@pytest.mark.parametrize("name", list(URL_CASES))
def test_imagenet_weight_file_is_keras(stubbed, name):
    kiln_fn, keras_fn, kwargs = URL_CASES[name]
    with warnings.catch_warnings(record=True) as keras_warned:
        warnings.simplefilter("always")
        with pytest.raises(_Download) as want:
            keras_fn(weights="imagenet", **kwargs)
    with warnings.catch_warnings(record=True) as kiln_warned:
        warnings.simplefilter("always")
        with pytest.raises(_Download) as got:
            kiln_fn(weights="imagenet", **kwargs)
    assert got.value.args == want.value.args
    assert got.value.args[1].startswith("https://storage.googleapis.com/")
    # the "weights for 224x224 will be loaded" warning (V3 without input_shape), at our line
    assert [str(w.message) for w in kiln_warned] == [str(w.message) for w in keras_warned]
    assert all(w.filename == __file__ for w in kiln_warned)


def test_hash_tables_are_keras():
    assert _mobilenet_v3.WEIGHTS_HASHES == k_mobilenet_v3.WEIGHTS_HASHES
    assert _mobilenet.V1_BASE == k_mobilenet.BASE_WEIGHT_PATH
    assert _mobilenet.V2_BASE == k_mobilenet_v2.BASE_WEIGHT_PATH
    assert _mobilenet_v3.V3_BASE == k_mobilenet_v3.BASE_WEIGHT_PATH
    assert _densenet.densenet_url(201, True)[1] == k_densenet.DENSENET201_WEIGHT_PATH
    assert _densenet.densenet_url(121, False)[1] == k_densenet.DENSENET121_WEIGHT_PATH_NO_TOP


def test_preprocessing_is_keras():
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    for ours, theirs in ((mobilenet, k_mobilenet), (mobilenet_v2, k_mobilenet_v2),
                         (densenet, k_densenet)):
        np.testing.assert_allclose(ours.preprocess_input(x.copy()),
                                   np.asarray(theirs.preprocess_input(x.copy())), rtol=1e-6)
    assert mobilenet_v3.preprocess_input(x) is x


# -- the deep models' block tables: the arguments each block gets -----------------------------

def _recorder(calls):
    def block(x, *args, **kwargs):
        calls.append(tuple(getattr(a, "__name__", a) for a in args) + tuple(kwargs.items()))
        return x
    return block


_V3_OPTIONS = [{}, {"alpha": 0.75}, {"minimalistic": True, "include_top": False, "pooling": "max"}]


@pytest.mark.parametrize("kwargs", _V3_OPTIONS)
@pytest.mark.parametrize("size", ["Small", "Large"])
def test_mobilenet_v3_blocks_are_keras(monkeypatch, size, kwargs):
    want, got = [], []
    monkeypatch.setattr(k_mobilenet_v3, "_inverted_res_block", _recorder(want))
    monkeypatch.setattr(_mobilenet_v3, "inverted_res_block", _recorder(got))
    fn = f"MobileNetV3{size}"
    km = getattr(keras.applications, fn)(weights=None, input_shape=(32, 32, 3), **kwargs)
    lm = getattr(mobilenet_v3, fn)(weights=None, input_shape=(32, 32, 3), **kwargs)
    assert len(want) == (11 if size == "Small" else 15)
    assert got == want
    assert [l.name for l in lm.layers] == [l.name for l in km.layers]
    assert [w.path for w in lm.weights] == [w.path for w in km.weights]
    assert tuple(lm.output.shape) == tuple(km.output.shape)


@pytest.mark.parametrize("depth", [121, 169, 201])
def test_densenet_blocks_are_keras(monkeypatch, depth):
    want, got = [], []
    for module, block in ((k_densenet, "dense_block"), (k_densenet, "transition_block")):
        monkeypatch.setattr(module, block, _recorder(want))
    for module, block in ((_densenet, "dense_block"), (_densenet, "transition_block")):
        monkeypatch.setattr(module, block, _recorder(got))
    km = getattr(keras.applications, f"DenseNet{depth}")(weights=None, include_top=False)
    lm = getattr(densenet, f"DenseNet{depth}")(weights=None, include_top=False)
    assert len(want) == 7 and got == want
    assert lm.name == km.name == f"densenet{depth}"
