"""The issue's targets, checked from the workers' results: PASS, FAIL or n/a per line."""

from __future__ import annotations

from _report import KILN_ROWS, _fmt, _get, import_times

TARGET_ROWS = {"kiln": KILN_ROWS["kiln"]}

# config -> (max kiln/keras, max kiln/faster hand-written JAX) on best epoch time (the issue:
# "ratios of best epochs, measured in one run").
# convnet has no speed target (it is reported, with its ratios, and gets the RSS and
# time-to-first-epoch checks that every config gets).
SPEED_TARGETS = {"mlp32": (0.67, 1.00), "mlp128": (0.80, 1.05), "wide256": (None, 1.05)}


def _line(ok: bool | None, text: str) -> str:
    return f"- **{'n/a' if ok is None else 'PASS' if ok else 'FAIL'}** {text}"


def _check(label: str, k: float | None, limit: float, peer_name: str, p: float | None,
           unit: str = "s") -> str:
    if k is None or p is None:
        return _line(None, f"{label}: <= {limit} x {peer_name} (missing result)")
    ratio = k / p
    return _line(ratio <= limit, f"{label}: {_fmt(k)} {unit} vs {peer_name} {_fmt(p)} {unit} "
                 f"= {ratio:.2f} x (target <= {limit} x)")


def _fastest_jax(results: list[dict], config: str) -> tuple[str, float | None]:
    found = [(r["best_epoch_s"], name) for name in ("jax-jit", "jax-scan")
             if (r := _get(results, name, config))]
    if not found:
        return "hand-written JAX", None
    t, name = min(found)
    return f"{name} (faster hand-written JAX)", t


def check(results: list[dict], configs: dict) -> list[str]:
    """One line per target for kiln as users get it (compile() defaults); the best epoch is
    the speed measure. kiln (spe=1) is reported in the tables only. A config where kiln did
    not run gets no line; one where it ran and failed gets n/a.
    """
    ran = {(r["contender"], r["config"]["name"]) for r in results}
    lines = []
    for config, (vs_keras, vs_jax) in SPEED_TARGETS.items():
        if config not in configs:
            continue
        keras = _get(results, "keras", config)
        jax_name, jax_t = _fastest_jax(results, config)
        for kiln, label in TARGET_ROWS.items():
            if (kiln, config) not in ran:
                continue
            k = _get(results, kiln, config)
            kt = k["best_epoch_s"] if k else None
            if vs_keras is not None:
                lines.append(_check(f"{config} {label} best epoch", kt, vs_keras, "keras",
                                    keras["best_epoch_s"] if keras else None))
            lines.append(_check(f"{config} {label} best epoch", kt, vs_jax, jax_name, jax_t))
    times = import_times(results)
    lines.append(_check("import kiln", times.get("kiln"), 0.5, "import keras", times.get("keras")))
    for config in configs:
        keras = _get(results, "keras", config)
        for kiln, label in TARGET_ROWS.items():
            if (kiln, config) not in ran:
                continue
            k = _get(results, kiln, config)
            lines.append(_check(f"{config} {label} peak RSS", k and k["peak_rss_mb"], 1.0, "keras",
                                keras and keras["peak_rss_mb"], unit="MiB"))
            lines.append(_check(f"{config} {label} time to first epoch",
                                k and k["time_to_first_epoch_s"], 1.0, "keras",
                                keras and keras["time_to_first_epoch_s"]))
    return ["## Targets (from the issue)", ""] + lines + [""]
