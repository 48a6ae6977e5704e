"""PyTorch eager on the CPU: nn.Sequential, Adam, CrossEntropyLoss, manual batching.

No DataLoader: the data is one pre-made tensor, indexed by a fresh permutation each epoch.
The loss and accuracy are accumulated as tensors, read once per epoch. PyTorch's default
initialisation throughout. The convnet is Keras's mnist_convnet in PyTorch's native NCHW
layout (nn.Conv2d, nn.MaxPool2d); its images are the same 784 features as (1, 28, 28).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from _common import EPSILON, LEARNING_RATE, N_CLASSES, N_FEATURES, Config, EpochClock, time_predict


def _convnet() -> torch.nn.Module:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, N_CLASSES))  # logits


def _model(cfg: Config) -> torch.nn.Module:
    if cfg.model == "convnet":
        return _convnet()
    sizes = [N_FEATURES, *cfg.hidden]
    layers: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(sizes[-1], N_CLASSES))  # logits; the loss applies softmax
    return torch.nn.Sequential(*layers)


def run(cfg: Config, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    clock = EpochClock()
    if cfg.model == "convnet":  # NHWC (n, 28, 28, 1) -> NCHW (n, 1, 28, 28): a copy-free view
        x = x.reshape(x.shape[0], 1, *x.shape[1:3])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    model = _model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=EPSILON)
    loss_fn = torch.nn.CrossEntropyLoss()
    n, batch = x.shape[0], cfg.batch_size
    logs = {}
    model.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n)
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            z = model(xb)
            loss = loss_fn(z, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * yb.shape[0]
                correct += (z.argmax(-1) == yb).sum()
        logs = {"loss": float(loss_sum) / n, "accuracy": float(correct) / n}
        clock.mark()
    out = clock.summary() | {"final_loss": logs["loss"], "final_accuracy": logs["accuracy"]}
    model.eval()

    def predict():
        with torch.inference_mode():
            return torch.cat([torch.softmax(model(xt[s:s + batch]), -1)
                              for s in range(0, n, batch)]).numpy()

    out.update(time_predict(predict, cfg.predict_repeats))
    return out
