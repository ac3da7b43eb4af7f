"""Batches on all cores: images per second, and how close that is to the machine's limit.

For batch 1, 32 and 256 (MNIST test images through Predictor's compiled model call) this
reports images/s and the fraction of the machine's float32 matrix-multiply rate reached:
MACs per image x 2 x images/s / FLOP/s, the GEMM rate measured in the same run (best of
a few sizes, numpy and TensorFlow, warmed up). The same for TensorFlow's bfloat16 GEMM,
which this CPU's AVX512-BF16 runs about twice as fast.

    python benchmarks/throughput.py [--quick]
"""

import argparse
import time

import numpy as np

from common import save

BATCHES = (1, 32, 256)


def macs_per_image(model):
    """Multiply-accumulates of one forward pass: the convolutions and dense layers."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            _, h, w, filters = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * filters * kh * kw * layer.input.shape[-1]
        elif kind == "Dense":
            total += layer.input.shape[-1] * layer.units
    return int(total)


def best_rate(run, flop, repeats):
    """FLOP/s of the fastest of `repeats` timed runs (after one warm-up run)."""
    run()
    best = min(_seconds(run) for _ in range(repeats))
    return flop / best


def _seconds(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def gemm_rates(repeats):
    """The float32 (numpy, TensorFlow) and bfloat16 (TensorFlow) GEMM rates, in FLOP/s."""
    import tensorflow as tf

    rates = {"float32": 0.0, "bfloat16": 0.0}
    matmul = tf.function(tf.matmul)
    for n in (512, 1024, 2048):
        a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
        flop = 2 * n ** 3
        ta, tb = tf.constant(a), tf.constant(b)
        ha, hb = tf.cast(ta, tf.bfloat16), tf.cast(tb, tf.bfloat16)
        rates["float32"] = max(rates["float32"], best_rate(lambda: a @ b, flop, repeats),
                               best_rate(lambda: matmul(ta, tb).numpy(), flop, repeats))
        rates["bfloat16"] = max(rates["bfloat16"],
                                best_rate(lambda: matmul(ha, hb).numpy(), flop, repeats))
    return rates


def images_per_second(call, batch, images, seconds):
    """Run `call` on successive batches for about `seconds`; images per second."""
    call(images[:batch])
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        call(images[i:i + batch])
        done += batch
        i = (i + batch) % (len(images) - batch)
    return done / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke run")
    args = parser.parse_args()
    seconds, repeats = (1.0, 2) if args.quick else (5.0, 5)

    from digitwidget.data import load_mnist
    from digitwidget.predictor import Predictor

    predictor = Predictor()
    (_, _), (test_images, _) = load_mnist(download=False)
    images = test_images.astype(np.float32) / 255.0
    macs = macs_per_image(predictor.model)
    rates = gemm_rates(repeats)
    figures = {"macs_per_image": macs, "gemm_gflops": {k: round(v / 1e9, 1)
                                                      for k, v in rates.items()}, "batches": {}}
    for batch in BATCHES:
        ips = images_per_second(predictor.probabilities, batch, images, seconds)
        flops = 2 * macs * ips
        figures["batches"][batch] = {
            "images_per_s": round(ips), "gflops": round(flops / 1e9, 1),
            "fraction_of_float32_gemm": round(flops / rates["float32"], 3)}
        print(batch, figures["batches"][batch])
    needed = 10_000 * 2 * macs / rates["float32"]
    figures["fraction_of_float32_gemm_needed_for_10000_per_s"] = round(needed, 2)
    figures["goals"] = {"batch256_images_per_s>=10000":
                        figures["batches"][256]["images_per_s"] >= 10_000}
    save("throughput", figures)


if __name__ == "__main__":
    main()
