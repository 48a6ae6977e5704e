"""Where one steady-state kiln epoch spends its time: a profile of the device's work by XLA
operation and of the host's Python.

    python benchmarks/profile_epoch.py                 # mlp32 (the issue's MLP, batch 32)
    python benchmarks/profile_epoch.py --config wide256 --top 12

The model is the benchmark's (`_contenders/keras_api.py`, `import kiln as keras`). One fit
epoch warms up (compiles); the next is profiled twice: once with `jax.profiler.trace` (the
XLA CPU runtime records every operation it runs, on each thread), once with cProfile (the
host's Python). Each operation is named by the source op of the compiled program it came
from (`jit(run)/while/body/...`), so the table reads as "the weight gradient of the first
Dense", "the Adam update", "the batch gather". Profiling adds overhead; the shares, not the
absolute times, are the result. Writes nothing; prints Markdown.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import glob
import io
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common  # noqa: E402


def _op_names(hlo_text: str) -> dict[str, str]:
    """Instruction name -> the op_name of its metadata, from a compiled module's text."""
    names = {}
    for m in re.finditer(r"%([\w.\-]+) = .*?metadata=\{op_name=\"([^\"]+)\"", hlo_text):
        names[m.group(1)] = m.group(2)
    return names


def _device_profile(trace_dir: str, top: int, names: dict[str, str], wall: float) -> list[str]:
    import jax

    path = glob.glob(f"{trace_dir}/**/*.xplane.pb", recursive=True)[0]
    data = jax.profiler.ProfileData.from_file(path)
    busy: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    threads = 0
    for plane in data.planes:
        for line in plane.lines:
            if "XLAEigen" not in line.name and "PjRtCpuClient" not in line.name:
                continue
            threads += 1
            for e in line.events:
                if e.name.startswith(("ThunkExecutor", "while")):
                    continue  # containers of the operations counted below
                busy[e.name] += e.duration_ns
                calls[e.name] += 1
    total = sum(busy.values()) / 1e9
    lines = [f"Device (XLA CPU): {total:.3f} s of operations over {threads} runtime threads "
             f"in a {wall:.3f} s epoch.", "",
             "| operation | source op | calls | seconds | share |", "|---|---|---|---|---|"]
    for name, ns in busy.most_common(top):
        source = names.get(name, "").replace("jit(run)/", "")
        lines.append(f"| {name} | `{source}` | {calls[name]} | {ns / 1e9:.3f} | "
                     f"{ns / 1e9 / total:.1%} |")
    rest = total - sum(ns for _, ns in busy.most_common(top)) / 1e9
    lines.append(f"| (the other {max(0, len(busy) - top)}) | | | {rest:.3f} | "
                 f"{rest / total if total else 0:.1%} |")
    return lines + [""]


def _host_profile(profile: cProfile.Profile, top: int) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    body = out.getvalue().strip().splitlines()
    start = next((i for i, ln in enumerate(body) if ln.strip().startswith("ncalls")), 0)
    return ["Host (cProfile, own time, top entries):", "", "```"] + body[start:] + ["```", ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="mlp32", choices=["mlp32", "mlp128", "wide256"])
    parser.add_argument("--top", type=int, default=10, help="rows per table (default 10)")
    args = parser.parse_args(argv)

    import jax

    import kiln
    from _contenders import keras_api

    cfg = _common.configs()[args.config]
    x, y = _common.make_data(cfg.n_samples)
    model = keras_api.build(kiln, cfg)
    fit = lambda: model.fit(x, y, batch_size=cfg.batch_size, epochs=1, verbose=0)  # noqa: E731
    fit()  # compiles
    hlo = _train_program_text(model, x, y, cfg.batch_size)

    with tempfile.TemporaryDirectory() as trace_dir:
        t0 = time.perf_counter()
        with jax.profiler.trace(trace_dir):
            fit()
        wall = time.perf_counter() - t0
        device = _device_profile(trace_dir, args.top, _op_names(hlo), wall)
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    fit()
    profile.disable()
    host_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit()
    plain = time.perf_counter() - t0

    print(f"# One kiln epoch, {args.config}: {cfg.description}, batch {cfg.batch_size}, "
          f"{cfg.steps_per_epoch} steps\n")
    print(f"Unprofiled fit(epochs=1): {plain:.3f} s (includes per-fit work: data checks, "
          f"placing the data); under cProfile {host_wall:.3f} s.\n")
    print("\n".join(device))
    print("\n".join(_host_profile(profile, args.top)))
    return 0


def _train_program_text(model, x, y, batch_size: int) -> str:
    """The compiled text of the program fit() ran (compiled again: XLA names it alike)."""
    import numpy as np

    import kiln
    from kiln.training import _loop, _pipeline
    from kiln.training._session import get_session

    plan = _pipeline.plan(_pipeline.adapt(x, y), batch_size, True, None)
    example = _pipeline.example(plan)
    session = get_session(model)
    ts = session.gather(fresh_metrics=True)
    cbs = kiln.callbacks.CallbackList(None, add_history=True, model=model, verbose=0,
                                      epochs=1, steps=plan.steps)
    k = _loop._steps_per_execution(model, session, ts, example[0], plan.steps, cbs)
    idx = np.zeros((k, batch_size), np.int32)
    return session.train_fn.lower(ts, plan.data, idx, k).compile().as_text()


if __name__ == "__main__":
    sys.exit(main())
