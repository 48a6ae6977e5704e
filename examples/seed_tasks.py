"""kiln's main job: the seeds' three tasks on real data, with held-out metrics.

- binary classification: breast cancer (569 samples, 30 features), sigmoid + binary_crossentropy
- multi-class classification: digits (1,797 8x8 images, 10 classes), softmax +
  sparse_categorical_crossentropy
- regression: diabetes (442 samples, 10 features), linear output + mean_squared_error

The data sets ship with scikit-learn, so nothing is downloaded. Run:
    python examples/seed_tasks.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split

import kiln as keras
from kiln import layers

PLOT_FILE = "kiln_demo_digits.png"


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-8
    return (train - mean) / std, (test - mean) / std


def split(x: np.ndarray, y: np.ndarray, stratify: bool) -> tuple:
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0,
                                              stratify=y if stratify else None)
    x_tr, x_te = standardize(x_tr.astype("float32"), x_te.astype("float32"))
    return x_tr, x_te, y_tr, y_te


def binary_task() -> dict:
    x_tr, x_te, y_tr, y_te = split(*load_breast_cancer(return_X_y=True), stratify=True)
    model = keras.Sequential([
        layers.Dense(32, activation="relu", input_shape=(x_tr.shape[1],)),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="RMSprop", loss="binary_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(), "precision", "recall"])
    model.fit(x_tr, y_tr, epochs=30, batch_size=32, validation_split=0.1, verbose=0)
    return model.evaluate(x_te, y_te, verbose=0, return_dict=True)


def multiclass_task(show: bool = False) -> dict:
    """With `show`, prints the model's summary, trains with Keras's progress bar and writes
    the training curves to PLOT_FILE (needs matplotlib: pip install "kiln[plot]")."""
    x_tr, x_te, y_tr, y_te = split(*load_digits(return_X_y=True), stratify=True)
    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.1),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if show:
        model.summary()
    history = model.fit(x_tr, y_tr, epochs=30, batch_size=32, validation_split=0.1,
                        verbose=1 if show else 0)
    if show:
        try:
            keras.utils.plot_history(history, to_file=PLOT_FILE)
            print(f"Training curves written to {PLOT_FILE}")
        except ImportError as err:  # matplotlib is optional
            print(f"No training plot: {err}")
    return model.evaluate(x_te, y_te, verbose=0, return_dict=True)


def regression_task() -> dict:
    x, y = load_diabetes(return_X_y=True)
    x_tr, x_te, y_tr, y_te = split(x, y, stratify=False)
    mean, scale = y_tr.mean(), y_tr.std()  # train on a standardized target
    model = keras.Sequential([
        layers.Dense(16, activation="relu", input_shape=(x_tr.shape[1],)),
        layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse",
                  metrics=["mae"])
    model.fit(x_tr, (y_tr - mean) / scale, epochs=100, batch_size=32, verbose=0)
    pred = model.predict(x_te, verbose=0)[:, 0] * scale + mean
    rmse = float(np.sqrt(np.mean((pred - y_te) ** 2)))
    mae = float(np.mean(np.abs(pred - y_te)))
    r2 = 1.0 - float(np.sum((pred - y_te) ** 2) / np.sum((y_te - y_te.mean()) ** 2))
    return {"mae": mae, "rmse": rmse, "r2": r2}


def main() -> None:
    keras.utils.set_random_seed(0)
    for title, task in (("Binary classification (breast cancer)", binary_task),
                        ("Multi-class classification (digits)",
                         lambda: multiclass_task(show=True)),
                        ("Regression (diabetes, in target units)", regression_task)):
        start = time.perf_counter()
        results = task()
        took = time.perf_counter() - start
        shown = "  ".join(f"{k}={v:.4f}" for k, v in sorted(results.items()))
        print(f"{title}: held-out {shown}  ({took:.1f}s)")


if __name__ == "__main__":
    main()
