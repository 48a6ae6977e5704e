"""Shared pieces of the benchmark workers: configs, synthetic data, timers, memory.

Only the standard library and NumPy are imported here, so a worker can time the import of
its own library (kiln, keras, jax, torch) without anything heavy already loaded.
"""

from __future__ import annotations

import dataclasses
import resource
import time
from typing import Any

import numpy as np

N_FEATURES = 784
IMAGE_SHAPE = (28, 28, 1)  # the convnet's NHWC input: the same 784 features, reshaped
N_CLASSES = 10
LEARNING_RATE = 1e-3
EPSILON = 1e-7  # Keras's Adam default; every contender uses it.
CONVNET_STEPS = 40  # steps per timed convnet epoch (a subset of MNIST's 469, for time)


@dataclasses.dataclass(frozen=True)
class Config:
    """One benchmark case: a model shape, a batch size and how much to run."""

    name: str
    hidden: tuple[int, ...]
    batch_size: int
    n_samples: int
    epochs: int            # total epochs; the first (compile) one is reported apart
    predict_repeats: int   # timed predict passes after one warm-up pass; the best is kept
    note: str = ""
    model: str = "mlp"     # "mlp" (Dense stack of `hidden`) or "convnet" (Keras's mnist_convnet)
    # Contenders run when --only names none; () means every contender.
    contenders: tuple[str, ...] = ()
    default: bool = True   # False: runs only when named (--only NAME or --with-NAME)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_samples // self.batch_size)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return IMAGE_SHAPE if self.model == "convnet" else (N_FEATURES,)

    @property
    def description(self) -> str:
        if self.model == "convnet":
            return ("Keras mnist_convnet: Conv2D(32,3,relu)-MaxPool(2)-Conv2D(64,3,relu)-"
                    "MaxPool(2)-Flatten-Dropout(0.5)-Dense(10,softmax) on 28x28x1")
        return f"MLP 784-{'-'.join(map(str, self.hidden))}-10"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"steps_per_epoch": self.steps_per_epoch}


# Keras's mnist_convnet example, and the contenders the issue compares on it.
CONVNET_CONTENDERS = ("kiln", "keras", "jax-jit", "torch")


def configs(quick: bool = False) -> dict[str, Config]:
    """The issue's cases, full size or tiny (`--quick`, a smoke test)."""
    if quick:
        return {
            # Sizes that leave a partial last batch, as 60,000 does at batch 128 and 256.
            # A smoke test runs one config per contender (each config costs every contender
            # its compiles, ~5 s on 2 cores), so that --quick stays under a minute; name
            # configs with --only to smoke-test others.
            "mlp32": Config("mlp32", (128,), 32, 2000, 3, 1, default=False),
            "mlp128": Config("mlp128", (128,), 128, 2000, 3, 1),
            "wide256": Config("wide256", (1024, 1024), 256, 1000, 3, 1, default=False),
            "convnet": Config("convnet", (), 128, 600, 3, 1, model="convnet",
                              contenders=CONVNET_CONTENDERS, default=False),
        }
    return {
        "mlp32": Config("mlp32", (128,), 32, 60_000, 4, 2),
        "mlp128": Config("mlp128", (128,), 128, 60_000, 4, 2),
        # The wide MLP is compute-bound (~0.7 TFLOP per 60k-sample epoch): an epoch here is a
        # 15,360-sample subset (60 steps of 256) so the whole run fits in 10 minutes on 2 cores.
        # Every contender runs the same subset; steps/s and samples/s are unaffected by it.
        "wide256": Config("wide256", (1024, 1024), 256, 15_360, 4, 2,
                          note="epoch = 15,360-sample subset (60 steps)"),
        # The convnet costs ~15 MFLOP per sample (forward + backward), ~0.9 TFLOP per 60k
        # epoch: an epoch here is a CONVNET_STEPS-step subset, the same for every contender.
        "convnet": Config("convnet", (), 128, CONVNET_STEPS * 128, 4, 2, model="convnet",
                          note=f"epoch = {CONVNET_STEPS * 128:,}-sample subset "
                               f"({CONVNET_STEPS} of MNIST's 469 steps)",
                          contenders=CONVNET_CONTENDERS, default=False),
    }


def make_data(n: int, seed: int = 0,
              shape: tuple[int, ...] = (N_FEATURES,)) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped synthetic data: float32 (n, *shape) in [0, 1), int32 labels 0..9.

    The labels come from a fixed random linear teacher on the 784 values, so they are
    learnable and a falling loss shows that a contender really trains. For an image `shape`
    (h, w, c) the values are blobby (see `_blobby_images`), as a conv net needs to learn that
    teacher within a few epochs; for (784,) they are independent uniform values.
    """
    rng = np.random.default_rng(seed)
    if len(shape) == 3:
        x = _blobby_images(rng, n, shape).reshape(n, -1)
    else:
        x = rng.random((n, N_FEATURES), dtype=np.float32)
    teacher = rng.standard_normal((x.shape[1], N_CLASSES)).astype(np.float32)
    y = np.argmax((x - 0.5) @ teacher, axis=1).astype(np.int32)
    return x.reshape((n, *shape)), y


def _blobby_images(rng: np.random.Generator, n: int, shape: tuple[int, ...],
                   block: int = 4, smooth: float = 0.8) -> np.ndarray:
    """`smooth` x uniform values constant on block x block squares + the rest x pixel noise.

    On independent pixels (the MLP data) the convnet's loss barely moves in 160 steps
    (2.306 -> 2.295): max-pooling discards the fine detail the teacher weighs. On these
    images it falls (about 2.28 -> 1.50 with kiln, 4 x 40 steps).
    """
    h, w, c = shape
    coarse = rng.random((n, h // block, w // block, c), dtype=np.float32)
    coarse = np.repeat(np.repeat(coarse, block, axis=1), block, axis=2)
    pixels = rng.random((n, h, w, c), dtype=np.float32)
    return (smooth * coarse + (1.0 - smooth) * pixels).astype(np.float32)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def now() -> float:
    return time.perf_counter()


class EpochClock:
    """Timestamps of epoch ends; epoch i's time is end[i] - end[i-1] (end[-1] = start).

    Consecutive end-to-end differences include everything a library does between epochs
    (shuffling, writing weights back, resetting metrics), so no per-epoch work is hidden.
    """

    def __init__(self) -> None:
        self.start = now()
        self.ends: list[float] = []

    def mark(self) -> None:
        self.ends.append(now())

    def summary(self) -> dict[str, Any]:
        edges = [self.start, *self.ends]
        times = [b - a for a, b in zip(edges, edges[1:])]
        timed = times[1:]
        return {
            "time_to_first_epoch_s": times[0] if times else None,
            "epoch_times_s": times,
            "best_epoch_s": min(timed) if timed else None,
            "median_epoch_s": float(np.median(timed)) if timed else None,
        }


def time_predict(predict, repeats: int) -> dict[str, Any]:
    """One warm-up (compiling) pass of `predict()`, then the best of `repeats` timed passes."""
    t0 = now()
    out = predict()
    first = now() - t0
    best = float("inf")
    for _ in range(repeats):
        t0 = now()
        out = predict()
        best = min(best, now() - t0)
    return {"predict_first_s": first, "predict_best_s": best,
            "predict_shape": list(np.shape(out))}
