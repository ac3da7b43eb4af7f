"""The reference architecture, exactly, and the model contract."""

import numpy as np
import pytest

from digitwidget.model import build_model, load_model


def test_reference_parameter_counts():
    model = build_model()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert model.count_params() == 468_202
    assert trainable == 468_010


def test_contract_shapes_and_softmax():
    model = build_model()
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None, 10)
    out = np.asarray(model(np.random.rand(3, 28, 28, 1).astype("float32"), training=False))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_load_model_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.keras"):
        load_model(tmp_path / "nothing.keras")


def test_save_and_load_round_trip(tmp_path):
    model = build_model()
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    x = np.random.rand(2, 28, 28, 1).astype("float32")
    np.testing.assert_allclose(again(x), model(x), atol=1e-6)
