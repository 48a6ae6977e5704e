"""The smaller surface Keras programs touch, against Keras itself: `keras.Variable` (and layers
tracking the ones set as attributes), `keras.tree`, `keras.backend`'s dtype helpers and
`get_uid`, `keras.config`'s switches (image_data_format, max epochs/steps, unsafe
deserialization, interactive logging), `StatelessScope`, `device`, `get_source_inputs` and
`keras.preprocessing`."""

import collections
import logging

import keras
import numpy as np
import pytest

import kiln
from kiln import _serialization


def _scale_layer(lib):
    class Scale(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.offset = lib.Variable(np.zeros(2, "float32"), name="offset")

        def build(self, shape):
            self.w = lib.Variable(initializer="ones", shape=(shape[-1],), name="w")
            self.frozen = [lib.Variable(np.ones(2, "float32"), trainable=False, name="frozen")]

        def call(self, x):
            return x * self.w + self.offset + 0 * self.frozen[0]
    return Scale


def _fit_scale(lib):
    model = lib.Sequential([lib.Input((2,)), _scale_layer(lib)(name="scale")])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 2)), np.full((8, 2), 3.0), epochs=2, batch_size=4, verbose=0)
    return model


def test_attribute_variables_are_weights_trained_and_saved_as_in_keras(tmp_path):
    km, lm = _fit_scale(keras), _fit_scale(kiln)
    for attr in ("weights", "trainable_weights", "non_trainable_weights"):
        assert [w.path for w in getattr(lm, attr)] == [w.path for w in getattr(km, attr)]
    for got, want in zip(lm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert not np.allclose(lm.get_weights()[1], 1.0)  # trained
    km.save_weights(tmp_path / "k.weights.h5")
    fresh = kiln.Sequential([kiln.Input((2,)), _scale_layer(kiln)(name="scale")])
    fresh.load_weights(tmp_path / "k.weights.h5")
    for got, want in zip(fresh.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want)


def test_variable_constructor_matches_keras():
    for kwargs in (dict(initializer=np.arange(3.0)), dict(initializer="zeros", shape=(2, 2)),
                   dict(initializer=keras.initializers.Ones(), shape=(3,), dtype="float16"),
                   dict(initializer=np.arange(3), trainable=False)):
        kk = dict(kwargs)
        if not isinstance(kk["initializer"], (str, np.ndarray)):
            kk["initializer"] = kiln.initializers.Ones()
        want, got = keras.Variable(**kwargs), kiln.Variable(**kk)
        assert got.shape == tuple(want.shape) and str(got.dtype) == want.dtype
        assert got.trainable == want.trainable
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(ValueError, match="shape"):
        kiln.Variable("zeros")
    with pytest.raises(ValueError, match="aggregation"):
        kiln.Variable(np.zeros(1), aggregation="max")
    with pytest.raises(ValueError, match="/"):
        kiln.Variable(np.zeros(1), name="a/b")
    assert kiln.Variable(np.zeros(1), name="v", aggregation="mean").aggregation == "mean"


STRUCTS = [{"b": [1, None, (2, 3)], "a": 4}, None, [], 3, [1, [2, (3,)]],
           collections.OrderedDict([("b", 1), ("a", 2)]),
           collections.namedtuple("P", "y x")(1, [2]), {"x": [], "y": {"z": 5}}]


@pytest.mark.parametrize("fn", ["flatten", "flatten_with_path", "is_nested", "lists_to_tuples"])
def test_tree_functions_match_keras(fn):
    for s in STRUCTS:
        assert getattr(kiln.tree, fn)(s) == getattr(keras.tree, fn)(s), s


def test_tree_mapping_packing_and_traversal_match_keras():
    t = {"b": [1, None, (2, 3)], "a": 4}
    inc = lambda x: None if x is None else x + 1  # noqa: E731
    assert kiln.tree.map_structure(inc, t) == keras.tree.map_structure(inc, t)
    assert (kiln.tree.pack_sequence_as(t, range(5)) == keras.tree.pack_sequence_as(t, range(5)))
    assert (kiln.tree.map_structure_up_to([0, 0], len, [[1, 2], (3,)])
            == keras.tree.map_structure_up_to([0, 0], len, [[1, 2], (3,)]))
    shapes = {"a": (2, 3), "b": [(1,), (None, 4)]}
    assert (kiln.tree.map_shape_structure(len, shapes)
            == keras.tree.map_shape_structure(len, shapes))
    for fn in (lambda x: x if isinstance(x, int) else None,
               lambda x: len(x) if isinstance(x, list) else None,
               lambda x: kiln.tree.MAP_TO_NONE if isinstance(x, tuple) else None):
        kfn = (lambda f: lambda x: keras.tree.MAP_TO_NONE
               if f(x) is kiln.tree.MAP_TO_NONE else f(x))(fn)
        for top_down in (True, False):
            assert (kiln.tree.traverse(fn, [1, [2, (3, 4)]], top_down=top_down)
                    == keras.tree.traverse(kfn, [1, [2, (3, 4)]], top_down=top_down))
    for a, b in (([1, 2], (1, 2)), ([1, 2], [1, [2]])):
        with pytest.raises(ValueError):
            keras.tree.assert_same_structure(a, b)
        with pytest.raises(ValueError):
            kiln.tree.assert_same_structure(a, b)
    kiln.tree.assert_same_paths([1, 2], (1, 2))
    keras.tree.assert_same_paths([1, 2], (1, 2))


def test_backend_dtype_helpers_match_keras():
    cases = [("int32", "float16"), ("int64", "float32"), (float, "int8"), (int, "bool"),
             ("bool",), (int,), (float,), ("uint8", "int8"), ("bfloat16", "float16"),
             ("float64", "int32"), (int, "float16"), ("int16", int), ("uint32", "int32"),
             ("complex128",)]
    for dtypes in cases:
        assert kiln.backend.result_type(*dtypes) == keras.backend.result_type(*dtypes), dtypes
    for d in (None, float, int, "int", "float64", "bfloat16", bool, np.float32, np.int8):
        assert kiln.backend.standardize_dtype(d) == keras.backend.standardize_dtype(d), d
        if d is not None:
            assert kiln.backend.is_float_dtype(d) == keras.backend.is_float_dtype(d)
            assert kiln.backend.is_int_dtype(d) == keras.backend.is_int_dtype(d)
    with pytest.raises(ValueError, match="Invalid dtype"):
        kiln.backend.standardize_dtype("float3")
    first = kiln.backend.get_uid("surface_test")
    assert kiln.backend.get_uid("surface_test") == first + 1


def test_image_data_format_is_the_default_of_image_layers():
    try:
        kiln.config.set_image_data_format("channels_first")
        keras.config.set_image_data_format("channels_first")
        layers = [(kiln.layers.Conv2D(2, 3), keras.layers.Conv2D(2, 3)),
                  (kiln.layers.MaxPooling2D(), keras.layers.MaxPooling2D()),
                  (kiln.layers.GlobalAveragePooling2D(), keras.layers.GlobalAveragePooling2D()),
                  (kiln.layers.UpSampling2D(), keras.layers.UpSampling2D()),
                  (kiln.layers.SpatialDropout2D(0.1), keras.layers.SpatialDropout2D(0.1))]
        for lk, kk in layers:
            assert lk.data_format == kk.data_format == "channels_first"
        out = kiln.layers.Conv2D(2, 3)(np.zeros((1, 3, 8, 8), "float32"))
        assert out.shape == (1, 2, 6, 6)
        assert kiln.backend.image_data_format() == "channels_first"
    finally:
        kiln.config.set_image_data_format("channels_last")
        keras.config.set_image_data_format("channels_last")
    assert kiln.layers.Conv2D(2, 3).data_format == "channels_last"
    with pytest.raises(ValueError, match="channels_first"):
        kiln.config.set_image_data_format("nhwc")


class _Counter(kiln.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.batches = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1


def test_max_epochs_and_steps_cap_fit_as_in_keras():
    model = kiln.Sequential([kiln.Input((4,)), kiln.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((80, 4)), np.ones((80, 1))
    counter = _Counter()
    model.fit(x, y, batch_size=8, epochs=4, callbacks=[counter], verbose=0)
    assert (counter.epochs, counter.batches) == (4, 40)
    try:
        kiln.config.set_max_epochs(2)
        kiln.config.set_max_steps_per_epoch(3)
        counter = _Counter()
        history = model.fit(x, y, batch_size=8, epochs=4, callbacks=[counter], verbose=0)
        assert (counter.epochs, counter.batches) == (2, 6)  # Keras's own test's numbers
        assert len(history.history["loss"]) == 2
    finally:
        kiln.config.set_max_epochs(None)
        kiln.config.set_max_steps_per_epoch(None)
    assert kiln.config.max_epochs() is None


def test_enable_unsafe_deserialization_lets_a_lambda_by_name_load():
    def double(x):
        return x * 2

    model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Lambda(double)])
    config = kiln.saving.serialize_keras_object(model)
    with pytest.raises(ValueError, match="safe"):
        kiln.saving.deserialize_keras_object(config, custom_objects={"double": double})
    try:
        kiln.config.enable_unsafe_deserialization()
        assert not _serialization.in_safe_mode()
        loaded = kiln.saving.deserialize_keras_object(config, custom_objects={"double": double})
        np.testing.assert_allclose(loaded(np.ones((1, 2), "float32")), [[2.0, 2.0]])
    finally:
        _serialization._PROCESS["unsafe"] = False
    assert _serialization.in_safe_mode()


def test_disable_interactive_logging_sends_progress_to_the_logger(capsys, caplog):
    model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)])
    model.compile("sgd", "mse")
    try:
        kiln.utils.disable_interactive_logging()
        assert not kiln.config.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="kiln"):
            model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=1)
        assert "loss" not in capsys.readouterr().out
        assert any("loss" in r.getMessage() for r in caplog.records)
    finally:
        kiln.utils.enable_interactive_logging()
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=1)
    assert "loss" in capsys.readouterr().out


