"""DigitPad: draw a digit in a notebook and see what the model makes of it at once.

    from digitwidget import DigitPad
    pad = DigitPad()          # the shipped model; DigitPad(model) or DigitPad("path.keras")
    pad                       # draw with the mouse (or a finger); bars update on each stroke
    pad.draw([[(x0, y0), (x1, y1), ...], ...])   # the same from Python, in canvas pixels
    pad.prediction            # the latest Prediction, None before any ink
    pad.observe(callback, names="prediction")

How it works, and why:
- The strokes are kept in Python and rasterised with Pillow for the model, each finished
  stroke added to one picture. Reading the browser's pixels back (`sync_image_data`)
  re-encodes the whole canvas per batch of commands and does not work without a browser
  (nbval); the points arrive anyway with the mouse events.
- The browser sends a message on every mouse move, and they queue while the kernel is busy,
  so a move only draws a segment (inside `hold_canvas`, one message); the model runs once,
  when the stroke ends: on mouse up, on leaving the canvas (a mouse up outside the canvas is
  never delivered), or on touch end.
- Draw commands sent before a browser view exists are lost (a page reload, Voilà), so the
  canvas is redrawn from the stored strokes whenever a view says it is ready.
- A callback's exception would land in the notebook's log or the browser console, far from
  the user: every event handler shows it in the widget instead.
"""

import functools
import html
import io
import logging

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets
from ipycanvas import Canvas, hold_canvas
from PIL import Image

from digitwidget.predictor import CONFIDENCE, Predictor
from digitwidget.preprocess import SIZE, draw_strokes

__all__ = ["DigitPad"]

log = logging.getLogger(__name__)

INK, PAPER = "black", "white"
GREY, HIGHLIGHT, UNSURE = "#9aa5b1", "#1f77b4", "#ff7f0e"
PREVIEW_SCALE = 5  # the 28x28 model input shown 140 px wide, each pixel a visible square


def _guarded(handler):
    """Run an event handler; show any exception in the widget instead of losing it."""
    @functools.wraps(handler)
    def run(self, *args):
        try:
            return handler(self, *args)
        except Exception as err:  # noqa: BLE001 - the widget is where the user looks
            log.exception("DigitPad: %s failed", handler.__name__)
            self._stroke = None
            self._say(f"Something went wrong: {type(err).__name__}: {err}", error=True)
    return run


