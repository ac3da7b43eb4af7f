"""Train the digit CNN: `python -m digitwidget.train --config configs/default.toml`.

Seeded and reproducible; a validation split held out of the 60k training images (the
test set is touched only by evaluate.py); AdamW with linear warm-up then cosine decay,
label smoothing, an exponential moving average of the weights (validated and saved with
the averaged weights), a checkpoint and the history of every epoch as JSON.
Runs on any Keras 3 backend (KERAS_BACKEND=tensorflow here, jax on a GPU machine).

DIGITWIDGET_QUICK=1 (or --quick) trains on a small subset for one short epoch, so
notebooks and CI can execute the whole path in about a minute.
"""

import argparse
import json
import os
import platform
import time
import tomllib
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import keras
import numpy as np

from digitwidget.augment import MnistBatches, build_augmentation
from digitwidget.data import load_mnist
from digitwidget.model import build_model

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.toml"


def load_config(path=DEFAULT_CONFIG, quick=None, refit=False):
    """Read a TOML config; in quick mode the [quick] section shrinks data and epochs.

    refit=True keeps every setting (chosen on the validation split) but trains on all
    60k training images: no validation split is held out, the test set stays untouched.
    """
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    if quick is None:
        quick = os.environ.get("DIGITWIDGET_QUICK", "") not in ("", "0")
    cfg["quick"] = dict(cfg.get("quick", {}), enabled=bool(quick))
    if quick:
        cfg["data"]["val_size"] = cfg["quick"]["val_size"]
        for key in ("epochs", "batch_size", "warmup_epochs", "ema_momentum",
                    "bn_recalibration_batches"):
            cfg["train"][key] = cfg["quick"][key]
    cfg["refit"] = bool(refit)
    if refit:
        cfg["name"] += "-refit"
        cfg["data"]["val_size"] = 0
    return cfg


def split_train_val(images, labels, val_size, seed):
    """A stratified, seeded hold-out of `val_size` training images for choosing settings."""
    rng = np.random.default_rng(seed)
    val_rows = []
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        share = round(val_size * len(rows) / len(labels))
        val_rows.append(rng.choice(rows, share, replace=False))
    val_rows = np.sort(np.concatenate(val_rows))
    train_rows = np.setdiff1d(np.arange(len(labels)), val_rows)
    return (images[train_rows], labels[train_rows]), (images[val_rows], labels[val_rows])


def make_schedule(cfg, steps_per_epoch):
    """Linear warm-up to the peak learning rate, then cosine decay to zero."""
    t = cfg["train"]
    warmup = int(t["warmup_epochs"] * steps_per_epoch)
    total = t["epochs"] * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=t["peak_lr"] / 100, warmup_target=t["peak_lr"],
        warmup_steps=warmup, decay_steps=max(total - warmup, 1), alpha=0.0)


def compile_model(model, cfg, steps_per_epoch):
    t = cfg["train"]
    ema = t.get("ema_momentum", 0) > 0
    optimizer = keras.optimizers.AdamW(
        learning_rate=make_schedule(cfg, steps_per_epoch), weight_decay=t["weight_decay"],
        use_ema=ema, ema_momentum=t.get("ema_momentum", 0.99))
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=t["label_smoothing"]),
        metrics=["accuracy"])
    return ema


