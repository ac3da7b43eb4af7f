"""DigitPad in JupyterLab in headless Chromium: mouse-up -> the new answer on screen.

Opens the demo notebook in a real JupyterLab (as tests/test_browser.py does), runs it, and
replays real pen-drawn digits as mouse moves on the pad, paced as a mouse reports them
(one move every 8 ms, 125 Hz; unpaced, Playwright fires them all at once and the figure
would be the kernel's backlog of moves, not its answer). The page itself timestamps each
mouse-up (a capturing listener) and each change of the shown answer (a MutationObserver on
the answer's `data-strokes`), so the figure is browser time: event -> kernel -> model ->
widget messages -> the DOM updated, without Playwright's polling in it.

    python benchmarks/browser.py [--quick]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import ROOT, real_drawings, save, summary

sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM, CHROMIUM_ARGS, jupyterlab, open_demo, replay  # noqa: E402

MOVE_EVERY = 0.008  # seconds between mouse moves: a 125 Hz mouse

WATCH = """() => {
    window.__ups = [];
    window.__changes = [];
    window.addEventListener('mouseup', () => window.__ups.push(performance.now()), true);
    let last = null;
    new MutationObserver(() => {
        const el = document.querySelector('.digitpad .digitpad-answer [data-strokes]');
        const value = el && el.getAttribute('data-strokes');
        if (value !== last) {
            last = value;
            window.__changes.push([value, performance.now()]);
        }
    }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""

LATEST = """(n) => {
    const up = window.__ups[window.__ups.length - 1];
    const seen = window.__changes.filter(([v, t]) => v === String(n) && t >= up);
    return seen.length ? seen[0][1] - up : null;
}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer digits")
    args = parser.parse_args()
    digits = real_drawings(8 if args.quick else 30, 280, seed=2)

    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as home, jupyterlab(Path(home)) as (url, token), \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page, pad = open_demo(browser, url, token)
        answer = pad.locator(".digitpad-answer")
        page.evaluate(WATCH)
        canvas, clear = pad.locator("canvas.digitpad-canvas"), pad.locator("button",
                                                                             has_text="Clear")
        latencies, right = [], 0
        for strokes, label in digits:
            clear.click()
            expect(answer).to_contain_text("Draw a digit")
            canvas.scroll_into_view_if_needed()
            for k, stroke in enumerate(strokes, start=1):
                replay(page, canvas, [stroke], pace=MOVE_EVERY)
                expect(answer.locator(f"[data-strokes='{k}']")).to_be_visible(timeout=20_000)
                latencies.append(page.evaluate(LATEST, k) / 1e3)
            right += answer.locator(".digitpad-digit").inner_text().strip() == str(label)
        browser.close()
    figures = {"mouse_up_to_answer": summary(np.array(latencies)),
               "right": f"{right}/{len(digits)}"}
    figures["goals"] = {"browser_p50_ms<=150": figures["mouse_up_to_answer"]["p50_ms"] <= 150}
    save("browser", figures)


if __name__ == "__main__":
    main()
