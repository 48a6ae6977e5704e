"""kiln's training-speed benchmark: one command, every contender, ratios and targets.

    python benchmarks/run.py            # default configs (< 10 minutes on 2 CPU cores)
    python benchmarks/run.py --quick    # tiny mlp128, every contender: a smoke test (< 1 minute)
    python benchmarks/run.py --only kiln,keras --only mlp32
    python benchmarks/run.py --only convnet            # Keras's mnist_convnet (opt-in)
    python benchmarks/run.py --with-convnet            # the default configs plus convnet
    python benchmarks/run.py --xla-flags "--xla_cpu_use_xnnpack=true"

Each (contender, config) runs in its own subprocess (benchmarks/_worker.py), so import time
and peak RSS belong to that contender alone. The report (absolute numbers, kiln / peer ratios,
the issue's targets as PASS/FAIL, machine info) is printed and written to benchmarks/RESULTS.md
(--quick: to the gitignored scratch file benchmarks/RESULTS.quick.md; --out PATH: to PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common  # noqa: E402
import _report  # noqa: E402

CONTENDERS = ["kiln", "kiln-spe1", "keras", "jax-jit", "jax-scan", "torch"]
JAX_CONTENDERS = {"kiln", "kiln-spe1", "keras", "jax-jit", "jax-scan"}  # get --xla-flags
MARKER = "BENCH_JSON "


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for smoke tests")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only these contenders and/or configs (comma-separated, "
                             f"repeatable); contenders: {', '.join(CONTENDERS)}; configs: "
                             f"{', '.join(_common.configs())} (convnet runs only when "
                             "named, or with --with-convnet)")
    parser.add_argument("--with-convnet", action="store_true",
                        help="also run the opt-in convnet config (Keras's mnist_convnet)")
    parser.add_argument("--xla-flags", default="", metavar="FLAGS",
                        help="XLA_FLAGS for the JAX-based contenders' subprocesses (appended "
                             "to any XLA_FLAGS already set), e.g. "
                             "\"--xla_cpu_use_xnnpack=true\"")
    parser.add_argument("--output", "--out", dest="output", default=None, metavar="PATH",
                        help="where to write the Markdown report (default: benchmarks/RESULTS.md; "
                             "with --quick benchmarks/RESULTS.quick.md, a gitignored scratch "
                             "file, so a smoke test never overwrites the committed report)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="run every (contender, config) this many times, in alternating "
                             "order, and merge them (default 3; 1 in --quick)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed per subprocess (default 300)")
    return parser.parse_args(_join_xla_flags(sys.argv[1:] if argv is None else argv))


def output_path(output: str | None, quick: bool) -> Path:
    """Where the report goes: `--output` when given; else RESULTS.md, or, for a --quick smoke
    test, the scratch file RESULTS.quick.md (gitignored), never the committed report.

    >>> output_path(None, quick=True).name
    'RESULTS.quick.md'
    >>> output_path(None, quick=False).name
    'RESULTS.md'
    >>> str(output_path("/tmp/x.md", quick=True))
    '/tmp/x.md'
    """
    if output is not None:
        return Path(output)
    return HERE / ("RESULTS.quick.md" if quick else "RESULTS.md")


def _join_xla_flags(argv: list[str]) -> list[str]:
    """`--xla-flags "--xla_..."` -> `--xla-flags=--xla_...`: argparse would take the value,
    which starts with "--", for an option of its own."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "--xla-flags" and i + 1 < len(argv):
            out.append(f"--xla-flags={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _selection(only: list[str], configs: dict, extra: list[str]) -> tuple[list[str], list[str]]:
    """Named contenders ([] = each config's own set) and configs: those named (else the
    default ones), plus `extra`."""
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTENDERS and n not in configs]
    if unknown:
        sys.exit(f"--only: unknown name(s) {unknown}; expected contenders {CONTENDERS} "
                 f"or configs {list(configs)}.")
    contenders = [c for c in CONTENDERS if c in names]
    base = [c for c in configs if c in names] or [c for c, cfg in configs.items() if cfg.default]
    config_names = [c for c in configs if c in base or c in extra]
    return contenders, config_names


def _xla_env(extra_flags: str) -> dict[str, str]:
    """The environment of a JAX-based worker: XLA_FLAGS from ours, plus --xla-flags."""
    flags = " ".join(f for f in (os.environ.get("XLA_FLAGS", ""), extra_flags) if f.strip())
    return {"XLA_FLAGS": flags} if flags else {}


def check_xla_flags(extra_flags: str) -> None:
    """Fails fast if XLA rejects a flag (it aborts the process on an unknown one)."""
    if not extra_flags:
        return
    code = "import jax; jax.jit(lambda a: a + 1)(jax.numpy.zeros(2)).block_until_ready()"
    env = dict(os.environ, **_xla_env(extra_flags))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-2:])[:400]
        sys.exit(f"--xla-flags {extra_flags!r}: XLA rejected them (exit {proc.returncode}: "
                 f"{tail}). Expected flags that this jaxlib knows, e.g. "
                 f"--xla_cpu_use_xnnpack=true.")


