"""benchmarks/scaling.py: a row on 1 device in this process and on 2 forced CPU devices in a
subprocess (a tiny MLP, one step per epoch), and the table and RESULTS.md section it writes."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import scaling


def _row(config, devices, steps_per_s, ok=True):
    if not ok:
        return {"config": config, "devices": devices, "ok": False, "error": "boom"}
    return {"config": config, "devices": devices, "ok": True, "steps_per_s": steps_per_s,
            "first_epoch_s": 2.5}


def test_rows_on_one_and_two_devices():
    one = {"config": "tiny", "devices": 1} | scaling.measure(scaling.CASES["tiny"], 1,
                                                             steps=1, epochs=2)
    (two,) = scaling.run_rows(2, ["tiny"], steps=1, epochs=2, forced=True, timeout=120)
    for r in (one, two):
        assert r["ok"], r
        assert r["steps_per_s"] > 0 and len(r["epoch_times_s"]) == 2
        assert r["loss"] == pytest.approx(one["loss"], rel=1e-5)  # same seed, same batch
    assert two["devices"] == 2
    lines = scaling.render_table([one, two])
    assert lines[0].startswith("| config | model | distribution | devices |")
    assert len(lines) == 4 and all(ln.count("|") == 10 for ln in lines)
    cells = [c.strip() for c in lines[2].split("|")[1:-1]]
    assert cells[:5] == ["tiny", "MLP 16-8-10", "DataParallel (1,)", "1", "8 (8/device)"]
    assert cells[6] == "1"                              # speed-up of the 1-device row
    assert "DataParallel (2,)" in lines[3] and "8 (4/device)" in lines[3]


def test_speedup_failures_and_model_parallel_rows():
    records = [_row("mlp", 1, 40.0), _row("mlp", 8, 80.0), _row("mlp-mp", 8, 20.0),
               _row("transformer", 1, 0, ok=False), _row("transformer", 2, 10.0)]
    lines = scaling.render_table(records)
    cells = [[c.strip() for c in ln.split("|")[1:-1]] for ln in lines[2:]]
    assert [c[6] for c in cells] == ["1", "2", "0.5", "n/a", "n/a"]
    assert cells[2][2] == "ModelParallel (2, 4) batch x model"
    assert cells[3][5] == "n/a" and cells[3][8] == "failed: boom"


def test_section_caption_and_replacement():
    machine = {"date": "2026-01-01", "cpu": "x", "cores": 2, "load_at_start": (1.0, 2.0, 3.0),
               "total_wall_s": 12.0, "platform": "cpu"}
    section = scaling.render_section([_row("mlp", 1, 40.0)], machine, forced=True, steps=8,
                                     epochs=3, quick=True)
    assert section.startswith("## Scaling\n") and "no speed-up can show here" in section
    assert "--quick --write" in section and "| mlp |" in section
    old = "# kiln\n\n## Scaling\n\nold table\n\n## Overheads\n\nkept\n"
    new = scaling.replace_section(old, section)
    assert "old table" not in new and new.count("## Scaling") == 1
    assert new.startswith("# kiln\n\n## Scaling\n") and new.endswith("## Overheads\n\nkept\n")
    assert scaling.replace_section(new, section) == new
    appended = scaling.replace_section("# kiln\n", section)
    assert appended == "# kiln\n\n" + section


def test_plan_and_worker_env():
    assert scaling._plan([1, 2, 8], ["mlp", "mlp-mp"]) == [(1, ["mlp"]), (2, ["mlp"]),
                                                          (8, ["mlp", "mlp-mp"])]
    env = scaling.worker_env(8, forced=True)
    assert env["XLA_FLAGS"].count("--xla_force_host_platform_device_count") == 1
    assert scaling.worker_env(8, forced=False) == dict(scaling.os.environ,
                                                       PYTHONUNBUFFERED="1")
