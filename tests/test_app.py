"""The Gradio app (digitwidget.app): from Python, as a server answering gradio_client, and in
headless Chromium with real drawings replayed as mouse moves on the sketchpad.

Run alone:  pytest tests/test_app.py            (the browser test: -m browser)
Set APP_SCREENSHOT=docs/app.png to keep a screenshot of the page.
"""

import io
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

gr = pytest.importorskip("gradio", reason="the app extra is not installed: pip install -e .[app]")

from digitwidget import app  # noqa: E402
from digitwidget.preprocess import rasterise  # noqa: E402
from test_browser import (CHROMIUM, CHROMIUM_ARGS, DEV, dev_digits, free_port, serving,  # noqa: E402
                          on_canvas)

ROOT = Path(__file__).resolve().parent.parent
CANVAS, BRUSH = app.CANVAS, 2 * app.BRUSH
needs_dev = pytest.mark.skipif(not DEV.exists(), reason=f"no drawn digits at {DEV}")


def sketch_of(strokes, fit=True):
    """What the Sketchpad sends for a drawing: black ink on a transparent RGBA layer.
    `fit`: scale the strokes to the canvas as a person would draw them (else as given)."""
    grey = rasterise(on_canvas(strokes, side=CANVAS) if fit else strokes, CANVAS, BRUSH)
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    return rgba


def empty_state(outputs):
    answer, chart, preview, details = outputs
    return (details["digit"] is None and details["reason"] == app.EMPTY and "Draw a digit" in answer
            and not np.asarray(preview).any() and max(chart.data[0].y) == 0)


# --- from Python ---------------------------------------------------------------------------

@needs_dev
def test_predict_on_real_drawings():
    shown = []
    for strokes, label in dev_digits(n=10, seed=1) + dev_digits(n=10, seed=2):
        answer, chart, preview, details = app.predict_sketch(
            {"background": None, "layers": [], "composite": sketch_of(strokes)})
        shown.append((label, details["digit"]))
        if details["digit"] is not None and details["confident"]:
            assert f">{details['digit']}<" in answer and "sure" in answer
        bars = chart.data[0]
        assert list(bars.x) == [str(d) for d in range(10)]
        assert np.isclose(sum(bars.y), 1.0, atol=0.01)
        top = int(np.argmax(bars.y))
        assert bars.text[top] == f"{bars.y[top]:.0%}"  # the percentage sits on the bar
        assert "%{y" in bars.hovertemplate  # and the exact value on hover
        assert preview.size == (140, 140) and np.asarray(preview).max() > 200  # the ink
    right = sum(label == digit for label, digit in shown)
    assert right >= 18, shown


def test_empty_canvas_and_clear():
    assert empty_state(app.predict_sketch(None))  # what a cleared sketchpad sends
    blank = np.zeros((CANVAS, CANVAS, 4), np.uint8)  # the sketchpad with nothing drawn
    assert empty_state(app.predict_sketch({"background": None, "layers": [], "composite": blank}))
    white = np.full((CANVAS, CANVAS, 3), 255, np.uint8)
    assert empty_state(app.predict_sketch({"composite": white}))
    assert empty_state(app.cleared())
    assert empty_state(app.predict_file(None))


def test_not_sure_states():
    dot = sketch_of([[(100.0, 100.0), (101.0, 100.0)]], fit=False)
    answer, _, _, details = app.predict_sketch({"composite": dot})
    assert details["digit"] is None and "Not sure" in answer and details["reason"]
    cross = sketch_of([[(80, 80), (320, 320)], [(320, 80), (80, 320)]], fit=False)  # an X
    answer, chart, _, details = app.predict_sketch({"composite": cross})
    assert details["digit"] is not None and not details["confident"]
    assert "Not sure" in answer and f"best guess {details['digit']}" in answer
    assert "#ff7f0e" in chart.data[0].marker.color  # the guess's bar in the unsure colour


def test_bad_upload_is_answered_in_words(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    answer, _, preview, details = app.predict_file(str(text))
    assert details["digit"] is None and "notes.png" in details["reason"]
    assert str(tmp_path) not in answer  # the user's file name, not the server's path
    assert "Traceback" not in answer and not np.asarray(preview).any()
    good = tmp_path / "seven.png"
    Image.fromarray(rasterise([[(70, 60), (210, 60), (120, 230)]], 280, 17)).save(good)
    assert app.predict_file(str(good))[3]["digit"] == 7


def test_app_is_offline_and_wired():
    blocks = app.build_app()
    assert blocks.analytics_enabled is False
    config = blocks.get_config_file()
    names = {d.get("api_name") for d in config["dependencies"]}
    assert {"predict", "predict_upload"} <= names
    predict = next(d for d in config["dependencies"] if d.get("api_name") == "predict")
    assert predict["trigger_mode"] == "always_last" and predict["show_progress"] == "hidden"
    pad = next(c for c in config["components"] if c["props"].get("elem_id") == "sketch")
    assert pad["props"]["brush"]["colors"] == ["#000000"] and pad["props"]["fixed_canvas"]


# --- a server, as people and programs reach it -----------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python -m digitwidget.app` on a free loopback port, as `make app` starts it."""
    home = tmp_path_factory.mktemp("app")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRADIO_SERVER_PORT=str(port),
               GRADIO_TEMP_DIR=str(home / "gradio"), TMPDIR=str(home))
    env.pop("GRADIO_SERVER_NAME", None)
    url = f"http://127.0.0.1:{port}/"
    with serving([sys.executable, "-m", "digitwidget.app"], url + "gradio_api/info",
                 home / "app.log", "the app", timeout=120, cwd=ROOT, env=env):
        yield url


