"""The compiled loop: how many steps a call runs, what it compiles, what callbacks see."""

import numpy as np
import pytest

import kiln
from kiln import layers
from kiln.training import _loop
from kiln.training._session import get_session


def _model(dropout=0.0, spe="auto"):
    kiln.utils.set_random_seed(0)
    stack = [kiln.Input((6,)), layers.Dense(8, activation="relu")]
    stack += [layers.Dropout(dropout)] if dropout else []
    model = kiln.Sequential(stack + [layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=spe)
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(203, 6)).astype("float32")  # 203 = 12 batches of 16 + 11
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")


class Steps(kiln.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begins, self.ends = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.begins.append(batch)

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append((batch, round(float(logs["loss"]), 6)))


def _auto_k(model, x, y, verbose, callbacks=None, steps=13):
    session = get_session(model)
    cbs = kiln.callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                      model=model, verbose=verbose, epochs=1, steps=steps)
    ts = session.gather(fresh_metrics=True)
    return _loop._steps_per_execution(model, session, ts, x[:16], steps, cbs)


def test_auto_runs_the_epoch_in_few_calls_when_nothing_reads_batch_logs(data, monkeypatch):
    x, y = data
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert _auto_k(model, x, y, verbose=0) == 8                  # largest power of 2 <= 13
    assert _auto_k(model, x, y, verbose=0, steps=1000) == _loop.AUTO_MAX_STEPS
    # A live progress bar: about AUTO_CALL_SECONDS of estimated work per call.
    monkeypatch.setattr(_loop, "AUTO_CALL_SECONDS", 1e-12)
    assert _auto_k(model, x, y, verbose=1) == 1
    # A callback with batch hooks sees every batch.
    assert _auto_k(model, x, y, verbose=0, callbacks=[Steps()]) == 1


def test_batch_hooks_fire_once_per_call_with_the_last_steps_logs(data):
    """Keras's rule for steps_per_execution=k: begin(first step), end(last step, its logs)."""
    x, y = data
    fused, single = Steps(), Steps()
    _model(spe=5).fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                      callbacks=[fused])
    _model(spe=1).fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                      callbacks=[single])
    assert fused.begins == [0, 5, 10, 12]  # 12 full batches: 5 + 5 + 2, then the partial one
    assert [b for b, _ in fused.ends] == [4, 9, 11, 12]
    # The logs at the end of each call are those of k=1 after the same step.
    by_step = dict(single.ends)
    for step, loss in fused.ends:
        assert loss == pytest.approx(by_step[step], rel=1e-5)


def test_a_partial_last_batch_costs_one_compile_per_fit(data):
    x, y = data
    model = _model(spe=4)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    train_fn = get_session(model).train_fn
    assert train_fn._cache_size() == 2  # the [4, 16] calls and the one [1, 11] call
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert train_fn._cache_size() == 2  # a second fit compiles nothing


def test_evaluate_and_predict_agree_for_any_k(data):
    x, y = data
    model = _model(spe=1)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    weights = model.get_weights()
    results = []
    for spe in (1, 3, "auto"):
        other = _model(spe=spe)
        other.set_weights(weights)
        results.append((other.evaluate(x, y, batch_size=16, verbose=0),
                        other.predict(x, batch_size=16, verbose=0)))
    for ev, pred in results[1:]:
        np.testing.assert_allclose(ev, results[0][0], rtol=1e-6)
        np.testing.assert_allclose(pred, results[0][1], rtol=1e-6)


def test_the_step_key_advances_only_for_models_that_draw_from_it(data):
    x, y = data
    for dropout, advances in ((0.0, False), (0.5, True)):
        model = _model(dropout=dropout)
        model.fit(x[:16], y[:16], batch_size=16, epochs=1, verbose=0)
        session = get_session(model)
        ts = session.gather(fresh_metrics=True)
        batch = (x[:16], y[:16], None)
        after = session.runner.train_step(ts, batch)
        assert (not np.array_equal(np.asarray(after.key), np.asarray(ts.key))) == advances
        if advances:  # the same weights under the next key draw another dropout mask
            again = session.runner.train_step(ts._replace(key=after.key), batch)
            loss = lambda t: float(np.asarray(t.metric_state["loss"]["total"]))
            assert loss(again) != loss(after)


def test_dropout_training_is_reproducible_with_a_seed(data):
    x, y = data
    runs = [_model(dropout=0.5).fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_auto_keeps_a_streamed_calls_batches_small(data, monkeypatch):
    """Host-prepared calls stack their batches: "auto" caps them at STREAM_CALL_BYTES."""
    from kiln.training import _data

    x, y = data
    model = _model()
    plan = _data.ArrayPlan((x, y, None), 16, False, None, seed=0)
    example = (x[:16], y[:16], None)
    batch_bytes = x[:16].nbytes + y[:16].nbytes
    monkeypatch.setattr(_loop, "STREAM_CALL_BYTES", 4 * batch_bytes)
    assert _loop._stream_cap(plan, example, 64, model) == 64       # on the device: no cap
    plan.on_device = False
    assert _loop._stream_cap(plan, example, 64, model) == 4
    assert _loop._stream_cap(plan, example, 64, _model(spe=64)) == 64  # explicit: honoured


@pytest.mark.parametrize("source", ["arrays", "generator"])
def test_static_trip_count_trains_as_the_dynamic_loop(data, monkeypatch, source):
    """GPUs and TPUs loop over exactly a call's steps (the host trims a short call's padding);
    the CPU loops a dynamic n_valid times. Both train the same weights and logs."""
    from kiln.training import _steps
    x, y = data

    def fit():
        model = _model(spe=5)  # 12 full batches: calls of 5, 5 and a trimmed 2, then the rest
        feed = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 192, 16))
        args = (x, y) if source == "arrays" else (feed,)
        hist = model.fit(*args, batch_size=16 if source == "arrays" else None, epochs=1,
                         verbose=0, shuffle=False)
        return model.get_weights(), hist.history["loss"]

    dynamic = fit()
    monkeypatch.setattr(_steps, "static_trip_count", lambda: True)
    static = fit()
    assert static[1] == pytest.approx(dynamic[1], rel=1e-6)
    for a, b in zip(static[0], dynamic[0]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
