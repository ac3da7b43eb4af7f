"""A training smoke test: the quick mode of the default config learns, and records it."""

import json

import numpy as np
import pytest

from digitwidget.train import load_config, split_train_val, train
from conftest import ROOT


def test_validation_split_is_stratified_disjoint_and_fixed():
    labels = np.repeat(np.arange(10), 100)
    images = np.arange(1000)
    (tr, ytr), (va, yva) = split_train_val(images, labels, 100, seed=0)
    assert len(va) == 100 and len(tr) == 900
    assert set(tr).isdisjoint(va)
    assert list(np.bincount(yva)) == [10] * 10
    (_, _), (va2, _) = split_train_val(images, labels, 100, seed=0)
    assert np.array_equal(va, va2)


def test_quick_config_shrinks_the_run():
    cfg = load_config(ROOT / "configs" / "default.toml", quick=True)
    assert cfg["train"]["epochs"] == 1 and cfg["quick"]["train_size"] <= 4000
    full = load_config(ROOT / "configs" / "default.toml", quick=False)
    assert full["train"]["epochs"] > 10 and full["data"]["val_size"] == 5000


def test_refit_trains_on_every_training_image():
    cfg = load_config(ROOT / "configs" / "default.toml", quick=False, refit=True)
    assert cfg["refit"] and cfg["data"]["val_size"] == 0 and cfg["name"] == "default-refit"
    assert cfg["train"] == load_config(ROOT / "configs" / "default.toml", quick=False)["train"]
    labels = np.repeat(np.arange(10), 100)
    (tr, _), (va, _) = split_train_val(np.arange(1000), labels, 0, seed=0)
    assert len(tr) == 1000 and len(va) == 0


@pytest.mark.slow
def test_quick_refit_has_no_validation_figures(tmp_path):
    cfg = load_config(ROOT / "configs" / "default.toml", quick=True, refit=True)
    cfg["train"]["workers"] = 1
    _, history, info = train(cfg, out_dir=tmp_path, verbose=0)
    assert info["val_accuracy"] is None and info["val_images"] == 0
    assert not any(key.startswith("val_") for key in history[0])
    assert json.loads((tmp_path / "config.json").read_text())["config"]["refit"] is True


@pytest.mark.slow
def test_quick_training_learns_and_writes_its_records(tmp_path):
    cfg = load_config(ROOT / "configs" / "default.toml", quick=True)
    cfg["train"]["workers"] = 1
    model, history, info = train(cfg, out_dir=tmp_path, verbose=0)
    assert info["val_accuracy"] > 0.5  # chance is 0.1
    assert info["train_images"] == cfg["quick"]["train_size"]
    for name in ("config.json", "history.json", "checkpoint.keras", "model.keras"):
        assert (tmp_path / name).exists(), name
    records = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in records] == [1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(records[0])
    assert model.count_params() == 468_202
