"""DigitPad in a real Jupyter kernel: start-up time, stroke-end latency and memory.

Starts a fresh IPython kernel (jupyter_client, as JupyterLab does) and measures
  startup      kernel start requested -> `DigitPad()` built and ready (shipped model loaded)
  stroke_end   the mouse-up of a real pen stroke -> bars, label and preview updated, timed
               inside the kernel around the canvas's own event handler, widget messages sent
  memory       the kernel's resident memory after `DigitPad()` and after 1,000 drawings
Strokes are real pen-drawn digits (../shared/drawn-digits) replayed as the browser sends them,
one mouse move every 8 ms as a 125 Hz mouse reports them (sent all at once, the moves' own
canvas messages would still be leaving the kernel when the stroke ends, and the figure
would measure that backlog).

    python benchmarks/widget.py [--quick]
"""

import argparse
import json
import time

import numpy as np

from common import ROOT, real_drawings, save, summary

SETUP = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from digitwidget import DigitPad
pad = DigitPad()
pad
"""

STROKES = """
import json, time
from pathlib import Path
import numpy as np

def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

def send(event, x, y):
    pad.canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])

digits = json.loads(DIGITS)
seconds, shown = [], []
for strokes, label in digits:
    pad.clear()
    for stroke in strokes:
        for i, (x, y) in enumerate(stroke):
            send("mouse_down" if i == 0 else "mouse_move", x, y)
            time.sleep(0.008)
        start = time.perf_counter()
        send("mouse_up", *stroke[-1])
        seconds.append(time.perf_counter() - start)
    shown.append(pad.prediction.digit == label)
after_pad = rss_mib()
for i in range(DRAWINGS):
    pad.clear()
    pad.draw(digits[i % len(digits)][0])
after = rss_mib()
print(json.dumps({"stroke_seconds": seconds, "right": sum(shown), "digits": len(digits),
                  "rss_after_pad_mib": after_pad, "rss_after_drawings_mib": after}))
"""


def run(client, code):
    """Execute code in the kernel; return what it printed (an error is raised)."""
    printed = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))

    reply = client.execute_interactive(code, output_hook=hook, timeout=600)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"kernel said {reply['content']}")
    return "".join(printed)


def fresh_kernel_session(digits, drawings):
    """One fresh kernel: time to a ready DigitPad, then strokes and memory inside it."""
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        run(client, SETUP)
        startup = time.perf_counter() - start
        code = STROKES.replace("DIGITS", repr(json.dumps(digits))).replace(
            "DRAWINGS", str(drawings))
        figures = json.loads(run(client, code).strip().splitlines()[-1])
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return startup, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer strokes and drawings")
    args = parser.parse_args()
    n_digits, drawings, kernels = (10, 100, 1) if args.quick else (40, 1000, 3)

    digits = [([s.round(1).tolist() for s in strokes], label)
              for strokes, label in real_drawings(n_digits, 280, seed=1)]
    startups, runs = [], []
    for _ in range(kernels):
        startup, figures = fresh_kernel_session(digits, drawings)
        startups.append(startup)
        runs.append(figures)
        print(f"ready in {startup:.2f} s; {len(figures['stroke_seconds'])} strokes")
    strokes = np.concatenate([r["stroke_seconds"] for r in runs])
    last = runs[-1]
    growth = last["rss_after_drawings_mib"] / last["rss_after_pad_mib"] - 1
    figures = {
        "startup_s": {"median": round(float(np.median(startups)), 2),
                      "runs": [round(s, 2) for s in startups]},
        "stroke_end": summary(strokes),
        "right": f"{sum(r['right'] for r in runs)}/{sum(r['digits'] for r in runs)}",
        "memory_mib": {"after_DigitPad": round(last["rss_after_pad_mib"], 1),
                       f"after_{drawings}_drawings": round(last["rss_after_drawings_mib"], 1),
                       "growth": round(growth, 4)},
    }
    figures["goals"] = {"stroke_end_p50_ms<=5": figures["stroke_end"]["p50_ms"] <= 5,
                        "startup_s<=6": figures["startup_s"]["median"] <= 6,
                        "memory_growth<=10%": growth <= 0.10}
    save("widget", figures)


if __name__ == "__main__":
    main()
