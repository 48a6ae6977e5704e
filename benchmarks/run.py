"""kiln's training-speed benchmark: one command, every contender, ratios and targets.

    python benchmarks/run.py            # full run (< 10 minutes on 2 CPU cores)
    python benchmarks/run.py --quick    # tiny sizes, a smoke test (< 1 minute)
    python benchmarks/run.py --only kiln,keras --only mlp32

Each (contender, config) runs in its own subprocess (benchmarks/_worker.py), so import time
and peak RSS belong to that contender alone. The report (absolute numbers, kiln / peer ratios,
the issue's targets as PASS/FAIL, machine info) is printed and written to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common  # noqa: E402
import _report  # noqa: E402

CONTENDERS = ["kiln", "kiln-auto", "keras", "jax-jit", "jax-scan", "torch"]
MARKER = "BENCH_JSON "


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for smoke tests")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only these contenders and/or configs (comma-separated, "
                             f"repeatable); contenders: {', '.join(CONTENDERS)}; configs: "
                             f"{', '.join(_common.configs())}")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"),
                        help="where to write the Markdown report (default: benchmarks/RESULTS.md)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed per subprocess (default 300)")
    return parser.parse_args(argv)


def _selection(only: list[str], configs: dict) -> tuple[list[str], list[str]]:
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTENDERS and n not in configs]
    if unknown:
        sys.exit(f"--only: unknown name(s) {unknown}; expected contenders {CONTENDERS} "
                 f"or configs {list(configs)}.")
    contenders = [c for c in CONTENDERS if c in names] or CONTENDERS
    config_names = [c for c in configs if c in names] or list(configs)
    return contenders, config_names


def run_worker(contender: str, configs: list[str], quick: bool, timeout: float) -> list[dict]:
    """Runs one worker subprocess on `configs`; returns a record per config (failed ones too)."""
    cmd = [sys.executable, str(HERE / "_worker.py"), contender, ",".join(configs)]
    cmd += ["--quick"] if quick else []
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONUNBUFFERED="1")
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


def _plan(contenders: list[str], config_names: list[str], quick: bool) -> list[tuple[str, list[str]]]:
    """Subprocesses to run: one per (contender, config); in --quick one per contender."""
    if quick:
        return [(c, config_names) for c in contenders]
    return [(c, [cfg]) for cfg in config_names for c in contenders]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    configs = _common.configs(args.quick)
    contenders, config_names = _selection(args.only, configs)
    started = time.perf_counter()
    machine = _report.machine_info()
    results = []
    for contender, names in _plan(contenders, config_names, args.quick):
        print(f"[bench] {contender:10s} {','.join(names)} ...", end=" ", file=sys.stderr, flush=True)
        batch = run_worker(contender, names, args.quick, args.timeout)
        print(" ".join(f"{r['config']['name']}: " + (f"{r['median_epoch_s']:.3f} s/epoch"
                        if r.get("ok") else f"FAILED ({r.get('error')})") for r in batch)
              + f" [{batch[0]['wall_s']:.0f} s]", file=sys.stderr, flush=True)
        results += batch
    order = {c: i for i, c in enumerate(CONTENDERS)}
    results.sort(key=lambda r: order[r["contender"]])  # table rows in a fixed order
    machine["total_wall_s"] = time.perf_counter() - started
    selected = {name: configs[name] for name in config_names}
    text = _report.render(results, selected, machine, quick=args.quick)
    print(text)
    Path(args.output).write_text(text)
    print(f"[bench] wrote {args.output} in {machine['total_wall_s']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
