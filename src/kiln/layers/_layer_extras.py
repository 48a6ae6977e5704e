"""The smaller Keras `Layer` attributes programs read (mixed into `Layer`): `path`, `metrics`,
`metrics_variables`, `input_spec`, `supports_jit`, and Keras's refusal
of the removed `add_metric`.

Example:
    >>> import kiln
    >>> layer = kiln.layers.Dense(3, name="head")
    >>> layer.build((None, 5))
    >>> layer.path, layer.metrics, layer.supports_jit
    ('head', [], True)
"""

from __future__ import annotations

from typing import Any

from .._scope import scoped_path
from ..metrics._base import Metric


def attribute_metrics(layer: Any) -> list[Metric]:
    """Metrics held as attributes (or in list/tuple/dict attributes) of `layer` and of its
    sub-layers, in assignment order; Keras tracks the same ones into `metrics`."""
    out: list[Metric] = []
    for sub in layer._flatten_layers():
        for value in vars(sub).values():
            items = value.values() if isinstance(value, dict) else (
                value if isinstance(value, (list, tuple)) else [value])
            out.extend(v for v in items if isinstance(v, Metric))
    return out


class LayerExtras:
    """Keras's `path`, `metrics`, `metrics_variables`, `input_spec`, ..."""

    input_spec: Any = None  # Keras's default; a layer sets an InputSpec to check its inputs
    supports_jit = True  # every kiln layer traces under jax.jit

    @property
    def path(self) -> str:
        """The layer's name under the name scopes open when it was built (`outer/inner`), as
        its variables' paths start; its plain name before it is built."""
        return self.__dict__.get("_path") or self.name

    def _record_path(self) -> None:
        self._path = scoped_path(self.name)

    @property
    def metrics(self) -> list[Metric]:
        """The `Metric`s this layer and its sub-layers hold as attributes (Keras tracks them)."""
        return attribute_metrics(self)

    @property
    def metrics_variables(self) -> list[Any]:
        """The state variables of every metric in `metrics`, in that order."""
        return [v for m in self.metrics for v in m.variables]

    def add_metric(self, *args: Any, **kwargs: Any) -> None:
        """Removed in Keras 3; raises NotImplementedError naming what to do instead."""
        raise NotImplementedError(
            "Layer.add_metric() was removed in Keras 3 (kiln follows it). Fix: pass the metric "
            "to Model.compile(metrics=[...]), or create a metric tracker (e.g. "
            "kiln.metrics.Mean) in __init__/build and call its update_state() in call or "
            "train_step; list it in the model's `metrics` property.")

