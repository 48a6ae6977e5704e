"""The same Keras code, run by `import kiln as keras` or by Keras 3 on its JAX backend.

Only the module differs between the two contenders, so any gap is the library's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _common import EPSILON, LEARNING_RATE, N_CLASSES, Config, EpochClock, time_predict


def _layers(keras: Any, cfg: Config) -> list[Any]:
    """The MLP of the issue, or Keras's mnist_convnet example (keras.io/examples/vision)."""
    layers = keras.layers
    if cfg.model == "convnet":
        return [keras.Input(cfg.input_shape),
                layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                layers.MaxPooling2D(pool_size=(2, 2)),
                layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                layers.MaxPooling2D(pool_size=(2, 2)),
                layers.Flatten(),
                layers.Dropout(0.5),
                layers.Dense(N_CLASSES, activation="softmax")]
    return ([keras.Input(cfg.input_shape)]
            + [layers.Dense(h, activation="relu") for h in cfg.hidden]
            + [layers.Dense(N_CLASSES, activation="softmax")])


def build(keras: Any, cfg: Config, steps_per_execution: Any = None) -> Any:
    """Sequential model, Adam(1e-3, epsilon=1e-7), sparse CE, accuracy: the issue's Keras code."""
    model = keras.Sequential(_layers(keras, cfg))
    kwargs = {} if steps_per_execution is None else {"steps_per_execution": steps_per_execution}
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE, epsilon=EPSILON),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **kwargs)
    return model


def run(keras: Any, cfg: Config, x: np.ndarray, y: np.ndarray,
        steps_per_execution: Any = None) -> dict[str, Any]:
    """Trains `cfg.epochs` epochs timing each with a callback, then times predict."""
    # A fixed seed: the initial weights (hence loss and accuracy) repeat from run to run. On
    # this synthetic task some draws train much slower (Keras and kiln alike: with 5 seeds,
    # Keras's 4-epoch loss ranged 0.43 to 1.59 and kiln's 0.46 to 0.77).
    keras.utils.set_random_seed(0)
    clock = EpochClock()  # time to first epoch counts model building and compile too

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            # Fetch the logs so the epoch's device work has finished before the timestamp.
            self.last = {k: float(v) for k, v in (logs or {}).items()}
            clock.mark()

    model = build(keras, cfg, steps_per_execution)
    timer = EpochTimer()
    model.fit(x, y, batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0, shuffle=True,
              callbacks=[timer])
    out = clock.summary()
    out["final_loss"] = timer.last.get("loss")
    out["final_accuracy"] = timer.last.get("accuracy")
    out.update(time_predict(lambda: model.predict(x, batch_size=cfg.batch_size, verbose=0),
                            cfg.predict_repeats))
    return out
