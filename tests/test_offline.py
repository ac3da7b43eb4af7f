"""Offline and quiet: the package and the widget make no network calls, the demo warns of nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "notebooks" / "demo.ipynb"

NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise AssertionError(f"network call: {args[1:] or kwargs}")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
import keras
import digitwidget
from digitwidget import DigitPad, Predictor
x = keras.Input((28, 28, 1))
model = keras.Model(x, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))
pad = DigitPad(model)
pad.draw([[(60, 50), (220, 50), (120, 240)], [(90, 140), (180, 140)]])
assert pad.prediction is not None
pad.clear()
print("OFFLINE-OK")
"""


def test_import_and_widget_make_no_network_calls():
    done = subprocess.run([sys.executable, "-c", NO_NETWORK], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "OFFLINE-OK" in done.stdout, done.stderr[-3000:]


# A new network namespace has only loopback, and down: the kernel talks to pytest over
# 127.0.0.1, so bring it up. Nothing outside the machine can be reached.
NO_NET = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]


def can_unshare():
    try:
        return subprocess.run(NO_NET + ["true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not can_unshare(), reason="`unshare -rn` with `ip` (a user namespace "
                    "without network) is not available here")
def test_demo_notebook_runs_with_the_network_cut():
    done = subprocess.run(
        NO_NET + [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--nbval-lax", str(DEMO)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_demo_notebook_outputs_have_no_warnings():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(DEMO, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(DEMO.parent)}}).execute()
    noisy = [(i, out.get("text", "")) for i, cell in enumerate(notebook.cells)
             for out in cell.get("outputs", [])
             if out.get("name") == "stderr" or "Warning" in str(out.get("text", ""))]
    assert not noisy, noisy
