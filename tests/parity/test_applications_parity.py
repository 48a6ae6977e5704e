"""kiln.applications builds Keras's architectures: same layer names and classes, same weights
(paths and shapes) in the same order; and with Keras's weights copied in (set_weights), the
same outputs. The two ResNet block kinds (V1, V2), 32x32 inputs, weights=None; each model is
built once per module and only one runs numbers (building is what costs: ~3 s a model in each
library). VGG (a plain chain) is left out to keep the file near 15 s."""

import keras
import numpy as np
import pytest

import kiln
from kiln import applications as ka

CASES = {  # name: (kiln constructor, keras constructor, kwargs)
    "ResNet50": (ka.ResNet50, keras.applications.ResNet50,
                 dict(include_top=False, input_shape=(32, 32, 3))),
    "ResNet50V2": (ka.ResNet50V2, keras.applications.ResNet50V2,
                   dict(include_top=True, input_shape=(32, 32, 3), classes=7,
                        classifier_activation=None)),
}


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    kiln_fn, keras_fn, kwargs = CASES[request.param]
    # Module fixtures run before the per-test fresh names of conftest: start both over here.
    kiln.backend.clear_session()
    keras.backend.clear_session(free_memory=False)
    return request.param, keras_fn(weights=None, **kwargs), kiln_fn(weights=None, **kwargs)


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


def test_same_outputs_with_keras_weights(pair):
    name, km, lm = pair
    if name != "ResNet50V2":
        pytest.skip("numbers on one model: ResNet50V2 (residual, BatchNormalization, top)")
    # Keras's initial weights, with BatchNormalization's four made non-trivial (so inference
    # mode is exercised and a swapped order shows); activations stay finite.
    rng = np.random.default_rng(0)
    weights = [_perturbed(v, rng) for v in km.weights]
    km.set_weights(weights)
    lm.set_weights(weights)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    want = np.asarray(km.predict(x, verbose=0))  # (a compiled call: 3x faster than eager)
    got = np.asarray(lm(x, training=False))
    assert got.shape == want.shape == (2, 7)
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