def test_stateless_scope_runs_a_layer_on_given_weights_as_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)).astype("float32")
    kernel = rng.normal(size=(3, 2)).astype("float32")
    outs = []
    for lib in (keras, kiln):
        layer = lib.layers.BatchNormalization()
        dense = lib.layers.Dense(2, use_bias=False)
        dense.build((None, 3))
        layer.build((None, 2))
        with lib.StatelessScope(state_mapping=[(dense.kernel, kernel)]) as scope:
            y = layer(dense(x), training=True)
        new_mean = scope.get_current_value(layer.moving_mean)
        outs.append((np.asarray(y), np.asarray(new_mean), np.asarray(layer.moving_mean)))
        assert np.asarray(dense.kernel).tolist() != kernel.tolist()  # untouched
    (ky, kmean, kold), (ly, lmean, lold) = outs
    np.testing.assert_allclose(ly, ky, atol=1e-5)
    np.testing.assert_allclose(lmean, kmean, atol=1e-6)
    np.testing.assert_array_equal(lold, kold)  # zeros: the update was recorded, not applied
    with pytest.raises(ValueError, match="shape"):
        kiln.StatelessScope(state_mapping=[(dense.kernel, np.zeros(3))])


def test_device_source_inputs_and_version():
    with kiln.device("cpu:0"):
        x = kiln.ops.ones((2,))
    assert x.devices().pop().platform == "cpu"
    with pytest.raises(ValueError, match="Unknown device"):
        with kiln.device("abacus:0"):
            pass
    a, b = kiln.Input((3,)), kiln.Input((2,))
    y = kiln.layers.Dense(2)(kiln.layers.Concatenate()([a, kiln.layers.Dense(3)(b)]))
    assert kiln.utils.get_source_inputs(y) == [a, b]
    assert kiln.utils.get_source_inputs(a) == [a]
    assert isinstance(kiln.version(), str)


def test_preprocessing_namespace_matches_keras():
    for name in ("image", "sequence", "image_dataset_from_directory",
                 "text_dataset_from_directory", "timeseries_dataset_from_array"):
        assert hasattr(kiln.preprocessing, name)
    assert kiln.preprocessing.sequence.pad_sequences([[1, 2]], maxlen=3).tolist() == [[0, 1, 2]]
    rng = np.random.default_rng(0)
    for shape, size, fmt in (((40, 20, 3), (10, 10), "channels_last"),
                             ((2, 33, 50, 3), (16, 12), "channels_last"),
                             ((3, 40, 20), (10, 10), "channels_first")):
        x = rng.uniform(0, 255, shape).astype("float32")
        got = kiln.preprocessing.image.smart_resize(x, size, data_format=fmt)
        want = keras.preprocessing.image.smart_resize(x, size, data_format=fmt)
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, np.asarray(want), atol=1e-3)
