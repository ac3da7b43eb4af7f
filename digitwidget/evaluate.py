"""Evaluate trained models on the MNIST test set, write the reports and the model card.

    python -m digitwidget.evaluate --runs runs/default-seed1 runs/default-seed2 \
        runs/default-seed3 --ship

scores every run on the 10,000 test images, ships the run with the best *validation*
accuracy (the test set never chooses anything) to models/digit_cnn.keras, and writes
reports/ (metrics.json, confusion_matrix.png, training_curves.png, errors.png,
augmentations.png) and models/model_card.json + MODEL_CARD.md, with the mean and
standard deviation over the runs next to the shipped run's figures.

Runs refit on all 60k training images (`train --refit`) hold nothing out to choose by:
then the config's own seed ships, named before training, and `--validation-runs` adds
the held-out-split runs that chose the settings to the card and the training curves:

    python -m digitwidget.evaluate --ship --runs runs/default-refit-seed{1,2,3} \
        --validation-runs runs/default-seed{1,2,3}
"""

import argparse
import datetime
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from digitwidget.data import SHA256, find_data, load_mnist

ROOT = Path(__file__).resolve().parent.parent


def predict_probabilities(model, images, batch_size=1000):
    """Softmax outputs for uint8 (N, 28, 28) images, in batches."""
    x = images.astype(np.float32)[..., None] / 255.0
    return model.predict(x, batch_size=batch_size, verbose=0)


