"""DigitPad under abuse: odd strokes, clears mid-stroke, draws mid-prediction, many drawings.

The pad must stay consistent (the digit shown is the latest drawing's) and nothing may
raise into the notebook from a browser event.
"""

import html
import math

import keras
import numpy as np
import pytest

from digitwidget.pad import DigitPad
from digitwidget.predictor import Predictor
from test_pad import SEVEN, browser_stroke

ONE = [(140, 40), (140, 240)]


def tiny_model():
    """A one-layer model: cheap, so abuse tests test the pad and not the model's speed."""
    keras.utils.set_random_seed(0)
    x = keras.Input((28, 28, 1))
    return keras.Model(x, keras.layers.Dense(10, activation="softmax")(
        keras.layers.Flatten()(x)))


@pytest.fixture(scope="module")
def predictor():
    return Predictor(tiny_model())


@pytest.fixture
def pad(predictor):
    return DigitPad(predictor)


def fresh_answer(predictor, strokes):
    """What a new pad says for these strokes: the answer the abused pad must show."""
    return DigitPad(predictor).draw(strokes)


def assert_shows(pad, expected):
    """The pad's prediction, bars and shown digit all belong to `expected`'s drawing."""
    assert pad.message.value == ""  # no error shown
    r = pad.prediction
    if expected is None:
        assert r is None and list(pad.bars.y) == [0.0] * 10
        return
    assert np.allclose(r.probabilities, expected.probabilities, atol=1e-6)
    assert np.allclose(pad.bars.y, r.probabilities)
    assert f"data-strokes='{len(pad.strokes)}'" in pad.answer.value
    if r.digit is None:  # ink with nothing to read (a dot): no digit shown, the reason is
        assert "Not sure" in pad.answer.value and html.escape(r.reason) in pad.answer.value
    else:
        assert f">{r.digit}<" in pad.answer.value or f"best guess {r.digit}" in pad.answer.value


def test_a_one_point_stroke_from_the_browser(pad, predictor):
    browser_stroke(pad, [(140, 140)])
    assert pad.strokes == [[(140.0, 140.0)]]
    assert_shows(pad, fresh_answer(predictor, [[(140, 140)]]))
    assert pad.prediction.digit is None and not pad.prediction.confident


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), None, "x"])
def test_non_finite_browser_points_are_dropped(pad, predictor, bad):
    browser_stroke(pad, [(bad, 10), (30, 30)], touch=True)  # a touch there starts no stroke
    assert pad.strokes == [] and pad.prediction is None
    browser_stroke(pad, [(60, 50), (bad, 10), (220, 50), (bad, bad), (120, 240)])
    assert pad.strokes == [[(60.0, 50.0), (220.0, 50.0), (120.0, 240.0)]]
    assert_shows(pad, fresh_answer(predictor, [SEVEN[0]]))
    browser_stroke(pad, SEVEN[1])  # and the pad goes on working
    assert_shows(pad, fresh_answer(predictor, SEVEN))


def test_out_of_canvas_points_draw_what_is_inside(pad, predictor):
    stroke = [(-500, 140), (140, 140), (1e9, -1e9), (140, 5000)]
    browser_stroke(pad, stroke)
    pad.draw([[(x + 1, y) for x, y in stroke]])
    assert len(pad.strokes) == 2 and pad.message.value == ""
    assert pad.prediction is not None


def test_nan_strokes_from_python_are_refused_and_leave_no_trace(pad, predictor):
    pad.draw([SEVEN[0]])
    before = pad.prediction
    with pytest.raises(ValueError, match="NaN or infinite"):
        pad.draw([[(1, 2), (math.nan, 3)]])
    assert pad.prediction is before and len(pad.strokes) == 1


def test_a_100000_point_stroke(pad, predictor):
    t = np.linspace(0, 40 * np.pi, 100_000)
    stroke = list(zip(140 + 80 * np.sin(t), 140 + 100 * np.cos(t / 40)))
    pad.draw([stroke])
    assert len(pad.strokes[0]) == 100_000
    assert_shows(pad, fresh_answer(predictor, [stroke]))
    browser_stroke(pad, stroke[:20_000])  # the same through mouse events
    assert len(pad.strokes) == 2 and pad.message.value == ""


def test_clear_during_a_stroke(pad):
    send = lambda content: pad.canvas._handle_frontend_event(None, content, [])  # noqa: E731
    send({"event": "mouse_down", "x": 60, "y": 50})
    send({"event": "mouse_move", "x": 100, "y": 50})
    pad.clear_button.click()
    send({"event": "mouse_move", "x": 220, "y": 50})
    send({"event": "mouse_up", "x": 220, "y": 50})
    assert pad.strokes == []
    assert_shows(pad, None)
    assert "Draw a digit" in pad.answer.value


def test_a_draw_while_the_previous_prediction_is_computed(pad, predictor, monkeypatch):
    """A stroke arrives while the model works on the one before: the newer answer stands."""
    real = predictor.predict
    calls = []

    def slow_predict(image):
        calls.append(1)
        if len(calls) == 1:  # the first prediction is interrupted by the next stroke
            browser_stroke(pad, SEVEN[1])
        return real(image)

    monkeypatch.setattr(predictor, "predict", slow_predict)
    browser_stroke(pad, SEVEN[0])
    monkeypatch.undo()
    assert len(calls) == 2 and len(pad.strokes) == 2
    assert_shows(pad, fresh_answer(predictor, SEVEN))


def test_a_clear_while_a_prediction_is_computed(pad, predictor, monkeypatch):
    real = predictor.predict

    def predict_then_cleared(image):
        result = real(image)
        pad.clear()  # e.g. the Clear button handled before this answer is shown
        return result

    monkeypatch.setattr(predictor, "predict", predict_then_cleared)
    pad.draw(SEVEN)
    monkeypatch.undo()
    assert pad.strokes == []
    assert_shows(pad, None)


def test_an_observer_that_draws_again(pad, predictor):
    """A slow or re-entrant callback on `prediction` that itself draws: the latest wins."""
    def add_a_stroke(change):
        if change["new"] is not None and len(pad.strokes) == 1:
            pad.draw([SEVEN[1]])

    pad.observe(add_a_stroke, names="prediction")
    browser_stroke(pad, SEVEN[0])
    assert len(pad.strokes) == 2
    assert_shows(pad, fresh_answer(predictor, SEVEN))


def test_many_rapid_strokes(pad, predictor):
    rng = np.random.default_rng(0)
    strokes = [[tuple(p) for p in rng.uniform(20, 260, (rng.integers(1, 6), 2))]
               for _ in range(150)]
    for i, stroke in enumerate(strokes):
        browser_stroke(pad, stroke, touch=bool(i % 2))
        if i == 99:
            pad.clear()
    assert len(pad.strokes) == 50
    assert_shows(pad, fresh_answer(predictor, strokes[100:]))


def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.slow
def test_10000_drawings_leave_memory_flat(predictor):
    pad = DigitPad(predictor)
    strokes = [[(100, 100), (150, 200)], [(180, 60), (120, 220), (160, 230)]]

    def drawings(n):
        for i in range(n):
            browser_stroke(pad, strokes[i % 2])
            pad.clear()

    drawings(200)
    before = rss_kib()
    drawings(10_000)
    after = rss_kib()
    print(f"RSS after 200 drawings {before / 1024:.1f} MiB, "
          f"after 10,000 more {after / 1024:.1f} MiB")
    assert after < 1.10 * before, f"RSS grew from {before} KiB to {after} KiB"
