"""Keras's "Simple MNIST convnet" example, run by kiln on scikit-learn's digits.

The architecture and training settings are those of keras.io/examples/vision/mnist_convnet:
Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) - MaxPooling2D(2) - Flatten -
Dropout(0.5) - Dense(10, softmax), Adam, categorical cross-entropy, batch 128, 15 epochs,
10% of the training data held out for validation.

Nothing is downloaded: scikit-learn ships 1,797 8x8 digit images, which are upscaled to 20x20
and centred in a 28x28 frame, as MNIST digits are. Run:
    python examples/mnist_convnet.py [--epochs 15]
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kiln as keras
from kiln.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D


NUM_CLASSES = 10
INPUT_SHAPE = (28, 28, 1)


def load_digits_28x28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as MNIST-like images: `(1797, 28, 28, 1)` floats in [0, 1] and
    integer labels."""
    digits = load_digits()
    images = digits.images.astype("float32") / 16.0  # pixel values are 0..16
    # MNIST digits fill a 20x20 box centred in a 28x28 frame: upscale, then pad by 4.
    big = jax.image.resize(images, (len(images), 20, 20), method="bilinear")
    big = np.clip(np.asarray(big), 0.0, 1.0)
    x = np.pad(big, ((0, 0), (4, 4), (4, 4)))[..., None].astype("float32")
    return x, digits.target.astype("int32")


def build_model(dropout: float = 0.5) -> keras.Sequential:
    """The Keras example's convnet (34,826 parameters)."""
    return keras.Sequential([
        Input(shape=INPUT_SHAPE),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dropout(dropout),
        Dense(NUM_CLASSES, activation="softmax"),
    ])


def main(epochs: int) -> dict:
    x, y = load_digits_28x28()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0,
                                                        stratify=y)
    y_train = keras.utils.to_categorical(y_train, NUM_CLASSES)
    y_test = keras.utils.to_categorical(y_test, NUM_CLASSES)
    print(f"x_train shape: {x_train.shape}; {len(x_train)} train and {len(x_test)} test samples")

    model = build_model()
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1)
    print(f"trained in {time.perf_counter() - start:.1f} s")
    score = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"Test loss: {score['loss']:.4f}")
    print(f"Test accuracy: {score['accuracy']:.4f}")
    return score


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    main(parser.parse_args().epochs)
