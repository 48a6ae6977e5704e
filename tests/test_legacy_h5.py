"""Keras's legacy HDF5 format: `model.save("m.h5")`, `load_model`, `load_weights("x.h5")`,
with the same checks as `.keras` files (tests/parity/test_legacy_h5_parity.py compares with
Keras itself)."""

import json
import os

import h5py
import numpy as np
import pytest

import kiln
from kiln.saving import _legacy_h5, _legacy_h5_write

X = np.random.RandomState(0).rand(8, 6).astype("float32")
Y = np.random.RandomState(1).rand(8, 2).astype("float32")


def _functional(prefix=""):
    a = kiln.Input((6,), name="a")
    h1 = kiln.layers.Dense(3, name=prefix + "d1")(a)
    h2 = kiln.layers.Dense(3, activation="relu", name=prefix + "d2")(a)
    h = kiln.layers.BatchNormalization(name=prefix + "bn")(kiln.layers.Concatenate()([h1, h2]))
    return kiln.Model(a, kiln.layers.Dense(2, name=prefix + "out")(h))


def _save(model, path, **kwargs):
    with pytest.warns(UserWarning, match="legacy"):
        model.save(path, **kwargs)


class Saved:
    """A trained two-branch functional model's `.h5` file and what the model gave."""

    def __init__(self, tmp_path_factory):
        model = _functional()
        model.compile(kiln.optimizers.Adam(1e-2), "mse", metrics=["mae"])
        model.fit(X, Y, epochs=2, verbose=0, shuffle=False)
        self.path = str(tmp_path_factory.mktemp("h5") / "m.h5")
        _save(model, self.path)
        self.pred = model.predict(X, verbose=0)
        self.weights = {n: model.get_layer(n).get_weights() for n in ("d1", "out")}
        model.fit(X, Y, epochs=1, verbose=0, shuffle=False)
        self.after = model.predict(X, verbose=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return Saved(tmp_path_factory)


def test_file_has_keras_layout(saved):
    with h5py.File(saved.path) as f:
        assert {"keras_version", "backend", "model_config", "training_config"} <= set(f.attrs)
        group = f["model_weights"]
        assert list(group.attrs["layer_names"]) == ["a", "d1", "d2", "concatenate", "bn", "out"]
        assert list(group["bn"].attrs["weight_names"]) == [
            "bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"]
        assert group["d1/d1/kernel"].shape == (6, 3)
        assert len(f["optimizer_weights"].attrs["weight_names"]) == 2 + 2 * 8


def test_load_model_predicts_and_continues_fit(saved):
    loaded = kiln.models.load_model(saved.path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), saved.pred)
    assert type(loaded.optimizer).__name__ == "Adam"
    assert loaded.optimizer.learning_rate == pytest.approx(1e-2)
    assert int(loaded.optimizer.iterations) == 2
    loaded.fit(X, Y, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), saved.after, atol=1e-6)
    uncompiled = kiln.models.load_model(saved.path, compile=False)
    assert getattr(uncompiled, "_compiled", None) is None


def test_sequential_round_trip(tmp_path):
    model = kiln.Sequential([kiln.Input((6,)), kiln.layers.Dense(4, activation="tanh"),
                             kiln.layers.Dense(2)])
    model.compile("sgd", "mse")
    _save(model, tmp_path / "s.hdf5")
    loaded = kiln.models.load_model(tmp_path / "s.hdf5")
    assert type(loaded.optimizer).__name__ == "SGD"
    np.testing.assert_array_equal(loaded.layers[1].get_weights()[0],
                                  model.layers[1].get_weights()[0])
    _save(model, tmp_path / "bare.h5", include_optimizer=False)
    assert getattr(kiln.models.load_model(tmp_path / "bare.h5"), "_compiled", None) is None


def test_load_weights_from_model_file_by_name_and_order(saved):
    path = saved.path
    fresh = _functional()
    fresh.load_weights(path)  # same layer names: matched by name
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), saved.pred)
    renamed = _functional("x_")  # other names: Keras's topological order
    renamed.load_weights(path)
    for a, b in zip(renamed.get_layer("x_out").get_weights(), saved.weights["out"]):
        np.testing.assert_array_equal(a, b)
    seq = kiln.Sequential([kiln.Input((6,)), kiln.layers.Dense(3, name="d1")])
    kiln.saving.load_weights(seq, path, by_name=True)  # only d1 is loaded
    np.testing.assert_array_equal(seq.layers[0].get_weights()[0], saved.weights["d1"][0])


