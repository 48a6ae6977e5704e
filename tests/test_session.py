"""The Session seam (jit, shardings, one per fit), the loop state, and resumable epochs."""

import pathlib

import jax
import numpy as np
import pytest

import kiln
from kiln import layers
from kiln.training import _data, _pipeline, _session, _stream
from kiln.training._session import LoopState, Session, Shardings


def _model(spe=1, seed=0):
    kiln.utils.set_random_seed(seed)
    model = kiln.Sequential([kiln.Input((6,)), layers.Dense(8, activation="relu"),
                             layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=spe)
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(203, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")


def test_one_session_per_fit_with_validation_data(data, monkeypatch):
    x, y = data
    made = []
    original = Session.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Session, "__init__", counting)
    model = _model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x[:50], y[:50]))
    assert len(made) == 1
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_split=0.2)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert len(made) == 1  # still current: reused by later calls


def _shardings(kind):
    device = jax.devices()[0]
    if kind == "single":
        one = jax.sharding.SingleDeviceSharding(device)
    else:
        mesh = jax.sharding.Mesh(np.array([device]), ("batch",))
        one = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    return Shardings(state=one, data=one, out=one)


@pytest.mark.parametrize("kind, spe", [("single", 1), ("mesh", 4)])
def test_shardings_on_one_device_give_the_same_results(data, kind, spe):
    x, y = data
    runs, sessions = [], []
    for shardings in (None, _shardings(kind)):
        model = _model(spe)  # the same seeds: weights, data order, step keys
        model._session = Session(model, shardings=shardings)
        sessions.append(model._session)
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0,
                            validation_data=(x[:64], y[:64])).history
        runs.append((history, model.evaluate(x, y, verbose=0), model.predict(x, verbose=0),
                     model.train_on_batch(x[:16], y[:16])))
    assert [s.model._session is s for s in sessions] == [True, True]  # used, not replaced
    for key in runs[0][0]:
        np.testing.assert_allclose(runs[1][0][key], runs[0][0][key], rtol=1e-6)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-6)
    np.testing.assert_allclose(runs[1][2], runs[0][2], rtol=1e-6)
    np.testing.assert_allclose(runs[1][3], runs[0][3], rtol=1e-6)


def _indices(plan, k, epoch, start=0):
    """The sample indices of each batch of the calls of `plan`'s epoch (padding dropped)."""
    out = []
    for kk, _, idx in plan.epoch(k, epoch, start):
        out += [tuple(row) for row in np.asarray(idx)[:kk]]
    return out


@pytest.mark.parametrize("shuffle", [True, "batch"])
@pytest.mark.parametrize("steps", [None, 5, 30])
def test_an_epoch_from_a_step_is_the_tail_of_the_whole_epoch(data, shuffle, steps):
    x, y = data
    plan = _data.ArrayPlan((x, y, None), 16, shuffle, steps, seed=11)
    for epoch in (0, 3):
        whole = _indices(plan, 1, epoch)
        assert len(whole) == plan.steps
        for start in (0, 1, 4, plan.steps - 1):
            for k in (1, 3, 8):
                assert _indices(plan, k, epoch, start) == whole[start:]
    assert _indices(plan, 1, 0) != _indices(plan, 1, 1)  # each epoch its own order
    again = _data.ArrayPlan((x, y, None), 16, shuffle, steps, seed=11)
    assert _indices(again, 2, 3) == _indices(plan, 1, 3)  # f(seed, epoch) alone


def test_an_iterable_epoch_from_a_step_skips_the_consumed_batches():
    batches = [(np.full((2, 1), i, np.float32), np.zeros(2, np.float32)) for i in range(5)]
    plan = _stream.IterablePlan(batches, steps=None)
    firsts = [float(d[0][j, 0, 0]) for kk, d, _ in plan.epoch(1, 0, start=2) for j in range(kk)]
    assert firsts == [2.0, 3.0, 4.0]


class Where(kiln.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        loop = self.model._session.loop
        self.seen.append((loop.epoch, loop.step, batch))


def test_the_loop_state_follows_the_fit(data):
    x, y = data
    model, where = _model(spe=1), Where()
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[where])
    session = _session.get_session(model)
    assert session.loop.epoch == 3 and session.loop.step == 0
    assert session.loop.seed is not None
    steps = 13  # 12 full batches of 16 and one of 11
    assert where.seen == [(e, b + 1, b) for e in range(3) for b in range(steps)]
    assert session.loop == LoopState(3, 0, session.loop.seed)


def test_the_loop_state_starts_at_initial_epoch_and_counts_fused_steps(data):
    x, y = data
    model = _model(spe=4)
    model.fit(x, y, batch_size=16, epochs=3, initial_epoch=1, verbose=0)
    assert _session.get_session(model).loop[:2] == (3, 0)


def test_loop_state_steps():
    assert LoopState(0, 0, 5).advance(4).advance(1) == LoopState(0, 5, 5)
    assert LoopState(1, 7, 5).next_epoch() == LoopState(2, 0, 5)


def test_nothing_else_in_training_calls_jit():
    root = pathlib.Path(_session.__file__).parent
    callers = sorted(p.name for p in root.glob("*.py") if "jax.jit(" in p.read_text())
    assert callers == ["_session.py"]


def test_fit_converts_and_checks_in_memory_data_once(data, monkeypatch):
    x, y = data
    calls = {"to_arrays": 0, "check_arrays": 0, "is_iterable_source": 0}
    for module, name in ((_data, "to_arrays"), (_pipeline._checks, "check_arrays"),
                         (_stream, "is_iterable_source")):
        original = getattr(module, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            if _name != "to_arrays" or args[1] == "x":
                calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    _model().fit(x.astype("float64"), y, batch_size=16, epochs=1, verbose=0,
                 validation_split=0.25, class_weight={0: 1.0, 1: 2.0, 2: 3.0})
    assert calls == {"to_arrays": 1, "check_arrays": 1, "is_iterable_source": 1}
