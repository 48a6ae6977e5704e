"""Turns the workers' JSON results into the Markdown report: tables, ratios, targets."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import statistics
from typing import Any, Callable

KILN_ROWS = {"kiln": "kiln", "kiln-spe1": "kiln (spe=1)"}
PEERS = ["keras", "jax-jit", "jax-scan", "torch"]
IMPORT_LIBRARY = {"kiln": "kiln", "kiln-spe1": "kiln", "keras": "keras", "jax-jit": "jax",
                  "jax-scan": "jax", "torch": "torch"}


# -- machine ------------------------------------------------------------------------------------

def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in _read("/proc/cpuinfo").splitlines()
                if ln.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next((int(ln.split()[1]) for ln in _read("/proc/meminfo").splitlines()
                   if ln.startswith("MemTotal")), 0)
    versions = {"python": platform.python_version()}
    for dist in ("jax", "jaxlib", "optax", "numpy", "keras", "torch", "kiln"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_kb / 1024**2,
            "versions": versions, "load_at_start": load,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


# -- helpers ------------------------------------------------------------------------------------

def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if v == 0 or abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(r) + " |" for r in rows]


def _get(results: list[dict], contender: str, config: str) -> dict | None:
    for r in results:
        if r["contender"] == contender and r["config"]["name"] == config and r.get("ok"):
            return r
    return None


def _steps_per_s(r: dict) -> float | None:
    m = r.get("median_epoch_s")
    return r["config"]["steps_per_epoch"] / m if m else None


def _predict_rate(r: dict) -> float | None:
    t = r.get("predict_best_s")
    return r["config"]["n_samples"] / t if t else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- sections -----------------------------------------------------------------------------------

def _absolute(results: list[dict], configs: dict) -> list[str]:
    lines = []
    for name, cfg in configs.items():
        rows = []
        for r in results:
            if r["config"]["name"] != name:
                continue
            c = KILN_ROWS.get(r["contender"], r["contender"])
            if not r.get("ok"):
                rows.append([c] + ["n/a"] * 8 + [f"failed: {r.get('error', '?')}"[:160]])
                continue
            rows.append([c, _fmt(r["time_to_first_epoch_s"]), _fmt(r["best_epoch_s"]),
                         _fmt(r["median_epoch_s"]), _fmt(_steps_per_s(r)),
                         _fmt(_predict_rate(r)), _fmt(r["peak_rss_mb"]),
                         _fmt(r.get("final_loss")), _fmt(r.get("final_accuracy")), ""])
        if not rows:
            continue
        timed = cfg.epochs - 1
        lines += [f"### {name}: {cfg.description}, batch "
                  f"{cfg.batch_size}, {cfg.n_samples:,} samples/epoch "
                  f"({cfg.steps_per_epoch} steps), 1 compile + {timed} timed epochs"
                  + (f" — {cfg.note}" if cfg.note else ""), ""]
        lines += _table(["contender", "first epoch (s)", "best epoch (s)", "median epoch (s)",
                         "steps/s", "predict (samples/s)", "peak RSS (MiB)", "loss", "acc",
                         "note"], rows) + [""]
    return lines


def import_times(results: list[dict]) -> dict[str, float]:
    """Median import wall time per library over every worker that imported it."""
    samples: dict[str, list[float]] = {}
    for r in results:
        t = r.get("import_s", {})
        lib = IMPORT_LIBRARY[r["contender"]]
        if lib in t:
            samples.setdefault(lib, []).append(t[lib])
    return {lib: statistics.median(v) for lib, v in samples.items()}


def _imports(results: list[dict]) -> list[str]:
    times = import_times(results)
    counts = {lib: sum(r.get("rounds", 1) for r in results if IMPORT_LIBRARY[r["contender"]] == lib
                       and lib in r.get("import_s", {})) for lib in times}
    optax = [r["import_s"]["optax"] for r in results if "optax" in r.get("import_s", {})]
    rows = [[lib, _fmt(times[lib]), str(counts[lib]), _fmt(_ratio(times.get("kiln"), times[lib]))]
            for lib in ("kiln", "keras", "jax", "torch") if lib in times]
    note = (f"`import optax` after jax adds a median {_fmt(statistics.median(optax))} s. "
            if optax else "")
    return ["### import wall time (median over the subprocesses; NumPy already imported)", ""] \
        + _table(["library", "import (s)", "runs", "kiln / this"], rows) + [
            "", note + "kiln's import includes jax and optax.", ""]


RATIO_COLUMNS: list[tuple[str, Callable[[dict], float | None]]] = [
    ("median epoch", lambda r: r.get("median_epoch_s")),
    ("best epoch", lambda r: r.get("best_epoch_s")),
    ("first epoch", lambda r: r.get("time_to_first_epoch_s")),
    ("predict time", lambda r: r.get("predict_best_s")),
    ("peak RSS", lambda r: r.get("peak_rss_mb")),
]


def _ratios(results: list[dict], configs: dict) -> list[str]:
    ran = {(r["contender"], r["config"]["name"]) for r in results}  # failed runs included
    rows = []
    for name in configs:
        for kiln, label in KILN_ROWS.items():
            k = _get(results, kiln, name)
            for peer in PEERS + (["kiln"] if kiln == "kiln-spe1" else []):
                p = _get(results, peer, name)
                if (kiln, name) not in ran or (peer, name) not in ran:
                    continue
                rows.append([name, f"{label} / {peer}"] + [
                    _fmt(_ratio(f(k), f(p)) if k and p else None) for _, f in RATIO_COLUMNS])
    if not rows:
        return []
    return ["## Ratios kiln / peer (below 1: kiln is faster or smaller)", ""] + _table(
        ["config", "ratio"] + [c for c, _ in RATIO_COLUMNS], rows) + [""]


def _machine(m: dict[str, Any]) -> list[str]:
    v = m["versions"]
    load = ", ".join(f"{x:.2f}" for x in m["load_at_start"]) if m.get("load_at_start") else "n/a"
    return ["## Machine", "",
            f"- date: {m['date']}; total run time {m.get('total_wall_s', 0):.0f} s",
            f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']:.1f} GiB; "
            f"load average at start: {load}",
            f"- XLA_FLAGS of the JAX-based contenders: `{m['xla_flags']}`" if m.get("xla_flags")
            else "- XLA_FLAGS: none (XLA's defaults)",
            "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()), ""]


def render(results: list[dict], configs: dict, machine: dict[str, Any], quick: bool) -> str:
    """The whole Markdown report."""
    import _targets  # here, not at the top: _targets imports helpers from this module

    lines = ["# kiln training benchmark", ""]
    if quick:
        lines += ["**QUICK smoke run (`--quick`): tiny sizes, numbers are NOT meaningful. Each "
                  "contender ran all configs in one subprocess, so its peak RSS is cumulative, "
                  "its import was timed once, and later configs start warm.**", ""]
    lines += _machine(machine)
    lines += ["## How it was measured", "",
              "Each (contender, config) ran in its own subprocess (not in --quick). Epoch time = difference of "
              "consecutive `on_epoch_end` timestamps (after fetching the epoch's logs), so "
              "everything done between epochs counts. The first epoch also counts model "
              "building, compile, tracing and XLA compilation (it starts before the model is "
              "built) and is reported apart. steps/s = steps per epoch / median epoch. Predict: "
              "one warm-up pass, then the best timed pass over the same samples, at the config's "
              "batch size, outputs fetched to NumPy. Peak RSS = `ru_maxrss` of the subprocess "
              "(includes the ~190 MB data set and the library's import). Data: synthetic, "
              "float32 784 features in [0, 1), labels 0..9 from a fixed random linear teacher "
              "(seed 0); loss/acc show that every contender trains. The convnet's inputs are 28x28x1 "
              "blobby images in [0, 1) (0.8 x uniform values on 4x4 blocks + 0.2 x pixel noise; "
              "NHWC, PyTorch NCHW) labelled the same way; it trains with dropout 0.5, and its "
              "hand-written JAX contender uses `lax.conv_general_dilated` in NHWC.", ""]
    lines += ["## Absolute numbers", ""] + _absolute(results, configs) + _imports(results)
    lines += _ratios(results, configs)
    lines += _targets.check(results, configs)
    return "\n".join(lines) + "\n"
