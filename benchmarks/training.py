"""Training throughput here, and the default recipe's wall time to its accuracy.

  augment_only    images/s of the albumentations pipeline in this process (one core)
  fit             images/s of `model.fit` on the default recipe (bfloat16 compute, AdamW,
                  EMA, augmentation in worker processes), timed over whole epochs after
                  a first epoch that builds and compiles; and the same without
                  augmentation, to see whether the data pipeline or the model sets the pace
  recipe          from reports/history.json (every epoch of the shipped seeds): seconds to
                  99.5% validation accuracy and to the end, with the accuracy reached
A GPU figure needs a machine with one: this script reports what it finds.

    python benchmarks/training.py [--quick]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ROOT, machine, save

EPOCH_IMAGES = 55_000  # the training split of the default recipe


def fit_images_per_second(cfg, images, labels, augment, epochs):
    """images/s of model.fit with the recipe's model, optimiser and workers."""
    import keras

    from digitwidget.augment import MnistBatches, build_augmentation
    from digitwidget.model import build_model
    from digitwidget.train import EpochLog, compile_model

    t = cfg["train"]
    batches = MnistBatches(images, labels, t["batch_size"],
                           build_augmentation(cfg["augment"]) if augment else None,
                           shuffle=True, workers=t["workers"],
                           use_multiprocessing=t["use_multiprocessing"])
    keras.mixed_precision.set_global_policy(t.get("precision", "float32"))
    model = build_model()
    ema = compile_model(model, cfg, len(batches))
    with tempfile.TemporaryDirectory() as folder:  # the training's own per-epoch log
        log = EpochLog(Path(folder) / "history.json")
        callbacks = ([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []) + [log]
        model.fit(batches, epochs=epochs, callbacks=callbacks, verbose=0)
    keras.mixed_precision.set_global_policy("float32")
    return len(images) / float(np.median([e["seconds"] for e in log.epochs[1:]]))


def augment_only_images_per_second(cfg, images, seconds):
    from digitwidget.augment import build_augmentation

    augment = build_augmentation(cfg["augment"])
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        augment(image=images[done % len(images)])
        done += 1
    return done / (time.perf_counter() - start)


def recipe_from_history(path=ROOT / "reports" / "history.json"):
    """Wall time of the recipe's runs to 99.5% validation accuracy and to the end (the runs
    with a validation split: a refit on all the data has no validation figure)."""
    if not path.exists():
        return None
    out = {}
    for seed, epochs in json.loads(path.read_text()).items():
        if "val_accuracy" not in epochs[0]:
            continue
        elapsed = np.cumsum([e["seconds"] for e in epochs])
        reached = [i for i, e in enumerate(epochs) if e["val_accuracy"] >= 0.995]
        out[seed] = {"epochs": len(epochs), "seconds": round(float(elapsed[-1])),
                     "val_accuracy": round(epochs[-1]["val_accuracy"], 4),
                     "seconds_to_val_99.5%": round(float(elapsed[reached[0]])) if reached
                     else None}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only")
    args = parser.parse_args()
    steps, epochs, seconds = (6, 2, 2.0) if args.quick else (40, 3, 10.0)

    from digitwidget.data import load_mnist
    from digitwidget.train import load_config

    cfg = load_config()
    gpu = machine()["gpu"]
    (images, labels), _ = load_mnist(download=False)
    subset = steps * cfg["train"]["batch_size"]
    with_aug = fit_images_per_second(cfg, images[:subset], labels[:subset], True, epochs)
    without = fit_images_per_second(cfg, images[:subset], labels[:subset], False, epochs)
    figures = {
        "augment_only_images_per_s_one_core": round(augment_only_images_per_second(
            cfg, images, seconds)),
        "fit_images_per_s": round(with_aug),
        "fit_images_per_s_without_augmentation": round(without),
        "epoch_seconds_estimate": round(EPOCH_IMAGES / with_aug, 1),
        "device": f"GPU: {gpu}" if gpu else "CPU only (no GPU here)",
        "recipe": recipe_from_history(),
    }
    figures["goals"] = {"gpu_epoch_s<=3": "not measurable here: no GPU" if not gpu
                        else figures["epoch_seconds_estimate"] <= 3}
    save("training", figures)


if __name__ == "__main__":
    main()
