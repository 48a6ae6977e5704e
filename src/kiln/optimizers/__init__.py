"""Keras's optimizers on JAX: the same names, arguments, defaults and update rules.

Each optimizer is a pure, jittable pair `init(params) -> state` and
`apply(grads, params, state) -> (params, state)` (also available as an optax
`GradientTransformation` through `as_optax()`), under Keras's stateful surface
(`apply_gradients`, `learning_rate`, `iterations`, `variables`, `get_config`).

Example:
    >>> import jax.numpy as jnp
    >>> from kiln import optimizers
    >>> opt = optimizers.get("adam")
    >>> params = {"w": jnp.ones(3)}
    >>> state = opt.init(params)
    >>> params, state = opt.apply({"w": jnp.ones(3)}, params, state)
    >>> int(state.iterations)
    1
"""

from . import schedules as schedules
from ._base import Optimizer
from ._extra import Adafactor, Adamax, Ftrl, Lamb, Lion
from ._get import deserialize, get, serialize
from ._loss_scale import LossScaleOptimizer
from ._optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop
from ._state import OptState

__all__ = ["Optimizer", "OptState", "SGD", "RMSprop", "Adam", "AdamW", "Adadelta", "Adagrad",
           "Nadam", "Adamax", "Lion", "Ftrl", "Lamb", "Adafactor", "LossScaleOptimizer", "get",
           "serialize", "deserialize", "schedules"]
