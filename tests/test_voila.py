"""DigitPad as a web page: notebooks/demo.ipynb served by Voilà (`make voila`), in headless
Chromium; a real drawn digit replayed with the mouse, the answer read back.

Run alone:  pytest -m browser tests/test_voila.py
Set VOILA_SCREENSHOT=docs/voila.png to keep a screenshot of the page.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

from test_browser import (CHROMIUM, CHROMIUM_ARGS, DEV, dev_digits, free_port, on_canvas,
                          replay, serving)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """Voilà on a free loopback port, isolated config, serving a copy of demo.ipynb."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    pytest.importorskip("voila", reason="Voilà is not installed: pip install -e .[app]")
    if not DEV.exists():
        pytest.skip(f"no drawn digits at {DEV}")
    home = tmp_path_factory.mktemp("voila")
    shutil.copy(ROOT / "notebooks" / "demo.ipynb", home)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(home),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    # readiness from a static file: a GET of the page itself would start a kernel
    with serving([sys.executable, "-m", "voila", str(home / "demo.ipynb"), "--no-browser",
                  f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
                 url + "voila/static/voila.js", home / "voila.log", "Voilà", cwd=home, env=env):
        yield url


def pixels(canvas):
    """Counts of the pad's canvas pixels: dark ink, opaque white paper, all."""
    return canvas.evaluate("""c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0, paper = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 200 && d[i] < 100) ink++;
            if (d[i + 3] === 255 && d[i] === 255 && d[i + 1] === 255 && d[i + 2] === 255) paper++;
        }
        return {ink, paper, all: d.length / 4};
    }""")


def test_digitpad_in_voila(voila, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            # its template links Font Awesome from a CDN: do not wait for "load" offline
            page.goto(voila, wait_until="domcontentloaded", timeout=120_000)
            pad = page.locator(".digitpad").first
            answer = pad.locator(".digitpad-answer")
            # the demo draws a 7 from Python before any browser view existed
            expect(answer.locator("[data-strokes='2']")).to_be_visible(timeout=120_000)
            expect(pad.locator(".digitpad-digit")).to_have_text("7")
            canvas = pad.locator("canvas.digitpad-canvas")
            # that 7 is on the canvas too: drawn again when the view connected (the
            # commands sent before any view existed are lost)
            assert pixels(canvas)["ink"] > 500

            pad.locator("button", has_text="Clear").click()
            expect(answer).to_contain_text("Draw a digit")
            wiped = pixels(canvas)
            assert wiped["ink"] == 0 and wiped["paper"] == wiped["all"]
            strokes, label = dev_digits()[3]
            canvas.scroll_into_view_if_needed()
            replay(page, canvas, on_canvas(strokes))
            expect(answer.locator(f"[data-strokes='{len(strokes)}']")).to_be_visible(
                timeout=30_000)
            assert answer.locator(".digitpad-digit").inner_text().strip() == str(label)
            assert pixels(canvas)["ink"] > 500
            assert not errors, errors
            page.wait_for_timeout(500)  # let the bars finish their animation
            page.screenshot(path=str(os.environ.get("VOILA_SCREENSHOT", tmp_path / "voila.png")),
                            full_page=False)
        finally:
            browser.close()