@needs_dev
def test_gradio_client(server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(server, analytics_enabled=False, verbose=False,
                    download_files=str(tmp_path / "downloads"))
    strokes, label = dev_digits(n=10, seed=3)[4]
    drawing = tmp_path / "drawing.png"
    Image.fromarray(sketch_of(strokes)).save(drawing)
    answer, _, preview, details = client.predict(
        {"background": None, "layers": [], "composite": handle_file(str(drawing))},
        api_name="/predict")
    assert details["digit"] == label and f">{label}<" in answer
    assert Image.open(preview).size == (140, 140)

    *_, details = client.predict(handle_file(str(drawing)), api_name="/predict_upload")
    assert details["digit"] == label

    *_, details = client.predict({"background": None, "layers": [], "composite": None},
                                 api_name="/predict")
    assert details["reason"] == app.EMPTY

    text = tmp_path / "letter.txt"
    text.write_text("dear model")
    with pytest.raises(Exception, match="Invalid file type"):  # Gradio's own words
        client.predict(handle_file(str(text)), api_name="/predict_upload")


# --- in a real browser ----------------------------------------------------------------------

# Pixi draws the sketchpad with WebGL: software WebGL in the GPU process (SwiftShader) draws
# a mouse move about twice as fast here as --disable-gpu's fallback.
ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def thin(stroke, step=20.0):
    """Keep points at least `step` canvas pixels apart (and the last). Each mouse move costs
    a software-rendered frame (0.1-0.4 s on 2 busy cores); the tablet's raw samples would
    make a test of minutes, and a quick hand on a mouse leaves gaps like these anyway."""
    keep = [stroke[0]]
    for point in stroke[1:]:
        if np.hypot(*(point - keep[-1])) >= step:
            keep.append(point)
    if len(stroke) > 1 and (keep[-1] != stroke[-1]).any():
        keep.append(stroke[-1])
    return keep


def drawing_area(page):
    """(x0, y0, zoom): the sketchpad's drawing surface sits centred in its Pixi canvas, at
    the zoom the editor shows."""
    box = page.locator("#sketch canvas").first.bounding_box()
    zoom = float(page.locator("#sketch .zoom-number span").inner_text().strip("%")) / 100
    return (box["x"] + box["width"] / 2 - CANVAS * zoom / 2,
            box["y"] + box["height"] / 2 - CANVAS * zoom / 2, zoom)


def ink_on_screen(page):
    """How many dark pixels the drawing surface shows, read from a screenshot of it."""
    x0, y0, zoom = drawing_area(page)
    side = CANVAS * zoom
    png = page.screenshot(clip={"x": x0 + 2, "y": y0 + 2, "width": side - 4, "height": side - 4})
    return int((np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128).sum())


def draw(page, strokes, timeout=60):
    """Replay strokes (in canvas pixels) with the mouse on the sketchpad's drawing area, one
    at a time, each time waiting for the answer to change: the sketchpad reports a drawing
    once per stroke, so the first new answer after a mouse-up is that stroke's.
    Returns (the digit shown at the end, seconds from the last mouse-up to its answer)."""
    from playwright.sync_api import expect

    x0, y0, zoom = drawing_area(page)
    answer = page.locator("#answer .dw-answer")
    for stroke in strokes:
        before = answer.get_attribute("data-input")
        points = [(float(x0 + x * zoom), float(y0 + y * zoom)) for x, y in thin(stroke)]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)
        page.mouse.up()
        up = time.monotonic()
        expect(answer).not_to_have_attribute("data-input", before or "", timeout=timeout * 1000)
        seconds = time.monotonic() - up
    return page.locator("#answer .dw-digit").inner_text().strip(), seconds


def clear(page):
    from playwright.sync_api import expect

    page.locator("#clear").click()
    expect(page.locator("#answer .dw-detail")).to_have_text("Draw a digit")
    deadline = time.monotonic() + 15
    while ink_on_screen(page):  # the canvas itself is white again, not only the answer
        assert time.monotonic() < deadline, "Clear left ink on the canvas"
        time.sleep(0.2)
    expect(page.locator("#sketch .toolbar-wrap button.highlight")).to_have_attribute(
        "aria-label", "Brush")  # and ready to draw again


@pytest.mark.browser
@pytest.mark.slow
@needs_dev
def test_drawn_digits_in_the_browser(server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

    remote = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.on("request", lambda r: r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                    or remote.append(r.url))
            page.goto(server, wait_until="domcontentloaded")
            # ready to draw as it opens: the brush is chosen without a click
            tool = page.locator("#sketch .toolbar-wrap button.highlight")
            sync_api.expect(tool).to_have_attribute("aria-label", "Brush", timeout=60_000)
            sync_api.expect(page.locator("#answer .dw-detail")).to_have_text("Draw a digit")

            shown, latency = [], []
            for i, (strokes, label) in enumerate(dev_digits()):
                if i:
                    clear(page)
                digit, seconds = draw(page, on_canvas(strokes, CANVAS))
                shown.append((label, digit))
                latency.append(seconds)
            page.screenshot(path=str(os.environ.get("APP_SCREENSHOT", tmp_path / "app.png")))
            print(f"\nshown (label, answer): {shown}\nmouse-up to answer, s: "
                  f"median {np.median(latency):.2f}, max {max(latency):.2f}")
            right = sum(text == str(label) for label, text in shown)
            assert right >= 9, f"shown (label, answer): {shown}"

            clear(page)
            assert page.locator("#answer .dw-digit").inner_text().strip() == ""
            assert not remote, f"the page fetched from elsewhere: {remote}"
        finally:
            browser.close()
