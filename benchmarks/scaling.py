"""Opt-in scaling benchmark: steps/s of kiln's fit under kiln.distribution on 1 to 8 devices.

    python benchmarks/scaling.py --quick            # < 3 minutes on 2 cores; prints the table
    python benchmarks/scaling.py --quick --write    # ... and puts it in RESULTS.md's '## Scaling'
    python benchmarks/scaling.py --devices 1,2 --configs mlp

Configs: `mlp` (784-1024-1024-10, global batch 256) and `transformer` (MultiHeadAttention +
LayerNormalization + Dense FFN on (batch, 32 tokens, 64 dims), global batch 64), each under
`DataParallel` on 1, 2, 4 and 8 devices, and `mlp-mp`: the same MLP under `ModelParallel` on
a (2, 4) `("batch", "model")` mesh, its hidden Dense kernels split over "model" (the first by
columns, the second by rows). The global batch is the same at every device count.

Each device count runs in its own subprocess. Where JAX finds more than one real device
(GPUs, TPUs) those are used, the first N of them; otherwise the subprocess forces N CPU devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=N`, `JAX_PLATFORMS=cpu`) before JAX
starts. Forced CPU devices share the machine's cores, so they show the cost of the sharding,
not a speed-up. steps/s = steps per epoch / median timed epoch; the first epoch (building,
tracing, compiling) is not timed. Like run.py, this parent process never touches a device.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common
import _report

import kiln
from kiln import distribution as dist

MARKER = "SCALING_JSON "
SECTION = "## Scaling"
DEVICE_COUNTS = (1, 2, 4, 8)


@dataclasses.dataclass(frozen=True)
class Case:
    """One scaling case: a model, its global batch and how it is distributed."""

    name: str
    model: str                  # "mlp" or "transformer"
    batch_size: int             # global: the same at every device count
    hidden: tuple[int, ...] = ()
    model_parallel: bool = False  # ModelParallel on a (2, 4) mesh instead of DataParallel
    min_devices: int = 1

    @property
    def description(self) -> str:
        if self.model == "transformer":
            return "MHA(4x16) + LayerNorm + FFN 128, (32, 64) tokens"
        return f"MLP {self.hidden[0]}-" + "-".join(map(str, self.hidden[1:])) + "-10"


CASES = {
    "mlp": Case("mlp", "mlp", 256, (784, 1024, 1024)),
    "transformer": Case("transformer", "transformer", 64),
    "mlp-mp": Case("mlp-mp", "mlp", 256, (784, 1024, 1024), model_parallel=True, min_devices=8),
    # For the test: a few weights, compiled in a second.
    "tiny": Case("tiny", "mlp", 8, (16, 8)),
}
DEFAULT_CASES = ("mlp", "transformer", "mlp-mp")


# -- the worker (one device count, in its own process) ---------------------------------------

def _mlp(case: Case) -> kiln.Model:
    inputs = kiln.Input((case.hidden[0],))
    x = inputs
    for i, width in enumerate(case.hidden[1:]):
        x = kiln.layers.Dense(width, activation="relu", name=f"wide_{i}")(x)
    return kiln.Model(inputs, kiln.layers.Dense(10, activation="softmax", name="logits")(x))


def _transformer(case: Case) -> kiln.Model:
    layers = kiln.layers
    inputs = kiln.Input((32, 64))
    attended = layers.MultiHeadAttention(num_heads=4, key_dim=16)(inputs, inputs)
    x = layers.LayerNormalization()(layers.Add()([inputs, attended]))
    ffn = layers.Dense(64)(layers.Dense(128, activation="relu")(x))
    x = layers.LayerNormalization()(layers.Add()([x, ffn]))
    pooled = layers.GlobalAveragePooling1D()(x)
    return kiln.Model(inputs, layers.Dense(10, activation="softmax")(pooled))


def _data(case: Case, n: int) -> tuple[np.ndarray, np.ndarray]:
    if case.model == "mlp" and case.hidden[0] == _common.N_FEATURES:
        return _common.make_data(n)
    rng = np.random.default_rng(0)
    shape = (32, 64) if case.model == "transformer" else (case.hidden[0],)
    x = rng.standard_normal((n, *shape), dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int32)
    return x, y


def _distribution(case: Case, devices: int) -> dist.Distribution:
    names = dist.list_devices()
    if len(names) < devices:
        raise ValueError(f"{case.name}: expected at least {devices} devices, found "
                         f"{len(names)} ({names}); run it with fewer --devices.")
    if not case.model_parallel:
        return dist.DataParallel(devices=names[:devices])
    if devices != 8:
        raise ValueError(f"{case.name}: expected 8 devices for its (2, 4) mesh, received "
                         f"{devices}; run it with --devices 8.")
    mesh = dist.DeviceMesh((2, 4), ["batch", "model"], names[:8])
    layouts = dist.LayoutMap(mesh)
    layouts[".*wide_0/kernel"] = (None, "model")   # columns over "model"
    layouts[".*wide_0/bias"] = ("model",)
    layouts[".*wide_1/kernel"] = ("model", None)   # rows over "model": one all-reduce
    return dist.ModelParallel(layout_map=layouts)


def measure(case: Case, devices: int, steps: int, epochs: int) -> dict:
    """Fits `case` under its distribution on `devices` devices of this process: `epochs`
    epochs of `steps` steps (the first is the untimed warm-up); returns the timings."""
    kiln.utils.set_random_seed(0)
    dist.set_distribution(_distribution(case, devices))
    try:
        x, y = _data(case, steps * case.batch_size)
        clock = _common.EpochClock()
        model = _mlp(case) if case.model == "mlp" else _transformer(case)
        model.compile(optimizer=kiln.optimizers.Adam(_common.LEARNING_RATE),
                      loss="sparse_categorical_crossentropy")

        class Clock(kiln.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                float(logs["loss"])  # the epoch's device work is done
                clock.mark()

        history = model.fit(x, y, batch_size=case.batch_size, epochs=epochs, verbose=0,
                            shuffle=False, callbacks=[Clock()])
    finally:
        dist.set_distribution(None)
    summary = clock.summary()
    return {"ok": True, "steps_per_s": steps / summary["median_epoch_s"],
            "first_epoch_s": summary["time_to_first_epoch_s"],
            "epoch_times_s": summary["epoch_times_s"],
            "loss": float(history.history["loss"][-1])}


def _worker(args: argparse.Namespace) -> None:
    for name in args.configs.split(","):
        devices = int(args.devices)
        base = {"config": name, "devices": devices}
        try:
            record = base | measure(CASES[name], devices, args.steps, args.epochs)
        except Exception as exc:  # one failing case must not hide the others' numbers
            record = base | {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        print(MARKER + json.dumps(record), flush=True)


# -- the parent ------------------------------------------------------------------------------

def probe_devices(timeout: float = 120.0) -> tuple[int, str]:
    """The real device count and platform, seen by a fresh process without forced devices
    (this process must not start a backend: on a GPU it would hold the workers' memory)."""
    code = "import jax; print(jax.device_count(), jax.default_backend())"
    env = {k: v for k, v in os.environ.items() if k != "JAX_PLATFORMS"}
    env["XLA_FLAGS"] = re.sub(r"--xla_force_host_platform_device_count=\S*", "",
                              env.get("XLA_FLAGS", "")).strip()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"scaling: could not list JAX's devices (exit {proc.returncode}: "
                 f"{proc.stderr.strip()[-300:]}); expected a working jax install.")
    count, platform = proc.stdout.split()[-2:]
    return int(count), platform


