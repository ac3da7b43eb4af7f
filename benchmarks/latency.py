"""One drawing at a time, one thread: how long from a canvas to an answer, and the peers.

Measures on real pen-drawn digits rendered on 280x280 and 800x800 canvases, after warm-up:
  preprocess   digitwidget.preprocess.prepare (canvas -> 28x28)
  model        Predictor's compiled model call on one 28x28 input
  predict      Predictor.predict, the whole path
and, with the same model on the same inputs, what most Keras demos call:
  model.predict(x)   eager model(x)   model.predict_on_batch(x)
with the ratio of each to our model call; and a plain numpy/scipy MNIST-style
preprocessing (invert, crop, zoom to 20 px, pad, shift by the centre of mass) as the
peer of ours.

    python benchmarks/latency.py [--quick]
"""

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread for numpy's BLAS too: set before numpy loads it

import numpy as np  # noqa: E402

from common import canvases, one_thread, save, summary, timings  # noqa: E402

SIDES = (280, 800)


def plain_preprocess(canvas):
    """The usual numpy/scipy recipe for a white canvas with black ink: the peer."""
    from scipy import ndimage

    ink = 1.0 - canvas.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    small = ndimage.zoom(crop, 20.0 / max(crop.shape), order=1)
    out = np.zeros((28, 28), np.float32)
    h, w = small.shape
    out[(28 - h) // 2:(28 - h) // 2 + h, (28 - w) // 2:(28 - w) // 2 + w] = small
    cy, cx = ndimage.center_of_mass(out)
    return ndimage.shift(out, (14 - cy, 14 - cx), order=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    calls, peer_calls = (200, 30) if args.quick else (2000, 300)

    one_thread()
    from digitwidget.predictor import Predictor
    from digitwidget.preprocess import prepare

    predictor = Predictor()
    model = predictor.model
    figures = {"threads": 1, "single": {}}
    for side in SIDES:
        images = canvases(200, side)
        inputs = [prepare(image).image[None, ..., None] for image in images]
        pick = lambda i: images[i % len(images)]  # noqa: E731
        figures["single"][f"{side}px"] = {
            "preprocess": summary(timings(lambda i: prepare(pick(i)), calls)),
            "plain_scipy_preprocess": summary(timings(lambda i: plain_preprocess(pick(i)),
                                                      calls)),
            "model": summary(timings(lambda i: predictor.probabilities(inputs[i % 200]), calls)),
            "predict": summary(timings(lambda i: predictor.predict(pick(i)), calls)),
        }
        print(side, figures["single"][f"{side}px"])

    x = inputs[0]
    peers = {
        "ours": summary(timings(lambda i: predictor.probabilities(x), calls)),
        "predict_on_batch": summary(timings(lambda i: model.predict_on_batch(x), peer_calls)),
        "eager_call": summary(timings(lambda i: model(x, training=False), peer_calls)),
        "model.predict": summary(timings(lambda i: model.predict(x, verbose=0), peer_calls,
                                         warmup=5)),
    }
    ours = peers["ours"]["p50_ms"]
    # the limit: one core's float32 GEMM rate, and how much of it one image's model call gets
    from throughput import gemm_rates, macs_per_image

    one_core = gemm_rates(repeats=3)["float32"]
    figures["one_core_gemm_gflops"] = round(one_core / 1e9, 1)
    figures["model_batch1_fraction_of_one_core_gemm"] = round(
        2 * macs_per_image(model) / (ours / 1e3) / one_core, 3)
    figures["peers_batch1"] = peers
    figures["speedup_vs"] = {name: round(p["p50_ms"] / ours, 1) for name, p in peers.items()
                             if name != "ours"}
    figures["goals"] = {
        "predict_280px_p50_ms<=1.0": figures["single"]["280px"]["predict"]["p50_ms"] <= 1.0,
        "predict_800px_p50_ms<=2.0": figures["single"]["800px"]["predict"]["p50_ms"] <= 2.0,
        "speedup_vs_model.predict>=30": figures["speedup_vs"]["model.predict"] >= 30,
    }
    save("latency", figures)


if __name__ == "__main__":
    main()
