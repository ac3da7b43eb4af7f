"""Does normalising stroke thickness help on real drawings? (It did not: see docs/widget.md.)

Draws each dev digit's strokes (placed as in drawn_digits.py) twice: with the brush the
person used (3-8 % of the canvas), and with a brush set to a fixed fraction of the digit's
own size, so every digit reaches the model with the same stroke width after scaling to
20 px. Reports top-1 accuracy of both for a few seeds.

    python benchmarks/stroke_width.py [--model PATH] [--seeds 0 1]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from drawn_digits import load_dev, place  # noqa: E402

from digitwidget.preprocess import prepare, rasterise  # noqa: E402

FRACTIONS = (0.08, 0.10, 0.12, 0.14, 0.17)  # brush as a fraction of the digit's longer side


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    from digitwidget.model import load_model
    from digitwidget.predictor import Predictor

    predictor = Predictor(load_model(args.model))
    digits = load_dev()
    labels = np.array([label for _, label, _ in digits])

    def accuracy(draws, brush_of):
        x = np.stack([prepare(rasterise(s, side, brush_of(s, b))).image for s, side, b in draws])
        return float(np.mean(predictor.probabilities(x).argmax(axis=1) == labels))

    def extent(strokes):
        points = np.concatenate(strokes)
        return float(max(points.max(axis=0) - points.min(axis=0)))

    print("seed  as drawn  " + "  ".join(f"{f:.2f}*size" for f in FRACTIONS))
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        draws = [place(strokes, rng) for strokes, _, _ in digits]
        row = [accuracy(draws, lambda s, b: b)]
        row += [accuracy(draws, lambda s, b, f=f: max(1.0, f * extent(s))) for f in FRACTIONS]
        print(f"{seed:4d}  " + "  ".join(f"{a:8.2%}" for a in row))


if __name__ == "__main__":
    main()
