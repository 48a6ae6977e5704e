"""`LambdaCallback`: a callback built from plain functions."""

from __future__ import annotations

from typing import Any, Callable

from ._callback import Callback


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g. `LambdaCallback(on_epoch_end=lambda e, logs: ...)`.

    Args:
        on_epoch_begin / on_epoch_end: `f(epoch, logs)`.
        on_train_begin / on_train_end: `f(logs)`.
        on_train_batch_begin / on_train_batch_end: `f(batch, logs)`.
        **kwargs: any other hook by name (e.g. `on_test_end=f`), as Keras accepts.
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None,
                 on_train_batch_end: Callable | None = None, **kwargs: Any):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        # Only the given hooks replace the defaults, so the others still count as unused.
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
