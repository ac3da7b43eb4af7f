"""The shipped model: the file the card describes, scoring what the card says on MNIST test.

The goal of the training issue is 99.70% (the reference project reports 99.49%); the card
(models/MODEL_CARD.md) must hold the model's true figure. The shipped model's closest call
among the test images it gets right is a 0.7-point margin between its top two
probabilities, far above float differences between machines (1e-7; oneDNN on or off gives
the same 30 errors), so the goal is asserted exactly.
"""

import json

import pytest

from digitwidget.data import load_mnist
from digitwidget.evaluate import compute_metrics, predict_probabilities, sha256_file
from digitwidget.model import SHIPPED_MODEL, load_model

CARD = SHIPPED_MODEL.parent / "model_card.json"
REFERENCE = 0.9949  # the Gradio reference project's MNIST test accuracy
REQUIRED = 0.9970  # the training issue's goal


@pytest.fixture(scope="module")
def card():
    return json.loads(CARD.read_text())


def test_model_file_matches_its_card(card):
    assert sha256_file(SHIPPED_MODEL) == card["sha256"]
    assert card["parameters"] == 468_202


def test_shipped_model_beats_the_reference_on_mnist_test(card):
    model = load_model()
    assert model.count_params() == 468_202
    _, (x_test, y_test) = load_mnist()
    accuracy = compute_metrics(y_test, predict_probabilities(model, x_test))["test_accuracy"]
    assert accuracy >= REQUIRED > REFERENCE
    # the card is true (within two test images, for float differences between machines)
    assert abs(accuracy - card["test_accuracy"]) <= 0.0002
