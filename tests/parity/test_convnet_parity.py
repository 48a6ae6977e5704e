"""The mnist_convnet example trains like Keras: same weights, same data, same losses.

The kiln model is the one examples/mnist_convnet.py builds (dropout set to 0 so both runs are
deterministic); Keras builds the same architecture and receives kiln's initial weights.
Two epochs of Adam on 256 digits, shuffle off: per-epoch losses agree within 1e-3 relative
and the trained weights within 1e-4 (plus 1e-3 relative).
"""

import importlib.util
from pathlib import Path

import keras
import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mnist_convnet.py"


def _example():
    spec = importlib.util.spec_from_file_location("mnist_convnet_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _keras_convnet():
    """The example's architecture in Keras. Its weights are overwritten with kiln's initial
    ones, so constant initializers spare compiling Keras's random samplers."""
    layers, zeros = keras.layers, {"kernel_initializer": "zeros"}
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu", **zeros),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu", **zeros),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.0),
        layers.Dense(10, activation="softmax", **zeros),
    ])


def test_convnet_training_matches_keras():
    example = _example()
    x, y = example.load_digits_28x28()
    assert x.shape == (1797, 28, 28, 1) and 0.0 <= x.min() and x.max() <= 1.0
    x, y = x[:256], np.eye(10, dtype="float32")[y[:256]]

    k_model = _keras_convnet()
    n_model = example.build_model(dropout=0.0)
    assert n_model.count_params() == k_model.count_params() == 34826
    k_model.set_weights(n_model.get_weights())  # kiln's Glorot draws, in Keras's order

    fit = {"epochs": 2, "batch_size": 64, "shuffle": False, "verbose": 0}
    compile_args = {"loss": "categorical_crossentropy", "optimizer": "adam"}
    k_model.compile(**compile_args)
    n_model.compile(**compile_args)
    k_loss = k_model.fit(x, y, **fit).history["loss"]
    n_loss = n_model.fit(x, y, **fit).history["loss"]

    np.testing.assert_allclose(n_loss, k_loss, rtol=1e-3)
    assert n_loss[1] < n_loss[0]  # it learns
    for n_w, k_w in zip(n_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(n_w, k_w, rtol=1e-3, atol=1e-4)
