"""`Optimizer`: Keras's optimizer surface over a pure, jittable `init`/`apply` pair.

The pure core is `init(params) -> OptState` and `apply(grads, params, state) ->
(new_params, new_state)`; both work on any pytree of arrays (the trainer passes a flat
`{path: array}` dict) and `apply` runs under `jax.jit`. The learning rate lives in the state
(or is a schedule of the iteration count), so changing it does not recompile. The Keras
shell (`apply_gradients`, `variables`, `learning_rate`, `get_config`, ...) sits on top.
Subclasses provide only the per-variable rule (see `_rules.py`) and their slot names.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import _config
from .._utils import overrides
from . import _pipeline as P
from . import schedules as _schedules
from ._args import auto_name, check_common, check_kwargs
from ._binding import DecayExclusions, LearningRate, VariableBinding, is_schedule
from ._keras_style import KerasStyle
from ._stateful import StatefulSurface
from ._state import OptState, build_order, leaf_names, state_from_list, state_to_list


class Optimizer(KerasStyle, StatefulSurface):
    """Base class of kiln's optimizers (Keras's `BaseOptimizer` arguments and order of work).

    Args:
        learning_rate: a Python float, a `LearningRateSchedule`, or a callable returning the
            rate (called with the iteration count if it takes an argument, else with none).
        weight_decay: if set, decoupled decay `w -= w * weight_decay * lr` before each update.
        clipnorm: clip each gradient tensor to this L2 norm.
        clipvalue: clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: the EMA's momentum (in [0, 1]).
        ema_overwrite_frequency: overwrite the weights with their EMA every N steps.
        loss_scale_factor: gradients are divided by it (see `scale_loss`).
        gradient_accumulation_steps: update every N steps with the mean gradient (N >= 2).
        name: the optimizer's name (default: snake-cased class name, uniquified).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A Keras-style subclass's `build(var_list)` runs on kiln's stand-ins only (see
        `_keras_style`); called by anything else, `build` is kiln's."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("build")
        if own is None or not overrides(cls, "update_step"):
            return

        @functools.wraps(own)
        def build(self: Any, var_list: Any) -> None:
            if self._collecting:
                return own(self, var_list)
            return Optimizer.build(self, var_list)
        cls.build = build

    def __init__(self, learning_rate: Any, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any):
        check_kwargs(type(self), kwargs)
        check_common(clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                     ema_overwrite_frequency, gradient_accumulation_steps)
        self.name = name if name is not None else auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._lr = LearningRate(learning_rate)
        self.state: OptState | None = None
        self._treedef = None  # the structure of the params built on
        self._built_on = None  # (structure, shapes, dtypes, keys) of the params built on
        self._order: list[int] | None = None  # leaf indices in Keras's variable order
        self._keys: list | None = None  # the dict keys built on, in order
        self._binding: VariableBinding | None = None  # for apply_gradients
        self._jit_apply = None
        self._decay_exclusions = DecayExclusions()

    # -- learning rate and iterations ------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The current learning rate as a Python float (a schedule's value at `iterations`).

        Setting a number updates `state` (a jitted `apply` picks it up without recompiling);
        setting a schedule or callable replaces the source. An optimizer created with a
        schedule has no settable rate (TypeError, as Keras).
        """
        if self._lr.schedule is not None:
            return float(self._lr.at(self._raw_iterations()))
        if self.state is not None:
            return float(self.state.learning_rate)
        return self._lr.value

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if is_schedule(value):
            self._lr = LearningRate(value)
            self._jit_apply = None
            return
        if self._lr.schedule is not None:
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` (or callable) as its "
                "`learning_rate`, hence its learning rate is not settable. Create the optimizer "
                "with a float `learning_rate` if you need to set it.")
        self._lr.value = float(np.float32(value))
        if self.state is not None:
            self.state = self.state._replace(
                learning_rate=jnp.asarray(value, dtype=_config.floatx()))

    def _raw_iterations(self) -> jax.Array:
        if self.state is None:
            return jnp.asarray(0, jnp.int32)
        return self.state.iterations

    @property
    def iterations(self) -> jax.Array:
        """The number of updates so far (int32); with gradient accumulation, real updates
        only (`raw_count // gradient_accumulation_steps`, as Keras)."""
        if self._step_now is not None:  # inside a Keras-style update_step
            return self._step_now
        it = self._raw_iterations()
        if self.gradient_accumulation_steps:
            return it // self.gradient_accumulation_steps
        return it

    # -- hooks for subclasses ---------------------------------------------------------------
    def _slot_groups(self) -> tuple[tuple[str, ...], ...]:
        """Slot names, grouped as Keras creates them (names in a group interleave per
        variable in `variables`)."""
        return self._groups if self.keras_style() else ()

    def _init_slot(self, name: str, w: jax.Array) -> jax.Array:
        if self.keras_style():
            return self._keras_init_slot(name, w)
        return jnp.zeros(w.shape, w.dtype)

    def _init_shared(self, leaves: list) -> dict:
        return {}

    def _update_shared(self, shared: dict, step: Any) -> dict:
        return shared

    def _update_var(self, g: Any, w: Any, slots: dict, lr: Any, step: Any, shared: dict
                    ) -> tuple[Any, dict]:
        raise NotImplementedError(
            f"{type(self).__name__} must implement Keras's `update_step(gradient, variable, "
            "learning_rate)` (with its slots made in `build`), or kiln's `_update_var(g, w, "
            "slots, lr, step, shared)` and `_slot_groups()`.")

    def _own_config(self) -> dict:
        return {}

    # -- pure core ------------------------------------------------------------------------
    def init(self, params: Any) -> OptState:
        """The initial state for `params` (pure: the optimizer object is not changed).

        Args:
            params: a pytree of arrays (the trainer passes `{path: array}`).

        Returns:
            An `OptState` with iterations 0, the learning rate and zero-initialised slots.
        """
        leaves, treedef = jax.tree_util.tree_flatten(params)
        # Strongly typed copies: a weakly typed slot would change type after one step and
        # make a jitted step (or a scan carry) retrace.
        leaves = [jnp.asarray(w, dtype=jnp.result_type(w)) for w in leaves]
        if self.keras_style():
            self._discover_once(leaves, leaf_names(params))
        slots = {name: treedef.unflatten([self._init_slot(name, w) for w in leaves])
                 for group in self._slot_groups() for name in group}
        zeros = treedef.unflatten([jnp.zeros(w.shape, w.dtype) for w in leaves])
        it = jnp.asarray(0, jnp.int32)
        lr = self._lr.at(it) if self._lr.schedule is not None else self._lr.value
        return OptState(iterations=it, learning_rate=jnp.asarray(lr, _config.floatx()),
                        slots=slots, shared=self._init_shared(leaves),
                        # Keras starts the averages at 0; the first update sets them to w.
                        ema=zeros if self.use_ema else None,
                        accumulators=zeros if self.gradient_accumulation_steps else None)

    def apply(self, grads: Any, params: Any = None, opt_state: OptState | None = None,
              constraints: dict | None = None) -> Any:
        """One optimizer step, pure and jittable: `(new_params, new_state)`.

        Keras's order: unscale (`loss_scale_factor`) -> accumulate -> clip -> weight decay
        -> update rule -> EMA -> constraints; then `iterations += 1`. A `None` gradient
        leaves its variable and slots untouched (Keras warns and skips it).

        Args:
            grads: a pytree like `params` (leaves may be None).
            params: the current values.
            opt_state: the state from `init` or the previous `apply`.
            constraints: optional `{path or leaf: callable}` applied after the update, as
                Keras applies variable constraints (keys as in `params` when it is a dict).

        Returns:
            `(new_params, new_state)`. (Called Keras-style as `apply(grads, variables)` with
            no state, it updates the variables in place instead; see `apply_gradients`.)
        """
        if opt_state is None:
            return self._apply_to_variables(list(grads), params)
        leaves, treedef = jax.tree_util.tree_flatten(params)
        g = self._present_grads(treedef.flatten_up_to(grads), leaves, params)
        step = opt_state.iterations
        if self.gradient_accumulation_steps:
            step = step // self.gradient_accumulation_steps
        lr = self._lr.for_update(opt_state.iterations, opt_state.learning_rate)
        if self.loss_scale_factor is not None:
            g = [None if x is None else x / self.loss_scale_factor for x in g]
        new_leaves, state = self._step(g, leaves, treedef, opt_state, lr, step)
        if self.use_ema:
            new_leaves, state = self._ema(new_leaves, treedef, state, step)
        new_params = treedef.unflatten(new_leaves)
        if constraints:
            new_params = _apply_constraints(new_params, constraints)
        return new_params, state._replace(iterations=opt_state.iterations + 1,
                                          learning_rate=jnp.asarray(lr, _config.floatx()))

    def _present_grads(self, g: list, leaves: list, params: Any) -> list:
        missing = [n for n, x in zip(leaf_names(params), g) if x is None]
        if len(missing) == len(leaves):
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          "loss. If using `model.compile()`, did you forget to provide a `loss` "
                          "argument?", stacklevel=3)
        return g

    def _step(self, g, leaves, treedef, state, lr, step):
        """Accumulate, clip, decay and run the rule on every variable with a gradient."""
        k = self.gradient_accumulation_steps
        accs = None
        if k:
            is_update = (state.iterations + 1) % k == 0
            g, accs = P.accumulate(g, treedef.flatten_up_to(state.accumulators), is_update, k)
        g = P.clip_gradients(g, self.clipnorm, self.clipvalue, self.global_clipnorm)
        use_decay = [self._decay_exclusions.decays(n)
                     for n in leaf_names(treedef.unflatten(leaves))]
        decayed = P.decay_weights(leaves, g, use_decay, self.weight_decay, lr)
        names = list(state.slots)
        slots = {n: treedef.flatten_up_to(state.slots[n]) for n in names}
        shared = self._update_shared(dict(state.shared), step) if state.shared else {}
        new_leaves = list(decayed)
        for i, gi in enumerate(g):
            if gi is None:
                continue
            own = {n: slots[n][i] for n in names}
            if self.keras_style():
                new_leaves[i], updated = self._keras_update(i, gi, decayed[i], own, lr, step)
            else:
                new_leaves[i], updated = self._update_var(gi, decayed[i], own, lr, step, shared)
            for n in names:
                slots[n][i] = updated[n]
        if k:  # Keras's JAX backend computes the update, then keeps it on update steps only.
            new_leaves = P.select(is_update, new_leaves, leaves)
            slots = {n: P.select(is_update, slots[n], treedef.flatten_up_to(state.slots[n]))
                     for n in names}
            shared = {n: jnp.where(is_update, v, state.shared[n]) for n, v in shared.items()}
        state = state._replace(
            slots={n: treedef.unflatten(slots[n]) for n in names}, shared=shared,
            accumulators=None if accs is None else treedef.unflatten(accs))
        return new_leaves, state

    def _ema(self, leaves, treedef, state, step):
        averages = P.ema_update(treedef.flatten_up_to(state.ema), leaves, step,
                                self.ema_momentum)
        if self.ema_overwrite_frequency:
            overwrite = (step + 1) % self.ema_overwrite_frequency == 0
            leaves = P.select(overwrite, averages, leaves)
        return leaves, state._replace(ema=treedef.unflatten(averages))

    def exclude_from_weight_decay(self, var_list: Iterable[Any] | None = None,
                                  var_names: Sequence[str] | None = None) -> None:
        """Excludes variables from weight decay: those in `var_list` (Variables or paths) and
        those whose short name contains (regex search) any string of `var_names`."""
        self._decay_exclusions = DecayExclusions(var_list, var_names)
        self._jit_apply = None

    def finalize_params(self, params: Any, opt_state: OptState) -> Any:
        """The final weights: the EMA if `use_ema`, else `params` unchanged (pure)."""
        return opt_state.ema if self.use_ema else params

    def scale_loss(self, loss: Any) -> Any:
        """`loss * loss_scale_factor` when set (take gradients of this)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def as_optax(self) -> optax.GradientTransformation:
        """This optimizer as an optax `GradientTransformation` (updates are
        `new_params - params`; `update` needs `params`)."""
        def update(grads, state, params=None):
            if params is None:
                raise ValueError(f"{type(self).__name__}.as_optax().update needs `params`.")
            new, state = self.apply(grads, params, state)
            return jax.tree_util.tree_map(lambda n, p: n - p, new, params), state
        return optax.GradientTransformation(self.init, update)

    # -- Keras's stateful surface ---------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.state is not None and not self._collecting

    def build(self, params: Any) -> None:
        """Sets `state = init(params)` for a `{path: array}` dict (or any pytree) or, as in
        Keras, a list of Variables. Building again on the same structure (paths, shapes,
        dtypes) is a no-op, as in Keras; a different structure starts a fresh state."""
        if self._collecting:  # a Keras-style subclass's super().build(var_list)
            return
        binding = None
        if isinstance(params, (list, tuple)) and all(hasattr(v, "assign") for v in params):
            binding = VariableBinding(params)
            params = binding.params()
        signature = _signature(params)
        if self.built and signature == self._built_on:
            return
        self._built_on, self._binding = signature, binding
        self._treedef = jax.tree_util.tree_structure(params)
        self._keys = list(params) if isinstance(params, dict) else None
        self._order = build_order(params)
        # One compiled program rather than an eager op (and a compile) per slot shape.
        self.state = jax.jit(self.init)(params)

    def _layout(self) -> tuple[list[int], tuple, bool]:
        order = self._order
        if order is None:  # the state came from `init` directly: use jax's leaf order
            per_var = [t for t in (self.state.ema, self.state.accumulators,
                                   *self.state.slots.values()) if t is not None]
            order = list(range(len(jax.tree_util.tree_leaves(per_var[0])))) if per_var else []
        return order, self._slot_groups(), self._lr.schedule is None

    @property
    def variables(self) -> list:
        """The optimizer's variables as arrays, in Keras's saved order: iteration,
        learning_rate (absent with a schedule), then the slots (e.g. m_0, v_0, m_1, ...)."""
        if self.state is None:
            it = jnp.asarray(0, jnp.int32)
            lr = jnp.asarray(self._lr.value or 0.0, _config.floatx())
            return [it] if self._lr.schedule is not None else [it, lr]
        return state_to_list(self.state, *self._layout())

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the state from a list ordered like `variables` (the optimizer must be built)."""
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                             "been built. Call `optimizer.build(params)` first.")
        self.state = state_from_list(list(weights), self.state, *self._layout())

    def save_own_variables(self, store: dict) -> None:
        """Writes `variables` into `store` as `{"0": array, "1": ...}` (Keras's layout)."""
        for i, value in enumerate(self.variables):
            store[str(i)] = np.asarray(value)

    def load_own_variables(self, store: dict) -> None:
        """Reads what `save_own_variables` wrote; warns and skips on a count mismatch."""
        if len(store.keys()) != len(self.variables):
            warnings.warn(f"Skipping variable loading for optimizer '{self.name}', because it "
                          f"has {len(self.variables)} variables whereas the saved optimizer has "
                          f"{len(store.keys())} variables.", stacklevel=2)
            return
        self.set_weights([store[str(i)] for i in range(len(store.keys()))])

    def get_config(self) -> dict:
        """Keras's optimizer config (the learning rate as a float or a serialized schedule)."""
        lr = self.learning_rate if self._lr.schedule is None else self._lr.config()
        config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                  "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                  "ema_momentum": self.ema_momentum,
                  "ema_overwrite_frequency": self.ema_overwrite_frequency,
                  "loss_scale_factor": self.loss_scale_factor,
                  "gradient_accumulation_steps": self.gradient_accumulation_steps}
        config.update(self._own_config())
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        """The inverse of `get_config`."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"],
                                                             custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        lr = repr(self._lr.schedule) if self._lr.schedule is not None else f"{self.learning_rate:g}"
        return (f"<{type(self).__name__} name={self.name!r} learning_rate={lr} "
                f"iterations={int(self.iterations)}>")


def _apply_constraints(params: Any, constraints: dict) -> Any:
    if isinstance(params, dict):
        return {k: constraints[k](v) if constraints.get(k) else v for k, v in params.items()}
    return jax.tree_util.tree_map(lambda v, c: c(v) if c else v, params, constraints)



def _signature(params: Any) -> tuple:
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = tuple(params) if isinstance(params, dict) else None
    return treedef, keys, tuple((jnp.shape(x), jnp.result_type(x)) for x in leaves)
