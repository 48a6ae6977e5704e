"""`SwapEMAWeights`: evaluates (and optionally checkpoints) with the optimizer's EMA weights."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ._callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's moving averages (`use_ema=True`)
    around evaluation and prediction, and with `swap_on_epoch=True` from each epoch's end to
    the next epoch's start (so a later `ModelCheckpoint` saves the EMA weights), as Keras's.
    Place it before such callbacks. Swapping is a host-side exchange of arrays: the compiled
    steps are not recompiled.

    Args:
        swap_on_epoch: also hold the EMA weights in the model between epochs.

    Example:
        >>> cb = SwapEMAWeights(swap_on_epoch=True)
        >>> cb.swap_on_epoch
        True
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizer(self) -> Any:
        optimizer = getattr(self.model, "optimizer", None)
        if not getattr(optimizer, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema={getattr(optimizer, 'use_ema', None)}"
                             ". Compile with e.g. kiln.optimizers.Adam(use_ema=True).")
        return optimizer

    def _swap(self, keep_average: bool = False) -> None:
        """Model weights <-> EMA; `keep_average`: the EMA slots get the EMA too (last epoch)."""
        optimizer = self._optimizer()
        state = optimizer.state
        if state is None or state.ema is None:
            return
        ema = dict(state.ema)
        for var in self.model.trainable_weights:
            if var.path in ema:
                current = jnp.array(var.value, copy=True)
                var.assign(ema[var.path])
                ema[var.path] = jnp.array(ema[var.path], copy=True) if keep_average else current
        optimizer.state = state._replace(ema=ema)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._optimizer()
        self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            last = epoch == (self.params or {}).get("epochs", 0) - 1
            self._swap(keep_average=last)
            self._ema_weights_in_model = True

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self.on_test_begin(logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self.on_test_end(logs)
