"""`Layer`: Keras's building block, made pure by one binding scope.

Weights are `Variable`s created by `add_weight` in `build(input_shape)`. Sub-layers are found
structurally, by walking the layer's attributes (lists, tuples and dicts included) in the order
they were assigned: no `__setattr__` tracking. A call on `KerasTensor`s records a functional
graph node; a call on arrays runs `call` directly.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from .. import _config, _scope, dtype_policies, initializers, regularizers
from .._naming import unique_name
from .._variables import Variable
from . import _masks, _stateless
from ._input_spec import check_inputs
from ._layer_build import LayerBuild
from ._layer_extras import LayerExtras
from ._layer_graph import LayerGraph
from ._layer_weights import LayerWeights
from ._symbolic import Node, is_symbolic

_BASE_KWARGS = ("input_shape", "input_dim", "batch_size", "batch_input_shape")


class Layer(LayerWeights, LayerBuild, LayerGraph, LayerExtras):
    """Base class of every layer and model.

    Subclass it the Keras way: create weights in `build(input_shape)` with `add_weight`, compute
    in `call(inputs, training=None)`. `call` must use jax.numpy (or `kiln.ops`) so that it can be
    traced and compiled.

    Args:
        name: the layer's name; a unique one (`dense`, `dense_1`, ...) is made when omitted.
        trainable: whether the optimizer updates this layer's trainable weights.
        dtype: a dtype policy or its name: "float32", "mixed_float16", ... (default: the
            global policy, `kiln.config.dtype_policy()`). Weights are created in its
            `variable_dtype`; floating inputs and weight reads are cast to its `compute_dtype`.
        autocast: whether to cast floating inputs and weights to the compute dtype (Keras).
        input_shape / input_dim: legacy Keras arguments giving the input shape (without the
            batch dimension) of the first layer of a Sequential model.

    Example:
        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, x):
        ...         return x * self.w
        >>> Scale()(jnp.ones((2, 3))).shape
        (2, 3)
    """

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 activity_regularizer: Any = None, autocast: bool = True, **kwargs: Any):
        unknown = set(kwargs) - set(_BASE_KWARGS)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unrecognized keyword arguments {sorted(unknown)}. "
                "Check the spelling against the layer's documented arguments."
            )
        self.name = name or unique_name(type(self).__name__)
        self._trainable = bool(trainable)
        self._dtype_policy = _policy(dtype)
        self.autocast = bool(autocast)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._variables: list[Variable] = []
        self._eager_losses: list[Any] = []  # add_loss values of the last eager call
        self._build_shape: Any = None
        self.output_shape_info: Any = None
        self._inbound_nodes: list[Node] = []
        self._batch_input_shape = _legacy_input_shape(kwargs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _marks_built(cls.__dict__["build"])

    # -- weights -----------------------------------------------------------------------------
    def add_weight(self, shape: Any = None, initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, regularizer: Any = None, constraint: Any = None,
                   name: str | None = None, autocast: bool = True) -> Variable:
        """Creates a weight of this layer (call it from `build`).

        Args:
            shape: the weight's shape (default: scalar).
            initializer: name, instance or callable `(shape, dtype)`; default glorot_uniform
                for floats and zeros otherwise, as in Keras.
            dtype: the weight dtype; defaults to the layer's.
            trainable: whether gradients update it.
            regularizer: name or callable; its penalty is added to the training loss.
            constraint: a callable applied to the weight after each optimizer update.
            name: the short name; the variable's path is "<layer scope>/<name>".
            autocast: whether `call` reads it cast to the compute dtype under a mixed policy.

        Returns:
            The new `Variable`.
        """
        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = _dtype_name(dtype) if dtype is not None else self.variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if jnp.issubdtype(dtype, jnp.floating) else "zeros"
        value = initializers.get(initializer)(shape, dtype=dtype)
        name = name or f"variable_{len(self._variables)}"
        path = _scope.scoped_path(name)
        if not path.endswith(f"{self.name}/{name}"):  # add_weight called outside build()
            with _scope.name_scope(self.name):
                path = _scope.scoped_path(name)
        var = Variable(value, name=name, trainable=trainable, dtype=dtype, path=path)
        var.regularizer = regularizers.get(regularizer)
        var.constraint = constraint
        var.autocast = bool(autocast)
        var._tracked = True
        self._variables.append(var)
        return var

    add_variable = add_weight

    # -- dtype policy ----------------------------------------------------------------------------
    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's `DTypePolicy` (settable with a policy or its name)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value: Any) -> None:
        self._dtype_policy = _policy(value)

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (Keras: the policy's `variable_dtype`)."""
        return self._dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value: Any) -> None:
        self._dtype_policy = _policy(value)

    @property
    def variable_dtype(self) -> str:
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype floating inputs are cast to and the computations run in."""
        return self._dtype_policy.compute_dtype

    @property
    def input_dtype(self) -> str:
        return self._dtype_policy.compute_dtype

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._flatten_layers(include_self=False):
            layer._trainable = bool(value)

    # -- sub-layers ----------------------------------------------------------------------------
    def _sublayers(self) -> list["Layer"]:
        """Direct sub-layers found among the attributes, in assignment order."""
        found: list[Layer] = []
        seen: set[int] = {id(self)}

        def walk(obj: Any, depth: int) -> None:
            if isinstance(obj, Layer):
                if id(obj) not in seen:
                    seen.add(id(obj))
                    found.append(obj)
            elif depth < 3 and isinstance(obj, (list, tuple)):
                for item in obj:
                    walk(item, depth + 1)
            elif depth < 3 and isinstance(obj, dict):
                for item in obj.values():
                    walk(item, depth + 1)

        for key, value in vars(self).items():
            if key not in ("_inbound_nodes", "_parent"):
                walk(value, 0)
        return found

    def _flatten_layers(self, include_self: bool = True) -> Iterator["Layer"]:
        if include_self:
            yield self
        for layer in self._sublayers():
            yield from layer._flatten_layers()

    # -- losses --------------------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Adds a scalar to the training loss (called from `call`).

        During a call the value goes to the call's scope (`kiln._scope`); a traced step reads
        it from there, so no tracer is ever left on the layer.
        """
        scope = _scope.current()
        if scope is None:
            self._eager_losses.append(loss)
        else:
            scope.add_loss(self, loss)

    @property
    def losses(self) -> list[Any]:
        """The `add_loss` values (of the current call inside a call, else of the last eager
        call) plus the weight regularization penalties."""
        layers = list(self._flatten_layers())
        scope = _scope.current()
        if scope is not None:
            out = scope.losses_of({id(layer) for layer in layers})
        else:
            out = [v for layer in layers for v in layer._eager_losses]
        for layer in layers:
            for v in layer._variables:
                if getattr(v, "regularizer", None) is not None and v.trainable:
                    out.append(v.regularizer(v.value))
        return out

    def _clear_losses(self) -> None:
        """Forgets the `add_loss` values of the last eager call."""
        for layer in self._flatten_layers():
            layer._eager_losses = []

    def _keep_eager_losses(self, scope: _scope.Scope) -> None:
        """After an outermost eager call: each layer keeps the values it added in it."""
        self._clear_losses()
        for source, value in zip(scope.sources, scope.losses):
            if isinstance(source, Layer):
                source._eager_losses.append(value)

    # -- building and calling --------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Creates the weights; override it. The default creates none."""
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call().")

    def _maybe_build(self, input_shape: Any) -> None:
        if self.built:
            return
        # Weights are created concretely even when the first call happens inside a trace
        # (jax.eval_shape for shapes, jax.jit for a lazily built sub-layer).
        self._record_path()
        with jax.ensure_compile_time_eval(), _scope.name_scope(self.name):
            self.build(input_shape)
        self._build_shape = input_shape
        self.built = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and self.__dict__.get("input_spec") is not None:
            check_inputs(self.name, self.input_spec, args[0])
        if is_symbolic((args, kwargs)):
            return self._symbolic_call(args, kwargs)
        args = jax.tree_util.tree_map(_as_array, args, is_leaf=lambda x: isinstance(x, Variable))
        training = kwargs.pop("training", None)
        mask = kwargs.pop("mask", None)
        if self.autocast and self._convert_input_args:
            args, kwargs = dtype_policies.cast_inputs(args, kwargs, self._dtype_policy.compute_dtype)
        scope = _scope.current()
        if scope is None:  # the outermost eager call: its scope only carries flag and losses
            with _scope.bind(training=training, pure=False) as scope:
                out = self._call_in_scope(args, kwargs, training, mask)
            self._keep_eager_losses(scope)
            return out
        return self._call_in_scope(args, kwargs, scope.training if training is None else training,
                                   mask)

    def _call_in_scope(self, args: tuple, kwargs: dict, training: bool | None,
                       mask: Any = None) -> Any:
        self._maybe_build(jax.tree_util.tree_map(lambda a: tuple(a.shape), args[0]))
        if _accepts(self.call, "training"):
            kwargs["training"] = training
        scope = _scope.current()
        if mask is None and args:  # the mask a previous layer attached to the input (Keras)
            mask = _masks.lookup(scope, args[0])
        if mask is not None and _accepts(self.call, "mask"):
            kwargs["mask"] = mask
        with _scope.name_scope(self.name), self._autocast_weights():
            out = self.call(*args, **kwargs)
        if self.activity_regularizer is not None:
            for leaf in jax.tree_util.tree_leaves(out):
                self.add_loss(self.activity_regularizer(leaf) / leaf.shape[0])
        if args and (mask is not None or type(self).compute_mask is not Layer.compute_mask):
            _masks.record(scope, out, self.compute_mask(args[0], mask))
        return out

    def _autocast_weights(self) -> Any:
        """Under a mixed policy, a scope in which the layer's own floating trainable weights
        read as their compute-dtype cast (Keras's AutocastScope); else nothing."""
        policy = self._dtype_policy
        if not self.autocast or policy.compute_dtype == policy.variable_dtype:
            return contextlib.nullcontext()
        return dtype_policies.autocast_scope(self._variables, policy.compute_dtype)

    # Whether __call__ casts floating inputs to the compute dtype (Keras's flag; its
    # functional models turn it off and leave the casting to their layers).
    _convert_input_args = True

    # Whether this layer passes an input mask through unchanged (Keras's flag).
    supports_masking = False

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs given the inputs' mask; by default, passed through when
        `supports_masking` is set and dropped otherwise. Embedding(mask_zero=True) and Masking
        override it to create one."""
        return mask if self.supports_masking else None

    # -- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as a JSON-friendly dict (subclasses extend it)."""
        return {"name": self.name, "trainable": self.trainable,
                "dtype": self._dtype_policy.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)

    def stateless_call(self, trainable_variables: Any, non_trainable_variables: Any,
                       *args: Any, return_losses: bool = False, **kwargs: Any) -> tuple:
        """Keras's pure call: `(outputs, new non-trainable values)` for the given values of
        `trainable_variables` / `non_trainable_variables`; see `kiln.layers._stateless`."""
        return _stateless.stateless_call(self, trainable_variables, non_trainable_variables,
                                         *args, return_losses=return_losses, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _marks_built(build: Any) -> Any:
    """`build`, setting `built` when it returns: a layer built by a direct `layer.build(shape)`
    call (as Keras allows) is not built a second time by its first call."""
    if getattr(build, "_marks_built", False):
        return build

    @functools.wraps(build)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = build(self, *args, **kwargs)
        self.built = True
        return out

    run._marks_built = True
    return run


def _policy(dtype: Any) -> dtype_policies.DTypePolicy:
    if dtype is None or isinstance(dtype, (str, dict, dtype_policies.DTypePolicy)):
        return dtype_policies.get(dtype)
    return dtype_policies.get(_dtype_name(dtype))


def _dtype_name(dtype: Any) -> str:
    if dtype is None:
        return _config.floatx()
    if isinstance(dtype, dict):  # a Keras DTypePolicy config
        dtype = dtype.get("config", {}).get("name", _config.floatx())
    return jnp.dtype(getattr(dtype, "name", dtype)).name


def _legacy_input_shape(kwargs: dict[str, Any]) -> tuple | None:
    if kwargs.get("batch_input_shape") is not None:
        return tuple(kwargs["batch_input_shape"])
    if kwargs.get("input_shape") is not None:
        return (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
    if kwargs.get("input_dim") is not None:
        return (kwargs.get("batch_size"), int(kwargs["input_dim"]))
    return None


def _as_array(x: Any) -> Any:
    if isinstance(x, Variable):
        return x.value
    if isinstance(x, (np.ndarray, list, float, int)) and not isinstance(x, bool):
        arr = np.asarray(x)
        if arr.dtype == np.float64:
            arr = arr.astype(_config.floatx())
        return jnp.asarray(arr)
    return x


def _accepts(fn: Any, arg: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return arg in params
