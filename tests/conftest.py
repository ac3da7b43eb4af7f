"""Shared test set-up: MNIST from ../shared/mnist unless DIGITWIDGET_DATA says otherwise."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "DIGITWIDGET_DATA" not in os.environ and (SHARED / "mnist").is_dir():
    os.environ["DIGITWIDGET_DATA"] = str(SHARED / "mnist")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (DIGITWIDGET_REQUIRE_BROWSER=1) a browser test that skips is a failure:
    a missing Chromium must not turn the end-to-end check silently green."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("DIGITWIDGET_REQUIRE_BROWSER")
            and item.get_closest_marker("browser")):
        report.outcome = "failed"
        report.longrepr = f"browser test skipped where it is required: {report.longrepr}"


@pytest.fixture(scope="module")
def predictor():
    """A Predictor around the untrained reference CNN (seeded): enough for the contracts,
    not for accuracy. Module scope: each test module gets its own."""
    import keras

    from digitwidget.model import build_model
    from digitwidget.predictor import Predictor

    keras.utils.set_random_seed(0)
    return Predictor(build_model())