class DigitPad(widgets.HBox):
    """A drawing canvas wired to a digit model, with live probability bars.

    model: None for the shipped model, a keras.Model with 28x28x1 input and 10 outputs, a
        path to a `.keras` file, or a Predictor. A model of the wrong shape is refused here.
    size: the canvas side in pixels.  brush: pen width in pixels (default 6 % of the side).
    show_preview: show the 28x28 image the model sees.
    show_insides: also show the first convolution layer's feature maps and an occlusion map
        (which parts of the drawing the answer depends on), updated on each stroke.
    threshold: below this top probability the pad says it is not sure.
    """

    prediction = traitlets.Any(None, allow_none=True, help="the latest Prediction, or None")

    def __init__(self, model=None, size=280, brush=None, show_preview=True,
                 show_insides=False, threshold=CONFIDENCE, **kwargs):
        self.predictor = model if isinstance(model, Predictor) else Predictor(model, threshold)
        self.size = int(size)
        if self.size < 28:
            raise ValueError(f"The canvas must be at least 28 px wide; got size={size}.")
        self._strokes = []  # finished strokes, lists of (x, y) in canvas pixels
        self._picture = None  # the finished strokes rasterised (Pillow), for the model
        self._stroke = None  # the stroke being drawn, or None
        self._drawing = 0  # counts changes to the strokes, so a stale answer is never shown
        self.canvas = self._make_canvas()
        self.brush = brush if brush is not None else round(0.06 * self.size)
        self.clear_button = widgets.Button(description="Clear", icon="eraser",
                                           tooltip="Clear the canvas",
                                           layout=widgets.Layout(width="90px"))
        self.clear_button.on_click(lambda _: self._clear_clicked())
        self.message = widgets.HTML(layout=widgets.Layout(max_width=f"{self.size - 100}px"))
        self.answer = widgets.HTML(layout=widgets.Layout(min_height="96px"))
        self.answer.add_class("digitpad-answer")
        self.bars, self.chart = _make_chart()
        self.preview = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{SIZE * PREVIEW_SCALE}px", height=f"{SIZE * PREVIEW_SCALE}px",
            border="1px solid #ccc", display=None if show_preview else "none"))
        self.preview_box = widgets.VBox([widgets.HTML("<b>What the model sees</b> (28x28)"),
                                         self.preview])
        self.preview_box.layout.display = None if show_preview else "none"
        self.insides = _Insides(self.predictor) if show_insides else None

        drawing = widgets.VBox([self.canvas, widgets.HBox([self.clear_button, self.message])])
        results = widgets.VBox([self.answer, self.chart, self.preview_box])
        children = [drawing, results] + ([self.insides.box] if self.insides else [])
        super().__init__(children, **kwargs)
        self.layout.flex_flow = "row wrap"
        self.add_class("digitpad")
        self._show(None)

    # --- the Python API ----------------------------------------------------------------

    @property
    def brush(self):
        """Pen width in canvas pixels."""
        return self._brush

    @brush.setter
    def brush(self, width):
        if not width > 0:
            raise ValueError(f"The brush width must be positive; got {width}.")
        self._brush = float(width)
        self.canvas.line_width = self._brush
        self._redraw_picture()

    @property
    def strokes(self):
        """The strokes drawn so far, each a list of (x, y) in canvas pixels."""
        return [list(s) for s in self._strokes]

    def draw(self, strokes):
        """Draw strokes as a mouse would (lists of (x, y) in canvas pixels), then predict.

        Shown on the canvas too. Returns the new Prediction.
        """
        strokes = [_as_points(s, i) for i, s in enumerate(strokes)]
        with hold_canvas():
            for stroke in strokes:
                self._paint(stroke)
        self._strokes += strokes
        draw_strokes(self._picture, strokes, self._brush)
        self._drawing += 1
        self._predict()
        return self.prediction

    def clear(self):
        """Wipe the canvas and go back to the empty state."""
        self._strokes, self._stroke = [], None
        self._redraw_picture()
        self._drawing += 1
        with hold_canvas():
            self._paint_background()
        self._say("")
        self._show(None)
        self.prediction = None

    def _redraw_picture(self):
        """The picture the model reads, rasterised afresh from every finished stroke (a new
        brush, or Clear); a finished stroke is only added to it."""
        self._picture = Image.new("L", (self.size, self.size), 255)
        draw_strokes(self._picture, self._strokes, self._brush)

    # --- drawing events from the browser ----------------------------------------------------

    def _make_canvas(self):
        canvas = Canvas(width=self.size, height=self.size, layout=widgets.Layout(
            width=f"{self.size}px", height=f"{self.size}px", border="1px solid #bbb"))
        canvas.add_class("digitpad-canvas")
        canvas.on_client_ready(self._redraw)
        canvas.on_mouse_down(self._pen_down)
        canvas.on_mouse_move(self._pen_move)
        canvas.on_mouse_up(self._pen_up)
        canvas.on_mouse_out(self._pen_up)
        canvas.on_touch_start(lambda touches: touches and self._pen_down(*touches[0]))
        canvas.on_touch_move(lambda touches: touches and self._pen_move(*touches[0]))
        canvas.on_touch_end(lambda touches: self._pen_up())
        canvas.on_touch_cancel(lambda touches: self._pen_up())
        return canvas

    @_guarded
    def _pen_down(self, x, y):
        if not _finite(x, y):
            return
        if self._stroke:  # a stroke whose end we never heard of
            self._pen_up()
        self._stroke = [(float(x), float(y))]
        with hold_canvas():
            self.canvas.fill_circle(x, y, self._brush / 2)

    @_guarded
    def _pen_move(self, x, y):
        if self._stroke is None or not _finite(x, y):  # moves come with no button pressed too
            return
        x0, y0 = self._stroke[-1]
        self._stroke.append((float(x), float(y)))
        with hold_canvas():
            self.canvas.stroke_line(x0, y0, x, y)
            self.canvas.fill_circle(x, y, self._brush / 2)  # a round joint, whatever the caps

    @_guarded
    def _pen_up(self, *_):
        if self._stroke is None:
            return
        self._strokes.append(self._stroke)
        draw_strokes(self._picture, [self._stroke], self._brush)
        self._stroke = None
        self._drawing += 1
        self._predict()

    @_guarded
    def _clear_clicked(self):
        self.clear()

    @_guarded
    def _redraw(self):
        """A browser view has just connected: it has an empty canvas, so draw it all again."""
        # ipycanvas remembers which canvas its last commands went to and skips re-selecting
        # it; a fresh view has none selected (seen in Voilà), so forget that memory first.
        manager = getattr(self.canvas, "_canvas_manager", None)
        if manager is not None and hasattr(manager, "_current_canvas"):
            manager._current_canvas = None
        with hold_canvas():
            self._paint_background()
            for stroke in self._strokes + ([self._stroke] if self._stroke else []):
                self._paint(stroke)

    def _paint_background(self):
        c = self.canvas
        c.clear()
        c.fill_style, c.stroke_style = PAPER, INK
        c.line_cap = c.line_join = "round"
        c.line_width = self._brush
        c.fill_rect(0, 0, self.size, self.size)
        c.fill_style = INK

    def _paint(self, stroke):
        """A whole stroke: the polyline plus a disc at every point.

        The discs make the joints and ends round even if the browser's context lost its
        round line caps (seen in JupyterLab: segments joined with square notches).
        """
        if len(stroke) > 1:
            self.canvas.stroke_lines(stroke)
        xs, ys = np.asarray(stroke, dtype=float).T
        self.canvas.fill_circles(xs, ys, self._brush / 2)

    # --- predicting and showing -------------------------------------------------------

    def _predict(self):
        """Predict for the strokes as they are now and show it, unless it is already stale.

        The model call can let other code run before it returns (an observer that draws,
        a model wrapper, events handled meanwhile): if the drawing changed in the meantime,
        the newer drawing's own answer stands and this one is dropped.
        """
        drawing = self._drawing
        image = np.asarray(self._picture)
        prediction = self.predictor.predict(image)
        if drawing != self._drawing:
            return
        self._show(prediction)
        self._say("")
        self.prediction = prediction

    def _show(self, prediction):
        """Bring the answer, bars, preview and insides in line with a Prediction (or None)."""
        self.answer.value = _answer_html(prediction, len(self._strokes))
        probabilities = np.zeros(10) if prediction is None else prediction.probabilities
        top = None if prediction is None else prediction.digit
        top_colour = HIGHLIGHT if prediction is not None and prediction.confident else UNSURE
        with self.bars.hold_sync():
            self.bars.y = probabilities.astype(float)
            self.bars.colors = [top_colour if d == top else GREY for d in range(10)]
        image = np.zeros((SIZE, SIZE)) if prediction is None else prediction.model_input
        self.preview.value = _png(image, PREVIEW_SCALE)
        if self.insides:
            self.insides.show(prediction)

    def _say(self, text, error=False):
        colour = "#b00020" if error else "#555"
        self.message.value = (f"<span style='color:{colour}'>{html.escape(text)}</span>"
                              if text else "")