def worker_env(devices: int, forced: bool) -> dict[str, str]:
    """The worker's environment: with `forced`, `devices` CPU devices (XLA_FLAGS is read
    when JAX starts, so it is set here, before the worker's Python begins).

    >>> env = worker_env(4, forced=True)
    >>> "--xla_force_host_platform_device_count=4" in env["XLA_FLAGS"], env["JAX_PLATFORMS"]
    (True, 'cpu')
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if forced:
        flags = re.sub(r"--xla_force_host_platform_device_count=\S*", "",
                       env.get("XLA_FLAGS", ""))
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={devices}".strip()
        env["JAX_PLATFORMS"] = "cpu"
    return env


def run_rows(devices: int, configs: list[str], steps: int, epochs: int, forced: bool = True,
             timeout: float = 300.0) -> list[dict]:
    """Runs `configs` on `devices` devices in one subprocess; one record (a table row) per
    config, failed ones too."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--devices",
           str(devices), "--configs", ",".join(configs), "--steps", str(steps),
           "--epochs", str(epochs)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=worker_env(devices, forced))
        stdout, error = proc.stdout, None
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        error = f"timed out after {timeout:.0f} s"
    found = {}
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            record = json.loads(line[len(MARKER):])
            found[record["config"]] = record
    if error is None and len(found) < len(configs):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-2:]
        error = f"exit {proc.returncode}: " + " | ".join(tail)[:300]
    return [found.get(c) or {"config": c, "devices": devices, "ok": False, "error": error}
            for c in configs]


def _layout(case: Case, devices: int) -> str:
    if case.model_parallel:
        return "ModelParallel (2, 4) batch x model"
    return f"DataParallel ({devices},)"