def compute_metrics(labels, probabilities):
    """Accuracy, per-class precision/recall/F1, confusion counts and the errors."""
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    true_pos = np.diag(confusion).astype(float)
    precision = true_pos / np.maximum(confusion.sum(axis=0), 1)
    recall = true_pos / np.maximum(confusion.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    errors = np.flatnonzero(predicted != labels)
    return {
        "test_images": int(len(labels)),
        "test_accuracy": float((predicted == labels).mean()),
        "test_errors": int(len(errors)),
        "per_class": {str(d): {"precision": round(float(precision[d]), 5),
                               "recall": round(float(recall[d]), 5),
                               "f1": round(float(f1[d]), 5),
                               "support": int(confusion[d].sum())} for d in range(10)},
        "confusion_matrix": confusion.tolist(),  # rows: true digit, columns: predicted
        "errors": [{"index": int(i), "true": int(labels[i]), "predicted": int(predicted[i]),
                    "confidence": round(float(probabilities[i, predicted[i]]), 4)}
                   for i in errors],
    }


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_confusion_matrix(confusion, path):
    plt = _pyplot()
    confusion = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    shown = np.log1p(confusion)  # a log scale, so single mistakes are visible beside ~1,000s
    ax.imshow(shown, cmap="Blues")
    for t in range(10):
        for p in range(10):
            if confusion[t, p]:
                ax.text(p, t, str(confusion[t, p]), ha="center", va="center", fontsize=8,
                        color="white" if shown[t, p] > shown.max() / 2 else "black")
    ax.set_xticks(range(10)), ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit"), ax.set_ylabel("true digit")
    errors = confusion.sum() - np.trace(confusion)
    ax.set_title(f"MNIST test confusion matrix: {errors} errors in {confusion.sum():,}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_training_curves(histories, path):
    """Train/val loss and accuracy per epoch; one colour per run (a refit has no val line)."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            line, = ax.plot(epochs, [h[key] for h in history], "--", label=f"{name} train")
            if "val_" + key in history[0]:
                ax.plot(epochs, [h["val_" + key] for h in history], "-",
                        color=line.get_color(), label=f"{name} validation")
    ax_loss.set_title("loss (train: augmented, label-smoothed)"), ax_loss.set_xlabel("epoch")
    ax_acc.set_title("accuracy"), ax_acc.set_xlabel("epoch")
    ax_acc.set_ylim(0.97, 1.0)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_errors(images, errors, path, columns=12, limit=360):
    """Every misclassified test digit (the first `limit` of a poor model's), titled
    true→predicted, the confidence and the test index."""
    plt = _pyplot()
    total, errors = len(errors), errors[:limit]
    rows = max(1, -(-len(errors) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.0, rows * 1.2), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, e in zip(axes.flat, errors):
        ax.imshow(images[e["index"]], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"{e['true']}→{e['predicted']} {e['confidence']:.0%}\n#{e['index']}",
                     fontsize=7)
    shown = f"All {total}" if total == len(errors) else f"The first {len(errors)} of {total}"
    fig.suptitle(f"{shown} misclassified MNIST test digits (true→predicted, confidence, "
                 "test index)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def evaluate_model(model, test, reports_dir=None, histories=None):
    """Metrics for one model; with `reports_dir`, also every report file."""
    images, labels = test
    metrics = compute_metrics(labels, predict_probabilities(model, images))
    metrics["parameters"] = int(model.count_params())
    if reports_dir is not None:
        reports_dir = Path(reports_dir)
        reports_dir.mkdir(parents=True, exist_ok=True)
        (reports_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
        plot_confusion_matrix(metrics["confusion_matrix"], reports_dir / "confusion_matrix.png")
        plot_errors(images, metrics["errors"], reports_dir / "errors.png")
        if histories:
            plot_training_curves(histories, reports_dir / "training_curves.png")
    return metrics


def run_label(info):
    """'seed 2', or 'seed 2, all 60k' for a refit: the key of its history and curves."""
    return f"seed {info['seed']}" + (", all 60k" if info["config"].get("refit") else "")


def choose_shipped(runs):
    """The run to ship and why: the best by validation; for refits, which hold nothing out,
    the config's own seed, named before training. The test set never chooses."""
    if all(r["info"]["val_accuracy"] is not None for r in runs):
        return (max(runs, key=lambda r: r["info"]["val_accuracy"]),
                "highest validation accuracy among the seeds (test set never used to choose)")
    named = [r for r in runs if r["info"]["seed"] == r["info"]["config"]["seed"]]
    return ((named or runs)[0], "the config's seed, named before training (a refit holds no "
            "validation split to choose by, and the test set never chooses)")


def _seed_rows(runs):
    return [{"seed": r["info"]["seed"], "test_accuracy": r["test_accuracy"],
             "validation_accuracy": r["info"]["val_accuracy"],
             "train_images": r["info"]["train_images"],
             "train_seconds": r["info"]["train_seconds"]} for r in runs]


def write_model_card(model_path, runs, metrics, card_dir, validation_runs=()):
    """models/model_card.json and MODEL_CARD.md, from the figures just measured.

    `metrics` are those of the run choose_shipped picks among `runs` (the one shipped).
    `validation_runs`: the same settings trained with the validation split held out,
    which chose them (listed when the shipped runs are refits on all the data)."""
    accuracies = np.array([r["test_accuracy"] for r in runs])
    shipped, chosen_by = choose_shipped(runs)
    info = shipped["info"]
    card = {
        "model_file": Path(model_path).name,
        "sha256": sha256_file(model_path),
        "date": datetime.date.today().isoformat(),
        "architecture": "reference CNN: conv32-BN-conv32-pool-drop, conv64-BN-conv64-pool-drop,"
                        " dense128-drop, dense10 softmax; normalisation inside the model",
        "parameters": metrics["parameters"],
        "input": "(None, 28, 28, 1) float32 in [0, 1], ink 1.0 on background 0.0, MNIST-centred",
        "output": "(None, 10) softmax",
        "shipped_seed": info["seed"],
        "chosen_by": chosen_by,
        "test_accuracy": metrics["test_accuracy"],
        "test_errors": metrics["test_errors"],
        "validation_accuracy": info["val_accuracy"],
        "seeds": _seed_rows(runs),
        "validation_runs": _seed_rows(validation_runs),
        "test_accuracy_mean": float(accuracies.mean()),
        "test_accuracy_sd": float(accuracies.std(ddof=1)) if len(runs) > 1 else 0.0,
        "train_seconds": info["train_seconds"],
        "seconds_per_epoch": round(info["train_seconds"] / info["config"]["train"]["epochs"], 1),
        "hardware": info["machine"],
        "backend": info["backend"],
        "keras": info["keras"],
        "train_images": info["train_images"],
        "val_images": info["val_images"],
        "data_sha256_decompressed": SHA256,
        "config": info["config"],
    }
    card_dir = Path(card_dir)
    (card_dir / "model_card.json").write_text(json.dumps(card, indent=1))
    (card_dir / "MODEL_CARD.md").write_text(model_card_markdown(card))
    return card


def _seed_table(card):
    """The held-out-split runs (if any), then the seeds of the shipped config."""
    marks = [""] * len(card["validation_runs"]) + [
        " (shipped)" if s["seed"] == card["shipped_seed"] else "" for s in card["seeds"]]
    rows = []
    for s, mark in zip(card["validation_runs"] + card["seeds"], marks):
        val = "–" if s["validation_accuracy"] is None else f"{s['validation_accuracy']:.2%}"
        rows.append(f"| {s['seed']}{mark} | {s['train_images']:,} | {val} "
                    f"| {s['test_accuracy']:.2%} | {s['train_seconds'] / 60:.1f} min |")
    return "\n".join(rows)


def model_card_markdown(card):
    hw = card["hardware"]
    t = card["config"]["train"]
    if card["val_images"]:
        data = (f"{card['train_images']:,} MNIST training images ({card['val_images']:,} held "
                "out for validation)")
    else:
        data = (f"all {card['train_images']:,} MNIST training images (a refit: the settings "
                "were chosen on a held-out validation split, by the runs in the table that "
                "show a validation figure)")
    return f"""# Model card: {card['model_file']}

Written by `python -m digitwidget.evaluate` on {card['date']}; do not edit by hand.

- **MNIST test accuracy: {card['test_accuracy']:.2%}** ({card['test_errors']} errors in 10,000),
  shipped seed {card['shipped_seed']}, {card['chosen_by']}.
- Over {len(card['seeds'])} seeds of the same config: **{card['test_accuracy_mean']:.2%} ±
  {card['test_accuracy_sd']:.2%}** (mean ± sd).
- Architecture: {card['architecture']}; {card['parameters']:,} parameters.
- Input {card['input']}; output {card['output']}.
- Training: {data}, {t['epochs']} epochs, batch {t['batch_size']}, AdamW peak lr {t['peak_lr']} with
  {t['warmup_epochs']} warm-up epoch(s) then cosine decay, weight decay {t['weight_decay']},
  label smoothing {t['label_smoothing']}, EMA of weights {t['ema_momentum']},
  {t['precision']} compute, albumentations on the fly (config below).
- Trained in {card['train_seconds'] / 60:.1f} min ({card['seconds_per_epoch']} s per epoch) on
  {hw['cpu']}, {hw['cores']} cores, GPU: {hw['gpu'] or 'none'}; Keras {card['keras']},
  backend {card['backend']}.
- sha256 of {card['model_file']}: `{card['sha256']}`

| seed | training images | validation | test | training time |
|---:|---:|---:|---:|---:|
{_seed_table(card)}

Config: `{json.dumps(card['config'])}`

Data: MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0), verified by the sha256 of each
decompressed file: {', '.join(f'{k} `{v[:12]}…`' for k, v in card['data_sha256_decompressed'].items())}.
"""


def score_runs(run_dirs, test):
    """Each run folder's config.json and test accuracy (reported, never used to choose)."""
    import keras

    from digitwidget.model import load_model

    runs = []
    for run_dir in map(Path, run_dirs):
        info = json.loads((run_dir / "config.json").read_text())
        model = load_model(run_dir / "model.keras")
        accuracy = compute_metrics(test[1], predict_probabilities(model, test[0]))["test_accuracy"]
        val = "none held out" if info["val_accuracy"] is None else f"{info['val_accuracy']:.4f}"
        print(f"{run_dir}: validation {val}, test {accuracy:.4f}")
        runs.append({"dir": run_dir, "info": info, "test_accuracy": accuracy})
        keras.backend.clear_session()
    return runs


def ship(run_dirs, data_dir=None, models_dir=ROOT / "models", reports_dir=ROOT / "reports",
         validation_run_dirs=()):
    """Score every run on the test set, ship one (see choose_shipped), write reports and card."""
    from digitwidget.augment import build_augmentation, save_augmentation_grid
    from digitwidget.model import load_model

    (x_train, _), test = load_mnist(data_dir)
    runs = score_runs(run_dirs, test)
    validation_runs = score_runs(validation_run_dirs, test)
    shipped, _ = choose_shipped(runs)
    models_dir, reports_dir = Path(models_dir), Path(reports_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path = models_dir / "digit_cnn.keras"
    shutil.copyfile(shipped["dir"] / "model.keras", model_path)
    histories = {run_label(r["info"]): json.loads((r["dir"] / "history.json").read_text())
                 for r in validation_runs + runs}
    reports_dir.mkdir(parents=True, exist_ok=True)  # every epoch of every seed, kept
    (reports_dir / "history.json").write_text(json.dumps(histories, indent=1) + "\n")
    # the run's own file (the same bytes): the old card beside model_path no longer applies
    metrics = evaluate_model(load_model(shipped["dir"] / "model.keras"), test, reports_dir,
                             histories)
    save_augmentation_grid(x_train[:8], build_augmentation(shipped["info"]["config"]["augment"]),
                           reports_dir / "augmentations.png")
    card = write_model_card(model_path, runs, metrics, models_dir, validation_runs)
    print(f"shipped seed {card['shipped_seed']}: test {card['test_accuracy']:.4f}; "
          f"{len(runs)} seeds {card['test_accuracy_mean']:.4f} ± {card['test_accuracy_sd']:.4f}")
    return card


def main():
    parser = argparse.ArgumentParser(
        description="Evaluate runs on MNIST test; with --ship, ship one (see choose_shipped).")
    parser.add_argument("--runs", nargs="+", required=True, help="run folders from train.py")
    parser.add_argument("--validation-runs", nargs="*", default=(),
                        help="with refit --runs: the held-out-split runs that chose the settings")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--ship", action="store_true",
                        help="copy the chosen run to models/ and write reports/ and the card")
    parser.add_argument("--reports", default=str(ROOT / "reports"))
    parser.add_argument("--models", default=str(ROOT / "models"))
    args = parser.parse_args()
    print(f"MNIST from {find_data(args.data_dir)}")
    if args.ship:
        ship(args.runs, args.data_dir, args.models, args.reports, args.validation_runs)
    else:
        from digitwidget.model import load_model
        _, test = load_mnist(args.data_dir)
        for run_dir in args.runs:
            metrics = evaluate_model(load_model(Path(run_dir) / "model.keras"), test)
            print(f"{run_dir}: test accuracy {metrics['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
