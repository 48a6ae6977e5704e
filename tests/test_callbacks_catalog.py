"""kiln.callbacks' catalog: EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
TerminateOnNaN, RemoteMonitor, ModelCheckpoint, and how fit drives them."""

import http.server
import json
import threading
import urllib.parse
import warnings

import numpy as np
import pytest

import kiln
from kiln import callbacks


class FakeOptimizer:
    def __init__(self, lr=1.0):
        self.learning_rate = lr


class FakeModel:
    """What the callbacks read: stop_training, optimizer, weights, save/save_weights."""

    def __init__(self):
        self.stop_training = False
        self.optimizer = FakeOptimizer()
        self.weights = [np.zeros(1)]
        self.saved = []
        self.metrics = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.asarray(w) for w in weights]

    def save(self, path, overwrite=True):
        self.saved.append(("save", path))

    def save_weights(self, path, overwrite=True):
        self.saved.append(("save_weights", path))


def _drive(cb, values, key="val_loss", model=None, weights=None):
    """Runs epochs of hand-made logs until stop_training; returns the model."""
    model = model or FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, value in enumerate(values):
        if weights is not None:
            model.weights = [np.array([weights[epoch]])]
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            break
    cb.on_train_end()
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    return x, (x @ np.array([1.0, -2.0, 0.5], "float32"))[:, None]


def _model(lr=0.1):
    kiln.utils.set_random_seed(0)
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(1)])
    model.compile(kiln.optimizers.SGD(learning_rate=lr), "mse")
    return model


# -- EarlyStopping ----------------------------------------------------------------------------

def test_early_stopping_patience_and_min_delta():
    cb = callbacks.EarlyStopping(patience=3, min_delta=0.1)
    _drive(cb, [1.0, 0.95, 0.92, 0.5, 0.49, 0.48, 0.47])
    assert (cb.stopped_epoch, cb.best, cb.wait) == (6, 0.5, 3)


def test_early_stopping_nan_is_never_best_and_max_mode():
    cb = callbacks.EarlyStopping(patience=1)
    _drive(cb, [float("nan"), 1.0, 2.0, 3.0])
    assert cb.best == 1.0 and cb.stopped_epoch == 2
    cb = callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=0)
    _drive(cb, [0.5, 0.6, 0.55], key="val_acc")
    assert cb.stopped_epoch == 2 and cb.best == 0.6


def test_early_stopping_baseline_and_start_from_epoch():
    cb = callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    _drive(cb, [0.9, 0.95, 0.97, 0.99], key="loss")
    assert cb.stopped_epoch == 1  # never beat the baseline: wait counts from the first epoch
    cb = callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=2)
    _drive(cb, [1.0, 2.0, 3.0, 4.0], key="loss")
    assert cb.stopped_epoch == 3


def test_early_stopping_missing_key_warns_once():
    cb = callbacks.EarlyStopping(monitor="val_nope")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _drive(cb, [1.0, 2.0, 3.0])
    assert len([w for w in caught if "val_nope" in str(w.message)]) == 1


def test_early_stopping_restores_best_weights_also_at_the_last_epoch():
    cb = callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    model = _drive(cb, [3.0, 1.0, 2.0], key="loss", weights=[10.0, 11.0, 12.0])
    assert model.stop_training is False and model.weights[0][0] == 11.0


def test_early_stopping_auto_mode_needs_a_direction():
    with pytest.raises(ValueError, match="mode='max'"):
        _drive(callbacks.EarlyStopping(monitor="val_thing"), [1.0, 2.0], key="val_thing")


def test_early_stopping_in_fit_restores_weights(data):
    model = _model(lr=0.05)
    seen = []
    grab = callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: seen.append((logs["val_loss"], model.get_weights())))
    es = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    hist = model.fit(*data, validation_data=data, epochs=3, verbose=0, callbacks=[grab, es])
    best = int(np.argmin(hist.history["val_loss"]))
    np.testing.assert_allclose(model.get_weights()[0], seen[best][1][0])


# -- ReduceLROnPlateau / LearningRateScheduler ------------------------------------------------

def test_reduce_lr_sequence_cooldown_and_min_lr():
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=1,
                                     min_lr=0.2)
    model = FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"loss": loss}
        cb.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])
    assert rates == [1.0, 1.0, 0.5, 0.25, 0.2, 0.2, 0.2]  # Keras's order (parity test)
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def _fit_with(cb, data, epochs=3):
    """fit with `cb` after a first fit compiled the step: (model, history, compilations added
    by the second fit, the weights at each epoch end)."""
    model = _model(lr=0.1)
    model.fit(*data, epochs=1, verbose=0, batch_size=32)
    fn = model._session.train_fn
    before = fn._cache_size()
    weights = []
    grab = callbacks.LambdaCallback(on_epoch_end=lambda e, l: weights.append(
        model.get_weights()[0].copy()))
    hist = model.fit(*data, epochs=epochs, verbose=0, batch_size=32, callbacks=[cb, grab])
    return model, hist, fn._cache_size() - before, weights


