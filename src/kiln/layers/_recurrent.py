"""Recurrent layers: RNN, SimpleRNN, LSTM, GRU (Bidirectional lives in `_bidirectional.py`).

The time loop is one `jax.lax.scan`. Masking matches Keras's JAX backend
(`keras/src/backend/jax/rnn.py`, the non-unrolled path): at a masked timestep the states are
carried forward unchanged and the output repeats the previous output (`states[0]`), or is zero
when `zero_output_for_mask` (which `Bidirectional` forces on with `return_sequences`).
`go_backwards` processes the sequence from the end and returns the outputs in that reversed
order, as Keras does.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp

from ._core import _deserialize_layer, _serialize
from ._layer import Layer
from ._stacked_cells import StackedRNNCells
from ._rnn_cells import CellSpec, GRUCell, LSTMCell, SimpleRNNCell, _Cell, cell_project, cell_step

Step = Callable[[jax.Array, list], tuple[jax.Array, list]]


def rnn_loop(step: Step, inputs: jax.Array, initial_states: Sequence[jax.Array],
             mask: jax.Array | None = None, go_backwards: bool = False,
             zero_output_for_mask: bool = False) -> tuple[jax.Array, jax.Array, list]:
    """Runs `step(x_t, states) -> (output_t, new_states)` over the time axis with lax.scan.

    Args:
        step: one timestep; `states` is a list of arrays.
        inputs: `(batch, time, ...)` (batch-major, as Keras layers take them).
        initial_states: the states before the first step.
        mask: optional `(batch, time)` mask; False timesteps keep the previous states and
            output the previous output (`states[0]`), or zeros with `zero_output_for_mask`.
        go_backwards: iterate from the last timestep; outputs come in processing order.
        zero_output_for_mask: see `mask`.

    Returns:
        `(last_output, outputs (batch, time, ...), final_states)`.
    """
    xs = jnp.swapaxes(inputs, 0, 1)
    if mask is not None:
        mask = jnp.swapaxes(jnp.asarray(mask).astype(bool), 0, 1)[..., None]
    if go_backwards:
        xs = jnp.flip(xs, 0)
        mask = None if mask is None else jnp.flip(mask, 0)

    def plain(states: tuple, x_t: jax.Array) -> tuple:
        output, new_states = step(x_t, list(states))
        return tuple(new_states), output

    def masked(states: tuple, x_and_mask: tuple) -> tuple:
        x_t, keep = x_and_mask
        output, new_states = step(x_t, list(states))
        previous = jnp.zeros_like(output) if zero_output_for_mask else states[0]
        output = jnp.where(keep, output, previous)
        new_states = tuple(jnp.where(keep, n, s) for n, s in zip(new_states, states))
        return new_states, output

    if mask is None:
        final, outputs = jax.lax.scan(plain, tuple(initial_states), xs)
    else:
        final, outputs = jax.lax.scan(masked, tuple(initial_states), (xs, mask))
    return outputs[-1], jnp.swapaxes(outputs, 0, 1), list(final)


@functools.partial(jax.jit, static_argnames=("spec", "go_backwards", "zero_output_for_mask"))
def run_cell(spec: CellSpec, params: dict, sequences: jax.Array, states: list,
             mask: jax.Array | None, dp_mask: jax.Array | None, rec_mask: jax.Array | None,
             go_backwards: bool, zero_output_for_mask: bool) -> tuple:
    """A built-in cell over a whole sequence, as one compiled (and cached) program.

    The kernel part of every gate is computed for all timesteps in one matmul; only the
    recurrent part runs inside the scan. Returns `rnn_loop`'s `(last, outputs, states)`.
    """
    xs = cell_project(spec, params, sequences, dp_mask)
    return rnn_loop(lambda x_t, st: cell_step(spec, params, x_t, st, rec_mask), xs, states,
                    mask, go_backwards, zero_output_for_mask)


# Attributes a recurrent layer reads from its cell (Keras exposes them as properties).
_CELL_ATTRS = frozenset((
    "units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias", "reset_after",
    "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "seed", "implementation"))


class RNN(Layer):
    """Runs a cell over the time axis of `(batch, time, features)` inputs.

    Args:
        cell: a cell (`SimpleRNNCell`, `LSTMCell`, `GRUCell`, or a Layer with `state_size`
            and `call(inputs, states) -> (output, new_states)`).
        return_sequences: return every step's output `(batch, time, units)` instead of the last.
        return_state: also return the final states: `(output, *states)`.
        go_backwards: process the sequence backwards (and return the reversed sequence).
        stateful: not supported yet (raises); pass `initial_state=` to carry states yourself.
        unroll: accepted for compatibility and ignored (kiln always scans).
        zero_output_for_mask: output zeros (instead of the previous output) at masked steps.

    Call arguments:
        sequences: `(batch, time, features)`.
        initial_state: list of initial states (zeros when omitted).
        mask: `(batch, time)` booleans; False steps are skipped.
        training: enables the cell's dropout.
    """

    supports_masking = True

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):  # Keras wraps a list of cells the same way
            cell = StackedRNNCells(list(cell))
        if getattr(cell, "state_size", None) is None:
            raise ValueError(f"The RNN cell {cell!r} has no `state_size`; a cell must define "
                             "state_size (an int or a list of ints, one per state).")
        if stateful:
            raise ValueError(f"{type(self).__name__}(stateful=True) is not supported yet by "
                             "kiln. Use stateful=False and carry the states yourself: "
                             "return_state=True, then pass them back with initial_state=.")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)

    def __getattr__(self, name: str) -> Any:
        cell = self.__dict__.get("cell")
        if name in _CELL_ATTRS and cell is not None:
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def state_size(self) -> list[int]:
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def build(self, sequences_shape: Any) -> None:
        if len(sequences_shape) != 3:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of shape "
                             f"(batch, time, features); received shape {tuple(sequences_shape)}. "
                             "Add a time axis, e.g. x[:, None, :] for one step.")
        if isinstance(self.cell, Layer):
            self.cell._maybe_build((sequences_shape[0],) + tuple(sequences_shape[2:]))

    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        if hasattr(self.cell, "get_initial_state"):
            state = self.cell.get_initial_state(batch_size)
            return list(state) if isinstance(state, (list, tuple)) else [state]
        return [jnp.zeros((batch_size, d), self.compute_dtype) for d in self.state_size]

    def _initial_states(self, initial_state: Any, batch: int) -> list[jax.Array]:
        if initial_state is None:
            return self.get_initial_state(batch)
        nested = isinstance(initial_state, (list, tuple))
        states = list(initial_state) if nested else [initial_state]
        states = [jnp.asarray(s, self.compute_dtype) for s in states]
        expected = [(batch, d) for d in self.state_size]
        received = [tuple(s.shape) for s in states]
        if received != expected:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects initial_state as "
                             f"{len(expected)} array(s) of shapes {expected}; received shapes "
                             f"{received}.")
        return states

    def _cast_params(self, params: dict) -> dict:
        # The fused path reads the cell's weights directly (not through the cell's __call__),
        # so it applies the autocast a mixed policy asks for itself.
        dtype = self.compute_dtype
        if not self.cell.autocast or dtype == self.cell.variable_dtype:
            return params
        return {k: None if v is None else v.astype(dtype) for k, v in params.items()}

    def _loop(self, sequences: jax.Array, states: list, mask: Any, training: bool | None) -> tuple:
        cell = self.cell
        if isinstance(cell, _Cell):
            dp, rec = cell.dropout_masks(sequences.shape[0], sequences.shape[-1], training)
            return run_cell(cell.spec(), self._cast_params(cell.params()), sequences, states,
                            mask, dp, rec, self.go_backwards, self.zero_output_for_mask)

        def generic(x_t: jax.Array, states: list) -> tuple:
            out, new = cell(x_t, states, training=training)
            return out, (list(new) if isinstance(new, (list, tuple)) else [new])
        return rnn_loop(generic, sequences, states, mask, self.go_backwards,
                        self.zero_output_for_mask)

    def call(self, sequences: jax.Array, initial_state: Any = None, mask: jax.Array | None = None,
             training: bool | None = None) -> Any:
        sequences = jnp.asarray(sequences)
        states = self._initial_states(initial_state, sequences.shape[0])
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = jnp.asarray(mask).astype(bool)
        last, outputs, final = self._loop(sequences, states, mask, training)
        output = outputs if self.return_sequences else last
        return (output, *final) if self.return_state else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def _rnn_config(self) -> dict[str, Any]:
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self) -> dict[str, Any]:
        return {**self._rnn_config(), "cell": _serialize(self.cell)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "RNN":
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, (dict, list)):
            cell = _deserialize_layer(cell)
        return cls(cell, **config)


# Constructor arguments that go to the cell rather than to the RNN layer.
_CELL_KWARGS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "kernel_constraint", "recurrent_constraint", "bias_constraint", "implementation")


def _split_cell_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in _CELL_KWARGS if k in kwargs}


def _cell_flags(kwargs: dict[str, Any]) -> dict[str, Any]:
    # Keras gives the cell the layer's dtype and trainable flag.
    return {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True)}


class _KerasRNN(RNN):
    """Shared config of SimpleRNN, LSTM and GRU: flat, as Keras writes it (no `cell` entry)."""

    def get_config(self) -> dict[str, Any]:
        cell = {k: v for k, v in self.cell.get_config().items()
                if k not in ("name", "trainable", "dtype")}
        return {**self._rnn_config(), **cell,
                "activity_regularizer": _serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "RNN":
        return cls(**config)


class SimpleRNN(_KerasRNN):
    """Fully connected RNN: `h_t = activation(x_t W + h_{t-1} U + b)`.

    Args:
        units: size of the output and state.
        activation: default tanh.
        use_bias, kernel_initializer, recurrent_initializer ("orthogonal"), bias_initializer,
        *_regularizer, *_constraint, dropout, recurrent_dropout, seed: as `SimpleRNNCell`.
        return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.

    Example:
        >>> SimpleRNN(4)(jnp.ones((2, 5, 3))).shape
        (2, 4)
    """

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 seed: int | None = None, **kwargs: Any):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias,
                             kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer,
                             bias_initializer=bias_initializer, dropout=dropout,
                             recurrent_dropout=recurrent_dropout, seed=seed,
                             name="simple_rnn_cell", **_cell_flags(kwargs),
                             **_split_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)


class LSTM(_KerasRNN):
    """Long short-term memory (Hochreiter 1997), Keras's gate order i, f, c, o.

    Args:
        units: size of the output and of the two states `h` and `c`.
        activation: default tanh; recurrent_activation: default sigmoid.
        unit_forget_bias: forget-gate bias starts at 1 (default True).
        Other arguments as `SimpleRNN`; use_cudnn is accepted and ignored (XLA picks kernels).

    Returns (call):
        the last output `(batch, units)`, or the sequence with `return_sequences`; with
        `return_state`, `(output, h, c)`.
    """

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 use_cudnn: Any = "auto", **kwargs: Any):
        _check_use_cudnn(use_cudnn)
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation,
                        use_bias=use_bias, kernel_initializer=kernel_initializer,
                        recurrent_initializer=recurrent_initializer,
                        bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                        dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                        name="lstm_cell", **_cell_flags(kwargs), **_split_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = use_cudnn


class GRU(_KerasRNN):
    """Gated recurrent unit (Cho 2014), Keras's gate order z, r, h.

    Args:
        units: size of the output and state.
        reset_after: reset gate after the recurrent matmul (default True; bias `(2, 3*units)`).
        Other arguments as `LSTM`.
    """

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, use_cudnn: Any = "auto", **kwargs: Any):
        _check_use_cudnn(use_cudnn)
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation,
                       use_bias=use_bias, kernel_initializer=kernel_initializer,
                       recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, reset_after=reset_after,
                       dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                       name="gru_cell", **_cell_flags(kwargs), **_split_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = use_cudnn


def _check_use_cudnn(value: Any) -> None:
    if value not in ("auto", True, False):
        raise ValueError(f"use_cudnn must be one of 'auto', True, False; received {value!r}.")
