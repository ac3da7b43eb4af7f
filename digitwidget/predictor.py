"""Predictor: fast single and batch inference of a digit model on images people make.

    from digitwidget import Predictor
    p = Predictor()                 # the shipped model; Predictor(model) or Predictor(path)
    r = p.predict(image)            # PIL image, numpy array, path or bytes
    r.digit, r.probabilities, r.confident, r.model_input, r.reason

The widget predicts after every stroke, so the model call must be the compiled one:
`model.predict()` costs tens of milliseconds a call and an eager `model(x)` several.
Under TensorFlow we trace the forward pass once into a graph (a concrete tf.function with
a fixed input signature) and call that: about 0.8 ms for one image on one core, a third
less than `predict_on_batch`, which converts and checks its input on every call. Other
backends use `predict_on_batch` (under JAX that is already a jitted function). Either is
built once per model and warmed up at construction. `benchmarks/latency.py` measures all.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitwidget.preprocess import SIZE, InvalidImage, prepare

__all__ = ["Predictor", "Prediction", "InvalidImage"]

CONFIDENCE = 0.6  # below this top probability the answer is shown as a guess, not an answer


@dataclass(frozen=True, eq=False)  # eq=False: identity equality, so each new one notifies
class Prediction:
    """What the model made of one image."""

    digit: int | None  # 0-9, or None when there is nothing to recognise
    probabilities: np.ndarray  # float32 (10,), sums to 1; all zeros when digit is None
    confident: bool  # False when the model is unsure or the ink does not look like a digit
    model_input: np.ndarray  # the (28, 28) float32 image the model saw
    reason: str | None = None  # in words, why digit is None or the answer is not confident

    @property
    def confidence(self):
        """The probability of the predicted digit (0.0 when there is none)."""
        return 0.0 if self.digit is None else float(self.probabilities[self.digit])

    def __repr__(self):
        if self.digit is None:
            return f"Prediction(digit=None, reason={self.reason!r})"
        return (f"Prediction(digit={self.digit}, confidence={self.confidence:.3f}, "
                f"confident={self.confident}, reason={self.reason!r})")


class Predictor:
    """Preprocess images the MNIST way and run a 28x28 -> 10 Keras model on them, fast.

    `model`: None for the shipped model, a keras.Model, or a path to a `.keras` file.
    `threshold`: the top probability below which a prediction is not `confident`.
    A model that does not take 28x28 images or does not give 10 outputs is refused here, at
    construction, with the shapes named. Softmax and logit outputs are both accepted.
    """

    def __init__(self, model=None, threshold=CONFIDENCE):
        self.model = _as_model(model)
        self._input_shape = _check_shapes(self.model, _file_of(model))
        self._forward = _compiled_forward(self.model, self._input_shape)
        self.threshold = float(threshold)
        self._run(np.zeros((1, SIZE, SIZE), np.float32))  # build and warm the compiled call

    def predict(self, image):
        """One image to a Prediction. Raises InvalidImage (only) for unusable input."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images):
        """Many images to a list of Predictions, with one model call for all of them."""
        prepared = [prepare(image) for image in images]
        inked = [i for i, p in enumerate(prepared) if not p.empty]
        probabilities = np.zeros((len(prepared), 10), np.float32)
        if inked:
            probabilities[inked] = self._run(np.stack([prepared[i].image for i in inked]))
        return [self._judge(p, probabilities[i]) for i, p in enumerate(prepared)]

    def probabilities(self, batch):
        """Class probabilities for a (N, 28, 28) batch of model inputs (no preprocessing)."""
        return self._run(np.asarray(batch, np.float32))

    def _run(self, batch):
        """The compiled model call on (N, 28, 28) float32, giving (N, 10) probabilities."""
        x = batch.reshape((len(batch),) + self._input_shape)
        out = np.asarray(self._forward(x), np.float32).reshape(len(batch), 10)
        return _as_probabilities(out)

    def _judge(self, prepared, probabilities):
        if prepared.empty:
            return Prediction(None, probabilities, False, prepared.image,
                              prepared.concern or "The image is blank: there is no ink to read.")
        digit = int(np.argmax(probabilities))
        top = float(probabilities[digit])
        reason = prepared.concern
        if reason is None and top < self.threshold:
            runner_up = int(np.argsort(probabilities)[-2])
            reason = (f"The model is unsure: {digit} at {top:.0%}, "
                      f"{runner_up} at {probabilities[runner_up]:.0%}.")
        return Prediction(digit, probabilities, reason is None, prepared.image, reason)


def _as_probabilities(out):
    """Rows that are not already a distribution (negatives, or not summing to 1) are logits."""
    logits = (out < 0).any(axis=1) | (np.abs(out.sum(axis=1) - 1.0) > 1e-3)
    if logits.any():
        z = out[logits] - out[logits].max(axis=1, keepdims=True)
        e = np.exp(z)
        out = out.copy()
        out[logits] = e / e.sum(axis=1, keepdims=True)
    return out


def _compiled_forward(model, input_shape):
    """The model's inference call, compiled once: numpy (N, *input_shape) in, (N, 10) out."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return model.predict_on_batch
    import tensorflow as tf

    spec = tf.TensorSpec((None,) + tuple(input_shape), tf.float32)
    graph = tf.function(lambda x: model(x, training=False), input_signature=[spec],
                        autograph=False).get_concrete_function()
    return lambda x: graph(tf.convert_to_tensor(x, tf.float32)).numpy()


def _as_model(model):
    """None, a path or a Keras model, to a Keras model."""
    import keras  # here, so importing this module stays cheap until a model is needed

    from digitwidget.model import load_model

    if model is None:
        return load_model()
    if isinstance(model, (str, Path)):
        return load_model(model)
    if isinstance(model, keras.Model):
        return model
    raise TypeError(f"Expected a keras.Model, a path to a .keras file, or None for the shipped "
                    f"model; got a {type(model).__name__}.")


def _file_of(model):
    """The file a model argument names (None: the shipped one), or None for a keras.Model."""
    from digitwidget.model import SHIPPED_MODEL

    if model is None:
        return SHIPPED_MODEL
    return model if isinstance(model, (str, Path)) else None


def _check_shapes(model, file=None):
    """The model's per-example input shape, after checking it takes 28x28 and gives 10.

    `file`, where the model came from one, is named in the error: "the model 'sequential'"
    alone would not tell which of several files is the wrong one.
    """
    what = f"the model {model.name!r}" + (f" (from {file})" if file is not None else "")
    try:
        inputs, outputs = model.input_shape, model.output_shape
    except (AttributeError, ValueError):
        raise ValueError(f"{what[0].upper()}{what[1:]} has no defined input and output shapes: "
                         "build it (or give it a keras.Input) first.") from None
    if isinstance(inputs, list) or isinstance(outputs, list):
        raise ValueError(f"A digit model must have one input and one output; {what} has inputs "
                         f"{inputs} and outputs {outputs}.")
    example = tuple(inputs[1:])
    fits = None not in example and int(np.prod(example)) == SIZE * SIZE
    if not fits or tuple(outputs[1:]) != (10,):
        raise ValueError(
            f"A digit model must take 28x28x1 images and give 10 outputs, i.e. input "
            f"(None, 28, 28, 1) and output (None, 10); {what} has input "
            f"{tuple(inputs)} and output {tuple(outputs)}.")
    return example