# --- pieces of the display ---------------------------------------------------------------

def _make_chart():
    """bqplot bars of the 10 probabilities: fixed 0..1 scale, labels, tooltip, small."""
    x = bqplot.OrdinalScale(domain=[str(d) for d in range(10)])
    y = bqplot.LinearScale(min=0.0, max=1.0, allow_padding=False)
    bars = bqplot.Bars(
        x=[str(d) for d in range(10)], y=np.zeros(10), scales={"x": x, "y": y},
        # one colour per bar: for 1-d y that is color_mode "group" (bqplot's Bars.js gives
        # every bar colors[0] under "element" unless y is 2-d)
        color_mode="group", colors=[GREY] * 10, padding=0.2,
        label_display=True, label_display_format=".0%", label_display_vertical_offset=-14,
        label_font_style={"font-size": "10px"},
        apply_clip=False,  # the label above a 100% bar sits outside the plot area
        tooltip=bqplot.Tooltip(fields=["x", "y"], formats=["", ".1%"],
                               labels=["digit", "probability"]))
    axes = [bqplot.Axis(scale=x, label="digit"),
            bqplot.Axis(scale=y, orientation="vertical", tick_format=".0%", num_ticks=3)]
    chart = bqplot.Figure(marks=[bars], axes=axes, animation_duration=150, padding_y=0,
                          fig_margin={"top": 20, "bottom": 40, "left": 45, "right": 10},
                          layout=widgets.Layout(width="320px", height="200px"))
    return bars, chart


