"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell.

Pure step functions first, thin Keras-named cell shells on top. A cell owns Keras's weights
(`kernel`, `recurrent_kernel`, `bias`, gate order LSTM i,f,c,o and GRU z,r,h), so
`set_weights(keras_layer.get_weights())` works. The RNN layer (`_recurrent.py`) projects the
whole input sequence with the kernel at once (one large matmul instead of one per step) and
scans only the recurrent part over time.

Dropout follows Keras's `DropoutRNNCell`: one mask per call, reused at every step. LSTM and
GRU draw one input mask when `recurrent_dropout == 0` and one mask per gate (inputs and state)
otherwise, as Keras's `implementation=1` does.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp

from .. import activations, initializers, regularizers
from .._scope import next_rng_key
from ._core import _serialize
from ._layer import Layer

# -- pure functions -----------------------------------------------------------------------------


def project_inputs(x: jax.Array, kernel: jax.Array, bias: jax.Array | None, gates: int,
                   masks: jax.Array | None = None) -> jax.Array:
    """The input part of every gate for a whole sequence: `(x * mask) @ kernel + bias`.

    Args:
        x: inputs `(batch, time, features)` (or `(batch, features)` for one step).
        kernel: `(features, gates * units)`.
        bias: `(gates * units,)` or None.
        gates: number of gates stacked in the kernel.
        masks: None, one dropout mask `(batch, features)`, or one per gate
            `(gates, batch, features)`.

    Returns:
        `x`'s shape with the last dimension `gates * units`.
    """
    if masks is None:
        z = jnp.matmul(x, kernel)
    elif masks.ndim == 2:
        z = jnp.matmul(x * _over_time(masks, x), kernel)
    else:
        units = kernel.shape[1] // gates
        k = kernel.reshape(kernel.shape[0], gates, units)
        per_gate = [jnp.matmul(x * _over_time(masks[g], x), k[:, g]) for g in range(gates)]
        z = jnp.concatenate(per_gate, axis=-1)
    return z if bias is None else z + bias


def _over_time(mask: jax.Array, x: jax.Array) -> jax.Array:
    # A (batch, features) mask broadcast over the time axis of a sequence.
    return mask[:, None, :] if x.ndim == 3 else mask


def gate_matmul(h: jax.Array, kernel: jax.Array, masks: jax.Array | None, gates: int) -> list:
    """`h @ kernel` split per gate; with per-gate dropout masks, `(h * mask_g) @ kernel_g`."""
    if masks is None:
        return jnp.split(jnp.matmul(h, kernel), gates, axis=-1)
    units = kernel.shape[1] // gates
    return [jnp.matmul(h * masks[g], kernel[:, g * units:(g + 1) * units]) for g in range(gates)]


def simple_rnn_step(x_proj: jax.Array, h: jax.Array, recurrent_kernel: jax.Array,
                    activation: Any, rec_mask: jax.Array | None = None) -> jax.Array:
    """`h_t = activation(x_t @ W + b + h_{t-1} @ U)` with `x_proj = x_t @ W + b`."""
    if rec_mask is not None:
        h = h * rec_mask
    return activation(x_proj + jnp.matmul(h, recurrent_kernel))


