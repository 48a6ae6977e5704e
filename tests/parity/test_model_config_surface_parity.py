"""`get_build_config` / `build_from_config` (a custom layer's own pair is written and called
on load, as Keras does), `get_compile_config` / `compile_from_config`, and the `run_eagerly`
/ `jit_compile` attributes, against Keras."""

import json
import zipfile

import keras
import numpy as np

import kiln


def _table_layer(lib, package):
    @lib.saving.register_keras_serializable(package=package)
    class Table(lib.layers.Layer):
        def __init__(self, n=3, **kwargs):
            super().__init__(**kwargs)
            self.n = n
            self.rebuilt_from = None

        def build(self, shape):
            self.table = self.add_weight(shape=(self.n, shape[-1]), initializer="ones",
                                         name="table")

        def get_build_config(self):
            return {"feature_dim": int(self.table.shape[-1])}

        def build_from_config(self, config):
            self.rebuilt_from = config
            self.build((None, config["feature_dim"]))

        def call(self, x):
            return lib.ops.matmul(x, lib.ops.transpose(self.table))

        def get_config(self):
            return {**super().get_config(), "n": self.n}
    return Table


def _saved(lib, tmp_path):
    layer = _table_layer(lib, f"surface_{lib.__name__}")(4, name="table")
    layer(np.ones((2, 5), "float32"))
    layer.table.assign(np.arange(20, dtype="float32").reshape(4, 5))
    model = kiln.Sequential if lib is kiln else keras.Sequential
    path = tmp_path / f"{lib.__name__}.keras"
    model([lib.Input((5,)), layer]).save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    return path, config["config"]["layers"][-1]


def test_a_layers_own_build_config_is_written_and_used_on_load(tmp_path):
    k_path, k_entry = _saved(keras, tmp_path)
    l_path, l_entry = _saved(kiln, tmp_path)
    assert l_entry["build_config"] == k_entry["build_config"] == {"feature_dim": 5}
    loaded = kiln.saving.load_model(l_path)
    assert loaded.layers[0].rebuilt_from == {"feature_dim": 5}
    np.testing.assert_array_equal(loaded.layers[0].table.numpy(),
                                  np.arange(20).reshape(4, 5))
    assert keras.saving.load_model(k_path).layers[0].rebuilt_from == {"feature_dim": 5}


def test_default_build_config_matches_keras():
    for lib in (keras, kiln):
        layer = lib.layers.Dense(2)
        assert layer.get_build_config() is None
        layer.build_from_config({"input_shape": [None, 3]})
        # (Keras hands back the list it was given; kiln the tuple it built with)
        assert list(layer.get_build_config()["input_shape"]) == [None, 3]
        assert tuple(layer.kernel.shape) == (3, 2)


def _compiled(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def test_compile_config_round_trip_and_run_eagerly_match_keras():
    km, lm = _compiled(keras), _compiled(kiln)
    k_config, l_config = km.get_compile_config(), lm.get_compile_config()
    for config in (k_config, l_config):  # automatic names count per session
        config["optimizer"]["config"].pop("name")
    assert l_config == k_config
    fresh = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(2)])
    assert fresh.get_compile_config() is None
    fresh.compile_from_config(km.get_compile_config())
    assert type(fresh.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(fresh.optimizer.learning_rate, 0.01, rtol=1e-6)
    fresh.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert (lm.run_eagerly, lm.jit_compile) == (km.run_eagerly, km.jit_compile) == (False, True)
    lm.run_eagerly = True
    assert lm.run_eagerly and not lm.jit_compile
    history = lm.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert np.isfinite(history.history["loss"][0])
