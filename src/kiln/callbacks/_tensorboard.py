"""`TensorBoard`: Keras's scalar and histogram logs, written without TensorFlow.

The event files are written with the `tensorboard` package's own writer and protos (the
optional extra `kiln[tensorboard]`), in the layout and tag names Keras 3 uses: `train/` and
`validation/` under `log_dir`, `epoch_<name>` per epoch, `batch_<name>` every `update_freq`
batches, `evaluation_<name>_vs_iterations` after each validation run, and
`<weight path>/histogram` every `histogram_freq` epochs.
"""

from __future__ import annotations

import importlib
import os
import time
import types
import warnings
from typing import Any

import jax
import numpy as np

from ._callback import Callback

_TB: dict[str, Any] = {}


def _tb() -> Any:
    """The tensorboard modules this callback writes with, loaded on first use: the optional
    extra kiln[tensorboard] costs about 0.16 s to import, which `import kiln` should not pay.
    Returns None when tensorboard is not installed."""
    if not _TB:
        names = {"event_pb2": "tensorboard.compat.proto.event_pb2",
                 "summary_pb2": "tensorboard.compat.proto.summary_pb2",
                 "types_pb2": "tensorboard.compat.proto.types_pb2",
                 "histogram": "tensorboard.plugins.histogram.summary_v2",
                 "scalar": "tensorboard.plugins.scalar.summary_v2",
                 "writer": "tensorboard.summary.writer.event_file_writer"}
        try:
            _TB.update({k: importlib.import_module(v) for k, v in names.items()})
        except ImportError:
            return None
    return types.SimpleNamespace(**_TB)


def _warn_unsupported(option: str, value: Any, what: str) -> None:
    warnings.warn(
        f"TensorBoard({option}={value!r}): kiln does not {what}; the option is ignored and "
        f"nothing is written for it. Received: {option}={value!r}; expected the default to "
        "silence this warning.", UserWarning, stacklevel=3)


def _check_update_freq(update_freq: Any) -> int | str:
    if update_freq == "batch":
        return 1
    if update_freq == "epoch" or (isinstance(update_freq, int) and not isinstance(
            update_freq, bool) and update_freq > 0):
        return update_freq
    raise ValueError("TensorBoard(update_freq=...) expects 'epoch', 'batch' or a positive "
                     f"int (log every that many batches). Received: update_freq={update_freq!r}.")


def _profile_range(profile_batch: Any) -> tuple[int, int]:
    """`(start, stop)` of Keras's `profile_batch` (an int, "start,stop" or a pair); (0, 0)
    when off."""
    value = profile_batch
    try:
        if isinstance(value, str):
            value = [int(v) for v in value.split(",")]
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            start = stop = int(value)
        else:
            start, stop = (int(v) for v in value)
    except (TypeError, ValueError):
        start, stop = -1, -1
    if start < 0 or stop < start:
        raise ValueError("profile_batch must be a non-negative integer or a pair of them "
                         "(start, stop) with start <= stop, e.g. 5 or (10, 20); received "
                         f"profile_batch={profile_batch!r}.")
    return start, stop