def _answer_html(prediction, strokes):
    """The top digit, large, with its confidence; or the empty / not-sure state in words.

    `data-strokes` says how many strokes the answer is for, so a test driving a browser
    knows when the answer for its last stroke has arrived.
    """
    def box(big, small):
        return (f"<div data-strokes='{strokes}' style='text-align:center;line-height:1.1'>"
                f"<div class='digitpad-digit' style='font-size:56px;font-weight:bold'>{big}</div>"
                f"<div class='digitpad-detail' style='font-size:13px;color:#555'>{small}</div>"
                f"</div>")
    if prediction is None or strokes == 0:
        return box("&nbsp;", "Draw a digit")
    if prediction.digit is None:  # ink, but nothing to read: a dot, noise
        return box(f"<span style='color:{UNSURE}'>?</span>",
                   f"Not sure: is this a digit?<br>{html.escape(prediction.reason or '')}")
    if not prediction.confident:
        return box(f"<span style='color:{UNSURE}'>?</span>",
                   f"Not sure: is this a digit?<br>best guess {prediction.digit} "
                   f"({prediction.confidence:.0%}). {html.escape(prediction.reason or '')}")
    return box(prediction.digit, f"{prediction.confidence:.0%} sure")


def _as_points(stroke, index):
    """A stroke as a list of (x, y) float pairs, or a clear error."""
    try:
        points = np.asarray(stroke, dtype=float)
    except (TypeError, ValueError):
        points = np.empty((0, 0))
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"Stroke {index} must be a non-empty list of (x, y) points; got "
                         f"{str(stroke)[:60]}.")
    if not np.isfinite(points).all():
        raise ValueError(f"Stroke {index} has a NaN or infinite coordinate.")
    return [(float(x), float(y)) for x, y in points]


def _finite(x, y):
    """A browser event's point is usable: NaN or infinite coordinates are dropped, not drawn."""
    try:
        return bool(np.isfinite([x, y]).all())
    except TypeError:
        return False


def _png(image, scale=1, rgb=False):
    """A [0, 1] array (H, W) or (H, W, 3) as PNG bytes, each pixel a scale x scale square."""
    a = np.clip(np.asarray(image) * 255.0, 0, 255).astype(np.uint8)
    if scale > 1:
        a = a.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(a).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# --- teaching extras ---------------------------------------------------------------------