def test_learning_rate_scheduler_changes_the_compiled_step_without_recompiling(data):
    cb = callbacks.LearningRateScheduler(lambda epoch: 0.0 if epoch else 0.1)
    model, hist, new_compiles, weights = _fit_with(cb, data)
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.0, 0.0])
    assert new_compiles == 0
    np.testing.assert_array_equal(weights[0], weights[2])  # rate 0: no move after epoch 1


def test_reduce_lr_in_fit_logs_and_applies_the_rate(data):
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    model, hist, new_compiles, weights = _fit_with(cb, data)
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05])  # before reducing
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert new_compiles == 0
    # SGD on one batch: the step is lr * grad, so the epoch-3 move at rate 0.05 is about
    # half the epoch-2 move at rate 0.1 (the gradient changes little)
    step2, step3 = np.abs(weights[1] - weights[0]).sum(), np.abs(weights[2] - weights[1]).sum()
    assert 0.3 < step3 / step2 < 0.6


def test_learning_rate_scheduler_one_arg_form_and_bad_output():
    cb = callbacks.LearningRateScheduler(lambda epoch: 0.5 * epoch)
    model = FakeModel()
    cb.set_model(model)
    cb.on_epoch_begin(3)
    assert model.optimizer.learning_rate == 1.5
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    cb.set_model(model)
    with pytest.raises(ValueError, match="should be a float"):
        cb.on_epoch_begin(0)


# -- CSVLogger / TerminateOnNaN / RemoteMonitor -----------------------------------------------

def test_csv_logger_format_and_append(tmp_path):
    path = tmp_path / "log.csv"
    for _ in range(2):
        cb = callbacks.CSVLogger(path, separator=";", append=True)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"loss": 0.5, "acc": np.array([1, 2])})
        cb.on_train_end()
    text = path.read_text().replace("\r", "")
    assert text == ('epoch;acc;loss;val_acc;val_loss\n0;"""[1, 2]""";0.5;NA;NA\n'
                    '0;"""[1, 2]""";0.5;NA;NA\n')


def test_terminate_on_nan_in_fit(data, capsys):
    model = _model(lr=1e30)  # diverges to inf within the first epoch
    hist = model.fit(*data, epochs=3, batch_size=8, verbose=0,
                     callbacks=[callbacks.TerminateOnNaN()])
    assert len(hist.history["loss"]) == 1 and not np.isfinite(hist.history["loss"][0])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="NaN or Inf"):
        callbacks.TerminateOnNaN(raise_error=True).on_batch_end(0, {"loss": float("nan")})


def test_remote_monitor_posts_form_and_json():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body.decode(),
                             self.headers.get("X-Test")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_port}"
    try:
        callbacks.RemoteMonitor(root=root, headers={"X-Test": "1"}).on_epoch_end(
            2, {"loss": np.float32(0.5)})
        callbacks.RemoteMonitor(root=root, path="/j", send_as_json=True).on_epoch_end(
            0, {"loss": 0.25})
    finally:
        server.shutdown()
        server.server_close()
    path, ctype, body, header = received[0]
    assert path == "/publish/epoch/end/" and header == "1"
    assert json.loads(urllib.parse.parse_qs(body)["data"][0]) == {"epoch": 2, "loss": 0.5}
    assert received[1][:3] == ("/j", "application/json", '{"epoch": 0, "loss": 0.25}')


# -- ModelCheckpoint --------------------------------------------------------------------------

def test_model_checkpoint_paths_and_best_only(tmp_path):
    pattern = str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.keras")
    cb = callbacks.ModelCheckpoint(pattern, save_best_only=True)
    model = _drive(cb, [1.0, float("nan"), 0.5, 0.7])
    assert model.saved == [("save", str(tmp_path / "m-01-1.00.keras")),
                           ("save", str(tmp_path / "m-03-0.50.keras"))]
    cb = callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True,
                                   initial_value_threshold=0.8, save_best_only=True)
    assert [p for _, p in _drive(cb, [1.0, 0.6]).saved] == [str(tmp_path / "w.weights.h5")]


