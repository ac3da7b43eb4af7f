"""Bad model files and models: clear errors at construction that name the file.

Every test builds its own model files in a temp dir; `SHIPPED_MODEL` is pointed there, so
nothing here depends on the real shipped model or its card.
"""

import hashlib
import json

import keras
import numpy as np
import pytest

import digitwidget.model
from digitwidget.model import build_model, load_model
from digitwidget.pad import DigitPad
from digitwidget.predictor import Predictor


def tiny_model(inputs=(28, 28, 1), units=10, activation="softmax"):
    x = keras.Input(inputs)
    return keras.Model(x, keras.layers.Dense(units, activation=activation)(
        keras.layers.Flatten()(x)))


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A stand-in shipped model in tmp_path/models, with a correct model card beside it."""
    folder = tmp_path / "models"
    folder.mkdir()
    path = folder / "digit_cnn.keras"
    tiny_model().save(path)
    write_card(path, hashlib.sha256(path.read_bytes()).hexdigest())
    monkeypatch.setattr(digitwidget.model, "SHIPPED_MODEL", path)
    return path


def write_card(model_path, sha256):
    card = model_path.parent / "model_card.json"
    card.write_text(json.dumps({"name": "digit_cnn", "sha256": sha256}))
    return card


def test_the_shipped_model_loads_when_it_matches_its_card(shipped):
    assert Predictor().model.output_shape == (None, 10)
    assert load_model(str(shipped)).output_shape == (None, 10)  # the same file by its path


def test_a_shipped_model_that_differs_from_its_card_is_refused(shipped):
    write_card(shipped, "0" * 64)
    for make in (load_model, Predictor, DigitPad):
        with pytest.raises(ValueError, match="does not match its model card") as caught:
            make()
        message = str(caught.value)
        assert str(shipped) in message and "0" * 64 in message
        assert hashlib.sha256(shipped.read_bytes()).hexdigest() in message


def test_a_replaced_shipped_file_is_refused(shipped):
    tiny_model(activation=None).save(shipped)  # another model: the card's hash is stale
    with pytest.raises(ValueError, match="damaged or was replaced"):
        load_model()


def test_without_a_card_the_shipped_model_loads_unchecked(shipped):
    (shipped.parent / "model_card.json").unlink()
    assert load_model().output_shape == (None, 10)


def test_a_card_without_a_hash_is_not_checked(shipped):
    (shipped.parent / "model_card.json").write_text(json.dumps({"name": "digit_cnn"}))
    assert load_model().output_shape == (None, 10)


def test_an_unreadable_card_is_named(shipped):
    card = shipped.parent / "model_card.json"
    card.write_text("{not json")
    with pytest.raises(ValueError, match="model card .* is not a readable JSON") as caught:
        load_model()
    assert str(card) in str(caught.value)


def test_other_paths_are_not_checked_against_a_card(tmp_path):
    path = tmp_path / "mine.keras"
    tiny_model().save(path)
    write_card(path, "0" * 64)  # a card with a wrong hash beside a user's own file
    assert load_model(path).output_shape == (None, 10)


@pytest.mark.parametrize("make", [load_model, Predictor, DigitPad])
def test_a_missing_file_is_named(tmp_path, make):
    with pytest.raises(FileNotFoundError, match="No model file at .*nothing.keras"):
        make(str(tmp_path / "nothing.keras"))


def test_a_missing_shipped_model_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(digitwidget.model, "SHIPPED_MODEL", tmp_path / "gone.keras")
    with pytest.raises(FileNotFoundError, match="gone.keras"):
        Predictor()


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04broken zip"],
                         ids=["empty", "text", "broken-zip"])
@pytest.mark.parametrize("make", [load_model, Predictor, DigitPad])
def test_a_corrupt_file_is_named(tmp_path, content, make):
    path = tmp_path / "corrupt.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="Could not load a Keras model from") as caught:
        make(path)
    assert str(path) in str(caught.value)


def test_a_truncated_keras_file_is_named(tmp_path):
    path = tmp_path / "half.keras"
    build_model().save(path)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with pytest.raises(ValueError, match="Could not load a Keras model from .*half.keras"):
        Predictor(path)


@pytest.mark.parametrize("inputs, units, words", [
    ((32, 32, 3), 10, "(None, 32, 32, 3)"), ((28, 28, 1), 5, "(None, 5)")])
@pytest.mark.parametrize("make", [Predictor, DigitPad])
def test_a_wrong_shape_model_file_is_refused_naming_the_file(tmp_path, inputs, units, words,
                                                             make):
    path = tmp_path / "wrong.keras"
    tiny_model(inputs, units).save(path)
    with pytest.raises(ValueError, match="28x28x1") as caught:
        make(str(path))
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_a_wrong_shape_shipped_model_names_the_shipped_file(shipped):
    tiny_model(units=3).save(shipped)
    write_card(shipped, hashlib.sha256(shipped.read_bytes()).hexdigest())
    with pytest.raises(ValueError, match=r"\(None, 3\)") as caught:
        Predictor()
    assert str(shipped) in str(caught.value)


def test_a_model_with_two_outputs_is_refused():
    x = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(x)
    model = keras.Model(x, [keras.layers.Dense(10)(flat), keras.layers.Dense(10)(flat)])
    with pytest.raises(ValueError, match="one input and one output"):
        Predictor(model)


def test_logits_from_a_model_file_become_probabilities(tmp_path):
    path = tmp_path / "logits.keras"
    tiny_model(activation=None).save(path)
    image = np.full((28, 28), 255, np.uint8)
    image[4:24, 13:15] = 0
    r = Predictor(path).predict(image)
    assert r.probabilities.min() >= 0 and abs(float(r.probabilities.sum()) - 1) < 1e-5
