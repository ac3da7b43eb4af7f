"""What every benchmark shares: the machine, timing, real drawings, and writing results.

Benchmarks print figures and write them to benchmarks/results/<name>.json; they never
fail on a slow machine. Each runs in its own process (run_all.py starts them), so thread
settings and memory figures of one do not leak into another.
"""

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def one_thread():
    """Make TensorFlow use one core. Call before TensorFlow starts (numpy's BLAS threads
    are fixed when numpy loads: set OPENBLAS_NUM_THREADS=1 before importing it)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def machine():
    """Date, CPU model, cores and GPU (as the model card gives them), for every results file."""
    from digitwidget.train import machine_description

    return {"date": datetime.date.today().isoformat(), **machine_description(),
            "python": platform.python_version()}


def timings(call, n, warmup=50):
    """Seconds per call of `call(i)` for i in range(n), after `warmup` unmeasured calls."""
    for i in range(warmup):
        call(i)
    times = np.empty(n)
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times[i] = time.perf_counter() - start
    return times


def summary(times):
    """p50 and p95 in milliseconds, and how many calls they rest on."""
    return {"p50_ms": round(float(np.percentile(times, 50)) * 1e3, 3),
            "p95_ms": round(float(np.percentile(times, 95)) * 1e3, 3), "calls": len(times)}


def real_drawings(n, side, seed=0):
    """n real pen-drawn digits (../shared/drawn-digits) as (strokes in canvas pixels, label):
    scaled to 65% of a side x side canvas and centred (as the browser test draws them), the
    way people fill a pad."""
    sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]
    from drawn_digits import load_dev
    from test_browser import on_canvas

    digits = load_dev()
    rng = np.random.default_rng(seed)
    return [(on_canvas(digits[i][0], side, height=0.65), digits[i][1])
            for i in rng.choice(len(digits), size=n, replace=n > len(digits))]


def canvases(n, side, seed=0):
    """n real drawings rendered as the widget renders them: uint8 side x side, brush 6%."""
    from digitwidget.preprocess import rasterise

    return [rasterise(strokes, side, 0.06 * side) for strokes, _ in real_drawings(n, side, seed)]


def save(name, figures):
    """Write results/<name>.json (with the machine) and print the figures."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": name, "machine": machine(), **figures}
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    for key, value in figures.items():
        print(f"{key}: {json.dumps(value)}")
    print(f"wrote {RESULTS / f'{name}.json'}")
    return record
