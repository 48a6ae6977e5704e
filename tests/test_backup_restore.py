"""BackupAndRestore: Keras's resume semantics, and kiln's exact resumption (killed mid-fit,
resumed in a fresh process, the same final weights as an uninterrupted fit)."""

import json
import os
import runpy
import signal
import subprocess
import sys

import numpy as np
import pytest

import kiln

# One training run, used in this process (the uninterrupted reference) and in the
# subprocesses (killed with SIGKILL at epoch 2 batch 3, then resumed): Dropout makes the
# step's PRNG key matter, shuffle=True the data order's seed, Adam the optimizer state.
RUN = """
import os, sys
import numpy as np
import kiln

class Kill(kiln.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 2 and batch == 3:
            os.kill(os.getpid(), 9)

def run(folder, extra=()):
    kiln.utils.set_random_seed(0)
    r = np.random.default_rng(0)
    x, y = r.normal(size=(64, 3)).astype("float32"), r.normal(size=(64, 1)).astype("float32")
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(8, activation="tanh"),
                             kiln.layers.Dropout(0.3), kiln.layers.Dense(1)])
    model.compile(kiln.optimizers.Adam(0.01), "mse")
    cbs = [kiln.callbacks.BackupAndRestore(folder, save_freq=3), *extra]
    history = model.fit(x, y, epochs=4, batch_size=8, shuffle=True, verbose=0, callbacks=cbs)
    return [np.asarray(w) for w in model.get_weights()], history
"""

MAIN = RUN + """
if __name__ == "__main__":
    weights, history = run(sys.argv[1], [Kill()] if sys.argv[2] == "kill" else [])
    np.savez(sys.argv[3], *weights, epochs=np.asarray(history.epoch),
             loss=np.asarray(history.history["loss"]))
"""


class Raise(kiln.callbacks.Callback):
    """Interrupts a fit (an exception) when epoch `at` begins; records the epochs begun."""

    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)
        if epoch == self.at:
            raise RuntimeError("interrupted")


def _data():
    r = np.random.default_rng(1)
    return r.normal(size=(40, 3)).astype("float32"), r.normal(size=(40, 1)).astype("float32")


def _model(seed=0):
    kiln.utils.set_random_seed(seed)
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(1)])
    model.compile(kiln.optimizers.SGD(0.05, momentum=0.9), "mse")
    return model


def _max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))


def test_resume_after_an_exception_matches_keras(tmp_path):
    """Keras's file-independent behaviour: interrupted when epoch 2 begins, the next fit with
    the same callback restores the weights and runs epochs 2-4 only; the final weights equal
    an uninterrupted fit's (shuffle=False: the data order is each library's own)."""
    keras = pytest.importorskip("keras")
    x, y = _data()
    reference = _model()
    reference.fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False)
    model = _model()  # the same initial weights
    init = model.get_weights()
    folder = str(tmp_path / "kiln")
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False,
                  callbacks=[kiln.callbacks.BackupAndRestore(folder), Raise(2)])
    with open(os.path.join(folder, "training_metadata.json")) as f:
        meta = json.load(f)
    model.set_weights([w + 1.0 for w in init])  # the backup must bring the weights back
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[kiln.callbacks.BackupAndRestore(folder)])
    assert _max_diff(model.get_weights(), reference.get_weights()) < 1e-6
    assert not os.path.exists(folder)  # delete_checkpoint=True

    k_folder = str(tmp_path / "keras")
    k_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    k_model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    k_model.set_weights(init)
    with pytest.raises(RuntimeError):
        k_model.fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False,
                    callbacks=[keras.callbacks.BackupAndRestore(k_folder), Raise(2)])
    with open(os.path.join(k_folder, "training_metadata.json")) as f:
        assert json.load(f) == meta == {"epoch": 2, "batch": 0}
    k_model.set_weights([w + 1.0 for w in init])
    k_history = k_model.fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False,
                            callbacks=[keras.callbacks.BackupAndRestore(k_folder)])
    assert history.epoch == k_history.epoch == [2, 3, 4]
    assert len(history.history["loss"]) == len(k_history.history["loss"]) == 3
    np.testing.assert_allclose(history.history["loss"], k_history.history["loss"], rtol=1e-5)
    assert _max_diff(model.get_weights(), k_model.get_weights()) < 1e-5
    assert not os.path.exists(k_folder)


