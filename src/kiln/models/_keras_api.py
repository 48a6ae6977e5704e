"""The parts of Keras's Model surface that custom training code reads.

`input` / `output`, `metrics` (compiled metrics, then metrics the model or its layers hold as
attributes, e.g. a `loss_tracker` created in `__init__`), `stateless_compute_loss`, and
`get_state_tree` / `set_state_tree`.

Example:
    >>> import numpy as np, kiln
    >>> class Net(kiln.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense = kiln.layers.Dense(1)
    ...         self.tracker = kiln.metrics.Mean(name="my_loss")
    ...     def call(self, x):
    ...         return self.dense(x)
    >>> net = Net()
    >>> [m.name for m in net.metrics]
    ['my_loss']
    >>> _ = net(np.ones((1, 2), "float32"))
    >>> sorted(net.get_state_tree()["trainable_variables"][net.name][net.dense.name])
    ['bias', 'kernel']
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .. import _scope
from .._utils import kiln_default
from ..layers._layer_extras import attribute_metrics
from ..saving._api import compile_config, compile_from
from ..training._steps import flatten_outputs


def _nest(variables: list, values: list) -> dict:
    tree: dict = {}
    for var, value in zip(variables, values):
        *parents, leaf = var.path.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def _unnest(tree: dict, path: str) -> Any:
    node = tree
    for part in path.split("/"):
        node = node[part]
    return node


class KerasModelAPI:
    """Mixed into `Model`: the members described in the module docstring."""

    @property
    def input(self) -> Any:
        """The model's input tensor(s), as given to `Model(inputs, outputs)`."""
        return self._io(0, "input")

    @property
    def output(self) -> Any:
        """The model's output tensor(s), as given to `Model(inputs, outputs)`."""
        return self._io(1, "output")

    @property
    def input_shape(self) -> Any:
        """The input's shape (batch dimension None), or a list of them for several inputs."""
        return self._io_shape(0, "input")

    @property
    def output_shape(self) -> Any:
        """The output's shape, or a list of them (in `outputs` order) for several outputs."""
        return self._io_shape(1, "output")

    def _io_shape(self, index: int, what: str) -> Any:
        # Keras lists the shapes of the flattened tensors: a dict of outputs gives a list too.
        self._io(index, what)
        shapes = [tuple(t.shape) for t in jax.tree_util.tree_leaves(
            self._functional[index], is_leaf=lambda t: hasattr(t, "shape"))]
        return shapes[0] if len(shapes) == 1 else shapes

    def _io(self, index: int, what: str) -> Any:
        if self._functional is None:
            raise AttributeError(
                f"Model '{self.name}' has no {what}: it is a subclassed model that has not "
                "been called on symbolic inputs. Build it functionally (kiln.Model(inputs, "
                f"outputs)) to read `{what}`.")
        value = self._functional[index]
        if isinstance(value, (list, tuple)) and len(value) == 1:
            return value[0]
        return value

    @property
    def loss(self) -> Any:
        """The `loss` given to `compile()` (None before compiling), or what was assigned."""
        if "_assigned_loss" in self.__dict__:
            return self.__dict__["_assigned_loss"]
        return self._compiled.loss if self._compiled is not None else None

    @loss.setter
    def loss(self, value: Any) -> None:  # user code may keep its own `self.loss`
        self.__dict__["_assigned_loss"] = value

    @property
    @kiln_default
    def metrics(self) -> list[Any]:
        """The loss tracker and compiled metrics, then the model's own Metric attributes."""
        compiled = list(self._compiled.all_metrics()) if self._compiled else []
        seen = {id(m) for m in compiled}
        own = [m for m in attribute_metrics(self) if id(m) not in seen and
               not seen.add(id(m))]
        return compiled + own

    @property
    def compiled(self) -> bool:
        """Whether `compile()` was called."""
        return self._compiled is not None

    @property
    def run_eagerly(self) -> bool:
        """Whether fit/evaluate run the step eagerly (compile's `run_eagerly`; settable)."""
        spec = self._compiled
        return bool(spec.run_eagerly if spec is not None else
                    self.__dict__.get("_run_eagerly", False))

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self.__dict__["_run_eagerly"] = bool(value)
        if self._compiled is not None:
            self._compiled.run_eagerly = bool(value)

    @property
    def jit_compile(self) -> bool:
        """Whether steps are compiled by XLA: always, unless `run_eagerly`."""
        return not self.run_eagerly

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        if not value:
            self.run_eagerly = True

    def get_compile_config(self) -> dict | None:
        """`compile()`'s arguments in Keras's serialized form (None before compiling)."""
        return compile_config(self)

    def compile_from_config(self, config: dict) -> None:
        """Compiles the model from what `get_compile_config` returned (Keras's format)."""
        compile_from(self, config)

    @kiln_default
    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Updates the compiled metrics on one batch and returns `get_metrics_result()`.

        Override it, as in Keras, to update metrics of your own (`fit` / `evaluate` then log
        what it returns each step); `super().compute_metrics(...)` keeps the compiled ones.
        """
        spec = self._compiled
        if spec is not None and y is not None:
            y_true, preds = flatten_outputs(self, y), flatten_outputs(self, y_pred)
            for group, weight in ((spec.metrics, None), (spec.weighted, sample_weight)):
                for i, metrics in enumerate(group):
                    for m in metrics:
                        m.update_state(y_true[i], preds[i], sample_weight=weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """`{name: current result}` of every metric in `metrics` (dict results merged)."""
        out: dict = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[getattr(m, "log_name", m.name)] = result
        return out

    def stateless_compute_loss(self, trainable_variables: Any, non_trainable_variables: Any,
                               metrics_variables: Any, x: Any = None, y: Any = None,
                               y_pred: Any = None, sample_weight: Any = None,
                               training: bool = True) -> tuple:
        """Keras's pure `compute_loss`: `(loss, (trainable, non_trainable, metrics values))`
        with the model's variables set to the given values for the computation."""
        values = dict(zip(self.trainable_variables, trainable_variables))
        values.update(zip(self.non_trainable_variables, non_trainable_variables))
        with _scope.bind(values, training=training):
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=training)
        return loss, (list(trainable_variables), list(non_trainable_variables),
                      list(metrics_variables))

    def get_state_tree(self, value_format: str = "backend_tensor") -> dict:
        """The values of the model's variables as nested dicts keyed by variable path:
        `trainable_variables`, `non_trainable_variables`, `optimizer_variables` (once
        compiled and built) and `metrics_variables`. `value_format="numpy_array"` for NumPy."""
        convert = np.asarray if value_format == "numpy_array" else (lambda a: a)
        tree = {"trainable_variables": self.trainable_variables,
                "non_trainable_variables": self.non_trainable_variables}
        out = {k: _nest(vs, [convert(v.value) for v in vs]) for k, vs in tree.items()}
        opt = self.optimizer
        if opt is not None and getattr(opt, "built", False):
            out["optimizer_variables"] = {str(i): convert(v) for i, v in
                                          enumerate(opt.variables)}
        out["metrics_variables"] = {f"{m.name}/{v.name}": convert(v.value)
                                    for m in self.metrics for v in m.variables}
        return out

    def set_state_tree(self, state_tree: dict) -> None:
        """Assigns the values of a tree `get_state_tree` returned (any subset of its keys)."""
        for kind in ("trainable_variables", "non_trainable_variables"):
            for var in getattr(self, kind) if kind in state_tree else []:
                var.assign(jax.numpy.asarray(_unnest(state_tree[kind], var.path)))
        if "optimizer_variables" in state_tree and self.optimizer is not None:
            given = state_tree["optimizer_variables"]
            self.optimizer.set_weights([given[str(i)] for i in range(len(given))])
        for m in self.metrics if "metrics_variables" in state_tree else []:
            for v in m.variables:
                v.assign(state_tree["metrics_variables"][f"{m.name}/{v.name}"])
