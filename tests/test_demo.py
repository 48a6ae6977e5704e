"""The main job (examples/seed_tasks.py) runs and learns each of the seeds' three tasks."""

import importlib.util
from pathlib import Path

import kiln


def _load_demo():
    path = Path(__file__).resolve().parents[1] / "examples" / "seed_tasks.py"
    spec = importlib.util.spec_from_file_location("seed_tasks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_tasks_reach_sensible_held_out_metrics():
    demo = _load_demo()
    kiln.utils.set_random_seed(0)
    binary = demo.binary_task()
    assert binary["accuracy"] > 0.9 and binary["auc"] > 0.95
    assert demo.multiclass_task()["accuracy"] > 0.9
    assert demo.regression_task()["r2"] > 0.15
