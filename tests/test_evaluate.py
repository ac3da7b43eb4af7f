"""Evaluation computes the right metrics and writes every artefact."""

import json

import numpy as np

from digitwidget.evaluate import (choose_shipped, compute_metrics, evaluate_model, sha256_file,
                                  write_model_card)
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
    refit = [{k: v for k, v in h.items() if not k.startswith("val_")} for h in history]
    metrics = evaluate_model(build_model(), (images, labels), tmp_path,
                             {"seed 1": history, "seed 1, all 60k": refit})
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
    card = write_model_card(model_path, runs, {"parameters": 468_202, "test_accuracy": 0.9974,
                                               "test_errors": 26}, tmp_path)
    assert card["sha256"] == sha256_file(model_path)
    assert abs(card["test_accuracy_mean"] - 0.9972) < 1e-9
    assert abs(card["test_accuracy_sd"] - 0.0002) < 1e-9
    text = (tmp_path / "MODEL_CARD.md").read_text()
    assert "99.74%" in text and "99.72% ±" in text and card["sha256"] in text
    assert json.loads((tmp_path / "model_card.json").read_text())["shipped_seed"] == 2


def test_a_refit_ships_the_configs_seed_and_lists_the_runs_that_chose_its_settings(tmp_path):
    model_path = tmp_path / "digit_cnn.keras"
    model_path.write_bytes(b"pretend model")
    config = {"seed": 1, "refit": True, "data": {"val_size": 0},
              "train": {"epochs": 30, "batch_size": 128, "peak_lr": 3e-3, "warmup_epochs": 1,
                        "weight_decay": 0.01, "label_smoothing": 0.1, "ema_momentum": 0.999,
                        "precision": "float32"}}
    info = {"val_accuracy": None, "train_seconds": 600.0, "backend": "tensorflow", "keras": "3",
            "machine": {"cpu": "cpu", "cores": 2, "gpu": None}, "train_images": 60000,
            "val_images": 0, "config": config}
    runs = [{"info": dict(info, seed=s), "test_accuracy": t}
            for s, t in ((3, 0.9975), (1, 0.9971), (2, 0.9969))]
    held_out = [{"info": dict(info, seed=1, val_accuracy=0.9968, train_images=55000,
                              val_images=5000), "test_accuracy": 0.9965}]
    shipped, chosen_by = choose_shipped(runs)
    assert shipped["info"]["seed"] == 1  # the config's seed, not the best on test (seed 3)
    assert "named before training" in chosen_by
    card = write_model_card(model_path, runs, {"parameters": 468_202, "test_accuracy": 0.9971,
                                               "test_errors": 29}, tmp_path, held_out)
    assert card["validation_runs"][0]["validation_accuracy"] == 0.9968
    assert card["seeds"][1]["validation_accuracy"] is None
    text = (tmp_path / "MODEL_CARD.md").read_text()
    assert "all 60,000 MNIST training images" in text
    assert "| 1 | 55,000 | 99.68% | 99.65% |" in text
    assert "| 1 (shipped) | 60,000 | – | 99.71% |" in text
