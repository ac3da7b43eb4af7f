"""DigitPad from Python: strokes through its API and through simulated browser events."""

from pathlib import Path

import ipywidgets as widgets
import keras
import numpy as np
import pytest

from digitwidget.model import SHIPPED_MODEL
from digitwidget.pad import DigitPad
from digitwidget.predictor import Prediction

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "drawn-digits" / "dev.npz"
SEVEN = [[(60, 50), (220, 50), (120, 240)], [(90, 140), (180, 140)]]


def browser_stroke(pad, points, touch=False, end="mouse_up"):
    """Send one stroke as the browser would: down, moves, up (or out), or the touch events.

    The only place that uses ipycanvas's private `_handle_frontend_event`.
    """
    send = lambda content: pad.canvas._handle_frontend_event(None, content, [])  # noqa: E731
    (x0, y0), rest = points[0], points[1:]
    if touch:
        send({"event": "touch_start", "touches": [{"x": x0, "y": y0}]})
        for x, y in rest:
            send({"event": "touch_move", "touches": [{"x": x, "y": y}]})
        send({"event": "touch_end", "touches": []})
        return
    send({"event": "mouse_move", "x": x0 - 5, "y": y0})  # hovering: no ink
    send({"event": "mouse_down", "x": x0, "y": y0})
    for x, y in rest:
        send({"event": "mouse_move", "x": x, "y": y})
    x, y = points[-1]
    send({"event": end, "x": x, "y": y})


@pytest.fixture
def pad(predictor):
    return DigitPad(predictor)


def shown_label(pad):
    return pad.answer.value


def test_starts_empty(pad):
    assert pad.prediction is None
    assert "Draw a digit" in shown_label(pad)
    assert list(pad.bars.y) == [0.0] * 10
    assert isinstance(pad, widgets.DOMWidget) and "digitpad" in pad._dom_classes
    assert "digitpad-canvas" in pad.canvas._dom_classes
    assert pad.brush == round(0.06 * 280) and pad.canvas.width == pad.canvas.height == 280


def test_draw_updates_bars_label_and_preview(pad):
    before = pad.preview.value
    r = pad.draw(SEVEN)
    assert isinstance(r, Prediction) and r is pad.prediction and r.digit is not None
    assert np.allclose(pad.bars.y, r.probabilities)
    colours = pad.bars.colors
    assert len(set(colours)) == 2 and colours.count(colours[r.digit]) == 1  # top highlighted
    label = shown_label(pad)
    assert (f">{r.digit}<" in label and f"{r.confidence:.0%} sure" in label) or \
        ("Not sure: is this a digit?" in label and f"best guess {r.digit}" in label)
    assert pad.preview.value != before and pad.preview.value[:4] == b"\x89PNG"
    assert pad.strokes == [[tuple(map(float, p)) for p in s] for s in SEVEN]


def test_browser_mouse_strokes_predict_on_stroke_end_only(pad, monkeypatch):
    calls = []
    real = pad.predictor.predict
    monkeypatch.setattr(pad.predictor, "predict", lambda image: calls.append(1) or real(image))
    browser_stroke(pad, SEVEN[0])
    assert len(calls) == 1  # not once per mouse move
    browser_stroke(pad, SEVEN[1], end="mouse_out")  # leaving the canvas ends a stroke too
    assert len(calls) == 2 and len(pad.strokes) == 2
    monkeypatch.undo()
    direct = DigitPad(pad.predictor)
    direct.draw(SEVEN)  # the same strokes from Python: the same answer
    assert np.allclose(pad.prediction.probabilities, direct.prediction.probabilities, atol=1e-5)


def test_touch_strokes_draw_too(pad):
    for stroke in SEVEN:
        browser_stroke(pad, stroke, touch=True)
    assert len(pad.strokes) == 2 and pad.prediction.digit is not None


def test_moves_without_a_pressed_button_draw_nothing(pad):
    send = pad.canvas._handle_frontend_event
    send(None, {"event": "mouse_move", "x": 10, "y": 10}, [])
    send(None, {"event": "mouse_up", "x": 10, "y": 10}, [])
    assert pad.strokes == [] and pad.prediction is None


def test_a_click_is_a_dot_and_not_a_confident_digit(pad):
    browser_stroke(pad, [(140, 140)])
    assert pad.prediction is not None and pad.prediction.digit is None
    assert not pad.prediction.confident
    assert "Not sure: is this a digit?" in shown_label(pad) and "dot" in shown_label(pad)


def test_clear_resets_everything(pad):
    pad.draw(SEVEN)
    pad.clear_button.click()
    assert pad.prediction is None and pad.strokes == []
    assert "Draw a digit" in shown_label(pad)
    assert list(pad.bars.y) == [0.0] * 10
    pad.draw(SEVEN)
    pad.clear()
    assert pad.prediction is None


def test_observe_fires_per_drawing(pad):
    seen = []
    pad.observe(lambda change: seen.append(change["new"]), names="prediction")
    pad.draw(SEVEN[:1])
    browser_stroke(pad, SEVEN[1])
    pad.clear()
    assert len(seen) == 3 and isinstance(seen[0], Prediction) and seen[2] is None
    assert seen[1] is pad.prediction or seen[1].digit is not None


