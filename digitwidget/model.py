"""The digit CNN: the reference architecture, and loading the shipped model.

Model contract (design.md): input (None, 28, 28, 1) float32 in [0, 1], ink 1.0 on
background 0.0; output (None, 10) softmax. Normalisation to MNIST's mean and std
happens inside the model (a Rescaling layer, no weights), so callers never repeat it.
"""

from pathlib import Path

import keras
from keras import layers

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "digit_cnn.keras"


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
    """Load the shipped model, or the `.keras` file at `path`, for inference."""
    path = Path(path) if path is not None else SHIPPED_MODEL
    if not path.exists():
        raise FileNotFoundError(f"No model file at {path}.")
    return keras.saving.load_model(path, compile=False)
