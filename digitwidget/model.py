"""The digit CNN: the reference architecture, and loading the shipped model.

Model contract (design.md): input (None, 28, 28, 1) float32 in [0, 1], ink 1.0 on
background 0.0; output (None, 10) softmax. Normalisation to MNIST's mean and std
happens inside the model (a Rescaling layer, no weights), so callers never repeat it.
"""

import hashlib
import json
from pathlib import Path

import keras
from keras import layers

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "digit_cnn.keras"
MODEL_CARD = "model_card.json"  # beside the shipped model; its "sha256" is checked on load


def build_model():
    """The reference CNN: 468,202 parameters, 468,010 of them trainable."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1), name="image"),
        layers.Rescaling(1.0 / MNIST_STD, offset=-MNIST_MEAN / MNIST_STD, name="normalise"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        # float32 even under a mixed-precision policy: softmax and the loss need the range.
        layers.Dense(10, activation="softmax", dtype="float32", name="probabilities"),
    ], name="digit_cnn")


def load_model(path=None):
    """Load the shipped model, or the `.keras` file at `path`, for inference.

    Errors name the file: a missing one (FileNotFoundError), one Keras cannot read (a
    ValueError saying so, with Keras's own error chained). The shipped model is also checked
    against the sha256 in the model card beside it, when there is one: a file that was
    truncated, corrupted or swapped must not quietly give different answers. Other paths have
    no card to check against and are loaded as they are.
    """
    path = Path(path) if path is not None else SHIPPED_MODEL
    if not path.exists():
        raise FileNotFoundError(f"No model file at {path}.")
    if path.resolve() == SHIPPED_MODEL.resolve():
        _check_against_card(path, path.parent / MODEL_CARD)
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 - any failure here means the file is unusable
        raise ValueError(f"Could not load a Keras model from {path}: {type(err).__name__}: "
                         f"{err}") from err


def _check_against_card(path, card):
    """Raise ValueError naming the file when its sha256 differs from the card's."""
    if not card.exists():
        return
    try:
        expected = json.loads(card.read_text()).get("sha256")
    except (ValueError, AttributeError) as err:
        raise ValueError(f"The model card {card} is not a readable JSON object: {err}") from None
    if not expected:
        return
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise ValueError(
            f"The model file {path} does not match its model card {card}: its sha256 is "
            f"{actual}, the card says {expected}. The file is damaged or was replaced: restore "
            "it (e.g. `git checkout models/`) or retrain with `python -m digitwidget.train`.")
