"""JaxLayer (a layer around a pure JAX function and its parameters) and FlaxLayer (around a
`flax.linen.Module`), with Keras 3's arguments, signatures and config keys.

`call_fn` takes some of `params`, `state`, `rng`, `inputs`, `training` (by these names, in any
order; `inputs` required). The leaves of `params` become trainable weights and those of
`state` non-trainable ones, so `fit` trains them and a stateful `call_fn` (returning
`(outputs, new_state)`) updates the state inside the compiled step. `init_fn(rng, inputs,
training)` (same naming rule) creates them at build time from placeholder inputs of ones,
when `params` / `state` are not given.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random, _serialization
from .._variables import Variable
from ..random import SeedGenerator
from ._layer import Layer

try:  # FlaxLayer needs flax; JaxLayer does not.
    import flax.linen as _linen
except ImportError:  # pragma: no cover - depends on the environment
    _linen = None

_CALL_ARGS = ("params", "state", "rng", "inputs", "training")
_INIT_ARGS = ("rng", "inputs", "training")


def _arguments(fn: Callable, label: str, allowed: tuple[str, ...]) -> list[str]:
    """The parameter names of `fn`, checked against Keras's allowed names."""
    names = list(inspect.signature(fn).parameters)
    if "inputs" not in names:
        raise ValueError(f"JaxLayer {label} must take an argument named `inputs`; received a "
                         f"function with arguments {names}.")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"JaxLayer {label} has unsupported argument(s) {unknown}; its "
                         f"arguments must be named among {list(allowed)}. Wrap the function "
                         "to rename them.")
    return names


def _is_shape(s: Any) -> bool:
    return isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s)


def _is_variable(x: Any) -> bool:
    return isinstance(x, Variable)


