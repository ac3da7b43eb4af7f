"""The benchmarks' own arithmetic (they print figures; these check the figures mean what
they say). Running them is `python benchmarks/run_all.py`, never part of the tests."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def test_macs_of_the_reference_cnn():
    from throughput import macs_per_image

    from digitwidget.model import build_model

    # 'same' 3x3 convolutions at 28x28 (1->32, 32->32) and 14x14 (32->64, 64->64), then
    # dense 3136->128 and 128->10
    expected = (28 * 28 * 32 * 9 * (1 + 32) + 14 * 14 * 64 * 9 * (32 + 64)
                + 7 * 7 * 64 * 128 + 128 * 10)
    assert macs_per_image(build_model()) == expected == 18_691_840


def test_recipe_times_from_history(tmp_path):
    from training import recipe_from_history

    history = {"seed 1": [{"epoch": e, "seconds": 10.0, "val_accuracy": v}
                          for e, v in enumerate([0.98, 0.994, 0.9951, 0.997], start=1)],
               "seed 1, all 60k": [{"epoch": 1, "seconds": 11.0, "accuracy": 0.9}]}
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history))
    assert recipe_from_history(path) == {"seed 1": {
        "epochs": 4, "seconds": 40, "val_accuracy": 0.997, "seconds_to_val_99.5%": 30}}
    assert recipe_from_history(tmp_path / "missing.json") is None


def test_summary_percentiles():
    import numpy as np
    from common import summary

    times = np.arange(1, 101) / 1000.0  # 1..100 ms
    assert summary(times) == pytest.approx({"p50_ms": 50.5, "p95_ms": 95.05, "calls": 100})