def lstm_step(x_proj: jax.Array, h: jax.Array, c: jax.Array, recurrent_kernel: jax.Array,
              activation: Any, recurrent_activation: Any,
              rec_masks: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """One LSTM step with Keras's gate order i, f, c, o.

    `i, f, o = recurrent_activation(x W_g + b_g + h U_g)`, `c_t = f c_{t-1} + i
    activation(x W_c + b_c + h U_c)`, `h_t = o activation(c_t)`.

    Returns:
        `(h_t, c_t)`.
    """
    xi, xf, xc, xo = jnp.split(x_proj, 4, axis=-1)
    hi, hf, hc, ho = gate_matmul(h, recurrent_kernel, rec_masks, 4)
    i = recurrent_activation(xi + hi)
    f = recurrent_activation(xf + hf)
    c = f * c + i * activation(xc + hc)
    o = recurrent_activation(xo + ho)
    return o * activation(c), c


def gru_step(x_proj: jax.Array, h: jax.Array, recurrent_kernel: jax.Array,
             recurrent_bias: jax.Array | None, activation: Any, recurrent_activation: Any,
             reset_after: bool, rec_masks: jax.Array | None = None) -> jax.Array:
    """One GRU step with Keras's gate order z, r, h.

    `z, r = recurrent_activation(x W + b + h U)`; the candidate is `activation(x W_h + b_h +
    r * (h U_h + b'_h))` when `reset_after` (the cuDNN form, Keras's default) and
    `activation(x W_h + b_h + (r * h) U_h)` otherwise; `h_t = z h_{t-1} + (1 - z) candidate`.
    """
    xz, xr, xh = jnp.split(x_proj, 3, axis=-1)
    units = h.shape[-1]
    if reset_after:
        hz, hr, hh = gate_matmul(h, recurrent_kernel, rec_masks, 3)
        if recurrent_bias is not None:
            bz, br, bh = jnp.split(recurrent_bias, 3)
            hz, hr, hh = hz + bz, hr + br, hh + bh
        z = recurrent_activation(xz + hz)
        r = recurrent_activation(xr + hr)
        candidate = activation(xh + r * hh)
    else:
        zr_masks = None if rec_masks is None else rec_masks[:2]
        hz, hr = gate_matmul(h, recurrent_kernel[:, :2 * units], zr_masks, 2)
        z = recurrent_activation(xz + hz)
        r = recurrent_activation(xr + hr)
        h_h = h if rec_masks is None else h * rec_masks[2]
        candidate = activation(xh + jnp.matmul(r * h_h, recurrent_kernel[:, 2 * units:]))
    return z * h + (1.0 - z) * candidate


def dropout_mask(key: jax.Array, rate: float, shape: Sequence[int], dtype: Any) -> jax.Array:
    """Keras's `dropout(ones, rate)`: entries 0 or `1 / (1 - rate)`."""
    keep = jax.random.bernoulli(key, 1.0 - rate, tuple(shape))
    return jnp.where(keep, 1.0 / (1.0 - rate), 0.0).astype(dtype)


class CellSpec(NamedTuple):
    """The static (hashable) description of a built-in cell's step, for `jax.jit`."""

    kind: str  # "simple", "lstm" or "gru"
    activation: Any
    recurrent_activation: Any
    gates: int
    reset_after: bool = False


def cell_project(spec: CellSpec, params: dict, inputs: jax.Array,
                 dp_mask: jax.Array | None = None) -> jax.Array:
    """The input part of every gate (kernel and input bias) for a step or a whole sequence."""
    bias = params["bias"]
    if bias is not None and spec.kind == "gru" and spec.reset_after:
        bias = bias[0]  # row 0 is the input bias, row 1 the recurrent bias
    return project_inputs(inputs, params["kernel"], bias, spec.gates, dp_mask)


def cell_step(spec: CellSpec, params: dict, x_proj: jax.Array, states: Sequence[jax.Array],
              rec_mask: jax.Array | None = None) -> tuple[jax.Array, list[jax.Array]]:
    """One recurrent step from the projected inputs: `(output, new_states)`."""
    rk = params["recurrent_kernel"]
    if spec.kind == "lstm":
        h, c = lstm_step(x_proj, states[0], states[1], rk, spec.activation,
                         spec.recurrent_activation, rec_mask)
        return h, [h, c]
    if spec.kind == "gru":
        bias = params["bias"]
        rec_bias = bias[1] if (bias is not None and spec.reset_after) else None
        h = gru_step(x_proj, states[0], rk, rec_bias, spec.activation,
                     spec.recurrent_activation, spec.reset_after, rec_mask)
        return h, [h]
    h = simple_rnn_step(x_proj, states[0], rk, spec.activation, rec_mask)
    return h, [h]


# -- cell shells --------------------------------------------------------------------------------


class _Cell(Layer):
    """Shared arguments, weights, dropout masks and config of the built-in cells."""

    gates = 1
    kind = "simple"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 implementation: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{type(self).__name__}(units=...) must be a positive int; "
                             f"received {units!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = kernel_constraint
        self.recurrent_constraint = recurrent_constraint
        self.bias_constraint = bias_constraint
        # Keras clips the rates into [0, 1] and applies them only when 0 < rate < 1.
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        # Keras switches LSTM/GRU to per-gate masks ("implementation 1") with recurrent dropout.
        self.implementation = 1 if self.recurrent_dropout else implementation
        self.state_size: Any = units
        self.output_size = units

    # -- weights -----------------------------------------------------------------------------
    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        width = self.gates * self.units
        self.kernel = self.add_weight((input_shape[-1], width), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            (self.units, width), self.recurrent_initializer, name="recurrent_kernel",
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(self._bias_shape(), self._bias_initializer(), name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    # -- the step ----------------------------------------------------------------------------
    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [jnp.zeros((batch_size, d), self.compute_dtype) for d in sizes]

    def dropout_masks(self, batch: int, input_dim: int, training: bool | None
                      ) -> tuple[jax.Array | None, jax.Array | None]:
        """The input and recurrent dropout masks for one call (None when inactive)."""
        count = self.gates if (self.gates > 1 and self.implementation == 1) else None
        masks = []
        for rate, width in ((self.dropout, input_dim), (self.recurrent_dropout, self.units)):
            if not training or not 0.0 < rate < 1.0:
                masks.append(None)
                continue
            shape = (batch, width) if count is None else (count, batch, width)
            masks.append(dropout_mask(next_rng_key(self.seed), rate, shape, self.compute_dtype))
        return masks[0], masks[1]

    def spec(self) -> CellSpec:
        """The static description of the step (what `jax.jit` may specialise on)."""
        return CellSpec(self.kind, self.activation, self.recurrent_activation, self.gates,
                        getattr(self, "reset_after", False))

    def params(self) -> dict[str, jax.Array | None]:
        """The weights' current values (bound values inside a pure call)."""
        return {"kernel": self.kernel.value, "recurrent_kernel": self.recurrent_kernel.value,
                "bias": None if self.bias is None else self.bias.value}

    def project(self, inputs: jax.Array, dp_mask: jax.Array | None = None) -> jax.Array:
        """The input contribution of every gate, for a step or a whole sequence."""
        return cell_project(self.spec(), self.params(), inputs, dp_mask)

    def recurrent_step(self, x_proj: jax.Array, states: Sequence[jax.Array],
                       rec_mask: jax.Array | None = None) -> tuple[jax.Array, list[jax.Array]]:
        """One step from projected inputs: `(output, new_states)`."""
        return cell_step(self.spec(), self.params(), x_proj, states, rec_mask)

    def call(self, inputs: jax.Array, states: Any, training: bool | None = None) -> Any:
        """One step: `inputs (batch, features)`, `states` as `state_size`."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        dp, rec = self.dropout_masks(inputs.shape[0], inputs.shape[-1], training)
        output, new_states = self.recurrent_step(self.project(inputs, dp), states, rec)
        return output, (new_states if nested or len(new_states) > 1 else new_states[0])

    # -- config ------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "recurrent_initializer": _serialize(self.recurrent_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "recurrent_regularizer": _serialize(self.recurrent_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer),
                "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


class SimpleRNNCell(_Cell):
    """The cell of `SimpleRNN`: `h_t = activation(x_t W + h_{t-1} U + b)`.

    Args:
        units: size of the state and output.
        activation: default tanh.
        use_bias, kernel_initializer ("glorot_uniform"), recurrent_initializer ("orthogonal"),
        bias_initializer ("zeros"), *_regularizer, *_constraint: as in Keras.
        dropout / recurrent_dropout: fraction of the inputs / state dropped in training (one
            mask per call, shared by every step).
        seed: makes the dropout masks reproducible.

    Example:
        >>> cell = SimpleRNNCell(4)
        >>> out, state = cell(jnp.ones((2, 3)), [jnp.zeros((2, 4))])
        >>> out.shape
        (2, 4)
    """

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 **kwargs: Any):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTMCell(_Cell):
    """The cell of `LSTM` (gate order i, f, c, o; states `[h, c]`).

    Args:
        units: size of the state and output.
        activation: default tanh; recurrent_activation: default sigmoid (the gates).
        unit_forget_bias: add 1 to the forget gate's bias at initialization (default True).
        Other arguments as `SimpleRNNCell`.
    """

    gates = 4
    kind = "lstm"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_bias_one(shape: Any, dtype: Any = None) -> jax.Array:
            # Keras: [init(units), ones(units), init(2 * units)] for gates i, f, (c, o).
            return jnp.concatenate([init((units,), dtype), jnp.ones((units,), dtype),
                                    init((2 * units,), dtype)])
        return forget_bias_one

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """The cell of `GRU` (gate order z, r, h).

    Args:
        units: size of the state and output.
        reset_after: apply the reset gate after the recurrent matmul (default True, the cuDNN
            form); the bias then has shape `(2, 3 * units)`: input and recurrent biases.
        Other arguments as `LSTMCell`.
    """

    gates = 3
    kind = "gru"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 reset_after: bool = True, **kwargs: Any):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}
