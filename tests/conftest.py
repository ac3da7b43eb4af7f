"""Shared test set-up: MNIST from ../shared/mnist unless DIGITWIDGET_DATA says otherwise."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "DIGITWIDGET_DATA" not in os.environ and (SHARED / "mnist").is_dir():
    os.environ["DIGITWIDGET_DATA"] = str(SHARED / "mnist")