def test_killed_mid_fit_resumes_in_a_fresh_process_exactly(tmp_path):
    folder, script = str(tmp_path / "backup"), str(tmp_path / "run_backup.py")
    with open(script, "w") as f:
        f.write(MAIN)
    out = str(tmp_path / "weights.npz")
    killed = subprocess.Popen([sys.executable, script, folder, "kill", out],
                              stderr=subprocess.PIPE, text=True)
    run = runpy.run_path(script)["run"]  # meanwhile, the uninterrupted fit in this process
    ref_weights, ref_history = run(str(tmp_path / "reference"))
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, err[-2000:]
    assert not os.path.exists(out)
    with open(os.path.join(folder, "training_metadata.json")) as f:
        assert json.load(f) == {"epoch": 2, "batch": 1}  # the backup is 2 batches behind
    # A save interrupted mid-write leaves a temporary file: it must be ignored, not loaded.
    with open(os.path.join(folder, ".kiln-interrupted.tmp"), "wb") as f:
        f.write(b"\x89HDF\r\n\x1a\n half-written")
    resumed = subprocess.run([sys.executable, script, folder, "resume", out], check=False,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    saved = np.load(out)
    assert list(saved["epochs"]) == [2, 3]
    assert _max_diff([saved[f"arr_{i}"] for i in range(len(ref_weights))], ref_weights) < 1e-6
    # The resumed epoch's loss covers the whole epoch: the running metrics were restored.
    np.testing.assert_allclose(saved["loss"], ref_history.history["loss"][2:], rtol=1e-6)
    assert not os.path.exists(folder)


def test_a_backup_after_an_epochs_last_batch_resumes_at_that_epochs_end(tmp_path):
    """save_freq = steps per epoch: the latest backup follows the last batch of epoch 1 (its
    epoch end not yet run); the resumed fit ends epoch 1 (logs from the restored metrics),
    then runs epochs 2-3, exactly as the uninterrupted fit (shuffle=True)."""
    x, y = _data()  # 40 samples, batch 8: 5 steps per epoch
    reference = _model()
    ref_history = reference.fit(x, y, epochs=4, batch_size=8, verbose=0)
    folder = str(tmp_path / "backup")
    model = _model()
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[
            kiln.callbacks.BackupAndRestore(folder, save_freq=5), Raise(2)])
    model.set_weights([w + 1.0 for w in model.get_weights()])
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[
        kiln.callbacks.BackupAndRestore(folder, save_freq=5)])
    assert history.epoch == [1, 2, 3]  # as Keras's (which reruns epoch 1)
    assert _max_diff(model.get_weights(), reference.get_weights()) < 1e-6
    np.testing.assert_allclose(history.history["loss"], ref_history.history["loss"][1:],
                               rtol=1e-6)


def test_half_written_and_corrupted_backups(tmp_path):
    x, y = _data()
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / ".kiln-abc123.tmp").write_bytes(b"half-written")  # alone: not a backup
    backup = kiln.callbacks.BackupAndRestore(str(folder), double_checkpoint=True,
                                             delete_checkpoint=False)
    model, stop = _model(), Raise(3)
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[backup, stop])
    assert stop.seen == [0, 1, 2, 3]
    assert sorted(os.listdir(folder)) == ["latest.weights.h5", "latest.weights.h5.bkp",
                                          "training_metadata.json",
                                          "training_metadata.json.bkp"]
    (folder / "latest.weights.h5").write_bytes(b"corrupted")
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3, 4]  # from the previous backup, taken after epoch 1
    (folder / "latest.weights.h5").write_bytes(b"corrupted")
    (folder / "latest.weights.h5.bkp").unlink()
    with pytest.raises(ValueError, match="Delete the folder"):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[backup])


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        kiln.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        kiln.callbacks.BackupAndRestore("/tmp/x", save_freq="batch")