class TensorBoard(Callback):
    """Writes TensorBoard logs: epoch (and optionally batch) scalars and weight histograms.

    Tags, steps and directories are Keras 3's: `log_dir/train` holds `epoch_loss`,
    `epoch_<metric>` and `epoch_learning_rate` at step `epoch`; `log_dir/validation` holds
    the `val_` values under the same tags (prefix removed) and
    `evaluation_<name>_vs_iterations` at step `optimizer.iterations`. With an int
    `update_freq`, `batch_<name>` is written every that many batches (step: the batch count
    since the start of `fit`). With `histogram_freq > 0`, each weight is written as
    `<weight.path>/histogram` every `histogram_freq` epochs. `write_graph` writes the
    model's config (the conceptual graph, tag `keras`), as Keras does on the JAX backend.

    `profile_batch` traces the batches from `start` to `stop` (counted from 1 over the whole
    `fit`) with `jax.profiler` into `log_dir/train/plugins/profile/` (TensorBoard's profile
    plugin reads it). Keras on JAX ignores it below Python 3.12; kiln traces on any version.

    Needs the `tensorboard` package: `pip install "kiln[tensorboard]"`. Not supported (a
    warning says so): `write_images` and the embeddings projector.

    Args:
        log_dir: the directory the `train/` and `validation/` event files go to.
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: write the model's config for TensorBoard's graph view.
        write_images: not supported by kiln (warns).
        write_steps_per_second: also write `epoch_steps_per_second` (and
            `batch_steps_per_second` with an int `update_freq`).
        update_freq: "epoch", "batch" (every batch) or an int N (every N batches).
        profile_batch: 0 (off), a batch number, or `(start, stop)` (also "start,stop").
        embeddings_freq: not supported by kiln (warns when not 0).
        embeddings_metadata: not supported by kiln (warns when given).

    Example:
        >>> import tempfile
        >>> cb = TensorBoard(log_dir=tempfile.mkdtemp())
        >>> cb.update_freq
        'epoch'
    """

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq: int | str = "epoch", profile_batch: Any = 0,
                 embeddings_freq: int = 0, embeddings_metadata: Any = None) -> None:
        super().__init__()
        if _tb() is None:
            raise ImportError("kiln.callbacks.TensorBoard needs the `tensorboard` package, "
                              'which is not installed. Install it with: '
                              'pip install "kiln[tensorboard]"')
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = _check_update_freq(update_freq)
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._warn_unsupported_options(write_images, embeddings_freq, embeddings_metadata)
        self._start_batch, self._stop_batch = _profile_range(profile_batch)
        self._is_tracing = False
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        if self.update_freq != "epoch" or self._stop_batch:
            # Only then does this callback read per-batch logs; the loop keeps batches
            # on the device for callbacks that do not override the batch hooks.
            self.on_train_batch_begin = self._train_batch_begin
            self.on_train_batch_end = self._train_batch_end

    @staticmethod
    def _warn_unsupported_options(write_images: Any, embeddings_freq: Any,
                                  embeddings_metadata: Any) -> None:
        if write_images:
            _warn_unsupported("write_images", write_images, "write weights as images")
        if embeddings_freq:
            _warn_unsupported("embeddings_freq", embeddings_freq,
                              "write the embeddings projector's config")
        if embeddings_metadata is not None:
            _warn_unsupported("embeddings_metadata", embeddings_metadata,
                              "write the embeddings projector's config")

    # -- writers ---------------------------------------------------------------------------

    def _writer(self, run: str) -> Any:
        """The event-file writer of `run` ("train" or "validation"), created on first use."""
        if run not in self._writers:
            self._writers[run] = _tb().writer.EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write(self, run: str, summary: Any, step: int) -> None:
        event = _tb().event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer(run).add_event(event)

    def _scalar(self, run: str, tag: str, value: Any, step: int) -> None:
        try:
            number = float(np.asarray(value, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            return  # Keras's logs may hold non-scalars; TensorBoard's scalars cannot
        self._write(run, _tb().scalar.scalar_pb(tag, number), step)

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks -----------------------------------------------------------------------------

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self._close_writers()
        if self.write_graph:
            self._write_model_config(model)

    def _write_model_config(self, model: Any) -> None:
        """Keras's `keras` tag: the model's JSON config for the graph plugin (step 0)."""
        if type(model).__name__ != "Sequential" and not getattr(model, "_functional", None):
            return
        try:
            config = model.to_json()
        except Exception as exc:  # as Keras: a model that cannot serialize is only warned of
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
            return
        metadata = _tb().summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        summary = _tb().summary_pb2.Summary()
        value = summary.value.add(tag="keras", metadata=metadata)
        value.tensor.dtype = _tb().types_pb2.DT_STRING
        value.tensor.tensor_shape.SetInParent()
        value.tensor.string_val.append(config.encode("utf-8"))
        self._write("train", summary, 0)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_train_batch = 0

    def on_train_end(self, logs: dict | None = None) -> None:
        self._trace(False)
        self._close_writers()

    def _trace(self, on: bool) -> None:
        if on and not self._is_tracing:
            jax.profiler.start_trace(os.path.join(self.log_dir, "train"))
        elif not on and self._is_tracing:
            jax.profiler.stop_trace()
        self._is_tracing = on

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.write_steps_per_second:
            self._epoch_start_iterations = self._iterations()
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations"):
            return
        step = self._iterations()
        for name, value in (logs or {}).items():
            self._scalar("validation", f"evaluation_{name}_vs_iterations", value, step)

    def _train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1
        if self._stop_batch and self._global_train_batch == self._start_batch:
            self._trace(True)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def _train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        step = self._global_train_batch
        if self._is_tracing and step >= self._stop_batch:
            self._trace(False)
        if self.update_freq == "epoch" or step % self.update_freq != 0:
            return
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-12)
            self._scalar("train", "batch_steps_per_second", 1.0 / elapsed, step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                self._scalar("train", f"batch_{name}", value, step)

    # -- epoch values ----------------------------------------------------------------------

    def _iterations(self) -> int:
        return int(np.asarray(self.model.optimizer.iterations))

    def _learning_rates(self) -> dict[str, float]:
        """`learning_rate` (or `learning_rate_<name>` per optimizer of a multi-optimizer)."""
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):
            return {f"learning_rate_{opt.name}": float(np.asarray(opt.learning_rate))
                    for opt in optimizer.optimizers}
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            return {"learning_rate": float(np.asarray(optimizer.learning_rate))}
        return {}

    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-12)
            train["steps_per_second"] = (self._iterations() - self._epoch_start_iterations) / elapsed
        for run, values in (("train", train), ("validation", val)):
            for name, value in values.items():
                self._scalar(run, f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch: int) -> None:
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = f"{weight.path.replace(':', '_')}/histogram"
                data = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
                self._write("train", _tb().histogram.histogram_pb(tag, data), epoch)