class JaxLayer(Layer):
    """Wraps a pure JAX model function (and its parameters) as a layer.

    Args:
        call_fn: `fn(params?, state?, rng?, inputs, training?)` returning the outputs, or
            `(outputs, new_state)` when it takes `state`.
        init_fn: `fn(rng?, inputs, training?)` returning the initial `params`, or
            `(params, state)` when `call_fn` takes `state`; called at build time with ones
            shaped like the inputs (unknown dimensions as 1) and `training=True`.
        params: a pytree of initial trainable values (instead of `init_fn`).
        state: a pytree of initial non-trainable values.
        seed: the seed of the generator behind `call_fn`'s `rng` (a uint32 key of shape
            (2,) in training, None in inference, as Keras passes it).
        native_serialization_platforms: Keras's jax2tf option (TensorFlow backend only);
            kept in the config, otherwise unused.

    Array leaves (and Python numbers) become weights: floating ones in the layer's dtype,
    others in their own dtype. Other leaves are passed through unchanged.

    Example:
        >>> def call_fn(params, inputs):
        ...     return inputs @ params["w"] + params["b"]
        >>> layer = JaxLayer(call_fn, params={"w": np.ones((3, 2)), "b": np.zeros(2)})
        >>> layer(jnp.ones((4, 3))).shape, len(layer.trainable_weights)
        ((4, 2), 2)
    """

    def __init__(self, call_fn: Callable, init_fn: Callable | None = None, params: Any = None,
                 state: Any = None, seed: int | None = None,
                 native_serialization_platforms: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.call_fn, self.init_fn, self.seed = call_fn, init_fn, seed
        self.native_serialization_platforms = native_serialization_platforms
        self.call_fn_arguments = _arguments(call_fn, "call_fn", _CALL_ARGS)
        self.call_fn_has_params = "params" in self.call_fn_arguments
        self.call_fn_has_state = "state" in self.call_fn_arguments
        self.seed_generator = SeedGenerator(seed) if "rng" in self.call_fn_arguments else None
        if init_fn is None and params is None and state is None and (
                self.call_fn_has_params or self.call_fn_has_state):
            raise ValueError("JaxLayer: `init_fn`, `params` and `state` cannot all be None when "
                             "`call_fn` takes `params` or `state`. Pass the initial values, or "
                             "an init_fn(rng, inputs) that returns them.")
        self.init_fn_arguments = _arguments(init_fn, "init_fn", _INIT_ARGS) if init_fn else []
        self.params = self._create_variables(params, trainable=True)
        self.state = self._create_variables(state, trainable=False)
        if self.params is not None or self.state is not None:
            self.built = True

    def _create_variables(self, values: Any, trainable: bool) -> Any:
        """`values` with each array or number leaf replaced by a new weight."""
        def make(value: Any) -> Any:
            if isinstance(value, (np.ndarray, np.generic, jax.Array, bool, int, float)):
                array = jnp.asarray(value)
                floating = jnp.issubdtype(array.dtype, jnp.floating)
                dtype = None if floating else array.dtype.name
                with jax.ensure_compile_time_eval():
                    return self.add_weight(array.shape, array, dtype=dtype, trainable=trainable)
            return value
        return None if values is None else jax.tree_util.tree_map(make, values)

    def _init_rng(self) -> Any:
        """The `rng` given to `init_fn`: a uint32 key from kiln's global stream."""
        return jax.random.key_data(_random.make_key())

    def _call_rng(self, training: bool) -> Any:
        """The `rng` given to `call_fn`: the next key of the layer's generator in training."""
        return self.seed_generator.next() if training else None

    def _init_args(self, input_shape: Any) -> list[Any]:
        inputs = jax.tree_util.tree_map(
            lambda s: jnp.ones([1 if d is None else d for d in s]), input_shape,
            is_leaf=_is_shape)
        values = {"rng": lambda: self._init_rng(), "inputs": lambda: inputs,
                  "training": lambda: True}
        return [values[name]() for name in self.init_fn_arguments]

    def build(self, input_shape: Any) -> None:
        if self.params is not None or self.state is not None:
            return
        if not (self.call_fn_has_params or self.call_fn_has_state):
            return
        result = self.init_fn(*self._init_args(input_shape))
        params, state = result if self.call_fn_has_state else (result, None)
        self.params = self._create_variables(params, trainable=True)
        self.state = self._create_variables(state, trainable=False)

    def _values(self, tree: Any) -> Any:
        return jax.tree_util.tree_map(lambda v: v.value if _is_variable(v) else v, tree,
                                      is_leaf=_is_variable)

    def call(self, inputs: Any, training: bool | None = False) -> Any:
        training = bool(training)
        values = {"params": lambda: self._values(self.params),
                  "state": lambda: self._values(self.state),
                  "rng": lambda: self._call_rng(training), "inputs": lambda: inputs,
                  "training": lambda: training}
        outputs = self.call_fn(*[values[name]() for name in self.call_fn_arguments])
        if not self.call_fn_has_state:
            return outputs
        outputs, new_state = outputs
        jax.tree_util.tree_map(self._assign_state, new_state, self.state, is_leaf=_is_variable)
        return outputs

    def _assign_state(self, value: Any, variable: Any) -> None:
        if not _is_variable(variable):
            raise ValueError(f"JaxLayer '{self.name}': the state returned by call_fn does not "
                             "have the structure of the initial state (a returned leaf has no "
                             "matching weight). Return a pytree shaped like `state`.")
        variable.assign(value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "call_fn": _serialization.serialize(self.call_fn),
                "init_fn": _serialization.serialize(self.init_fn),
                "native_serialization_platforms": self.native_serialization_platforms}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JaxLayer:
        config = dict(config)
        for key in ("call_fn", "init_fn"):
            if isinstance(config.get(key), (dict, str)):
                config[key] = _serialization.deserialize(config[key])
        return cls(**config)


class FlaxLayer(JaxLayer):
    """Wraps a `flax.linen.Module` as a layer (needs flax: `pip install flax`).

    Args:
        module: the Flax module.
        method: the method to run (default `module.__call__`); a function not bound to the
            module takes it as first argument. An optional `training` argument is passed.
        variables: the module's variables as `module.init` returns them ("params" become
            trainable weights, the other collections non-trainable ones), or None to call
            `module.init` at build time.

    Example (without flax installed, the error says how to get it):
        >>> try:
        ...     FlaxLayer(None)
        ... except ImportError as err:
        ...     print("pip install flax" in str(err))
        ... except (AttributeError, TypeError):  # flax is installed: None is no module
        ...     print(True)
        True
    """

    def __init__(self, module: Any, method: Any = None, variables: Any = None, **kwargs: Any):
        if _linen is None:
            raise ImportError("FlaxLayer needs flax, which is not installed: run "
                              "`pip install flax`, or wrap the model's apply function in "
                              "JaxLayer(call_fn=..., params=...) instead.")
        self.module, self.method = module, method
        with_training = "training" in inspect.signature(method or module.__call__).parameters
        params, state = self._split(variables)
        call_fn = self._apply_with_training if with_training else self._apply
        init_fn = self._init_with_training if with_training else self._init
        super().__init__(call_fn=call_fn, init_fn=init_fn, params=params, state=state,
                         **kwargs)

    def _apply(self, params: Any, state: Any, rng: Any, inputs: Any) -> Any:
        return self.module.apply(self._merge(params, state), inputs, rngs=rng,
                                 method=self.method, mutable=_linen.DenyList(["params"]))

    def _apply_with_training(self, params: Any, state: Any, rng: Any, inputs: Any,
                             training: bool) -> Any:
        return self.module.apply(self._merge(params, state), inputs, rngs=rng,
                                 method=self.method, mutable=_linen.DenyList(["params"]),
                                 training=training)

    def _init(self, rng: Any, inputs: Any) -> Any:
        return self._split(self.module.init(rng, inputs, method=self.method))

    def _init_with_training(self, rng: Any, inputs: Any, training: bool) -> Any:
        return self._split(self.module.init(rng, inputs, method=self.method,
                                            training=training))

    @staticmethod
    def _merge(params: Any, state: Any) -> dict:
        return {**(params or {}), **(state or {})}

    @staticmethod
    def _split(variables: Any) -> tuple[Any, Any]:
        if variables is None:
            return None, None
        params = {"params": variables["params"]} if "params" in variables else {}
        return params, {k: v for k, v in variables.items() if k != "params"}

    def _init_rng(self) -> Any:
        return {"params": super()._init_rng(), "dropout": super()._init_rng()}

    def _call_rng(self, training: bool) -> Any:
        return {"dropout": self.seed_generator.next()} if training else {}

    def get_config(self) -> dict[str, Any]:
        # JaxLayer's keys but call_fn / init_fn, which come from the module (as Keras).
        config = {**Layer.get_config(self),
                  "native_serialization_platforms": self.native_serialization_platforms}
        method = self.method
        if getattr(method, "__self__", None) is self.module and method is not None:
            method = method.__name__  # a bound method is stored by name
        return {**config, "module": _serialization.serialize(self.module),
                "method": _serialization.serialize(method)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FlaxLayer:
        config = dict(config)
        module = _serialization.deserialize(config["module"])
        method = config.get("method")
        method = getattr(module, method) if isinstance(method, str) else (
            _serialization.deserialize(method))
        return cls(**{**config, "module": module, "method": method})
