"""End to end: DigitPad in JupyterLab in headless Chromium, real drawings replayed as mouse moves.

Run alone:  pytest -m browser tests/test_browser.py
Set DIGITPAD_SCREENSHOT=path.png to keep a screenshot of the widget (docs/digitpad.png).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "drawn-digits" / "dev.npz"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SETTINGS = {  # user settings for an offline, quiet, read-only Lab
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free loopback port, isolated config, serving a copy of demo.ipynb."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    if not DEV.exists():
        pytest.skip(f"no drawn digits at {DEV}")
    from digitwidget.model import SHIPPED_MODEL
    if not SHIPPED_MODEL.exists():
        pytest.skip(f"the shipped model {SHIPPED_MODEL} is not there yet")
    with jupyterlab(tmp_path_factory.mktemp("lab")) as (url, token):
        yield url, token


@contextmanager
def jupyterlab(home, notebook=ROOT / "notebooks" / "demo.ipynb"):
    """Start JupyterLab in `home` (isolated config) serving a copy of `notebook`.

    Yields (url, token). Also used by benchmarks/browser.py.
    """
    root = home / "root"
    root.mkdir()
    shutil.copy(notebook, root)  # the repo's copy is never touched
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(home))
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")]:
        env[var] = str(home / sub)
    for plugin, values in SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token, port = uuid.uuid4().hex, free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--IdentityProvider.token={token}", "--ServerApp.ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True"],
            f"{url}/api/status?token={token}", home / "server.log", "JupyterLab", env=env):
        yield url, token


@contextmanager
def serving(command, ready_url, log, name, timeout=90, **popen_args):
    """Run a server (JupyterLab, Voilà, the web app) for the block, its output in `log`:
    started, waited for until `ready_url` answers, and stopped however the block ends."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen_args)
    try:
        _wait_for(ready_url, process, log, name, timeout)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(url, process, log, name, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # an error page is an answer: the server is up
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{name} did not answer within {timeout} s: {log.read_text()[-2000:]}")


def dev_digits(n=10, seed=0):
    """n dev digits, one per label, as (strokes, label); strokes (k, 2) arrays in mm."""
    z = np.load(DEV)
    pts, ss, smp, labels = z["points"], z["stroke_start"], z["sample_start"], z["label"]
    rng = np.random.default_rng(seed)
    chosen = [int(rng.choice(np.flatnonzero(labels == d))) for d in range(n)]
    return [([pts[ss[k]:ss[k + 1]] for k in range(smp[i], smp[i + 1])], int(labels[i]))
            for i in chosen]


def on_canvas(strokes, side=280, height=0.65):
    """Scale strokes to `height` of the canvas, centred, in canvas pixels."""
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    scale = height * side / max(hi - lo)
    shift = (side - (hi - lo) * scale) / 2
    return [(s - lo) * scale + shift for s in strokes]


def replay(page, canvas, strokes, side=280, pace=0.0):
    """Draw strokes with the real mouse, mapping canvas pixels to the page. `pace`: seconds
    before each move and the mouse-up, as a real mouse reports them (0: all at once)."""
    box = canvas.bounding_box()
    to_page = lambda x, y: (float(box["x"] + x * box["width"] / side),  # noqa: E731
                            float(box["y"] + y * box["height"] / side))
    for stroke in strokes:
        page.mouse.move(*to_page(*stroke[0]))
        page.mouse.down()
        for x, y in stroke[1:]:
            time.sleep(pace)
            page.mouse.move(*to_page(x, y))
        time.sleep(pace)
        page.mouse.up()


def open_demo(browser, url, token):
    """Open demo.ipynb in JupyterLab, run it, and wait for the pad's first answer (the demo
    draws a 7 from Python: the view shows the kernel's answer). Returns (page, pad)."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/demo.ipynb?reset&token={token}")
    expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle")).to_be_visible(
        timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    pad = page.locator(".digitpad").first
    expect(pad.locator(".digitpad-answer [data-strokes='2']")).to_be_visible(timeout=120_000)
    return page, pad


def test_drawn_digits_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, token = lab
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page, pad = open_demo(browser, url, token)
            answer = pad.locator(".digitpad-answer")
            canvas = pad.locator("canvas.digitpad-canvas")
            clear = pad.locator("button", has_text="Clear")

            shown = []
            for strokes, label in dev_digits():
                clear.click()
                expect(answer).to_contain_text("Draw a digit")
                canvas.scroll_into_view_if_needed()
                replay(page, canvas, on_canvas(strokes))
                expect(answer.locator(f"[data-strokes='{len(strokes)}']")).to_be_visible(
                    timeout=20_000)
                shown.append((label, answer.locator(".digitpad-digit").inner_text().strip()))
            path = Path(os.environ.get("DIGITPAD_SCREENSHOT", tmp_path / "digitpad.png"))
            pad.screenshot(path=str(path))

            right = sum(text == str(label) for label, text in shown)
            assert right >= 9, f"shown (label, answer): {shown}"

            clear.click()
            expect(answer).to_contain_text("Draw a digit")
            assert answer.locator(".digitpad-digit").inner_text().strip() == ""
        finally:
            browser.close()
