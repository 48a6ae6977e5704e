"""Convolutional LSTM layers: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Keras 3's).

An LSTM whose input and recurrent transformations are convolutions (Shi et al. 2015). The
cell owns Keras's weights `kernel (*kernel_size, in_channels, 4 * filters)`,
`recurrent_kernel (*kernel_size, filters, 4 * filters)` and `bias (4 * filters,)`, gate order
i, f, c, o, so `set_weights(keras_layer.get_weights())` works.

The input convolution runs once over every timestep (the time axis folded into the batch);
only the recurrent convolution ('same' padding, stride 1, as in Keras) runs inside the scan.
The scan itself is `_recurrent.rnn_loop`, so masks, go_backwards and zero_output_for_mask
behave as in the other recurrent layers: the states travel through it flattened to
`(batch, -1)` and are reshaped inside each step.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from .. import activations, initializers, regularizers
from .._scope import next_rng_key
from ..constraints import get as get_constraint
from . import _conv_ops as ops
from ._conv import serialize_constraint, set_geometry
from ._core import _serialize
from ._layer import Layer
from ._recurrent import _KerasRNN, rnn_loop
from ._rnn_cells import dropout_mask

# -- pure functions -----------------------------------------------------------------------------


class ConvSpec(NamedTuple):
    """The static (hashable) geometry and activations of a ConvLSTM step, for `jax.jit`."""

    strides: tuple
    padding: str
    dilation_rate: tuple
    data_format: str
    activation: Any
    recurrent_activation: Any


def _split_gates(x: jax.Array, data_format: str) -> list[jax.Array]:
    return jnp.split(x, 4, axis=ops.channel_axis(data_format))


def conv_lstm_project(spec: ConvSpec, kernel: jax.Array, bias: jax.Array | None,
                      sequences: jax.Array, masks: jax.Array | None = None) -> jax.Array:
    """The input convolution of every gate for a whole sequence `(batch, time, *step)`.

    Args:
        masks: None or four per-gate dropout masks `(4, batch, *step)`, shared by every step.

    Returns:
        `(batch, time, *out_step)` with `4 * filters` channels (gates i, f, c, o).
    """
    b, t = sequences.shape[:2]

    def conv(x: jax.Array, w: jax.Array) -> jax.Array:
        flat = x.reshape((b * t,) + x.shape[2:])
        return ops.conv(flat, w, spec.strides, spec.padding, spec.dilation_rate,
                        spec.data_format)
    if masks is None:
        z = conv(sequences, kernel)
    else:
        kernels = jnp.split(kernel, 4, axis=-1)
        z = jnp.concatenate([conv(sequences * masks[g][:, None], kernels[g]) for g in range(4)],
                            axis=ops.channel_axis(spec.data_format))
    if bias is not None:
        z = ops.add_bias(z, bias, spec.data_format)
    return z.reshape((b, t) + z.shape[1:])


def conv_lstm_step(spec: ConvSpec, recurrent_kernel: jax.Array, z: jax.Array, h: jax.Array,
                   c: jax.Array, rec_masks: jax.Array | None = None
                   ) -> tuple[jax.Array, jax.Array]:
    """One step from the projected inputs `z`: `(h_t, c_t)` with Keras's LSTM equations.

    The recurrent convolution uses 'same' padding and stride 1, so the states keep the
    output's spatial shape.
    """
    rank = recurrent_kernel.ndim - 2
    ones = (1,) * rank

    def rconv(x: jax.Array, w: jax.Array) -> jax.Array:
        return ops.conv(x, w, ones, "same", ones, spec.data_format)
    if rec_masks is None:
        hs = _split_gates(rconv(h, recurrent_kernel), spec.data_format)
    else:
        kernels = jnp.split(recurrent_kernel, 4, axis=-1)
        hs = [rconv(h * rec_masks[g], kernels[g]) for g in range(4)]
    xi, xf, xc, xo = _split_gates(z, spec.data_format)
    i = spec.recurrent_activation(xi + hs[0])
    f = spec.recurrent_activation(xf + hs[1])
    c = f * c + i * spec.activation(xc + hs[2])
    o = spec.recurrent_activation(xo + hs[3])
    return o * spec.activation(c), c


@functools.partial(jax.jit, static_argnames=("spec", "go_backwards", "zero_output_for_mask"))
def run_conv_lstm(spec: ConvSpec, params: dict, sequences: jax.Array, states: list,
                  mask: jax.Array | None, dp_masks: jax.Array | None,
                  rec_masks: jax.Array | None, go_backwards: bool,
                  zero_output_for_mask: bool) -> tuple:
    """A ConvLSTM over a whole sequence: `(last_output, outputs, [h, c])`, states unflattened."""
    z = conv_lstm_project(spec, params["kernel"], params["bias"], sequences, dp_masks)
    b, t = z.shape[:2]
    z_shape, state_shape = (b,) + z.shape[2:], tuple(states[0].shape)

    def step(z_t: jax.Array, flat: list) -> tuple:
        h, c = conv_lstm_step(spec, params["recurrent_kernel"], z_t.reshape(z_shape),
                              flat[0].reshape(state_shape), flat[1].reshape(state_shape),
                              rec_masks)
        h, c = h.reshape(b, -1), c.reshape(b, -1)
        return h, [h, c]
    last, outputs, final = rnn_loop(step, z.reshape(b, t, -1), [s.reshape(b, -1) for s in states],
                                    mask, go_backwards, zero_output_for_mask)
    return (last.reshape(state_shape), outputs.reshape((b, t) + state_shape[1:]),
            [s.reshape(state_shape) for s in final])


def conv_output_spatial(sizes: Sequence[int], kernel_size: Sequence[int],
                        strides: Sequence[int], padding: str,
                        dilation_rate: Sequence[int]) -> tuple[int, ...]:
    """Spatial output sizes of the input convolution ('valid' or 'same')."""
    if padding == "same":
        return tuple(-(-n // s) for n, s in zip(sizes, strides))
    return tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, s, d in zip(sizes, kernel_size, strides, dilation_rate))


# -- the cell -----------------------------------------------------------------------------------


class ConvLSTMCell(Layer):
    """The cell of the ConvLSTM layers: one step `(inputs, [h, c]) -> (h, [h, c])`.

    Keras does not export it; kiln keeps it importable from `kiln.layers._conv_lstm`.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters, kernel_size, strides, padding ('valid'/'same'), data_format, dilation_rate:
            of the input convolution, as in Conv2D.
        activation (tanh), recurrent_activation (sigmoid), use_bias, kernel_initializer,
        recurrent_initializer ("orthogonal"), bias_initializer, unit_forget_bias (forget-gate
        bias starts at 1), *_regularizer, *_constraint, dropout, recurrent_dropout, seed: as
        in LSTMCell (four dropout masks per call, one per gate, reused at every step).

    Example:
        >>> cell = ConvLSTMCell(2, filters=3, kernel_size=3, padding="same")
        >>> h, (h2, c) = cell(jnp.ones((1, 5, 5, 2)), [jnp.zeros((1, 5, 5, 3))] * 2)
        >>> h.shape, c.shape
        ((1, 5, 5, 3), (1, 5, 5, 3))
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTMCell supports rank 1, 2 or 3 convolutions; received "
                             f"rank={rank!r}. Use ConvLSTM1D, ConvLSTM2D or ConvLSTM3D.")
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"ConvLSTM(filters=...) must be a positive int; received "
                             f"{filters!r}.")
        self.rank, self.filters = rank, filters
        set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias, self.unit_forget_bias = bool(use_bias), bool(unit_forget_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = get_constraint(kernel_constraint)
        self.recurrent_constraint = get_constraint(recurrent_constraint)
        self.bias_constraint = get_constraint(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.state_size = [filters, filters]  # channels of h and c; spatial sizes from build

    # -- weights -----------------------------------------------------------------------------
    def _forget_bias_initializer(self) -> Any:
        init, filters = self.bias_initializer, self.filters

        def forget_bias_one(shape: Any, dtype: Any = None) -> jax.Array:
            # Keras: [init(f), ones(f), init(2 f)] for gates i, f, (c, o).
            return jnp.concatenate([init((filters,), dtype), jnp.ones((filters,), dtype),
                                    init((2 * filters,), dtype)])
        return forget_bias_one

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise ValueError(f"ConvLSTMCell '{self.name}' expects one step of rank "
                             f"{self.rank + 2} (batch, {'spatial, ' * self.rank}channels); "
                             f"received shape {shape}.")
        axes = ops.spatial_axes(self.rank, self.data_format)
        self.spatial_dims = tuple(shape[a] for a in axes)
        self.input_dim = shape[ops.channel_axis(self.data_format)]
        if None in self.spatial_dims or self.input_dim is None:
            raise ValueError(f"ConvLSTM layers need static spatial sizes and channels; "
                             f"received step shape {shape}. Give the Input a full shape.")
        width = 4 * self.filters
        self.kernel = self.add_weight(self.kernel_size + (self.input_dim, width),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            self.kernel_size + (self.filters, width), self.recurrent_initializer,
            name="recurrent_kernel", regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            init = (self._forget_bias_initializer() if self.unit_forget_bias
                    else self.bias_initializer)
            self.bias = self.add_weight((width,), init, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    # -- the step ----------------------------------------------------------------------------
    def state_shape(self, batch_size: int) -> tuple[int, ...]:
        """The shape of `h` and `c`: the input convolution's output shape."""
        out = conv_output_spatial(self.spatial_dims, self.kernel_size, self.strides,
                                  self.padding, self.dilation_rate)
        if self.data_format == "channels_last":
            return (batch_size,) + out + (self.filters,)
        return (batch_size, self.filters) + out

    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        shape = self.state_shape(batch_size)
        return [jnp.zeros(shape, self.compute_dtype), jnp.zeros(shape, self.compute_dtype)]

    def dropout_masks(self, step_shape: Sequence[int], state_shape: Sequence[int],
                      training: bool | None) -> tuple[jax.Array | None, jax.Array | None]:
        """Four input and four recurrent dropout masks for one call (None when inactive)."""
        masks = []
        for rate, shape in ((self.dropout, step_shape), (self.recurrent_dropout, state_shape)):
            active = training and 0.0 < rate < 1.0
            masks.append(dropout_mask(next_rng_key(self.seed), rate, (4,) + tuple(shape),
                                      self.compute_dtype) if active else None)
        return masks[0], masks[1]

    def spec(self) -> ConvSpec:
        return ConvSpec(self.strides, self.padding, self.dilation_rate, self.data_format,
                        self.activation, self.recurrent_activation)

    def params(self) -> dict[str, jax.Array | None]:
        return {"kernel": self.kernel.value, "recurrent_kernel": self.recurrent_kernel.value,
                "bias": None if self.bias is None else self.bias.value}

    def call(self, inputs: jax.Array, states: Sequence[jax.Array],
             training: bool | None = None) -> tuple[jax.Array, list[jax.Array]]:
        h, c = states
        dp, rec = self.dropout_masks(inputs.shape, h.shape, training)
        p = self.params()
        z = conv_lstm_project(self.spec(), p["kernel"], p["bias"], inputs[:, None], dp)[:, 0]
        h, c = conv_lstm_step(self.spec(), p["recurrent_kernel"], z, h, c, rec)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rank": self.rank, "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _serialize(self.kernel_initializer),
                "recurrent_initializer": _serialize(self.recurrent_initializer),
                "bias_initializer": _serialize(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
                "kernel_regularizer": _serialize(self.kernel_regularizer),
                "recurrent_regularizer": _serialize(self.recurrent_regularizer),
                "bias_regularizer": _serialize(self.bias_regularizer),
                "kernel_constraint": serialize_constraint(self.kernel_constraint),
                "recurrent_constraint": serialize_constraint(self.recurrent_constraint),
                "bias_constraint": serialize_constraint(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


# -- the layers ---------------------------------------------------------------------------------

# Attributes the layer reads from its cell (Keras exposes them as properties).
_GEOMETRY = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate")


class _ConvLSTM(_KerasRNN):
    """A ConvLSTM of rank `rank`: an RNN over `(batch, time, *spatial, channels)`.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
        recurrent_activation, use_bias, initializers, unit_forget_bias, regularizers,
        constraints, dropout, recurrent_dropout, seed: as `ConvLSTMCell`.
        return_sequences, return_state, go_backwards, stateful (not supported): as `RNN`.

    With `data_format="channels_first"` the inputs are `(batch, time, channels, *spatial)`.
    The outputs (and states `h`, `c`) have the input convolution's output shape.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, **kwargs: Any):
        cell = ConvLSTMCell(
            self.rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            name="conv_lstm_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)

    def __getattr__(self, name: str) -> Any:
        cell = self.__dict__.get("cell")
        if cell is not None and name in _GEOMETRY + ("unit_forget_bias",):
            return getattr(cell, name)
        return super().__getattr__(name)

    def build(self, sequences_shape: Any) -> None:
        shape = tuple(sequences_shape)
        if len(shape) != self.rank + 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 3} "
                f"(batch, time, {'spatial, ' * self.rank}channels); received shape {shape}. "
                f"Add a time axis for a single frame, e.g. x[:, None].")
        self.cell._maybe_build((shape[0],) + shape[2:])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["rank"]  # fixed by the class, as in Keras
        return config

    def _initial_states(self, initial_state: Any, batch: int) -> list[jax.Array]:
        if initial_state is None:
            return self.cell.get_initial_state(batch)
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
            initial_state]
        states = [jnp.asarray(s, self.compute_dtype) for s in states]
        expected = [self.cell.state_shape(batch)] * 2
        received = [tuple(s.shape) for s in states]
        if received != expected:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects initial_state as "
                             f"[h, c] of shapes {expected}; received shapes {received}.")
        return states

    def _loop(self, sequences: jax.Array, states: list, mask: Any, training: bool | None) -> tuple:
        cell = self.cell
        dp, rec = cell.dropout_masks((sequences.shape[0],) + sequences.shape[2:],
                                     states[0].shape, training)
        return run_conv_lstm(cell.spec(), cell.params(), sequences, states, mask, dp, rec,
                             self.go_backwards, self.zero_output_for_mask)


class ConvLSTM1D(_ConvLSTM):
    """1-d convolutional LSTM over `(batch, time, steps, channels)`.

    Example:
        >>> ConvLSTM1D(4, 3, padding="same")(jnp.ones((2, 5, 8, 3))).shape
        (2, 8, 4)
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """2-d convolutional LSTM over `(batch, time, rows, cols, channels)`.

    Example:
        >>> layer = ConvLSTM2D(4, 3, return_sequences=True)
        >>> layer(jnp.ones((2, 3, 6, 6, 1))).shape
        (2, 3, 4, 4, 4)
        >>> [w.shape for w in layer.get_weights()]
        [(3, 3, 1, 16), (3, 3, 4, 16), (16,)]
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """3-d convolutional LSTM over `(batch, time, depth, rows, cols, channels)`.

    Example:
        >>> ConvLSTM3D(2, 2)(jnp.ones((1, 2, 3, 3, 3, 1))).shape
        (1, 2, 2, 2, 2)
    """

    rank = 3
