"""kiln.callbacks and kiln.utils.Progbar: hook order, History, the progress bar's text."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

from kiln import callbacks
from kiln.utils import Progbar
from kiln.utils import _progbar


class FakeModel:
    """The least a callback needs from a model; counts the state syncs it is asked for."""

    def __init__(self):
        self.syncs = 0
        self.history = None
        self.stop_training = False

    def _sync_for_callback(self):
        self.syncs += 1


class Recorder(callbacks.Callback):
    """Records (tag, hook, index, logs) for every hook called."""

    def __init__(self, tag, calls):
        super().__init__()
        self.tag, self.calls = tag, calls

    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name.startswith("on_") and callable(attr):
            def record(*args, **kwargs):
                logs = kwargs.get("logs", args[-1] if args else None)
                index = args[0] if args and isinstance(args[0], int) else None
                self.calls.append((self.tag, name, index, logs))
                return attr(*args, **kwargs)
            return record
        return attr


def _drive_fit(cbs, epochs=1, steps=2, logs=None, val_logs=None):
    """Calls the hooks in the order kiln's (and Keras's) fit does."""
    logs = logs or {"loss": 0.5}
    cbs.on_train_begin()
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch)
        for step in range(steps):
            cbs.on_train_batch_begin(step)
            cbs.on_train_batch_end(step, dict(logs))
        epoch_logs = dict(logs)
        if val_logs:
            cbs.on_test_begin()
            cbs.on_test_batch_begin(0)
            cbs.on_test_batch_end(0, dict(val_logs))
            cbs.on_test_end(dict(val_logs))
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, epoch_logs)
    cbs.on_train_end(dict(logs))


# -- dispatch ----------------------------------------------------------------------------------

def test_hooks_reach_every_callback_in_order():
    calls = []
    cbs = callbacks.CallbackList([Recorder("a", calls), Recorder("b", calls)], model=FakeModel())
    _drive_fit(cbs, epochs=1, steps=1)
    hooks = [(tag, hook) for tag, hook, _, _ in calls]
    # Each hook goes to a, then b; the default train-batch hooks call the legacy alias.
    assert hooks == [
        ("a", "on_train_begin"), ("b", "on_train_begin"),
        ("a", "on_epoch_begin"), ("b", "on_epoch_begin"),
        ("a", "on_train_batch_begin"), ("a", "on_batch_begin"),
        ("b", "on_train_batch_begin"), ("b", "on_batch_begin"),
        ("a", "on_train_batch_end"), ("a", "on_batch_end"),
        ("b", "on_train_batch_end"), ("b", "on_batch_end"),
        ("a", "on_epoch_end"), ("b", "on_epoch_end"),
        ("a", "on_train_end"), ("b", "on_train_end"),
    ]


def test_indices_and_logs_are_passed_through():
    calls = []
    cbs = callbacks.CallbackList([Recorder("a", calls)], model=FakeModel())
    _drive_fit(cbs, epochs=2, steps=2, logs={"loss": jnp.float32(0.25)})
    ends = [(i, logs) for _, hook, i, logs in calls if hook == "on_train_batch_end"]
    assert [i for i, _ in ends] == [0, 1, 0, 1]
    assert all(logs == {"loss": 0.25} and type(logs["loss"]) is float for _, logs in ends)
    epochs = [i for _, hook, i, _ in calls if hook == "on_epoch_end"]
    assert epochs == [0, 1]


def test_legacy_batch_aliases_are_called_by_default_train_batch_hooks():
    seen = []

    class Legacy(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs["loss"]))

    cbs = callbacks.CallbackList([Legacy()], model=FakeModel())
    assert cbs.needs_batch_logs
    _drive_fit(cbs, steps=2, logs={"loss": jnp.float32(1.5)})
    assert seen == [("begin", 0), ("end", 0, 1.5), ("begin", 1), ("end", 1, 1.5)]


def test_model_property_syncs_the_training_state():
    model = FakeModel()
    cb = callbacks.Callback()
    cb.set_model(model)
    assert cb._model is model and model.syncs == 0
    assert cb.model is model
    assert model.syncs == 1
    cb.set_model(object())  # a model without the hook is returned as it is
    assert cb.model is cb._model


def test_history_and_progbar_do_not_force_a_sync(capsys):
    model = FakeModel()
    cbs = callbacks.CallbackList(None, add_history=True, add_progbar=True, model=model,
                                 verbose=1, epochs=2, steps=2)
    _drive_fit(cbs, epochs=2)
    assert model.syncs == 0
    assert model.history is cbs.history


def test_params_and_model_reach_every_callback():
    model = FakeModel()
    cb = callbacks.Callback()
    cbs = callbacks.CallbackList([cb], add_history=True, model=model, verbose=2, epochs=3,
                                 steps=5)
    assert cb.params == {"verbose": 2, "epochs": 3, "steps": 5}
    assert cb._model is model and cbs.history._model is model


def test_default_callbacks_are_added_once():
    history, progbar = callbacks.History(), callbacks.ProgbarLogger()
    cbs = callbacks.CallbackList([history, progbar], add_history=True, add_progbar=True,
                                 verbose=1, epochs=1, steps=1)
    assert cbs.callbacks == [history, progbar] and cbs.history is history
    cbs = callbacks.CallbackList([], add_history=True, add_progbar=True, verbose=0)
    assert [type(c).__name__ for c in cbs.callbacks] == ["History"]
    cbs = callbacks.CallbackList([[callbacks.Callback()], callbacks.Callback()], verbose=1)
    assert len(cbs.callbacks) == 2 and cbs.history is None


def test_non_callbacks_are_rejected_with_the_fix():
    with pytest.raises(TypeError, match="LambdaCallback"):
        callbacks.CallbackList([lambda epoch, logs: None])


def test_needs_batch_logs():
    def needs(*cbs, verbose=1):
        return callbacks.CallbackList(list(cbs), add_history=True, add_progbar=True,
                                      verbose=verbose, epochs=1, steps=2).needs_batch_logs

    class EpochOnly(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class TestBatch(callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            pass

    assert not needs(verbose=0)
    assert not needs(verbose=2)
    assert needs(verbose=1)
    assert not needs(EpochOnly(), verbose=2)
    assert needs(TestBatch(), verbose=2)
    assert not needs(callbacks.LambdaCallback(on_epoch_end=print), verbose=0)
    assert needs(callbacks.LambdaCallback(on_train_batch_end=print), verbose=0)


def test_batch_logs_stay_on_device_when_only_lazy_readers_listen():
    class Lazy(callbacks.Callback):
        _lazy_batch_logs = True

        def on_train_batch_end(self, batch, logs=None):
            self.logs = logs

    lazy = Lazy()
    cbs = callbacks.CallbackList([lazy], add_history=True)
    value = jnp.float32(2.0)
    cbs.on_train_batch_end(0, {"loss": value, "acc": value})
    assert lazy.logs["loss"] is value and list(lazy.logs) == ["acc", "loss"]
    eager = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)
    cbs = callbacks.CallbackList([lazy, eager])
    cbs.on_train_batch_end(0, {"loss": value})
    assert type(lazy.logs["loss"]) is float  # one converted dict shared by everyone


def test_edits_to_epoch_logs_are_seen_by_later_callbacks():
    def add_lr(epoch, logs):
        logs["learning_rate"] = 0.01

    cbs = callbacks.CallbackList([callbacks.LambdaCallback(on_epoch_end=add_lr)],
                                 add_history=True, model=FakeModel())
    _drive_fit(cbs, epochs=2)
    assert cbs.history.history["learning_rate"] == [0.01, 0.01]


def test_lambda_callback_calls_its_functions():
    seen = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: seen.append(("epoch_begin", epoch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch_end", batch, logs["loss"])),
        on_epoch_end=lambda epoch, logs: seen.append(("epoch_end", epoch)),
        on_train_end=lambda logs: seen.append("train_end"),
        on_test_end=lambda logs: seen.append("test_end"))
    _drive_fit(callbacks.CallbackList([cb]), steps=1, val_logs={"loss": 1.0})
    assert seen == ["train_begin", ("epoch_begin", 0), ("batch_end", 0, 0.5), "test_end",
                    ("epoch_end", 0), "train_end"]


# -- History ---------------------------------------------------------------------------------------

def test_history_accumulates_floats_in_alphabetical_order():
    model = FakeModel()
    cbs = callbacks.CallbackList([], add_history=True, model=model)
    cbs.on_train_begin()
    for epoch, loss in enumerate([0.9, 0.5, 0.25]):
        cbs.on_epoch_end(epoch, {"loss": jnp.float32(loss), "accuracy": np.float32(1 - loss),
                                 "val_loss": loss * 2})
    history = cbs.history
    assert list(history.history) == ["accuracy", "loss", "val_loss"]
    assert history.history["loss"] == pytest.approx([0.9, 0.5, 0.25])
    assert all(type(v) is float for values in history.history.values() for v in values)
    assert history.epoch == [0, 1, 2]
    assert model.history is history and history.model is model


# -- ProgbarLogger output (captured stdout is not a terminal) ---------------------------------------

TIME = r"\d+(s|ms|us)/step"


def test_progbar_logger_verbose_1_prints_one_line_per_epoch(capsys):
    cbs = callbacks.CallbackList(None, add_progbar=True, verbose=1, epochs=2, steps=3)
    _drive_fit(cbs, epochs=2, steps=3, logs={"loss": jnp.float32(0.6931), "accuracy": 0.5},
               val_logs={"loss": 0.75, "accuracy": 0.25})
    lines = capsys.readouterr().out.split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and lines[4] == ""
    pattern = (rf"3/3 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME} - accuracy: 0\.5000 - loss: 0\.6931 - "
               r"val_accuracy: 0\.2500 - val_loss: 0\.7500")
    assert re.fullmatch(pattern, lines[1]) and re.fullmatch(pattern, lines[3])


def test_progbar_logger_verbose_2(capsys):
    cbs = callbacks.CallbackList(None, add_progbar=True, verbose=2, epochs=1, steps=32)
    _drive_fit(cbs, epochs=1, steps=32, logs={"loss": 0.6931, "accuracy": 0.5},
               val_logs={"loss": 0.0001})
    out = capsys.readouterr().out
    assert re.fullmatch(rf"32/32 - 0s - {TIME} - accuracy: 0\.5000 - loss: 0\.6931 - "
                        r"val_loss: 1\.0000e-04\n", out)


def test_progbar_logger_auto_verbose_and_unknown_steps(capsys):
    cbs = callbacks.CallbackList(None, add_progbar=True, verbose="auto", epochs=1, steps=None)
    _drive_fit(cbs, epochs=1, steps=4)
    assert re.fullmatch(rf"4/4 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME} - loss: 0\.5000\n",
                        capsys.readouterr().out)


def test_progbar_logger_evaluate_and_predict(capsys):
    cbs = callbacks.CallbackList(None, add_progbar=True, verbose=1, epochs=1, steps=2)
    cbs.on_test_begin()
    for step in range(2):
        cbs.on_test_batch_end(step, {"loss": 0.125})
    cbs.on_test_end({"loss": 0.125})
    cbs.on_predict_begin()
    for step in range(2):
        cbs.on_predict_batch_end(step, {"outputs": np.ones((4, 3))})
    cbs.on_predict_end()
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"2/2 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME} - loss: 0\.1250", lines[0])
    assert re.fullmatch(rf"2/2 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME}", lines[1])
    assert len(lines) == 2


class CountedValue:
    """A device-value stand-in that counts how often it is read on the host."""

    reads = 0
    ndim, shape = 0, ()  # known without a read, as for a jax.Array

    def __init__(self, value):
        self.value = value

    def __array__(self, dtype=None, copy=None):
        CountedValue.reads += 1
        return np.asarray(self.value, dtype=dtype)

    def __float__(self):
        CountedValue.reads += 1
        return float(self.value)


def test_progbar_reads_values_only_when_drawing(capsys, monkeypatch):
    CountedValue.reads = 0
    cbs = callbacks.CallbackList(None, add_history=True, add_progbar=True, verbose=1, epochs=1,
                                 steps=200)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for step in range(200):
        cbs.on_train_batch_begin(step)
        cbs.on_train_batch_end(step, {"loss": CountedValue(0.5)})
    assert CountedValue.reads == 0  # not a terminal: nothing drawn before the epoch ends
    cbs.on_epoch_end(0, {"loss": CountedValue(0.5)})
    assert CountedValue.reads == 1  # epoch logs are converted once, for everyone
    # A live display redraws at most every `interval` seconds, plus the first and final draws.
    monkeypatch.setattr(_progbar, "_dynamic_display", lambda: True)
    CountedValue.reads = 0
    bar = Progbar(200, interval=3600, stateless_metrics=set())
    for step in range(1, 201):
        bar.update(step, [("loss", CountedValue(0.5))])
    assert CountedValue.reads == 2


# -- Progbar ---------------------------------------------------------------------------------------

def test_progbar_live_display_redraws_in_place(capsys, monkeypatch):
    monkeypatch.setattr(_progbar, "_dynamic_display", lambda: True)
    bar = Progbar(4, interval=0.0, stateful_metrics=["loss"])
    for step in (1, 2, 4):
        bar.update(step, [("loss", 0.5)])
    out = capsys.readouterr().out
    frames = out.split("\r")[1:]
    assert len(frames) == 3 and out.endswith("\n") and "\n" not in out[:-1]
    plain = [re.sub(r"\x1b\[\d+m", "", f) for f in frames]
    assert re.fullmatch(rf"1/4 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME} - loss: 0\.5000", plain[0].rstrip())
    assert plain[2].endswith("\n")  # padded with spaces over a longer previous frame
    assert re.fullmatch(rf"4/4 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME} - loss: 0\.5000", plain[2].rstrip())
    assert "\x1b[32m━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━\x1b[0m" in frames[0]  # 5 of 20 done


def test_progbar_averages_stateless_values_weighted_by_steps(capsys):
    bar = Progbar(4, verbose=2)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 4.0)])  # covers 2 steps: (1*1 + 4*2) / 3 = 3
    bar.update(4)
    assert re.fullmatch(rf"4/4 - 0s - {TIME} - loss: 3\.0000\n", capsys.readouterr().out)


def test_progbar_add_and_value_formats(capsys):
    bar = Progbar(2, verbose=1, stateful_metrics=["tiny", "neg"])
    bar.add(1, [("tiny", 5e-5), ("neg", -0.25)])
    bar.add(1, [("tiny", 5e-5), ("neg", -0.25), ("arr", np.array([1.0, 2.0]))])
    assert re.fullmatch(rf"2/2 ━━━━━━━━━━━━━━━━━━━━ 0s {TIME} - tiny: 5\.0000e-05 - "
                        r"neg: -0\.2500 - arr: 1\.5000\n", capsys.readouterr().out)


def test_progbar_unknown_target_and_silent_mode(capsys):
    bar = Progbar(None)
    for step in range(1, 4):
        bar.update(step, [("loss", 0.5)])
    bar.update(3, finalize=True)
    Progbar(3, verbose=0).update(3, [("loss", 1.0)])
    assert re.fullmatch(rf"      3/Unknown 0s {TIME} - loss: 0\.5000\n",
                        capsys.readouterr().out)


def test_progbar_rejects_both_metric_selections():
    with pytest.raises(ValueError, match="not both"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_eta_and_time_formats():
    assert _progbar.format_duration(7.9) == "7s"
    assert _progbar.format_duration(125) == "2:05"
    assert _progbar.format_duration(3725) == "1:02:05"
    assert _progbar.format_time_per_unit(0.002, "step") == " 2ms/step"
    assert _progbar.format_time_per_unit(2e-6, "step") == " 2us/step"
    assert _progbar.format_time_per_unit(1.5, "sample") == " 2s/sample"


# -- parity: the text fit / evaluate / predict print, against Keras ------------------------------

def _normalised(text):
    """The final frame of each printed line, styling removed and durations masked."""
    lines = []
    for line in text.split("\n"):
        frame = re.sub(r"\x1b\[\d+m|\x08", "", line.split("\r")[-1]).rstrip()
        frame = re.sub(r"\d+(s|ms|us)/step", "T/step", frame)
        lines.append(re.sub(r"(\d+/\d+ (- )?(━+ )?)\d+s", r"\1Ns", frame))
    return lines


def test_fit_evaluate_predict_print_what_keras_prints():
    import contextlib
    import io

    import keras

    import kiln

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    printed = []
    for lib in (kiln, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1, activation="sigmoid")])
        model.set_weights([np.full((3, 1), 0.1, "float32"), np.zeros(1, "float32")])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="binary_crossentropy",
                      metrics=["accuracy"])
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            history = model.fit(x, y, batch_size=16, epochs=2, verbose=1, shuffle=False,
                                validation_data=(x[:8], y[:8]))
            model.fit(x, y, batch_size=16, epochs=1, verbose=2, shuffle=False)
            model.evaluate(x, y, verbose=2)
            model.evaluate(x, y, verbose=1)
            model.predict(x, verbose=2)
            model.predict(x, verbose=1)
        printed.append(_normalised(buffer.getvalue()))
        assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert printed[0] == printed[1]
    assert printed[0][0] == "Epoch 1/2" and printed[0][1].startswith("3/3 ━")
    assert len(printed[0]) == 10 and printed[0][4].startswith("3/3 - Ns - T/step - accuracy")
