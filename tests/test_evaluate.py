"""Evaluation computes the right metrics and writes every artefact."""

import json

import numpy as np

from digitwidget.evaluate import compute_metrics, evaluate_model, sha256_file, write_model_card
from digitwidget.model import build_model


def test_metrics_on_a_known_case():
    labels = np.array([0, 0, 1, 1, 2])
    probs = np.eye(10)[[0, 1, 1, 1, 0]] * 0.9 + 0.01
    m = compute_metrics(labels, probs)
    assert m["test_accuracy"] == 0.6 and m["test_errors"] == 2
    assert m["confusion_matrix"][0][:3] == [1, 1, 0]
    assert m["confusion_matrix"][2][:3] == [1, 0, 0]
    assert m["per_class"]["1"]["precision"] == round(2 / 3, 5)
    assert m["per_class"]["1"]["recall"] == 1.0
    assert m["per_class"]["2"]["f1"] == 0.0
    assert [e["index"] for e in m["errors"]] == [1, 4]
    assert m["errors"][0] == {"index": 1, "true": 0, "predicted": 1, "confidence": 0.91}


def test_evaluate_writes_every_report(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 50).astype(np.uint8)
    history = [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.1 / e, "accuracy": 0.98,
                "val_accuracy": 0.985} for e in (1, 2, 3)]
    metrics = evaluate_model(build_model(), (images, labels), tmp_path, {"seed 1": history})
    for name in ("metrics.json", "confusion_matrix.png", "training_curves.png", "errors.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["parameters"] == 468_202
    assert sum(map(sum, saved["confusion_matrix"])) == 50
    assert saved["test_errors"] == len(saved["errors"])


def test_model_card_records_the_file_and_the_seeds(tmp_path):
    model_path = tmp_path / "digit_cnn.keras"
    model_path.write_bytes(b"pretend model")
    info = {"seed": 2, "val_accuracy": 0.996, "train_seconds": 600.0, "backend": "tensorflow",
            "keras": "3", "machine": {"cpu": "cpu", "cores": 2, "gpu": None},
            "train_images": 55000, "val_images": 5000,
            "config": {"train": {"epochs": 30, "batch_size": 128, "peak_lr": 3e-3,
                                 "warmup_epochs": 1, "weight_decay": 0.01,
                                 "label_smoothing": 0.1, "ema_momentum": 0.999,
                                 "precision": "float32"}}}
    runs = [{"info": dict(info, seed=s, val_accuracy=v), "test_accuracy": t}
            for s, v, t in ((1, 0.995, 0.9970), (2, 0.996, 0.9974), (3, 0.994, 0.9972))]
    card = write_model_card(model_path, runs, runs[1], {"parameters": 468_202,
                                                         "test_accuracy": 0.9974,
                                                         "test_errors": 26}, tmp_path)
    assert card["sha256"] == sha256_file(model_path)
    assert abs(card["test_accuracy_mean"] - 0.9972) < 1e-9
    assert abs(card["test_accuracy_sd"] - 0.0002) < 1e-9
    text = (tmp_path / "MODEL_CARD.md").read_text()
    assert "99.74%" in text and "99.72% ±" in text and card["sha256"] in text
    assert json.loads((tmp_path / "model_card.json").read_text())["shipped_seed"] == 2