def test_mismatch_changes_nothing(saved):
    path = saved.path
    a = kiln.Input((6,), name="a")
    h = kiln.layers.Concatenate()([kiln.layers.Dense(3, name="d1")(a),
                                   kiln.layers.Dense(3, name="d2")(a)])
    other = kiln.Model(a, kiln.layers.Dense(5, name="out")(kiln.layers.BatchNormalization(
        name="bn")(h)))
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match="layer 'out'.*No weight was changed"):
        other.load_weights(path)
    for w, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    with pytest.warns(UserWarning, match="Skipping layer 'out'"):
        other.load_weights(path, skip_mismatch=True)
    assert not np.array_equal(other.get_layer("d1").get_weights()[0], before[0])


def test_refuses_links_and_weights_only_files(saved, tmp_path):
    path = saved.path
    bad = tmp_path / "link.h5"
    with h5py.File(path) as src, h5py.File(bad, "w") as f:
        for k, v in src.attrs.items():
            f.attrs[k] = v
        src.copy("model_weights", f)
        f["model_weights/d1/evil"] = h5py.SoftLink("/model_weights/d2")
    with pytest.raises(ValueError, match="Refusing the HDF5 link"):
        kiln.models.load_model(bad)
    weights_only = tmp_path / "w.h5"
    with h5py.File(path) as src, h5py.File(weights_only, "w") as f:
        for k, v in src["model_weights"].attrs.items():
            f.attrs[k] = v
        for name in src["model_weights"]:
            src.copy(f"model_weights/{name}", f, name=name)
    with pytest.raises(ValueError, match="no model config.*load_weights"):
        kiln.models.load_model(weights_only)
    fresh = _functional()
    fresh.load_weights(weights_only)  # the Keras-2 weights layout (layer_names at the root)
    np.testing.assert_array_equal(fresh.get_layer("out").get_weights()[0],
                                  saved.weights["out"][0])


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)])
    target = tmp_path / "keep.h5"
    target.write_bytes(b"old")

    def broken(f, m):
        raise RuntimeError("disk full")

    monkeypatch.setattr(_legacy_h5_write, "_write_weights", broken)
    with pytest.warns(UserWarning, match="legacy"), pytest.raises(RuntimeError):
        model.save(target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["keep.h5"]


@kiln.saving.register_keras_serializable(package="test_legacy_h5")
def _double(x):
    return x * 2.0


def test_lambda_needs_safe_mode_false(tmp_path):
    model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Lambda(_double),
                             kiln.layers.Dense(1)])
    _save(model, tmp_path / "lam.h5")
    with pytest.raises(ValueError, match="safe_mode=False"):
        kiln.models.load_model(tmp_path / "lam.h5")
    loaded = kiln.models.load_model(tmp_path / "lam.h5", safe_mode=False,
                                    custom_objects={"_double": _double})
    x = np.ones((1, 2), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_rules_for_paths(tmp_path):
    model = kiln.Sequential([kiln.Input((2,)), kiln.layers.Dense(1)])
    with pytest.raises(ValueError, match="must end in '.weights.h5'"):
        model.save_weights(tmp_path / "w.h5")  # Keras 3 refuses this too
    with pytest.raises(ValueError, match="not supported"):
        model.save(tmp_path / "m.h5", bogus=1)


def test_reads_a_keras_2_model_file(tmp_path):
    """Keras 2's spelling: class 'Model', batch_input_shape, legacy inbound nodes, ':0'."""
    dense = {"name": "d", "units": 2, "activation": "relu", "use_bias": True,
             "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}}
    config = {"class_name": "Model", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 3], "dtype": "float32", "name": "x"}},
        {"class_name": "Dense", "name": "d", "config": dense,
         "inbound_nodes": [[["x", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": ["d", 0, 0]}}
    train = {"loss": "mse", "metrics": ["mae"], "loss_weights": None,
             "optimizer_config": {"class_name": "Adam", "config": {"learning_rate": 0.005}}}
    path = tmp_path / "k2.h5"
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = b"2.4.0", b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(train).encode()
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [b"x", b"d"]
        group.create_group("x").attrs["weight_names"] = []
        group.create_group("d").attrs["weight_names"] = [b"d/kernel:0", b"d/bias:0"]
        group["d/d/kernel:0"] = np.arange(6, dtype="float32").reshape(3, 2)
        group["d/d/bias:0"] = np.array([1.0, -1.0], "float32")
    model = kiln.models.load_model(path)
    np.testing.assert_array_equal(model.predict(np.ones((1, 3), "float32"), verbose=0),
                                  [[7.0, 8.0]])
    assert model.optimizer.learning_rate == pytest.approx(0.005)


def test_long_name_lists_are_split_as_keras_does(tmp_path):
    names = [f"layer_{i:05d}_" + "x" * 40 for i in range(3000)]
    with h5py.File(tmp_path / "n.h5", "w") as f:
        _legacy_h5_write._put_names(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
        assert _legacy_h5._names(f, "layer_names") == names
