"""`Bidirectional`: runs a recurrent layer forwards and a copy backwards, then merges."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._core import _deserialize_layer, _serialize
from ._layer import Layer

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def merge(forward: jax.Array, backward: jax.Array, mode: str | None) -> Any:
    """Keras's merge modes: concat (last axis), sum, mul, ave, or None (the pair)."""
    if mode == "concat":
        return jnp.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    return (forward, backward)


def _copy_layer(layer: Layer, name: str, **overrides: Any) -> Layer:
    # Keras rebuilds both directions from the layer's config, so neither shares its weights.
    config = {**layer.get_config(), "name": name, **overrides}
    return type(layer).from_config(config)


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs.

    Args:
        layer: a recurrent layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN`); the forward direction is
            a fresh copy named `forward_<name>`.
        merge_mode: how outputs combine: "concat" (default), "sum", "mul", "ave", or None for a
            `(forward, backward)` pair.
        weights: optional initial weights (forward half then backward half).
        backward_layer: optional custom backward layer (must have `go_backwards=True` and the
            same return_sequences / return_state); by default a copy of `layer` going backwards.

    The backward output sequence is flipped back into input order before merging. With
    `return_state`, the result is `(output, *forward_states, *backward_states)`. Weights are
    listed forward first, then backward, as in Keras.

    Example:
        >>> from kiln.layers import LSTM
        >>> Bidirectional(LSTM(3, return_sequences=True))(jnp.ones((2, 5, 4))).shape
        (2, 5, 6)
    """

    supports_masking = True

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Layer | None = None, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional needs a kiln layer such as LSTM(8); received "
                             f"{layer!r}.")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"backward_layer must be a kiln layer; received {backward_layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional merge_mode must be one of {list(_MERGE_MODES)}; "
                             f"received {merge_mode!r}.")
        super().__init__(**kwargs)
        self.forward_layer = _copy_layer(layer, f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            backward_layer = _copy_layer(layer, f"backward_{_strip(layer.name, 'backward_')}",
                                         go_backwards=True)
        self.backward_layer = backward_layer
        self._verify_pair()
        for direction in (self.forward_layer, self.backward_layer):
            # Keras zeroes masked outputs of both directions when returning sequences.
            if hasattr(direction, "zero_output_for_mask"):
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = None if weights is None else list(weights)
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = False

    def _verify_pair(self) -> None:
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Bidirectional's forward and backward layers need different "
                             f"go_backwards values; both have go_backwards={fwd.go_backwards}. "
                             "Create the backward layer with go_backwards=True.")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(f"Bidirectional's forward and backward layers must agree on "
                                 f"{attr}; received {getattr(fwd, attr)} (forward) and "
                                 f"{getattr(bwd, attr)} (backward).")

    def build(self, sequences_shape: Any) -> None:
        self.forward_layer._maybe_build(sequences_shape)
        self.backward_layer._maybe_build(sequences_shape)
        if self._initial_weights is not None:
            half = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:half])
            self.backward_layer.set_weights(self._initial_weights[half:])
            self._initial_weights = None

    def call(self, sequences: jax.Array, initial_state: Any = None, mask: Any = None,
             training: bool | None = None) -> Any:
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask,
                                    training=training)
        states: tuple = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = jnp.flip(y_rev, axis=1)
        output = merge(y, y_rev, self.merge_mode)
        if self.return_state:
            return (*output, *states) if self.merge_mode is None else (output, *states)
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            return mask if self.merge_mode else (mask, mask)
        # Keras adds per-state entries only for stateful layers, which kiln does not support.
        return None if self.merge_mode else (None, None)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": _serialize(self.forward_layer),
                "backward_layer": _serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Bidirectional":
        config = dict(config)
        config["layer"] = _deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize_layer(config["backward_layer"])
        return cls(**config)

