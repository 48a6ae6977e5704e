"""The weight lists of a `Layer`, in Keras's orders (mixed into `Layer`).

`weights` are the layer's own weights (trainable first) then each sub-layer's; `variables`
add the states of the `kiln.random.SeedGenerator`s the layers hold (Keras counts those as
variables, not weights, so weight files stay Keras's).

Example:
    >>> import kiln
    >>> layer = kiln.layers.Dense(2)
    >>> layer.build((None, 3))
    >>> [w.name for w in layer.weights], layer.count_params()
    (['kernel', 'bias'], 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils import kiln_default
from .._variables import Variable
from ..random import SeedGenerator


class LayerWeights:
    """Weight and variable lists, `get_weights` / `set_weights`, `count_params`."""

    @property
    def weights(self) -> list[Variable]:
        """Own weights (trainable first, as Keras lists them), then each sub-layer's."""
        seen, out = set(), []
        for v in self._ordered_own() + [w for layer in self._sublayers() for w in layer.weights]:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    def _own_variables(self) -> list[Variable]:
        """`add_weight`'s variables, then each `Variable` made directly (`kiln.Variable(...)`)
        and set as an attribute, alone or in a list: Keras tracks those as the layer's own
        weights too. Such a variable is adopted once, in the order it is first seen."""
        for value in list(vars(self).values()):
            items = value if isinstance(value, (list, tuple)) else (value,)
            for v in items:
                if isinstance(v, Variable) and not v._tracked:
                    v._tracked = True
                    self._variables.append(v)
        return self._variables

    def _ordered_own(self) -> list[Variable]:
        """The layer's own variables as Keras orders them: trainable first."""
        own = self._own_variables()
        return [v for v in own if v.trainable] + [v for v in own if not v.trainable]

    @property
    def variables(self) -> list[Variable]:
        """`weights`, then the states of the `kiln.random.SeedGenerator`s the layer and its
        sub-layers hold as attributes (Keras counts those as variables, not weights)."""
        return _dedup(self.weights + self._seed_states())

    def _seed_states(self) -> list[Variable]:
        return [g.state for layer in self._flatten_layers() for g in vars(layer).values()
                if isinstance(g, SeedGenerator)]

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        own = [v for v in self._own_variables() if v.trainable]
        return _dedup(own + [w for layer in self._sublayers() for w in layer.trainable_weights])

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    @property
    def non_trainable_variables(self) -> list[Variable]:
        """`non_trainable_weights` plus the SeedGenerator states (see `variables`)."""
        return _dedup(self.non_trainable_weights + self._seed_states())

    @kiln_default
    def save_own_variables(self, store: dict) -> None:
        """Writes the layer's own variables (trainable first) into `store` as "0", "1", ...:
        what saving puts in the layer's `vars` group (override it to store more, as Keras)."""
        for i, v in enumerate(self._ordered_own()):
            store[str(i)] = np.asarray(v.value)

    @kiln_default
    def load_own_variables(self, store: dict) -> None:
        """Assigns the layer's own variables from `store` (what `save_own_variables` wrote)."""
        own = self._ordered_own()
        if len(store) != len(own):
            raise ValueError(f"Layer '{self.name}' expected {len(own)} variables, but received "
                             f"{len(store)} variables during loading. Expected: "
                             f"{[v.name for v in own]}.")
        for i, v in enumerate(own):
            v.assign(store[str(i)])

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in `weights` order."""
        return [np.asarray(v.value) for v in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Sets every weight from a list in `weights` order (count and shapes are checked)."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"{self.name}.set_weights expected a list of {len(own)} arrays "
                f"({[v.path for v in own]}); received {len(weights)}."
            )
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != var.shape:
                raise ValueError(
                    f"Weight '{var.path}' has shape {var.shape}; received an array of shape "
                    f"{tuple(value.shape)} in set_weights."
                )
            var.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet, so it has no weights to count. "
                             "Call it on data or give it an input shape first.")
        return int(sum(np.prod(v.shape, dtype=np.int64) for v in self.weights))


def _dedup(vs: list[Variable]) -> list[Variable]:
    seen: set[int] = set()
    out = []
    for v in vs:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out

