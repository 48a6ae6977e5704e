"""Data parallelism with `kiln.distribution`: one MLP trained on scikit-learn's digits over
every device, on one machine or on several processes (hosts).

Under `DataParallel` each device holds all the weights and works on its slice of each batch;
XLA averages the gradients. The numbers are those of a one-device fit of the same batches.
Nothing is downloaded: scikit-learn ships the 1,797 8x8 digit images.

One process, four (forced) CPU devices; on a GPU machine drop XLA_FLAGS:
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python examples/data_parallel.py

Two processes on this machine over loopback, two CPU devices each (on real hosts, use the
first host's address and start one process per host with its own PROCESS_ID):
    export XLA_FLAGS=--xla_force_host_platform_device_count=2
    export KERAS_DISTRIBUTION_JOB_ADDRESSES=127.0.0.1:12355 KERAS_DISTRIBUTION_NUM_PROCESSES=2
    KERAS_DISTRIBUTION_PROCESS_ID=0 python examples/data_parallel.py &
    KERAS_DISTRIBUTION_PROCESS_ID=1 python examples/data_parallel.py
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kiln as keras
from kiln import distribution

PER_DEVICE_BATCH = 16


def load_data() -> tuple:
    """Digits as 64 floats in [0, 1] and integer labels, 80% / 20% split (stratified)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    return train_test_split(x, digits.target.astype("int32"), test_size=0.2,
                            random_state=0, stratify=digits.target)


def whole_batches(x: np.ndarray, y: np.ndarray, unit: int) -> tuple:
    """The first samples, a multiple of `unit`: under several processes every batch, the
    last one too, must split evenly over the devices (kiln says so before the step)."""
    n = len(x) - len(x) % unit
    return x[:n], y[:n]


def make_model() -> keras.Model:
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(epochs: int) -> dict:
    if "KERAS_DISTRIBUTION_JOB_ADDRESSES" in os.environ:
        distribution.initialize()  # reads the KERAS_DISTRIBUTION_* variables
    devices = distribution.list_devices()  # every process's devices
    distribution.set_distribution(distribution.DataParallel(devices=devices))
    keras.utils.set_random_seed(0)
    batch_size = PER_DEVICE_BATCH * len(devices)  # the global batch: every process the same
    x_train, x_test, y_train, y_test = load_data()
    x_train, y_train = whole_batches(x_train, y_train, len(devices))
    x_test, y_test = whole_batches(x_test, y_test, len(devices))
    model = make_model()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0)
    if jax.process_index() == 0:
        print(f"{jax.process_count()} process(es), {len(devices)} devices {devices}, global "
              f"batch {batch_size}: {epochs} epochs in {seconds:.1f} s, test accuracy "
              f"{accuracy:.3f} (loss {loss:.3f})")
    return {"accuracy": float(accuracy), "loss": float(loss)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    main(parser.parse_args().epochs)
