"""kiln's model files: round trips, compile state, atomic writes and the safety checks."""

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import kiln
from kiln.saving import _api, _archive, _h5_weights

X = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _model(units=2):
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(units, activation="relu"),
                             kiln.layers.BatchNormalization(), kiln.layers.Dense(1)])
    return model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model = _model()
    model.compile(optimizer=kiln.optimizers.Adam(kiln.optimizers.schedules.ExponentialDecay(
        0.01, 2, 0.9)), loss="mse", metrics=["mae"])
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    path = str(tmp_path_factory.mktemp("s") / "m.keras")
    model.save(path)
    return model, path


def test_round_trip_predicts_the_same_and_restores_compile(trained):
    model, path = trained
    loaded = kiln.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)
    assert type(loaded.optimizer).__name__ == "Adam"
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    loaded.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_compile_false_and_file_contents(trained):
    _, path = trained
    loaded = kiln.models.load_model(path, compile=False)
    assert loaded._compiled is None
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {"config.json", "metadata.json", "model.weights.h5"}
        assert "keras_version" in json.loads(zf.read("metadata.json"))
        assert json.loads(zf.read("config.json"))["compile_config"]["loss"] == "mse"
        with h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
            assert f["layers/batch_normalization/vars/3"].shape == (2,)
            assert "optimizer/vars/0" in f


def test_weights_mismatch_changes_nothing_and_skip_warns(trained, tmp_path):
    model, _ = trained
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    other = _model(units=4)
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"layers/dense/vars/0.*\(3, 4\).*\(3, 2\)"):
        other.load_weights(path)
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Skipping"):
        other.load_weights(path, skip_mismatch=True)
    same = _model()
    same.load_weights(path)
    np.testing.assert_allclose(same.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_failed_write_keeps_old_file_and_no_temp(trained, tmp_path, monkeypatch):
    model, _ = trained
    path = tmp_path / "m.keras"
    model.save(str(path))
    old = path.read_bytes()

    def boom(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(_h5_weights, "save_weights_file", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        model.save(str(path))
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.keras"]
    with pytest.raises(FileExistsError):
        _api.save_model(model, str(path), overwrite=False)


def test_read_only_folder_names_the_path(trained, tmp_path, monkeypatch):
    model, _ = trained
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores folder permissions: simulate the refusal
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied", kwargs.get("dir"))
        monkeypatch.setattr(_archive.tempfile, "mkstemp", refuse)
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="ro"):
            model.save(str(folder / "m.keras"))
    finally:
        folder.chmod(0o700)
    assert os.listdir(folder) == []


def _zip(path, members, config=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(config or {"class_name": "Sequential"}))
        for name, data in members:
            zf.writestr(name, data)
    return str(path)


def test_zip_checks(tmp_path):
    with pytest.raises(ValueError, match=r"'\.\./evil'"):
        kiln.saving.load_model(_zip(tmp_path / "a.keras", [("../evil", b"x")]))
    with pytest.raises(ValueError, match="members"):
        kiln.saving.load_model(_zip(tmp_path / "b.keras", [(f"f{i}", b"") for i in range(10001)]))
    bomb = tmp_path / "c.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b" " * (300 << 20))
    with pytest.raises(ValueError, match="decompression bomb"):
        kiln.saving.load_model(str(bomb))
    link = zipfile.ZipInfo("link")
    link.external_attr = (0o120777 << 16)
    path = tmp_path / "d.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(ValueError, match="symbolic link"):
        kiln.saving.load_model(str(path))


@pytest.mark.parametrize("kind", ["soft", "external", "vlen", "name"])
def test_h5_checks(tmp_path, kind):
    model = _model()
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        if kind == "soft":
            f["layers/x"] = h5py.SoftLink("/layers/dense")
        elif kind == "external":
            f["layers/x"] = h5py.ExternalLink("other.h5", "/data")
        elif kind == "vlen":
            f.create_dataset("layers/x", data=np.array([b"a", b"bc"], dtype=object),
                             dtype=h5py.vlen_dtype(bytes))
        else:
            f.create_group("layers/a..b")
    with pytest.raises(ValueError, match="Refusing"):
        model.load_weights(path)


def test_unknown_class_names_the_fix(tmp_path):
    path = tmp_path / "u.keras"
    config = kiln.saving.serialize_keras_object(_model())
    config["config"]["layers"][1]["class_name"] = "MyDense"
    _zip(path, [], config)
    with pytest.raises(ValueError, match="MyDense.*custom_objects"):
        kiln.saving.load_model(str(path))


def test_fuzz_gives_only_value_errors(trained, tmp_path):
    _, path = trained
    data = open(path, "rb").read()
    rng = np.random.default_rng(0)
    target = tmp_path / "f.keras"
    cases = [data[:n] for n in rng.integers(0, len(data), 12)]
    for _ in range(12):
        b = bytearray(data)
        for i in rng.integers(0, len(b), 20):
            b[i] = rng.integers(0, 256)
        cases.append(bytes(b))
    cases.append(rng.bytes(500))
    for case in cases:
        target.write_bytes(case)
        try:
            kiln.saving.load_model(str(target))
        except ValueError:
            pass


def test_to_json_and_clone_model(trained):
    model, _ = trained
    clone = kiln.models.model_from_json(model.to_json())
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    c2 = kiln.models.clone_model(model)
    assert c2.layers[0].kernel is not model.layers[0].kernel
    c3 = kiln.models.clone_model(model, clone_function=lambda l: l.__class__.from_config(
        l.get_config()))
    assert c3.predict(X, verbose=0).shape == (8, 1)
