"""One drawing at a time, one thread: how long from a canvas to an answer, and the peers.

Measures on real pen-drawn digits rendered on 280x280 and 800x800 canvases, after warm-up:
  preprocess   digitwidget.preprocess.prepare (canvas -> 28x28)
  model        Predictor's compiled model call on one 28x28 input
  predict      Predictor.predict, the whole path
and, with the same model on the same inputs, what most Keras demos call:
  model.predict(x)   eager model(x)   model.predict_on_batch(x)
with the ratio of each to our model call.

    python benchmarks/latency.py [--quick]
"""

import argparse

import numpy as np

from common import canvases, one_thread, save, summary, timings

SIDES = (280, 800)


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