class EpochLog(keras.callbacks.Callback):
    """Adds wall time and learning rate to each epoch's logs, and rewrites history.json."""

    def __init__(self, path):
        super().__init__()
        self.path, self.epochs = Path(path), []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        opt = self.model.optimizer
        record = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - self.started, 2),
                  "learning_rate": float(keras.ops.convert_to_numpy(
                      opt.learning_rate if not callable(opt._learning_rate)
                      else opt._learning_rate(opt.iterations)))}
        record.update({k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"})
        self.epochs.append(record)
        self.save()

    def save(self):
        self.path.write_text(json.dumps(self.epochs, indent=1))


def train(cfg, data_dir=None, out_dir="runs/default", seed=None, verbose="auto"):
    """Train one model by the config; return (model, history records, run info).

    Writes into `out_dir`: config.json, history.json, checkpoint.keras (every epoch,
    the EMA weights when EMA is on) and model.keras (the final model).
    """
    seed = cfg["seed"] if seed is None else seed
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)

    (x_train, y_train), _ = load_mnist(data_dir)
    (x_tr, y_tr), (x_val, y_val) = split_train_val(x_train, y_train, cfg["data"]["val_size"],
                                                   seed=0)  # one fixed split for every seed
    if cfg["quick"]["enabled"]:
        x_tr, y_tr = x_tr[:cfg["quick"]["train_size"]], y_tr[:cfg["quick"]["train_size"]]

    t = cfg["train"]
    workers = dict(workers=t["workers"], use_multiprocessing=t["use_multiprocessing"])
    train_batches = MnistBatches(x_tr, y_tr, t["batch_size"], build_augmentation(cfg["augment"]),
                                 shuffle=True, seed=seed, **workers)
    val_batches = MnistBatches(x_val, y_val, 500) if len(x_val) else None

    keras.mixed_precision.set_global_policy(t.get("precision", "float32"))
    model = build_model()
    ema = compile_model(model, cfg, len(train_batches))
    log = EpochLog(out_dir / "history.json")
    callbacks = [log, keras.callbacks.ModelCheckpoint(out_dir / "checkpoint.keras")]
    if ema:  # validate (if there is a split) and checkpoint with the averaged weights
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))

    info = {"seed": seed, "config": cfg, "backend": keras.backend.backend(),
            "keras": keras.__version__, "machine": machine_description(),
            "train_images": int(len(x_tr)), "val_images": int(len(x_val))}
    (out_dir / "config.json").write_text(json.dumps(info, indent=1))

    started = time.perf_counter()
    model.fit(train_batches, validation_data=val_batches, epochs=t["epochs"],
              callbacks=callbacks, verbose=verbose)
    if t.get("bn_recalibration_batches", 0):
        recalibrate_batchnorm(model, train_batches, t["bn_recalibration_batches"])
        if val_batches:
            info["val_accuracy_before_bn_recalibration"] = log.epochs[-1]["val_accuracy"]
            log.epochs[-1]["val_loss"], log.epochs[-1]["val_accuracy"] = (
                float(v) for v in model.evaluate(val_batches, verbose=0))
            log.save()
    info["train_seconds"] = round(time.perf_counter() - started, 1)
    info["val_accuracy"] = log.epochs[-1].get("val_accuracy")  # None in a refit
    model = float32_copy(model)
    model.save(out_dir / "model.keras")
    (out_dir / "config.json").write_text(json.dumps(info, indent=1))
    return model, log.epochs, info


def recalibrate_batchnorm(model, batches, steps):
    """Re-estimate BatchNorm statistics as an exact mean over `steps` training batches.

    The moving averages were collected under the raw, moving weights; averaged (EMA)
    weights and short runs both leave them stale (as for SWA's `update_bn`). Eager
    calls, so the cumulative momentum takes effect at every step.
    """
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    for step in range(min(steps, len(batches))):
        for layer in norms:
            layer.momentum = step / (step + 1)  # the running mean of the batch statistics
        model(batches[step][0], training=True)
    for layer, momentum in zip(norms, saved):
        layer.momentum = momentum


def float32_copy(model):
    """The same weights in a float32 model: what ships, fast on any CPU, whatever the
    precision it was trained in (mixed bfloat16 keeps float32 master weights anyway)."""
    keras.mixed_precision.set_global_policy("float32")
    copy = build_model()
    copy.set_weights(model.get_weights())
    return copy


def machine_description():
    """CPU model, core count and GPU (if the backend sees one), for the model card."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    if keras.backend.backend() == "jax":
        import jax
        gpus = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        gpu = gpus[0] if gpus else None
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        gpu = "GPU" if tf.config.list_physical_devices("GPU") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--data-dir", default=None, help="MNIST folder (else DIGITWIDGET_DATA)")
    parser.add_argument("--out", default=None, help="run folder (default runs/<name>-seed<seed>)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="small subset, one short epoch")
    parser.add_argument("--refit", action="store_true",
                        help="the same settings on all 60k training images (no validation split)")
    parser.add_argument("--verbose", default="auto", help="Keras fit verbosity: 1 bars, 2 lines")
    args = parser.parse_args()
    cfg = load_config(args.config, quick=args.quick or None, refit=args.refit)
    seed = cfg["seed"] if args.seed is None else args.seed
    out = args.out or f"runs/{cfg['name']}-seed{seed}"
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    _, history, info = train(cfg, args.data_dir, out, seed=seed, verbose=verbose)
    val = "none held out" if info["val_accuracy"] is None else f"{info['val_accuracy']:.4f}"
    print(f"trained in {info['train_seconds']} s; val accuracy {val}; run folder {out}")


if __name__ == "__main__":
    main()
