"""`StackedRNNCells`: several RNN cells run as one, each feeding the next within a step.

`RNN([cell_a, cell_b])` wraps the list in one, as Keras does. kiln's `RNN` carries a flat
list of states, so the stack's `state_size` is the cells' state sizes one after the other and
`call` hands each cell its own slice.

Example:
    >>> import numpy as np, kiln
    >>> stack = StackedRNNCells([kiln.layers.LSTMCell(3), kiln.layers.GRUCell(2)])
    >>> stack.state_size, stack.output_size
    ([3, 3, 2], 2)
    >>> kiln.layers.RNN(stack)(np.ones((1, 4, 5), "float32")).shape
    (1, 2)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._core import _deserialize_layer, _serialize
from ._layer import Layer, _accepts


def _sizes(cell: Any) -> list[int]:
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [int(size)]


def _output_size(cell: Any) -> int:
    size = getattr(cell, "output_size", None)
    return int(size) if size is not None else _sizes(cell)[0]


class StackedRNNCells(Layer):
    """A stack of RNN cells that behaves as one cell (Keras's `keras.layers.StackedRNNCells`).

    Args:
        cells: the cells, first to last; each needs `call(inputs, states)` and `state_size`.
    """

    def __init__(self, cells: list, **kwargs: Any):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or getattr(cell, "state_size",
                                                                     None) is None:
                raise ValueError(f"Every cell of StackedRNNCells needs a `call` method and a "
                                 f"`state_size`; received {cell!r}. Pass RNN cells such as "
                                 "kiln.layers.LSTMCell(units).")
        self.cells = list(cells)

    @property
    def state_size(self) -> list[int]:
        return [d for cell in self.cells for d in _sizes(cell)]

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._maybe_build(shape)
            shape = (shape[0], _output_size(cell))

    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        states = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state"):
                own = cell.get_initial_state(batch_size)
                states += list(own) if isinstance(own, (list, tuple)) else [own]
            else:
                states += [jnp.zeros((batch_size, d), self.compute_dtype) for d in _sizes(cell)]
        return states

    def call(self, inputs: jax.Array, states: Any, training: bool | None = None) -> tuple:
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        new, pos = [], 0
        for cell in self.cells:
            n = len(_sizes(cell))
            kwargs = {"training": training} if _accepts(cell.call, "training") else {}
            inputs, own = cell(inputs, states[pos:pos + n], **kwargs)
            new += list(own) if isinstance(own, (list, tuple)) else [own]
            pos += n
        return inputs, new

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cells": [_serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "StackedRNNCells":
        config = dict(config)
        cells = [c if isinstance(c, Layer) else _deserialize_layer(c)
                 for c in config.pop("cells")]
        return cls(cells, **config)
