"""Moving values between the model's objects and a `TrainState`, and the compiled functions.

During fit the values live in one TrainState on the device. They are written back into the
layers, the optimizer and the metrics at epoch end and whenever a callback reads
`self.model` (then read again, so that a callback's changes take effect).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from .. import _random
from .._utils import overrides
from ..distribution import _placement
from .._types import PyTree
from ._custom_step import CustomSteps, check_step_overrides, metric_entries, overridden_steps
from ._steps import Runner, TrainState


class Shardings(NamedTuple):
    """Where the compiled functions place their values: `jax.sharding.Sharding` pytrees (or
    prefixes of them, e.g. one Sharding for the whole TrainState) handed to `jax.jit`.

    Fields:
        state: the TrainState (inputs and outputs of the train/test steps).
        data: a call's data and its index block.
        out: the logs of the train/test steps and the predict outputs.

    Example:
        >>> import jax
        >>> one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
        >>> Shardings(state=one, data=one, out=one).state is one
        True
    """

    state: PyTree = None
    data: PyTree = None
    out: PyTree = None


class LoopState(NamedTuple):
    """Where a fit is: the epoch index, the batches consumed so far in that epoch, and the seed
    of the data order (epoch e's permutation is derived from `(seed, e)` alone; None for
    generators, whose order is their own).

    Example:
        >>> LoopState(epoch=2, step=5, seed=7).advance(3)
        LoopState(epoch=2, step=8, seed=7)
        >>> LoopState(epoch=2, step=8, seed=7).next_epoch()
        LoopState(epoch=3, step=0, seed=7)
    """

    epoch: int = 0
    step: int = 0
    seed: int | None = None

    def advance(self, steps: int) -> "LoopState":
        """After a compiled call that ran `steps` batches."""
        return self._replace(step=self.step + int(steps))

    def next_epoch(self) -> "LoopState":
        """At an epoch's end."""
        return self._replace(epoch=self.epoch + 1, step=0)


def _copy(tree: Any) -> Any:
    # Steps donate their input state; the objects must keep buffers of their own. A plain
    # device-to-device copy: no per-shape program to compile, unlike jnp.array(copy=True).
    # Across processes each array keeps its own sharding (kiln.distribution).
    return _placement.copy(tree)


def _unique_paths(variables: list[Any], model: Any) -> None:
    seen: dict[str, Any] = {}
    for v in variables:
        if v.path in seen and seen[v.path] is not v:
            raise ValueError(
                f"Two weights of model '{model.name}' share the path '{v.path}'. Give the layers "
                "unique names (layer names must be unique within a model)."
            )
        seen[v.path] = v


def _jit(fn: Callable, shardings: Shardings | None, ins: tuple, out: Any,
         **kwargs: Any) -> Callable:
    """`jax.jit(fn)`, placed by `shardings` when given (without them: today's plain jit)."""
    if shardings is None:
        return jax.jit(fn, **kwargs)
    return jax.jit(fn, in_shardings=ins, out_shardings=out, **kwargs)