def test_model_checkpoint_errors_and_batch_freq(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        callbacks.ModelCheckpoint("a.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        callbacks.ModelCheckpoint("a.ckpt")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("a.keras", save_freq="batch")
    with pytest.raises(KeyError, match="Failed to format"):
        _drive(callbacks.ModelCheckpoint("{nope}.keras"), [1.0])
    cb = callbacks.ModelCheckpoint(str(tmp_path / "b{batch}.keras"), save_freq=2)
    model = FakeModel()
    cb.set_model(model)
    assert callbacks.CallbackList([cb]).user_batch_hooks
    assert not callbacks.CallbackList([callbacks.ModelCheckpoint("a.keras")]).user_batch_hooks
    for batch in range(5):
        cb.on_train_batch_end(batch, {})
    assert [p for _, p in model.saved] == [str(tmp_path / "b2.keras"), str(tmp_path / "b4.keras")]


def test_model_checkpoint_real_save(tmp_path, data):
    if not hasattr(kiln.Model, "save"):
        pytest.skip("kiln.Model.save is not there yet")
    model = _model()
    path = tmp_path / "m{epoch}.weights.h5"
    model.fit(*data, epochs=2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(path), save_weights_only=True,
                                                   monitor="loss")])
    assert (tmp_path / "m1.weights.h5").exists() and (tmp_path / "m2.weights.h5").exists()


# -- the loop's hooks -------------------------------------------------------------------------

class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_test_begin(self, logs=None):
        self.calls.append(("test_begin",))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test_batch_end", batch))

    def on_test_end(self, logs=None):
        self.calls.append(("test_end", sorted(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("train_batch_end", batch, logs["loss"]))


def test_fit_validation_fires_test_hooks_before_epoch_end(data):
    model = _model()
    rec = Recorder()
    model.fit(*data, validation_data=data, batch_size=16, validation_batch_size=32, epochs=1,
              verbose=0, callbacks=[rec])
    names = [c[0] for c in rec.calls]
    assert names == ["train_batch_end", "train_batch_end", "test_begin", "test_batch_end",
                     "test_end", "epoch_end"]
    assert rec.calls[-1][2] == ["loss", "val_loss"] and rec.calls[-2][1] == ["loss"]
    assert rec.params == {"verbose": 0, "epochs": 1, "steps": 2}


def test_batch_logs_are_running_mean_floats(data):
    x, y = data
    model = _model(lr=0.0)
    rec = Recorder()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[rec], shuffle=False)
    first, second = rec.calls[0][2], rec.calls[1][2]
    assert type(first) is float and type(second) is float
    per_batch = [float(np.mean((model.predict(x[i:i + 16], verbose=0) - y[i:i + 16]) ** 2))
                 for i in (0, 16)]
    assert first == pytest.approx(per_batch[0], rel=1e-5)
    assert second == pytest.approx(np.mean(per_batch), rel=1e-5)


def test_a_callback_list_is_used_as_given(data):
    model = _model()
    rec = Recorder()
    history = callbacks.History()
    cbs = callbacks.CallbackList([rec, history], model=model, verbose=0, epochs=1, steps=1)
    out = model.fit(*data, epochs=1, verbose=0, callbacks=cbs)
    assert out is history and cbs.callbacks == [rec, history]
    assert rec.calls[-1][0] == "epoch_end"


# -- SwapEMAWeights ---------------------------------------------------------------------------

def _ema_fit(data, cbs):
    kiln.utils.set_random_seed(0)
    model = kiln.Sequential([kiln.Input((3,)), kiln.layers.Dense(1)])
    model.compile(kiln.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.5), "mse")
    hist = model.fit(*data, validation_data=data, epochs=2, batch_size=8, verbose=0,
                     callbacks=cbs)
    return model, hist.history["val_loss"][-1], model.evaluate(*data, verbose=0)


def test_swap_ema_weights_validates_with_the_averages(data):
    # fit ends with the EMA in the model: validation saw them only with SwapEMAWeights
    _, val_plain, final_plain = _ema_fit(data, [])
    assert val_plain != pytest.approx(final_plain, rel=1e-6)
    model, val_swap, final_swap = _ema_fit(data, [callbacks.SwapEMAWeights()])
    assert val_swap == pytest.approx(final_swap, rel=1e-6)
    assert final_swap == pytest.approx(final_plain, rel=1e-6)  # training itself unchanged
    seen = []

    class Probe(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # the weights a checkpoint would save
            seen.append(float(self.model.evaluate(*data, verbose=0)))

    probe = Probe()
    model, val_epoch, final = _ema_fit(data, [callbacks.SwapEMAWeights(swap_on_epoch=True),
                                              probe])
    assert seen[-1] == pytest.approx(val_epoch, rel=1e-6) and final == pytest.approx(final_swap)
    with pytest.raises(ValueError, match="use_ema=True"):
        _model().fit(*data, epochs=1, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
