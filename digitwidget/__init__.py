"""digitwidget: handwritten digit recognition you can hold in a notebook.

    from digitwidget import DigitPad
    DigitPad()          # draw a digit, see the answer at once

The names below are imported on first use, so `import digitwidget` stays quick and
the training modules never pull in the widget stack (or the other way round).
"""

import importlib
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # never phone home on import

__version__ = "0.1.0"
__all__ = ["DigitPad", "Predictor", "Prediction", "InvalidImage", "load_model"]

_HOMES = {"DigitPad": "pad", "Predictor": "predictor", "Prediction": "predictor",
          "InvalidImage": "predictor", "load_model": "model"}


def __getattr__(name):
    if name in _HOMES:
        return getattr(importlib.import_module(f"digitwidget.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'digitwidget' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