class Session:
    """One model's compiled step functions plus the state they are currently working on.

    The one place in `kiln.training` that calls `jax.jit`: the train, test and predict calls
    and the lowering that "auto" steps_per_execution reads the cost of. `shardings` (optional)
    places their inputs and outputs; `loop` records where a fit is (see `LoopState`).
    """

    def __init__(self, model: Any, shardings: Shardings | None = None):
        check_step_overrides(model)
        self.model = model
        trainable = model.trainable_weights
        non_trainable = model.non_trainable_variables
        _unique_paths(trainable + non_trainable, model)
        self.runner = Runner(model, trainable, non_trainable)
        self.signature = self._signature()
        self.shardings = shardings
        self._build_functions(shardings)
        self.ts: TrainState | None = None
        self.loop = LoopState()
        self.dirty = False
        self.auto_k: dict = {}  # steps_per_execution="auto", by example batch shapes

    def _build_functions(self, sh: Shardings | None) -> None:
        runner = self.runner
        state, data, out = (sh.state, sh.data, sh.out) if sh is not None else (None,) * 3
        steps_io = ((state, data, data, None), (state, out))
        # A user's train_step / test_step / predict_step override (Keras's JAX form) runs in
        # place of kiln's own step, in the same fused loop.
        custom, own = CustomSteps(runner), overridden_steps(self.model)
        mine = runner.own_metrics  # a compute_metrics override: the built-in step gives logs
        # A class that lists its own `metrics` (a tracker it updates in compute_loss) logs
        # those, as Keras does: Keras's own step form (the model's default train_step) runs.
        keras_form = _lists_own_metrics(self.model)
        train = (custom.train_step, True) if "train_step" in own or keras_form \
            else (runner.train_step, mine)
        test = (custom.test_step, True) if "test_step" in own or keras_form \
            else (runner.test_step, mine)
        predict = custom.predict_step if "predict_step" in own else None
        self.train_fn = _jit(runner.multi(*train), sh, *steps_io, donate_argnums=0)
        self.test_fn = _jit(runner.multi(*test), sh, *steps_io)
        self.predict_fn = _jit(runner.multi_predict(predict), sh, (state, data, data), out)
        self._predict_step = _jit(runner.predict_step, sh, (state, data), out)

    def lower_predict(self, ts: TrainState, x: PyTree) -> Any:
        """The forward pass lowered for `x` (its cost analysis picks steps_per_execution)."""
        return self._predict_step.lower(ts, x)

    def _signature(self) -> tuple:
        return (tuple(v.path for v in self.model.trainable_weights),
                tuple(v.path for v in self.model.non_trainable_variables),
                id(self.model._compiled), id(_placement.distribution()))

    def is_current(self) -> bool:
        return self.signature == self._signature()

    # -- objects -> state -----------------------------------------------------------------------
    def gather(self, fresh_metrics: bool, with_optimizer: bool = True,
               copy: bool = True) -> TrainState:
        """The objects' values as a TrainState. `copy=False` shares the objects' buffers:
        only for state that is read (tracing, prediction), never donated."""
        runner = self.runner
        own = _copy if copy else (lambda tree: tree)
        params = own({p: v.value for p, v in runner.trainable.items()})
        state = own({p: v.value for p, v in runner.non_trainable.items()})
        opt_state = None
        spec = self.model._compiled
        if with_optimizer and spec is not None:
            opt = spec.optimizer
            if opt.state is None or not _same_structure(opt.state, jax.eval_shape(opt.init, params)):
                # In the model's variable order (jax returns dicts sorted by key): Keras lists
                # the optimizer's slots in `model.trainable_variables` order.
                opt.build({p: params[p] for p in runner.trainable})
            opt_state = _copy(opt.state)
        metric_state = self.metric_state(fresh=fresh_metrics) if spec is not None else {}
        ts = TrainState(params, state, opt_state, metric_state,
                        jax.random.key_data(_random.make_key()))
        # kiln.distribution: laid out over the global distribution's mesh (else unchanged).
        return _placement.place_state(ts, {**runner.trainable, **runner.non_trainable})

    def metric_state(self, fresh: bool) -> dict:
        out = {}
        for name, m in metric_entries(self.model):
            out[name] = m.stateless_init() if fresh else _copy(
                {k: v.value for k, v in m._state_items()})
        return out

    # -- state -> objects -----------------------------------------------------------------------
    def scatter(self, ts: TrainState, metrics: bool = True) -> None:
        runner = self.runner
        for p, v in runner.trainable.items():
            v._value = _copy(ts.params[p])
        for p, v in runner.non_trainable.items():
            v._value = _copy(ts.state[p])
        spec = self.model._compiled
        if spec is not None and ts.opt_state is not None:
            spec.optimizer.state = _copy(ts.opt_state)
        if metrics and spec is not None:
            for name, m in metric_entries(self.model):
                state = ts.metric_state.get(name)
                if state is not None:
                    for key, var in m._state_items():
                        var._value = _copy(state[key])

    def sync_for_callback(self) -> None:
        """A callback is about to read the model: write the live state into the objects."""
        if self.ts is not None and not self.dirty:
            self.scatter(self.ts)
            self.dirty = True

    def refresh(self) -> None:
        """After callbacks ran: read back what they may have changed."""
        if self.dirty and self.ts is not None:
            key = self.ts.key
            self.ts = self.gather(fresh_metrics=False)._replace(key=key)
        self.dirty = False


def _lists_own_metrics(model: Any) -> bool:
    """Whether the model's class overrides the `metrics` property (kiln's carries a mark)."""
    return overrides(model, "metrics")


def _same_structure(a: Any, b: Any) -> bool:
    sa, sb = jax.tree_util.tree_structure(a), jax.tree_util.tree_structure(b)
    if sa != sb:
        return False
    return all(jnp.shape(x) == jnp.shape(y) for x, y in
               zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def get_session(model: Any) -> Session:
    session = getattr(model, "_session", None)
    if session is None or not session.is_current():
        session = Session(model)
        model._session = session
    return session
