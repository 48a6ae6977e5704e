"""Callbacks: hooks that `fit`, `evaluate` and `predict` call at each stage of the loop.

`Callback` is Keras's base class; `CallbackList` dispatches every hook to a list of them and
adds `History` and `ProgbarLogger` as Keras does. Batch-level logs may hold device arrays that
are still being computed: they are converted to Python floats only for callbacks that read
them, so a loop with nobody reading per-batch logs never waits on the device between steps.
"""


from ._callback import Callback
from ._callback_list import CallbackList
from ._history import History
from ._lambda_callback import LambdaCallback
from ._progbar_logger import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "ProgbarLogger"]
