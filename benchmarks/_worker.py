"""Runs ONE contender on one config (or a few, in turn) in this process; prints JSON results.

    python benchmarks/_worker.py CONTENDER CONFIG[,CONFIG...] [--quick]

Called by run.py, one subprocess per (contender, config), so that import time and peak
memory belong to that contender alone (`--quick` runs all configs of a contender in one
process to save start-up time; its peak RSS is then cumulative). Each result is one stdout
line `BENCH_JSON <json>`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback

os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 on its JAX backend, as the issue asks

import numpy as np  # noqa: E402  (imported before the timed import: every library needs it)

import _common  # noqa: E402

# contender -> (modules whose import is timed, runner)
CONTENDERS = {
    "kiln": ("kiln",),
    "kiln-spe1": ("kiln",),
    "keras": ("keras",),
    "jax-jit": ("jax", "optax"),
    "jax-scan": ("jax", "optax"),
    "torch": ("torch",),
}
MARKER = "BENCH_JSON "


def _timed_imports(names: tuple[str, ...]) -> dict[str, float]:
    times = {}
    for name in names:
        t0 = time.perf_counter()
        importlib.import_module(name)
        times[name] = time.perf_counter() - t0
    return times


def _run(contender: str, cfg: _common.Config, x: np.ndarray, y: np.ndarray) -> dict:
    if contender in ("kiln", "kiln-spe1", "keras"):
        from _contenders import keras_api
        module = sys.modules["kiln" if contender.startswith("kiln") else "keras"]
        spe = 1 if contender == "kiln-spe1" else None
        return keras_api.run(module, cfg, x, y, steps_per_execution=spe)
    runner = {"jax-jit": "jax_jit", "jax-scan": "jax_scan", "torch": "torch_eager"}[contender]
    return importlib.import_module(f"_contenders.{runner}").run(cfg, x, y)


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("jax", "optax", "keras", "kiln", "torch"):
        if name in sys.modules:
            out[name] = getattr(sys.modules[name], "__version__", "?")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("contender", choices=sorted(CONTENDERS))
    parser.add_argument("configs", help="config name(s), comma-separated")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    all_configs = _common.configs(args.quick)
    imports: dict[str, float] | None = None
    for i, name in enumerate(args.configs.split(",")):
        cfg = all_configs[name]
        result = {"contender": args.contender, "config": cfg.as_dict(), "ok": False,
                  "shared_process": i > 0}
        try:
            if imports is None:
                imports = _timed_imports(CONTENDERS[args.contender])
                result["import_s"] = imports
            result["rss_after_import_mb"] = _common.peak_rss_mb()
            x, y = _common.make_data(cfg.n_samples, shape=cfg.input_shape)
            result.update(_run(args.contender, cfg, x, y))
            result["ok"] = True
        except Exception as exc:  # reported as n/a by run.py, with the reason
            result["error"] = f"{type(exc).__name__}: {exc}"[:500]
            traceback.print_exc(file=sys.stderr)
        result["peak_rss_mb"] = _common.peak_rss_mb()
        result["versions"] = _versions()
        result["xla_flags"] = os.environ.get("XLA_FLAGS", "")
        print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
