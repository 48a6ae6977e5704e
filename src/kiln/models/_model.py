"""`Model`: a layer with a training API, built functionally or by subclassing.

- Functional: `Model(inputs, outputs)` on KerasTensors from `kiln.Input`.
- Subclassing: `class MyModel(Model)` with `__init__` creating layers and `call(inputs,
  training=None)`.

The training API (`compile`, `fit`, `evaluate`, `predict`, `*_on_batch`) lives in
`kiln.training`; these methods only forward to it.
"""

from __future__ import annotations

import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _scope
from .._naming import unique_name
from .._utils import kiln_default, overrides
from ..layers._layer import Layer
from ..layers._layer_build import as_shape
from ..layers._symbolic import KerasTensor
from .. import _serialization
from ..saving import _api as _saving
from ..training import _compile, _evaluate, _fit, _options, _steps
from . import _functional
from ._keras_api import KerasModelAPI
from ._keras_steps import KerasSteps
from ._summary import print_summary


def _is_kt(x: Any) -> bool:
    return isinstance(x, KerasTensor)


class Model(KerasModelAPI, KerasSteps, Layer):
    """A trainable model. See the module docstring for the two ways to build one.

    Example:
        >>> import kiln
        >>> x = kiln.Input((3,), name="x")
        >>> y = kiln.layers.Dense(1, name="y")(x)
        >>> model = kiln.Model(x, y)
        >>> model.output_names
        ['y']
    """

    def __init__(self, *args: Any, **kwargs: Any):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if kwargs.get("name") is None and type(self) is Model and inputs is not None:
            kwargs["name"] = unique_name("Functional")  # Keras's name for Model(inputs, ...)
        super().__init__(**kwargs)
        self._functional = None
        self._compiled = None
        self._session = None
        self.optimizer = None
        self.history = None
        self.stop_training = False
        if inputs is not None or outputs is not None:
            self._init_functional(inputs, outputs)

    # -- functional construction --------------------------------------------------------------
    def _init_functional(self, inputs: Any, outputs: Any) -> None:
        if inputs is None or outputs is None:
            raise ValueError("A functional Model needs both inputs and outputs: "
                             "Model(inputs=..., outputs=...).")
        for name, tree in (("inputs", inputs), ("outputs", outputs)):
            if not all(_is_kt(t) for t in jax.tree_util.tree_leaves(tree, is_leaf=_is_kt)):
                raise TypeError(f"Model({name}=...) expects KerasTensors (from kiln.Input and "
                                f"layer calls); received {tree!r}.")
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        nodes = _functional.topological_nodes(inputs, outputs)
        self._functional = (inputs, outputs, nodes)
        self._graph_layers = _functional.graph_layers(nodes, inputs, outputs)
        self.built = True
        self.output_shape_info = jax.tree_util.tree_map(lambda t: t.shape, outputs, is_leaf=_is_kt)

    @property
    def inputs(self) -> Any:
        """The flat list of input tensors (Keras: `tree.flatten(inputs)`; dict keys sorted).
        `model.input` keeps the structure given to `Model(inputs=...)`."""
        return self._flat_io(0)

    @property
    def outputs(self) -> Any:
        """The flat list of output tensors (Keras: `tree.flatten(outputs)`; dict keys sorted).
        `model.output` keeps the structure given to `Model(outputs=...)`."""
        return self._flat_io(1)

    def _flat_io(self, which: int) -> list | None:
        if not self._functional:
            return None
        return list(jax.tree_util.tree_leaves(self._functional[which], is_leaf=_is_kt))

    @property
    def layers(self) -> list[Layer]:
        """The layers (a functional model's graph operations such as `x * 2` excluded, as
        in Keras; see `operations`)."""
        if self._functional is not None:
            return [op for op in self._graph_layers if not getattr(op, "_is_operation", False)]
        return self._sublayers()

    @property
    def operations(self) -> list[Layer]:
        """Every node kind of a functional graph, in order: input layers, layers and ops."""
        if self._functional is not None:
            return list(self._graph_layers)
        return self.layers

    def _sublayers(self) -> list[Layer]:
        if self._functional is not None:
            return self.layers
        return super()._sublayers()

    @property
    def input_names(self) -> list[str]:
        if self._functional is None:
            return []
        inputs = self._functional[0]
        if isinstance(inputs, dict):
            return list(inputs)
        return [t.name or t.node.layer.name for t in jax.tree_util.tree_leaves(inputs, is_leaf=_is_kt)]

    @property
    def output_names(self) -> list[str]:
        """Names of the outputs: the dict keys, or the layers that produce them."""
        if self._functional is None:
            return []
        outputs = self._functional[1]
        if isinstance(outputs, dict):
            return sorted(outputs)  # Keras orders dict outputs by name
        return [t.node.layer.name for t in jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r}; layers are {[l.name for l in self.layers]}.")

    # -- calling ------------------------------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if self._functional is None:
            raise NotImplementedError(
                f"{type(self).__name__} is neither functional (Model(inputs, outputs)) nor does it "
                "override call(self, inputs, training=None)."
            )
        model_inputs, outputs, nodes = self._functional
        values = _match_inputs(model_inputs, inputs)
        result = _functional.run_graph(nodes, model_inputs, values, outputs, training)
        # Model(inputs, [y]) returns y itself, as Keras's functional models do.
        return result[0] if isinstance(result, list) and len(result) == 1 else result

    def build(self, input_shape: Any = None) -> None:
        """Builds the weights of a subclassed model from an input shape (batch dim may be None)."""
        if self._functional is None and input_shape is not None:
            is_shape = lambda s: isinstance(s, (tuple, list)) and all(
                d is None or isinstance(d, int) for d in s)
            specs = jax.tree_util.tree_map(
                lambda s: jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in s), jnp.float32),
                input_shape, is_leaf=is_shape)
            self._trace(specs)
            self._build_shape = input_shape
        self.built = True

    def _maybe_build(self, input_shape: Any) -> None:
        # A model's sub-layers build themselves during its first call.
        self._record_build_shape(input_shape)
        self.built = True

    def _record_build_shape(self, shapes: Any) -> None:
        """A subclassed model keeps the input shape it was first built on (batch None), so its
        config carries Keras's `build_config` and a loaded copy is built before its weights."""
        if self._functional is None and self.__dict__.get("_build_shape") is None:
            is_shape = lambda s: isinstance(s, tuple) and all(  # noqa: E731
                d is None or isinstance(d, int) for d in s)
            self._build_shape = jax.tree_util.tree_map(
                lambda s: (None,) + tuple(s[1:]) if s else s, shapes, is_leaf=is_shape)

    @kiln_default
    def build_from_config(self, config: dict | None) -> None:
        """Builds a subclassed model from `get_build_config()`'s input shape (Keras's)."""
        if config and "input_shape" in config and not self.built:
            self.build(as_shape(config["input_shape"]))

    def ensure_built(self, x: Any) -> None:
        """Builds every weight from example input(s) without computing anything."""
        if self._functional is None and getattr(self, "_input_specs", None) is None:
            specs = jax.tree_util.tree_map(
                lambda a: jax.ShapeDtypeStruct(np.shape(a), _input_dtype(a)), x)
            if self.built:  # built by an eager call: keep the specs for the own-loss check
                self._input_specs = specs
            else:
                self._trace(specs)

    def _trace(self, specs: Any, training: bool = False, key: Any = None) -> _scope.Scope:
        """Runs the model abstractly on `specs` (building its weights) and returns the call's
        scope, whose `losses` tell whether `call` added any. The specs are kept so that
        compile() can trace again to see whether the model adds its own loss. Without a `key`,
        random layers draw from the global stream, as a first eager call would."""
        with _scope.bind({}, training=training, key=key) as scope:
            jax.eval_shape(lambda v: self(v, training=training), specs)
        self._input_specs = specs
        self._record_build_shape(jax.tree_util.tree_map(lambda s: tuple(s.shape), specs))
        return scope

    def _example_specs(self) -> Any:
        """Input structs for one abstract call (batch 1), or None while the shape is unknown."""
        if self._functional is not None:
            return jax.tree_util.tree_map(
                lambda t: jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in t.shape),
                                               t.dtype),
                self._functional[0], is_leaf=_is_kt)
        specs = getattr(self, "_input_specs", None)
        layer = getattr(self, "_input_layer", None)  # a Sequential given its input shape
        if specs is None and layer is not None and self.built:
            specs = jax.ShapeDtypeStruct(
                tuple(1 if d is None else d for d in layer.batch_shape), layer.dtype)
        return specs

    def _overrides_loss(self) -> bool:
        """Whether this class replaces kiln's loss computation (`compute_loss` or
        `train_step` overridden): such a model needs no `compile(loss=...)`."""
        cls = type(self)
        return cls.compute_loss is not Model.compute_loss or overrides(cls, "train_step")

    def _adds_loss(self) -> bool | None:
        """Whether `call` uses `add_loss`, seen by tracing it once abstractly in training
        mode; None while the input shape is unknown (fit checks on its first batch)."""
        specs = self._example_specs()
        if specs is None:
            return None
        try:
            return bool(self._trace(specs, training=True, key=jax.random.key(0)).losses)
        except Exception:  # noqa: BLE001 - cannot tell here: fit's first batch decides
            return None

    # -- training API (implemented in kiln.training) -------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: Any = "auto", jit_compile: Any = "auto",
                auto_scale_loss: bool = True) -> None:
        """Configures the model for training.

        Every name is resolved here; an unknown optimizer, loss or metric, or a missing loss,
        raises ValueError naming the fix.

        Args:
            optimizer: a name ("adam", "RMSprop", "sgd", any case) or a kiln optimizer.
            loss: a name, a `kiln.losses.Loss`, a callable `f(y_true, y_pred)`, or a list/dict
                with one per output. None for a model that computes its own loss: one that
                overrides `compute_loss`/`train_step`, or whose `call` uses `add_loss` (seen by
                one abstract trace, or on fit's first batch while the input shape is unknown).
            loss_weights: a float, or a list/dict with one weight per output.
            metrics: a list (or, per output, a list of lists or a dict) of names, metric
                objects or callables. "accuracy"/"acc" pick binary, sparse or categorical
                accuracy from the label and output shapes, as Keras does.
            weighted_metrics: metrics that also receive sample_weight / class_weight.
            run_eagerly: run the steps without jax.jit (for debugging).
            steps_per_execution: steps fused into one compiled call; "auto" picks a power of
                two from the model's cost (1 when a callback has batch-level hooks).
            jit_compile: accepted for Keras compatibility; steps are always compiled unless
                run_eagerly.
            auto_scale_loss: accepted for Keras compatibility.
        """
        _compile.compile_model(self, optimizer, loss, loss_weights, metrics, weighted_metrics,
                               run_eagerly, steps_per_execution, jit_compile, auto_scale_loss)

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: Any = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: Any = 1) -> Any:
        """Trains the model for `epochs - initial_epoch` epochs.

        Args:
            x, y: arrays (or lists/dicts of arrays for several inputs/outputs), or x alone as a
                generator/iterable yielding (x, y) or (x, y, sample_weight) batches.
            batch_size: samples per step (default 32; not for generators).
            epochs: index of the last epoch (training runs from initial_epoch to epochs).
            verbose: "auto" or 1 (progress bar), 2 (one line per epoch), 0 (silent).
            callbacks: `kiln.callbacks.Callback` instances.
            validation_split: fraction of the data, taken from the end before shuffling,
                held out for validation.
            validation_data: (x, y) or (x, y, sample_weight), or a generator.
            shuffle: reshuffle the samples every epoch (True), within batch-sized chunks
                ("batch"), or not at all (False).
            class_weight: {class index: weight}, turned into per-sample weights.
            sample_weight: per-sample weights of the loss and the weighted metrics.
            initial_epoch / steps_per_epoch / validation_steps / validation_batch_size /
            validation_freq: as in Keras.

        Returns:
            The `History` callback; `history.history` maps each logged name ("loss",
            "accuracy", "val_loss", ...) to its per-epoch values.
        """
        options = _options.FitOptions(
            batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
            class_weight=class_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq)
        return _fit.fit(self, x, y, sample_weight, options)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics on the given data: a scalar (loss only), a list in
        `metrics_names` order, or a dict with `return_dict=True`."""
        options = _options.EvaluateOptions(batch_size=batch_size, verbose=verbose, steps=steps,
                                           callbacks=callbacks, return_dict=return_dict)
        return _evaluate.evaluate(self, x, y, sample_weight, options)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Any = None) -> Any:
        """The model's outputs for `x` as NumPy arrays (same structure as the outputs)."""
        options = _options.PredictOptions(batch_size=batch_size, verbose=verbose, steps=steps,
                                          callbacks=callbacks)
        return _evaluate.predict(self, x, options)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:
        """One training step on one batch; metrics accumulate across calls, as in Keras
        (call `reset_metrics()` to start over)."""
        return _evaluate.train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss and metrics on one batch."""
        return _evaluate.test_on_batch(self, x, y, sample_weight, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's outputs for one batch, as NumPy arrays."""
        return _evaluate.predict_on_batch(self, x)

    def _sync_for_callback(self) -> None:
        """Called when a callback reads the model: brings the weights up to date."""
        if self._session is not None:
            self._session.sync_for_callback()

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        """The compiled loss plus `self.losses` (override it for a custom objective)."""
        return _steps.default_compute_loss(self, y, y_pred, sample_weight)

    @property
    def metrics_names(self) -> list[str]:
        return _compile.metrics_names(self)

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = None,
                expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> None:
        """Prints Keras's table of layers, output shapes and parameter counts."""
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    def get_config(self) -> dict[str, Any]:
        """A functional model's graph in Keras 3's format (`layers` with `inbound_nodes`,
        `input_layers`, `output_layers`); a subclassed model's name and trainable flag."""
        if self._functional is not None:
            return _functional.functional_config(self)
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> "Model":
        """Rebuilds a functional model from its config (kiln's or Keras's); for a subclassed
        model, `cls(**config)` as in Keras."""
        if "layers" in config and "input_layers" in config:
            return _functional.functional_from_config(cls, config, custom_objects)
        return cls(**config)

    # -- saving (implemented in kiln.saving) ---------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True, zipped: Any = None, **kwargs: Any) -> None:
        """Saves the model as a `.keras` archive (see `kiln.saving.save_model`)."""
        _saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Writes the weights to a `.weights.h5` file (Keras 3's layout)."""
        _saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
        """Loads a `.weights.h5`, `.keras` or legacy `.h5` file (`by_name=True` for the
        legacy one); a mismatch changes nothing."""
        _saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs: Any) -> str:
        """The model's config (Keras's serialized dict) as a JSON string."""
        return json.dumps(_serialization.serialize(self), **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _input_dtype(a: Any) -> Any:
    dtype = np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype
    return jnp.float32 if dtype == np.float64 else dtype


def _match_inputs(model_inputs: Any, inputs: Any) -> list[Any]:
    """Orders the given input values like the model's input KerasTensors."""
    leaves = [t for t in jax.tree_util.tree_leaves(model_inputs, is_leaf=_is_kt)]
    names = [t.name or t.node.layer.name for t in leaves]
    if isinstance(inputs, dict):
        missing = [n for n in names if n not in inputs]
        if isinstance(model_inputs, dict):
            missing = [k for k in model_inputs if k not in inputs]
            return [inputs[k] for k in model_inputs] if not missing else _raise_keys(missing, inputs, names)
        if missing:
            _raise_keys(missing, inputs, names)
        return [inputs[n] for n in names]
    if isinstance(inputs, (list, tuple)) and len(leaves) > 1:
        if len(inputs) != len(leaves):
            raise ValueError(f"The model expects {len(leaves)} inputs {names}; received "
                             f"{len(inputs)}.")
        return list(inputs)
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and len(leaves) == 1:
        return [inputs[0]]
    return [inputs]


def _raise_keys(missing: list[str], inputs: dict, names: list[str]) -> list[Any]:
    raise ValueError(f"Input dict is missing keys {missing}: the model's inputs are {names}; "
                     f"received keys {sorted(inputs)}.")