def run_worker(contender: str, configs: list[str], quick: bool, timeout: float,
               xla_flags: str = "") -> list[dict]:
    """Runs one worker subprocess on `configs`; returns a record per config (failed ones too)."""
    cmd = [sys.executable, str(HERE / "_worker.py"), contender, ",".join(configs)]
    cmd += ["--quick"] if quick else []
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONUNBUFFERED="1")
    if contender in JAX_CONTENDERS:
        env.update(_xla_env(xla_flags))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        stdout, error = proc.stdout, None
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        error = f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    found = {}
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            r = json.loads(line[len(MARKER):])
            found[r["config"]["name"]] = r | {"wall_s": wall}
    if error is None and len(found) < len(configs):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        error = f"exit {proc.returncode}: " + " | ".join(tail)[:500]
    return [found.get(c) or {"contender": contender, "config": {"name": c}, "ok": False,
                             "error": error, "wall_s": wall} for c in configs]


def merge_rounds(runs: list[dict]) -> list[dict]:
    """One record per (contender, config) from its rounds: best epoch and best predict pass
    over all rounds, median epoch over all timed epochs, median time to first epoch, the
    highest peak RSS. A (contender, config) with a failed round keeps that failure."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["contender"], r["config"]["name"]), []).append(r)
    merged = []
    for group in groups.values():
        failed = [r for r in group if not r.get("ok")]
        if failed or len(group) == 1:
            merged.append((failed or group)[0] | {"rounds": len(group)})
            continue
        timed = [t for r in group for t in r["epoch_times_s"][1:]]
        firsts = [r["time_to_first_epoch_s"] for r in group]
        merged.append(group[-1] | {
            "rounds": len(group),
            "epoch_times_s": [r["epoch_times_s"] for r in group],
            "first_epochs_s": firsts,
            "time_to_first_epoch_s": statistics.median(firsts),
            "best_epoch_s": min(timed),
            "median_epoch_s": statistics.median(timed),
            "predict_best_s": min(r["predict_best_s"] for r in group),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in group),
            "import_s": {lib: statistics.median(r["import_s"][lib] for r in group
                                                if lib in r.get("import_s", {}))
                         for lib in group[0].get("import_s", {})},
        })
    return merged


def _plan(contenders: list[str], config_names: list[str], configs: dict,
          quick: bool) -> list[tuple[str, list[str]]]:
    """Subprocesses to run: one per (contender, config); in --quick one per contender.

    Named contenders run on every selected config; otherwise each config runs its own
    contender set (`Config.contenders`, empty for all).
    """
    def runs(contender: str, name: str) -> bool:
        return bool(contenders) or not configs[name].contenders \
            or contender in configs[name].contenders

    chosen = contenders or CONTENDERS
    if quick:
        plan = [(c, [n for n in config_names if runs(c, n)]) for c in chosen]
        return [(c, names) for c, names in plan if names]
    return [(c, [n]) for n in config_names for c in chosen if runs(c, n)]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    configs = _common.configs(args.quick)
    contenders, config_names = _selection(args.only, configs,
                                          ["convnet"] if args.with_convnet else [])
    check_xla_flags(args.xla_flags)
    started = time.perf_counter()
    machine = _report.machine_info()
    machine["xla_flags"] = _xla_env(args.xla_flags).get("XLA_FLAGS", "")
    rounds = 1 if args.quick else max(1, args.rounds)
    machine["rounds"] = rounds
    plan = _plan(contenders, config_names, configs, args.quick)
    runs: list[dict] = []
    for round_ in range(rounds):
        # Alternate the order, so slow drifts of the machine fall on every contender alike.
        for contender, names in (plan if round_ % 2 == 0 else plan[::-1]):
            print(f"[bench] round {round_ + 1}/{rounds} {contender:10s} {','.join(names)} ...",
                  end=" ", file=sys.stderr, flush=True)
            batch = run_worker(contender, names, args.quick, args.timeout, args.xla_flags)
            print(" ".join(f"{r['config']['name']}: " + (f"{r['best_epoch_s']:.3f} s/epoch"
                            if r.get("ok") else f"FAILED ({r.get('error')})") for r in batch)
                  + f" [{batch[0]['wall_s']:.0f} s]", file=sys.stderr, flush=True)
            runs += batch
    results = merge_rounds(runs)
    order = {c: i for i, c in enumerate(CONTENDERS)}
    results.sort(key=lambda r: order[r["contender"]])  # table rows in a fixed order
    machine["total_wall_s"] = time.perf_counter() - started
    selected = {name: configs[name] for name in config_names}
    text = _report.render(results, selected, machine, quick=args.quick)
    print(text)
    out = output_path(args.output, args.quick)
    out.write_text(text)
    print(f"[bench] wrote {out} in {machine['total_wall_s']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
