"""kiln.distribution across processes, for real: two processes on this machine, joined over
loopback by `kiln.distribution.initialize`, each with two CPU devices of its own, train one
model under DataParallel (each feeding only its own rows of every batch) and must end where
one process with four devices ends. Bounded: every child is killed on failure or timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np

_CHILD = textwrap.dedent("""
    import sys
    import numpy as np, jax
    import kiln as keras
    from kiln import distribution as dist

    role, port, out = sys.argv[1], sys.argv[2], sys.argv[3]
    multi = role != "single"
    if multi:
        dist.initialize(job_addresses=f"127.0.0.1:{port}", num_processes=2,
                        process_id=int(role))
    assert jax.device_count() == 4, jax.devices()
    assert jax.local_device_count() == (2 if multi else 4), jax.local_devices()
    dp = dist.DataParallel()
    dist.set_distribution(dp)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)),
                              keras.layers.Dense(8, activation="relu", name="hidden"),
                              keras.layers.Dense(2, name="out")])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")

    # Every process passes the same arrays (auto_shard_dataset, the default): batch_size is
    # the global batch, each process feeds the rows its own devices hold.
    h1 = model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0).history
    if multi:
        # A last batch that cannot split over the 4 devices: a clear error before any step.
        try:
            model.fit(x[:62], y[:62], batch_size=16, epochs=1, verbose=0)
            raise AssertionError("no error for a last batch of 14 samples on 4 devices")
        except ValueError as e:
            assert "14 of the 62 samples" in str(e) and "4 devices" in str(e), e
        # auto_shard_dataset=False: each process passes its own part; batch_size is per
        # process, the global batch is the two processes' batches side by side.
        dp.auto_shard_dataset = False
        part = lambda a: a.reshape(4, 2, 8, -1)[:, int(role)].reshape(32, -1)
        h2 = model.fit(part(x), part(y), batch_size=8, epochs=1, shuffle=False,
                       verbose=0).history
        dp.auto_shard_dataset = True
    else:
        h2 = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    ev = model.evaluate(x, y, batch_size=16, verbose=0)
    np.savez(f"{out}/{role}.npz", *model.get_weights(), loss=h1["loss"] + h2["loss"],
             mae=h1["mae"] + h2["mae"], ev=ev)
    print("OK", flush=True)
""")

_TIMEOUT_S = 150  # the whole run; about 10-20 s on an idle machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(role: str, port: int, out: str, devices: int) -> subprocess.Popen:
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
           "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, "-c", _CHILD, role, str(port), out], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run_all(out: str) -> list[str]:
    port = _free_port()
    procs = []
    try:
        procs = [_start("0", port, out, 2), _start("1", port, out, 2),
                 _start("single", port, out, 4)]
        deadline = time.monotonic() + _TIMEOUT_S
        logs = [p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
                for p in procs]
        for p, log in zip(procs, logs):
            assert p.returncode == 0 and "OK" in log, log[-4000:]
        return logs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_two_processes_train_like_one_process(tmp_path):
    _run_all(str(tmp_path))
    runs = [np.load(tmp_path / f"{r}.npz") for r in ("0", "1", "single")]
    weights = [[r[f"arr_{i}"] for i in range(4)] for r in runs]
    for a, b in zip(weights[0], weights[1]):  # the two processes hold the same weights
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights[0], weights[2]):  # ... equal to one process over 4 devices
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for key in ("loss", "mae", "ev"):
        np.testing.assert_allclose(runs[0][key], runs[2][key], rtol=1e-5)
        np.testing.assert_array_equal(runs[0][key], runs[1][key])
    assert not np.allclose(weights[2][0], 0) and len(runs[0]["loss"]) == 3
