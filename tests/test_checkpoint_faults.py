"""Fault injection in checkpoint writes: a failing write (a full disk) surfaces from `fit`,
the previous file stays intact and loadable, and no temporary file is left behind."""

import errno
import io
import json
import os

import h5py
import numpy as np
import pytest

import kiln
from kiln.saving import _archive, _h5_weights


def _data():
    r = np.random.default_rng(0)
    return r.normal(size=(32, 3)).astype("float32"), r.normal(size=(32, 1)).astype("float32")


def _model():
    kiln.utils.set_random_seed(0)
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(4, activation="tanh"),
                             kiln.layers.Dense(1)])
    model.compile(kiln.optimizers.Adam(0.01), "mse")
    return model


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


class Raise(kiln.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("interrupted")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _no_temporaries(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")] == []


@pytest.mark.parametrize("target", ["fsync", "replace", "write"])
def test_model_checkpoint_write_error_keeps_previous_file(tmp_path, monkeypatch, target):
    x, y = _data()
    path = str(tmp_path / "model.keras")
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[kiln.callbacks.ModelCheckpoint(path)])
    old = _read(path)
    if target == "write":  # the low-level write of the archive's bytes
        monkeypatch.setattr(_archive, "write_archive", _disk_full)
    else:
        monkeypatch.setattr(_archive.os, target, _disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[kiln.callbacks.ModelCheckpoint(path)])
    monkeypatch.undo()
    assert _read(path) == old
    assert _no_temporaries(tmp_path)
    loaded = kiln.saving.load_model(path)
    assert loaded.predict(x[:2], verbose=0).shape == (2, 1)


def test_weights_only_checkpoint_error_on_the_last_epoch_raises_from_fit(tmp_path, monkeypatch):
    """The write of the last epoch is still in flight when training ends: `fit` waits for it
    and raises its error."""
    x, y = _data()
    path = str(tmp_path / "m.weights.h5")
    cb = kiln.callbacks.ModelCheckpoint(path, save_weights_only=True)
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    old = _read(path)
    monkeypatch.setattr(_archive.os, "fsync", _disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    monkeypatch.undo()
    assert _read(path) == old and _no_temporaries(tmp_path)
    _model().load_weights(path)
    # The error was reported once: the next fit with the same callback saves normally.
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert _read(path) != old


def test_backup_write_error_keeps_previous_backup_and_resume_uses_it(tmp_path, monkeypatch):
    x, y = _data()
    folder = str(tmp_path / "backup")
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, epochs=4, verbose=0,
                  callbacks=[kiln.callbacks.BackupAndRestore(folder), Raise(2)])
    files = {n: _read(os.path.join(folder, n)) for n in os.listdir(folder)}
    assert sorted(files) == ["latest.weights.h5", "training_metadata.json"]
    monkeypatch.setattr(_archive.os, "fsync", _disk_full)
    with pytest.raises(OSError, match="No space left"):  # resumes at epoch 2, cannot back up
        model.fit(x, y, epochs=4, verbose=0, callbacks=[kiln.callbacks.BackupAndRestore(folder)])
    monkeypatch.undo()
    assert {n: _read(os.path.join(folder, n)) for n in os.listdir(folder)} == files
    with open(os.path.join(folder, "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 2
    history = _model().fit(x, y, epochs=4, verbose=0,
                           callbacks=[kiln.callbacks.BackupAndRestore(folder)])
    assert history.epoch == [2, 3]
    assert not os.path.exists(folder)


def test_background_writer_reraises_once_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / "a.bin")
    writer = _archive.BackgroundWriter()
    writer.submit([(path, lambda f: f.write(b"old"))])
    writer.wait()

    def fail(f):
        f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    writer.submit([(path, fail)])
    with pytest.raises(OSError, match="No space left"):
        writer.submit([(path, lambda f: f.write(b"never"))])  # the previous error first
    writer.wait()  # reported once
    assert _read(path) == b"old" and _no_temporaries(tmp_path)


def test_a_weights_file_reused_for_the_same_layout_holds_the_new_values():
    """Later saves of a layout patch the array bytes of the first file: same as a fresh one."""
    model = _model()
    first = _h5_weights.snapshot_bytes(_h5_weights.snapshot(model))
    model.set_weights([w + 1.0 for w in model.get_weights()])
    groups = _h5_weights.snapshot(model)
    again = _h5_weights.snapshot_bytes(groups, {"note": "x" * 500})
    assert len(again) >= len(first)
    with h5py.File(io.BytesIO(again), "r") as f:
        assert f.attrs["note"] == "x" * 500
        for path, name, arrays in groups:
            assert f[path].attrs["name"] == name
            for i, array in enumerate(arrays):
                np.testing.assert_array_equal(f[f"{path}/{i}"][()], array)
