"""What a user's choices cost over kiln's plain fit, measured in one run.

The same MLP (784-128-10, Adam, sparse categorical cross-entropy, accuracy, batch 128, 60,000
synthetic samples) trains:
- with kiln's own step and with the Keras JAX guide's `train_step` override (stateless_call,
  jax.value_and_grad, optimizer.stateless_apply, the metrics loop). Target (issue 13): the
  override's best epoch <= 1.05 x the built-in's;
- without callbacks and with `BackupAndRestore(save_freq="epoch")` + `ModelCheckpoint` (a
  .keras file per epoch). Target (issue 12): best epoch <= 1.05 x without.

    python benchmarks/overheads.py [--epochs 4] [--samples 60000] [--case all|override|saving]
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time

import jax
import numpy as np

import kiln


class GuideModel(kiln.Model):
    """The override of Keras's guide "Customizing what happens in fit() with JAX"."""

    def compute_loss_and_updates(self, trainable, non_trainable, x, y, training=False):
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                    training=training)
        return self.compute_loss(x, y, y_pred), (y_pred, non_trainable)

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y,
                                                         training=True)
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads,
                                                                   trainable)
        new, logs = [], {}
        for metric in self.metrics:
            own = metrics_vars[len(new):len(new) + len(metric.variables)]
            if metric.name == "loss":
                own = metric.stateless_update_state(own, loss)
            else:
                own = metric.stateless_update_state(own, y, y_pred)
            logs[metric.name] = metric.stateless_result(own)
            new += own
        return logs, (trainable, non_trainable, optimizer_vars, new)


def _epochs(cls: type, x: np.ndarray, y: np.ndarray, epochs: int,
            callbacks: list | None = None) -> list[float]:
    kiln.utils.set_random_seed(0)
    inputs = kiln.Input((x.shape[1],))
    hidden = kiln.layers.Dense(128, activation="relu")(inputs)
    model = cls(inputs, kiln.layers.Dense(10, activation="softmax")(hidden))
    model.compile(optimizer=kiln.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    stamps = [time.perf_counter()]

    class Clock(kiln.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # the epoch's device work is done
            stamps.append(time.perf_counter())

    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0,
              callbacks=[*(callbacks or []), Clock()])
    return [b - a for a, b in itertools.pairwise(stamps)]


def _row(label: str, base: list[float], other: list[float], what: str) -> None:
    ratio = min(other[1:]) / min(base[1:])
    print(f"{label}: best epoch {min(other[1:]):.3f} s vs {min(base[1:]):.3f} s")
    print(f"- **{'PASS' if ratio <= 1.05 else 'FAIL'}** {what} = {ratio:.2f} x "
          "(target <= 1.05 x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--case", choices=("all", "override", "saving"), default="all",
                        help="run only the train_step override or only the saving callbacks")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, 784)).astype("float32")
    y = rng.integers(0, 10, size=args.samples)
    builtin = _epochs(kiln.Model, x, y, args.epochs)
    if args.case in ("all", "override"):
        _row("train_step override", builtin, _epochs(GuideModel, x, y, args.epochs),
             "override / built-in best epoch")
    if args.case in ("all", "saving"):
        _saving(builtin, x, y, args.epochs)


def _saving(builtin: list[float], x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        saving = [kiln.callbacks.BackupAndRestore(os.path.join(folder, "backup")),
                  kiln.callbacks.ModelCheckpoint(os.path.join(folder, "model.keras"))]
        _row("BackupAndRestore + ModelCheckpoint", builtin,
             _epochs(kiln.Model, x, y, epochs, saving),
             "with the two callbacks / without, best epoch")


if __name__ == "__main__":
    main()