def render_table(records: list[dict]) -> list[str]:
    """The Markdown table: one row per record; speed-up = steps/s / the same model's steps/s
    on 1 device (the ModelParallel row is compared with its model's 1-device DataParallel)."""
    base = {}
    for r in records:
        case = CASES[r["config"]]
        if r["devices"] == 1 and r.get("ok") and not case.model_parallel:
            base[(case.model, case.hidden)] = r["steps_per_s"]
    rows = []
    for r in records:
        case = CASES[r["config"]]
        head = [r["config"], case.description, _layout(case, r["devices"]), str(r["devices"]),
                f"{case.batch_size} ({case.batch_size // r['devices']}/device)"]
        if not r.get("ok"):
            rows.append(head + ["n/a", "n/a", "n/a", f"failed: {r.get('error')}"[:200]])
            continue
        one = base.get((case.model, case.hidden))
        speedup = _report._fmt(r["steps_per_s"] / one) if one else "n/a"
        rows.append(head + [_report._fmt(r["steps_per_s"]), speedup,
                            _report._fmt(r["first_epoch_s"]), ""])
    return _report._table(["config", "model", "distribution", "devices", "global batch",
                           "steps/s", "speed-up vs 1 device", "first epoch (s)", "note"], rows)


def render_section(records: list[dict], machine: dict, forced: bool, steps: int,
                   epochs: int, quick: bool) -> str:
    """The '## Scaling' section: how it was run, the caveat, the table."""
    kind = "forced CPU devices" if forced else f"real {machine['platform']} devices"
    cmd = "python benchmarks/scaling.py" + (" --quick" if quick else "") + " --write"
    caveat = (f"**This machine has {machine['cores']} CPU cores: the forced CPU devices share "
              "them, so no speed-up can show here; the rows measure the cost of sharding "
              "the step. Run it on a GPU or many-core machine for real scaling.**"
              if forced else "")
    lines = [SECTION, "",
             f"`{cmd}` on {machine['date']}: {kind}, {steps} steps per epoch, 1 untimed "
             f"warm-up epoch + {epochs - 1} timed; steps/s = steps / median timed epoch; the "
             "global batch is fixed; each device count in its own process; "
             f"CPU {machine['cpu']}, load at start "
             + ", ".join(f"{v:.2f}" for v in machine.get("load_at_start") or ())
             + f"; total {machine['total_wall_s']:.0f} s.", ""]
    lines += ([caveat, ""] if caveat else []) + render_table(records) + [""]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """`text` with its '## Scaling' section (up to the next '## ' heading) replaced by
    `section`, or `section` appended.

    >>> replace_section("# R\\n\\n## Scaling\\nold\\n\\n## Next\\nx\\n", "## Scaling\\nnew\\n")
    '# R\\n\\n## Scaling\\nnew\\n\\n## Next\\nx\\n'
    >>> replace_section("# R\\n", "## Scaling\\nnew\\n")
    '# R\\n\\n## Scaling\\nnew\\n'
    """
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + section if text.strip() else section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + tail if tail else "")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="few steps per epoch (the < 3 minute run on 2 cores)")
    parser.add_argument("--write", action="store_true",
                        help="add or replace the '## Scaling' section of benchmarks/RESULTS.md")
    parser.add_argument("--devices", default=",".join(map(str, DEVICE_COUNTS)),
                        help="device counts, comma-separated (default 1,2,4,8)")
    parser.add_argument("--configs", default=",".join(DEFAULT_CASES),
                        help=f"configs, comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per epoch (default 30; 8 with --quick)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs, the first untimed (default 4; 3 with --quick)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed per subprocess")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"), help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.steps = args.steps or (8 if args.quick else 30)
    args.epochs = args.epochs or (3 if args.quick else 4)
    unknown = sorted(set(args.configs.split(",")) - set(CASES))
    if unknown or args.epochs < 2:
        parser.error(f"expected configs of {list(CASES)} and --epochs >= 2 (one warm-up, "
                     f"one timed); received unknown configs {unknown}, --epochs {args.epochs}")
    return args


def _plan(counts: list[int], configs: list[str]) -> list[tuple[int, list[str]]]:
    """(device count, configs) per subprocess; a config runs where it has its devices."""
    plan = [(n, [c for c in configs if not CASES[c].model_parallel or n == 8]) for n in counts]
    return [(n, names) for n, names in plan if names]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker:
        _worker(args)
        return 0
    started = time.perf_counter()
    machine = _report.machine_info()
    real, machine["platform"] = probe_devices()
    forced = real <= 1
    counts = [int(n) for n in args.devices.split(",")]
    if not forced:
        counts = [n for n in counts if n <= real]
    records = []
    for n, names in _plan(counts, args.configs.split(",")):
        print(f"[scaling] {n} device(s): {','.join(names)} ...", end=" ", file=sys.stderr,
              flush=True)
        rows = run_rows(n, names, args.steps, args.epochs, forced, args.timeout)
        print(" ".join(f"{r['config']}: " + (f"{r['steps_per_s']:.1f} steps/s" if r["ok"]
                                             else "FAILED") for r in rows),
              file=sys.stderr, flush=True)
        records += rows
    machine["total_wall_s"] = time.perf_counter() - started
    section = render_section(records, machine, forced, args.steps, args.epochs, args.quick)
    print(section)
    if args.write:
        out = Path(args.output)
        out.write_text(replace_section(out.read_text() if out.exists() else "", section))
        print(f"[scaling] wrote the '{SECTION}' section of {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
