"""How well does the model read digits *drawn* on a canvas? Ours against the naive pipeline.

Renders the 1,375 real pen-drawn digits of ../shared/drawn-digits/dev.npz as canvas
drawings the way people make them (white square canvas of 280, 400 or 800 px; black round
anti-aliased strokes 3-8 % of the side wide; the digit 45-85 % of the canvas high, aspect
kept, placed anywhere inside; all seeded) and reports top-1 accuracy of

  ours    Predictor.predict_batch on the canvas image (digitwidget.preprocess, MNIST way)
  pad     the same strokes through DigitPad.draw (the widget's own path, strokes in Python)
  naive   the whole canvas shrunk to 28x28 and inverted, as many demos do

all with the same model in the same run. Writes benchmarks/results/drawn_digits.json.

    python benchmarks/drawn_digits.py [--model PATH] [--limit N] [--seed 0]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "drawn-digits" / "dev.npz"
RESULTS = ROOT / "benchmarks" / "results" / "drawn_digits.json"
sys.path.insert(0, str(ROOT))

from digitwidget.preprocess import rasterise  # noqa: E402

CANVASES = (280, 400, 800)


def load_dev(path=DEV):
    """Digits as (strokes, label, org): strokes a list of (n, 2) float arrays in mm, y down."""
    z = np.load(path, allow_pickle=False)
    pts, ss, smp = z["points"], z["stroke_start"], z["sample_start"]
    return [([pts[ss[k]:ss[k + 1]] for k in range(smp[i], smp[i + 1])], int(z["label"][i]),
             str(z["org"][i])) for i in range(len(z["label"]))]


def place(strokes, rng):
    """Strokes scaled and placed on a random canvas, as a person might draw them.

    Returns (strokes in canvas pixels, canvas side, brush width in pixels).
    """
    side = int(rng.choice(CANVASES))
    brush = side * rng.uniform(0.03, 0.08)
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    w, h = np.maximum(hi - lo, 1e-6)
    room = side - brush  # the pen's half width must stay on the canvas too
    scale = min(side * rng.uniform(0.45, 0.85) / h, room / w, room / h)
    offset = brush / 2 + rng.uniform(0, 1, 2) * (room - np.array([w, h]) * scale)
    placed = [(s - lo) * scale + offset for s in strokes]
    return placed, side, brush


def naive_input(canvas):
    """The naive pipeline: shrink the whole canvas to 28x28 and invert it."""
    small = np.asarray(Image.fromarray(canvas).resize((28, 28), Image.BILINEAR), np.float32)
    return 1.0 - small / 255.0


def run(model_path=None, limit=None, seed=0, chunk=64):
    import keras  # noqa: F401  (imported after argument parsing: it takes seconds)

    from digitwidget.model import load_model
    from digitwidget.pad import DigitPad
    from digitwidget.predictor import Predictor

    model = load_model(model_path)
    predictor = Predictor(model)
    pads = {side: DigitPad(predictor, size=side) for side in CANVASES}
    digits = load_dev()[:limit]
    rng = np.random.default_rng(seed)
    drawings = [(*place(strokes, rng), label, org) for strokes, label, org in digits]

    ours, naive, by_pad, seconds = [], [], [], []
    for start in range(0, len(drawings), chunk):
        part = drawings[start:start + chunk]
        canvases = [rasterise(s, side, brush, supersample=2) for s, side, brush, _, _ in part]
        t0 = time.perf_counter()
        ours += [p.digit for p in predictor.predict_batch(canvases)]
        seconds.append((time.perf_counter() - t0) / len(part))
        naive += list(predictor.probabilities(np.stack([naive_input(c) for c in canvases]))
                      .argmax(axis=1))
        for strokes, side, brush, _, _ in part:
            pad = pads[side]
            pad.brush = brush
            pad.clear()
            pad.draw([s.tolist() for s in strokes])
            by_pad.append(pad.prediction.digit if pad.prediction else None)

    labels = np.array([d[3] for d in drawings])
    orgs = np.array([d[4] for d in drawings])

    def accuracy(guesses, mask=slice(None)):
        return float(np.mean(np.array(guesses, dtype=object)[mask] == labels[mask]))

    report = {
        "data": str(DEV.relative_to(ROOT.parent)), "digits": len(drawings), "seed": seed,
        "model": str(model_path or "models/digit_cnn.keras"),
        "canvas_px": list(CANVASES), "brush_of_side": [0.03, 0.08], "height_of_side": [0.45, 0.85],
        "accuracy": {"ours": accuracy(ours), "pad": accuracy(by_pad), "naive": accuracy(naive)},
        "by_org": {org: {name: accuracy(g, orgs == org) for name, g in
                         (("ours", ours), ("pad", by_pad), ("naive", naive))}
                   for org in sorted(set(orgs))},
        "ms_per_image_batched": 1000 * float(np.mean(seconds)),
    }
    return report


def print_table(report):
    print(f"{report['digits']} drawn digits (seed {report['seed']}), model {report['model']}")
    print(f"{'':10s}{'ours':>8s}{'pad':>8s}{'naive':>8s}")
    rows = [("all", report["accuracy"])] + list(report["by_org"].items())
    for name, acc in rows:
        print(f"{name:10s}" + "".join(f"{acc[k]:8.1%}" for k in ("ours", "pad", "naive")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a .keras file (default: models/digit_cnn.keras)")
    parser.add_argument("--limit", type=int, help="only the first N digits (a quick look)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report = run(args.model, args.limit, args.seed)
    print_table(report)
    if args.limit is None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
