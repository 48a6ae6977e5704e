"""`LossScaleOptimizer`: Keras's dynamic loss scaling around another optimizer, kept pure.

The state is a `LossScaleState(inner, step_counter, dynamic_scale)`. The training step takes
the gradients of `scale_loss(loss)` (the loss times the current scale); `apply` checks them:
all finite, it divides them by the scale, runs the inner optimizer and counts the step (the
scale doubles after `dynamic_growth_steps` finite steps in a row); any inf/NaN, it skips the
update (weights and inner state untouched) and halves the scale, as Keras does.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp

from .. import _registry, _serialization
from ._base import Optimizer


class LossScaleState(NamedTuple):
    """The pure state: the inner optimizer's state, the count of finite steps since the
    scale last changed (int32), and the scale (float32)."""

    inner: Any
    step_counter: Any
    dynamic_scale: Any

    @property
    def iterations(self) -> Any:
        return self.inner.iterations

    @property
    def learning_rate(self) -> Any:
        return self.inner.learning_rate


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling (Keras's `keras.optimizers.LossScaleOptimizer`).

    Args:
        inner_optimizer: the optimizer that makes the updates (its `loss_scale_factor` is
            cleared, so the gradients are not scaled twice).
        initial_scale: the starting scale (2**15).
        dynamic_growth_steps: the scale doubles after this many finite steps in a row.
        name: the optimizer's name.

    Example:
        >>> from kiln.optimizers import SGD
        >>> opt = LossScaleOptimizer(SGD(0.1), initial_scale=8.0)
        >>> params = {"w": jnp.ones(2)}
        >>> state = opt.init(params)
        >>> params, state = opt.apply({"w": jnp.array([jnp.inf, 0.0])}, params, state)
        >>> float(state.dynamic_scale), params["w"].tolist()
        (4.0, [1.0, 1.0])
    """

    #: `scale_loss` takes the step's optimizer state (the training step passes it).
    scales_with_state = True

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0 ** 15,
                 dynamic_growth_steps: int = 2000, name: str | None = None, **kwargs: Any):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False` (Keras 3). "
                             "Set `loss_scale_factor` on the inner optimizer instead.")
        _check_base_kwargs(kwargs)
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("LossScaleOptimizer expected a kiln optimizer as inner_optimizer; "
                            f"received {inner_optimizer!r}. Pass e.g. kiln.optimizers.Adam().")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        inner_optimizer.loss_scale_factor = None
        self.use_ema = inner_optimizer.use_ema

    # -- the pure core ----------------------------------------------------------------------
    def init(self, params: Any) -> LossScaleState:
        """The inner optimizer's initial state, a zero counter and the initial scale."""
        return LossScaleState(self.inner_optimizer.init(params), jnp.asarray(0, jnp.int32),
                              jnp.asarray(self.initial_scale, jnp.float32))

    def apply(self, grads: Any, params: Any = None, opt_state: Any = None,
              constraints: dict | None = None) -> Any:
        """One step (pure): `(new_params, new_state)`; see the module docstring."""
        if opt_state is None:
            return self._apply_to_variables(list(grads), params)
        present = [g for g in jax.tree_util.tree_leaves(grads) if g is not None]
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in present]))
        scale = opt_state.dynamic_scale
        unscaled = jax.tree_util.tree_map(lambda g: g / scale.astype(g.dtype), grads)
        inner = self.inner_optimizer

        def step() -> tuple:
            return inner.apply(unscaled, params, opt_state.inner, constraints)

        new_params, new_inner = jax.lax.cond(finite, step,
                                             lambda: _like(jax.eval_shape(step),
                                                           (params, opt_state.inner)))
        grow = opt_state.step_counter == self.dynamic_growth_steps - 1
        counter = jnp.where(finite & ~grow, opt_state.step_counter + 1, 0).astype(jnp.int32)
        factor = jnp.where(finite, jnp.where(grow, 2.0, 1.0), 0.5).astype(jnp.float32)
        return new_params, LossScaleState(new_inner, counter, scale * factor)

    def scale_loss(self, loss: Any, opt_state: Any = None) -> Any:
        """`loss * scale`: the scale of `opt_state` when given (a traced step passes its
        state), else the current one (`initial_scale` before the optimizer is built)."""
        state = opt_state if opt_state is not None else self.state
        scale = self.initial_scale if state is None else state.dynamic_scale
        return loss * jnp.asarray(scale, jnp.float32).astype(jnp.result_type(loss))

    def finalize_params(self, params: Any, opt_state: Any) -> Any:
        return self.inner_optimizer.finalize_params(params, opt_state.inner)

    # -- Keras's stateful surface -----------------------------------------------------------
    def build(self, params: Any) -> None:
        self.inner_optimizer.build(params)
        super().build(params)
        self.state = self.state._replace(inner=self.inner_optimizer.state)

    @property
    def learning_rate(self) -> float:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if not hasattr(self, "inner_optimizer"):  # Optimizer.__init__ sets its own: unused
            return
        self.inner_optimizer.learning_rate = value
        if self.state is not None:
            self.state = self.state._replace(inner=self.inner_optimizer.state)

    @property
    def state(self) -> Any:
        return self._state

    @state.setter
    def state(self, value: Any) -> None:
        self._state = value
        if value is not None and hasattr(self, "inner_optimizer"):
            self.inner_optimizer.state = value.inner

    @property
    def iterations(self) -> jax.Array:
        return self.inner_optimizer.iterations

    @property
    def dynamic_scale(self) -> jax.Array:
        """The current scale (float32)."""
        if self.state is None:
            return jnp.asarray(self.initial_scale, jnp.float32)
        return self.state.dynamic_scale

    @property
    def step_counter(self) -> jax.Array:
        return jnp.asarray(0, jnp.int32) if self.state is None else self.state.step_counter

    @property
    def variables(self) -> list:
        """Keras's order: own iteration and learning rate (unused, 0), step_counter,
        dynamic_scale, then the inner optimizer's variables."""
        own = [jnp.asarray(0, jnp.int32), jnp.asarray(0.0, jnp.float32), self.step_counter,
               self.dynamic_scale]
        return own + list(self.inner_optimizer.variables)

    def set_weights(self, weights: Sequence[Any]) -> None:
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                             "been built. Call `optimizer.build(params)` first.")
        weights = list(weights)
        self.inner_optimizer.set_weights(weights[4:])
        self.state = LossScaleState(self.inner_optimizer.state,
                                    jnp.asarray(weights[2], jnp.int32),
                                    jnp.asarray(weights[3], jnp.float32))

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict:
        return {"name": self.name,
                "inner_optimizer": _serialization.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None
                    ) -> "LossScaleOptimizer":
        config = dict(config)
        inner = _serialization.deserialize(config.pop("inner_optimizer"), "optimizers",
                                           custom_objects, label="optimizer")
        return cls(inner, **config)


def _like(shapes: Any, values: Any) -> Any:
    """`values` cast to the dtypes of `shapes` (both branches of a cond must agree)."""
    return jax.tree_util.tree_map(lambda s, v: jnp.asarray(v, s.dtype), shapes, values)


_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


def _check_base_kwargs(kwargs: dict) -> None:
    """Keras accepts the base arguments at their defaults only (old configs carry them)."""
    for key, default in _BASE_DEFAULTS.items():
        if key in kwargs and kwargs.pop(key) != default:
            raise ValueError(f"LossScaleOptimizer does not support `{key}`; received a "
                             f"non-default value. Set `{key}` on the inner optimizer instead.")
    if kwargs:
        raise ValueError(f"LossScaleOptimizer does not support arguments {sorted(kwargs)}. "
                         "Expected inner_optimizer, initial_scale, dynamic_growth_steps, name.")


_registry.register(LossScaleOptimizer, "optimizers")
