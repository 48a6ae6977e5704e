"""Callbacks: hooks that `fit`, `evaluate` and `predict` call at each stage of the loop.

`Callback` is Keras's base class; `CallbackList` dispatches every hook to a list of them and
adds `History` and `ProgbarLogger` as Keras does. Batch-level logs may hold device arrays that
are still being computed: they are converted to Python floats only for callbacks that read
them, so a loop with nobody reading per-batch logs never waits on the device between steps.
"""


from ._backup_and_restore import BackupAndRestore
from ._callback import Callback
from ._callback_list import CallbackList
from ._csv_logger import CSVLogger
from ._early_stopping import EarlyStopping
from ._history import History
from ._lambda_callback import LambdaCallback
from ._learning_rate_scheduler import LearningRateScheduler
from ._model_checkpoint import ModelCheckpoint
from ._monitor import MonitorCallback
from ._progbar_logger import ProgbarLogger
from ._reduce_lr_on_plateau import ReduceLROnPlateau
from ._remote_monitor import RemoteMonitor
from ._swap_ema_weights import SwapEMAWeights
from ._tensorboard import TensorBoard
from ._terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor",
           "SwapEMAWeights", "TensorBoard", "TerminateOnNaN"]
