"""The shipped model: the file the card describes, and at least 99.70% on MNIST test."""

import json

import numpy as np
import pytest

from digitwidget.data import load_mnist
from digitwidget.evaluate import compute_metrics, predict_probabilities, sha256_file
from digitwidget.model import SHIPPED_MODEL, load_model

CARD = SHIPPED_MODEL.parent / "model_card.json"


def test_model_file_matches_its_card():
    card = json.loads(CARD.read_text())
    assert sha256_file(SHIPPED_MODEL) == card["sha256"]
    assert card["parameters"] == 468_202


def test_shipped_model_scores_at_least_99_70_on_mnist_test():
    model = load_model()
    assert model.count_params() == 468_202
    _, (x_test, y_test) = load_mnist()
    metrics = compute_metrics(y_test, predict_probabilities(model, x_test))
    assert metrics["test_accuracy"] >= 0.9970
    card = json.loads(CARD.read_text())
    # the card is true (within two test images, for float differences between machines)
    assert abs(metrics["test_accuracy"] - card["test_accuracy"]) <= 0.0002