def test_an_exception_in_a_callback_is_shown_not_raised(pad, monkeypatch):
    def broken(image):
        raise RuntimeError("model exploded")
    monkeypatch.setattr(pad.predictor, "predict", broken)
    browser_stroke(pad, SEVEN[0])  # must not raise
    assert "model exploded" in pad.message.value and "RuntimeError" in pad.message.value
    monkeypatch.undo()
    browser_stroke(pad, SEVEN[1])
    assert pad.message.value == "" and pad.prediction is not None


def test_bad_strokes_from_python_are_a_clear_error(pad):
    for bad in ([[]], [[(1, 2, 3)]], [["ab"]], [[(1, float("nan"))]]):
        with pytest.raises(ValueError, match="Stroke 0"):
            pad.draw(bad)
    assert pad.strokes == []


def test_redraw_when_a_browser_connects(pad, monkeypatch):
    from ipycanvas.canvas import COMMANDS
    pad.draw(SEVEN)
    sent = []
    manager = pad.canvas._canvas_manager
    monkeypatch.setattr(manager, "_send_custom", lambda commands, buffers=(): sent.append(commands))
    pad.canvas._handle_frontend_event(None, {"event": "client_ready"}, [])
    assert len(sent) == 1  # one batch (hold_canvas)
    names = [command[0] for command in sent[0]]
    # the canvas is selected again even though the manager last drew on it, then repainted
    assert names[0] == COMMANDS["switchCanvas"]
    assert COMMANDS["fillRect"] in names and names.count(COMMANDS["strokeLines"]) == 2
    assert names.count(COMMANDS["fillCircles"]) == 2  # round joints
    assert pad.message.value == ""


def test_options(predictor):
    pad = DigitPad(predictor, size=400, brush=10, show_preview=False)
    assert pad.canvas.width == 400 and pad.brush == 10 and pad.canvas.line_width == 10
    assert pad.preview_box.layout.display == "none"
    pad.draw([[(100, 100), (300, 300)]])
    assert pad.prediction is not None
    with pytest.raises(ValueError, match="brush"):
        pad.brush = 0


def test_insides_show_feature_maps_and_occlusion(predictor):
    pad = DigitPad(predictor, show_insides=True)
    empty_maps = pad.insides.maps.value
    pad.draw(SEVEN)
    assert pad.insides.maps.value != empty_maps and pad.insides.heat.value[:4] == b"\x89PNG"
    drop = pad.insides.occlusion(pad.prediction.model_input, pad.prediction.digit)
    assert drop.shape == (28, 28) and np.isfinite(drop).all()
    assert np.abs(drop[pad.prediction.model_input == 0]).mean() <= np.abs(drop).max()


def test_insides_without_a_conv_layer():
    x = keras.Input((28, 28, 1))
    model = keras.Model(x, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))
    pad = DigitPad(model, show_insides=True)
    pad.draw(SEVEN)
    assert pad.insides.first_conv is None and pad.prediction is not None


def test_a_wrong_model_is_refused_at_construction():
    x = keras.Input((32, 32, 3))
    model = keras.Model(x, keras.layers.Dense(10)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match=r"28x28x1.*\(None, 32, 32, 3\)"):
        DigitPad(model)


def test_trained_pad_reads_drawn_dev_digits():
    if not SHIPPED_MODEL.exists():
        pytest.skip(f"the shipped model {SHIPPED_MODEL} is not there yet")
    if not DEV.exists():
        pytest.skip(f"no drawn digits at {DEV}")
    z = np.load(DEV)
    pts, ss, smp, labels = z["points"], z["stroke_start"], z["sample_start"], z["label"]
    pad = DigitPad()
    right = 0
    chosen = np.random.default_rng(1).choice(len(labels), 60, replace=False)
    for i in chosen:
        strokes = [pts[ss[k]:ss[k + 1]] for k in range(smp[i], smp[i + 1])]
        scale = 180 / max(np.concatenate(strokes).max(axis=0))
        pad.clear()
        pad.draw([(s * scale + 50).tolist() for s in strokes])
        right += pad.prediction.digit == labels[i]
    assert right / len(chosen) >= 0.95


def test_the_model_reads_exactly_the_strokes_drawn(pad):
    """Strokes are added to the pad's picture one at a time (mouse, touch, draw(), a new
    brush): the model input must be that of all strokes rasterised afresh."""
    from digitwidget.preprocess import rasterise

    browser_stroke(pad, [(70, 60), (210, 60), (120, 230)])
    pad.draw([[(100, 145), (180, 145)]])
    browser_stroke(pad, [(150, 100), (150, 200)], touch=True)
    fresh = pad.predictor.predict(rasterise(pad.strokes, pad.size, pad.brush))
    assert np.array_equal(pad.prediction.model_input, fresh.model_input)
    pad.brush = 30
    pad.draw([[(40, 40), (60, 60)]])
    fresh = pad.predictor.predict(rasterise(pad.strokes, pad.size, 30))
    assert np.array_equal(pad.prediction.model_input, fresh.model_input)
    pad.clear()
    pad.draw([[(100, 50), (100, 230)]])
    fresh = pad.predictor.predict(rasterise([[(100, 50), (100, 230)]], pad.size, 30))
    assert np.array_equal(pad.prediction.model_input, fresh.model_input)
