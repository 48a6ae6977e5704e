"""A built Sequential model has Keras's graph: its layers keep their symbolic nodes, so
`layer.output`, `model.inputs` / `outputs` / `input` / `output` build feature extractors (the
Sequential guide's recipe), and a built model as the first layer gives its input shape (the
transfer-learning recipe: a frozen base under a new head)."""

import keras
import numpy as np

import kiln


def _stack(lib):
    return lib.Sequential([lib.Input((16, 16, 3)), lib.layers.Conv2D(4, 3, strides=2, name="c1"),
                           lib.layers.Conv2D(5, 3, name="mid"), lib.layers.Conv2D(2, 3, name="c3")])


def test_feature_extractor_from_a_sequential_matches_keras():
    km, lm = _stack(keras), _stack(kiln)
    lm.set_weights(km.get_weights())
    k_fe = keras.Model(km.inputs, km.get_layer("mid").output)
    l_fe = kiln.Model(lm.inputs, lm.get_layer("mid").output)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(l_fe.predict(x, verbose=0), k_fe.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    # (Keras's own `model.input` of a Sequential raises "never been called"; kiln answers)
    assert tuple(lm.input.shape) == tuple(km.inputs[0].shape)
    assert tuple(lm.output.shape) == tuple(km.outputs[0].shape)
    assert len(lm.outputs) == len(km.outputs) == 1
    all_features = kiln.Model(lm.inputs, [layer.output for layer in lm.layers])
    assert [tuple(o.shape) for o in all_features(x)] == [(2, 7, 7, 4), (2, 5, 5, 5), (2, 3, 3, 2)]
    assert lm.get_config()["layers"][1]["config"]["name"] == "c1"  # the config is unchanged


def test_a_frozen_base_as_first_layer_builds_the_model_as_keras():
    counts = {}
    for lib in (keras, kiln):
        base = lib.Sequential([lib.Input((8,)), lib.layers.Dense(4),
                               lib.layers.BatchNormalization()])
        base.trainable = False
        model = lib.Sequential([base, lib.layers.Dense(1)])
        counts[lib.__name__] = (model.built, len(model.trainable_weights),
                                len(model.non_trainable_weights), tuple(model.output_shape))
    assert counts["kiln"] == counts["keras"] == (True, 2, 6, (None, 1))
