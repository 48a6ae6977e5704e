"""The benchmark's merging of rounds (benchmarks/run.py), on hand-made worker records."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
run = pytest.importorskip("run")


def _record(contender, epochs, predict, rss, ok=True):
    return {"contender": contender, "config": {"name": "mlp32"}, "ok": ok,
            "epoch_times_s": epochs, "time_to_first_epoch_s": epochs[0],
            "best_epoch_s": min(epochs[1:]), "median_epoch_s": sorted(epochs[1:])[1],
            "predict_best_s": predict, "peak_rss_mb": rss, "import_s": {"kiln": 0.4}}


def test_rounds_merge_best_median_first_and_peak():
    runs = [_record("kiln", [2.0, 0.5, 0.4, 0.6], 0.3, 500),
            _record("kiln", [1.0, 0.45, 0.7, 0.5], 0.2, 520),
            _record("kiln", [1.5, 0.8, 0.9, 0.35], 0.25, 510)]
    (m,) = run.merge_rounds(runs)
    assert m["rounds"] == 3
    assert m["best_epoch_s"] == 0.35                 # best timed epoch of any round
    assert m["median_epoch_s"] == 0.5                # median of the nine timed epochs
    assert m["time_to_first_epoch_s"] == 1.5         # median of the first epochs
    assert m["predict_best_s"] == 0.2 and m["peak_rss_mb"] == 520


def test_a_failed_round_is_kept_as_the_failure():
    runs = [_record("kiln", [2.0, 0.5, 0.4, 0.6], 0.3, 500),
            {"contender": "kiln", "config": {"name": "mlp32"}, "ok": False, "error": "boom"}]
    (m,) = run.merge_rounds(runs)
    assert not m["ok"] and m["error"] == "boom"


def test_quick_runs_write_a_scratch_file_never_the_committed_report():
    quick = run._parse(["--quick"])
    assert run.output_path(quick.output, quick.quick) == run.HERE / "RESULTS.quick.md"
    full = run._parse([])
    assert run.output_path(full.output, full.quick) == run.HERE / "RESULTS.md"
    for flag in ("--out", "--output"):
        given = run._parse(["--quick", flag, "elsewhere.md"])
        assert run.output_path(given.output, given.quick) == Path("elsewhere.md")