class _Insides:
    """What happens inside: first-layer feature maps and an occlusion map, per stroke.

    Feature maps: the output of the model's first Conv2D for the current input, one small
    grey tile per filter: the edge and stroke detectors the network starts from.
    Occlusion map: blank a 7x7 patch of the input at a time (all patches in one batched
    model call) and see how much the probability of the answer drops. Red: the answer
    relies on ink there; blue: the ink there speaks against it. It works with any model
    and any Keras backend, which gradient saliency would not without backend code.
    """

    PATCH, STRIDE = 7, 3  # 64 patches: one batched call of ~10-40 ms on 2 cores

    def __init__(self, predictor):
        self.predictor = predictor
        self.first_conv = _first_conv_model(predictor.model)
        self.maps = widgets.Image(format="png")
        self.heat = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{SIZE * PREVIEW_SCALE}px", height=f"{SIZE * PREVIEW_SCALE}px"))
        self.note = widgets.HTML()
        maps_title = ("<b>First layer's feature maps</b>" if self.first_conv else
                      "<b>No Conv2D layer found</b>: no feature maps to show")
        self.box = widgets.VBox([
            widgets.HTML(maps_title), self.maps,
            widgets.HTML("<b>Occlusion map</b>: red = the answer needs this ink, "
                         "blue = this ink argues against it"), self.heat, self.note],
            layout=widgets.Layout(max_width="420px"))
        self.box.add_class("digitpad-insides")
        self._positions = [(r, c) for r in range(0, SIZE - self.PATCH + 1, self.STRIDE)
                           for c in range(0, SIZE - self.PATCH + 1, self.STRIDE)]

    def show(self, prediction):
        x = np.zeros((SIZE, SIZE), np.float32) if prediction is None else prediction.model_input
        if self.first_conv is not None:
            maps = self.first_conv.predict_on_batch(x.reshape(1, SIZE, SIZE, 1))[0]
            self.maps.value = _png(_tile(np.asarray(maps, np.float32)), 2)
        if prediction is None or prediction.digit is None:
            self.heat.value = _png(np.zeros((SIZE, SIZE)), PREVIEW_SCALE)
            self.note.value = ""
            return
        drop = self.occlusion(x, prediction.digit)
        self.heat.value = _png(_heat_overlay(x, drop), PREVIEW_SCALE)
        self.note.value = (f"<small>largest drop in P({prediction.digit}) when a patch is "
                           f"blanked: {drop.max():.0%}</small>")

    def occlusion(self, x, digit):
        """(28, 28) drop in P(digit) when covering each pixel, averaged over patches."""
        batch = np.repeat(x[None], len(self._positions), axis=0)
        for i, (r, c) in enumerate(self._positions):
            batch[i, r:r + self.PATCH, c:c + self.PATCH] = 0.0
        base = self.predictor.probabilities(x[None])[0, digit]
        drops = base - self.predictor.probabilities(batch)[:, digit]
        total, count = np.zeros((SIZE, SIZE)), np.zeros((SIZE, SIZE))
        for (r, c), d in zip(self._positions, drops):
            total[r:r + self.PATCH, c:c + self.PATCH] += d
            count[r:r + self.PATCH, c:c + self.PATCH] += 1
        return total / np.maximum(count, 1)


def _first_conv_model(model):
    """A model from the input to the first Conv2D's output, or None if there is none."""
    import keras

    conv = next((layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)),
                None)
    if conv is None:
        return None
    try:
        return keras.Model(model.inputs, conv.output)
    except (AttributeError, ValueError):  # a subclassed model has no graph to cut
        return None


def _tile(maps, columns=8):
    """(28, 28, C) feature maps as one grid image, each map scaled to its own [0, 1]."""
    h, w, n = maps.shape
    rows = -(-n // columns)
    grid = np.ones((rows * (h + 1) - 1, columns * (w + 1) - 1), np.float32)
    for k in range(n):
        m = maps[..., k]
        span = m.max() - m.min()
        r, c = divmod(k, columns)
        grid[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = (
            1.0 - (m - m.min()) / span if span > 0 else 1.0)
    return grid


def _heat_overlay(x, drop):
    """The input in light grey with red (drop > 0) and blue (drop < 0) laid over it."""
    scale = max(float(np.abs(drop).max()), 1e-6)
    red, blue = np.clip(drop / scale, 0, 1), np.clip(-drop / scale, 0, 1)
    base = 1.0 - 0.35 * x
    return np.stack([base * (1 - blue), base * (1 - np.maximum(red, blue)), base * (1 - red)],
                    axis=2)
