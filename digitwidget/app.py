"""The digit recogniser as a web page, for people who never open a notebook.

    pip install "digitwidget[app]"
    python -m digitwidget.app [--host 127.0.0.1] [--port 7860]     # or: make app

A Gradio app with the same Predictor, model and preprocessing as DigitPad: draw on the
sketchpad (or upload an image) and the answer, the ten probabilities and the 28x28 image
the model saw update after each stroke. It runs offline: no analytics, no share link, no
fonts or scripts from elsewhere.

From another program (gradio_client), the drawing goes in as the Sketchpad's dict:

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/", analytics_enabled=False)
    answer, chart, preview, details = client.predict(
        {"background": None, "layers": [], "composite": handle_file("digit.png")},
        api_name="/predict")
    details["digit"], details["confidence"], details["probabilities"]

`/predict_upload` takes `handle_file("digit.png")` as it is.
"""

import argparse
import hashlib
import html
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from PIL import Image  # noqa: E402

from digitwidget.predictor import InvalidImage, Predictor  # noqa: E402

__all__ = ["build_app", "predict_sketch", "predict_file", "cleared", "main"]

CANVAS = 400  # the drawing surface, in pixels; the drawn-digit benchmark covers 280-800
BRUSH = 12  # brush radius: a 24 px pen, 6 % of the canvas, as DigitPad's default
PREVIEW = 5  # the 28x28 model input shown 140 px wide, each pixel a visible square
GREY, HIGHLIGHT, UNSURE = "#9aa5b1", "#1f77b4", "#ff7f0e"
EMPTY = "Draw a digit"

# Gradio 6's Sketchpad opens with no tool chosen ("select the draw tool to start") and
# drops the tool again when it is cleared. A page that must be ready to draw picks the
# brush itself whenever neither brush nor eraser is chosen.
SELECT_BRUSH = """
() => {
    setInterval(() => {
        const pad = document.querySelector("#sketch");
        if (!pad || pad.offsetParent === null) return;
        const brush = pad.querySelector("button[aria-label='Brush']");
        if (brush && !pad.querySelector(".toolbar-wrap button.highlight")) brush.click();
    }, 200);
}
"""

# gr.ClearButton empties the Sketchpad only the first time (Gradio 6.31: it sets the value
# to None, and None again is no change to the editor); the editor's own "Clear canvas"
# button wipes it every time and reports the empty value, so Clear presses that.
CLEAR_CANVAS = """
() => { document.querySelector("#sketch button[aria-label='Clear canvas']")?.click(); }
"""

_predictor = None


def predictor():
    """The shared Predictor, made on first use: loading Keras and the model takes seconds."""
    global _predictor
    if _predictor is None:
        _predictor = Predictor()
    return _predictor


def predict_sketch(sketch):
    """The Sketchpad's value (a dict with 'composite', or None once cleared) to the outputs.

    A uniform image has nothing drawn on it: the empty state, not a verdict on blankness.
    """
    image = sketch.get("composite") if isinstance(sketch, dict) else sketch
    if image is None or np.ptp(np.asarray(image)) == 0:
        return show(None)
    return show(_judge(image))


def predict_file(path):
    """An uploaded file (a path, or None once cleared) to the outputs, through the same
    Predictor. What is not an image is answered in words in the answer box."""
    if path is None:
        return show(None)
    result = _judge(path)
    if isinstance(result, str):  # name the file as the user knows it, not our temp copy
        result = result.replace(str(path), os.path.basename(path))
    return show(result)


def cleared():
    """The outputs after Clear. The canvas is wiped in the browser (CLEAR_CANVAS; a server
    function returning None for the sketchpad can leave it stuck); this resets the answer,
    which the sketchpad's change event would not do if it was already empty."""
    return show(None)


def _judge(image):
    """A Prediction, or InvalidImage's message: in the answer box, never a traceback."""
    try:
        return predictor().predict(image)
    except InvalidImage as err:
        return str(err)


def show(result):
    """A Prediction, None (nothing yet) or an error message, as the four outputs:
    answer (HTML), bar chart (Plotly), 28x28 preview (PIL) and details (a dict, for APIs)."""
    if isinstance(result, str):
        details = _no_answer(result)
        return _answer(details, error=True), _chart(details), _preview(None), details
    details = _details(result)
    model_input = None if result is None else result.model_input
    return _answer(details, model_input), _chart(details), _preview(model_input), details


def _details(prediction):
    """What a program calling the API needs, in plain JSON types."""
    if prediction is None:
        return _no_answer(EMPTY)
    return {"digit": prediction.digit, "confidence": round(prediction.confidence, 4),
            "confident": prediction.confident, "reason": prediction.reason,
            "probabilities": {str(d): round(float(p), 4)
                              for d, p in enumerate(prediction.probabilities)}}


def _no_answer(reason):
    """The details when there is no digit to give: nothing drawn yet, or an error."""
    return {"digit": None, "confidence": 0.0, "confident": False, "reason": reason,
            "probabilities": {str(d): 0.0 for d in range(10)}}


def _answer(details, model_input=None, error=False):
    """The top digit, large, with its confidence; or the empty, not-sure or error state.

    `data-input` fingerprints the model input, so a test driving a browser can tell when
    the answer for its latest stroke has arrived.
    """
    digest = "" if model_input is None else hashlib.sha1(model_input.tobytes()).hexdigest()[:12]
    digit, reason = details["digit"], html.escape(details["reason"] or "")
    if error:
        big, small = "<span style='color:#b00020'>!</span>", reason
    elif details["reason"] == EMPTY:
        big, small = "&nbsp;", EMPTY
    elif digit is None or not details["confident"]:
        guess = "" if digit is None else f"best guess {digit} ({details['confidence']:.0%}). "
        big, small = f"<span style='color:{UNSURE}'>?</span>", (
            f"Not sure: is this a digit?<br>{guess}{reason}")
    else:
        big, small = str(digit), f"{details['confidence']:.0%} sure"
    return (f"<div class='dw-answer' data-input='{digest}' style='text-align:center;"
            f"line-height:1.1;min-height:110px'>"
            f"<div class='dw-digit' style='font-size:64px;font-weight:bold'>{big}</div>"
            f"<div class='dw-detail' style='font-size:14px'>{small}</div></div>")


def _chart(details):
    """Ten bars with their percentages on top and the exact value on hover; the answer's
    bar in blue (orange when unsure). A fixed 0-100 % scale, so bars compare across drawings."""
    digits = [str(d) for d in range(10)]
    values = [details["probabilities"][d] for d in digits]
    top = details["digit"]
    colour = HIGHLIGHT if details["confident"] else UNSURE
    figure = go.Figure(go.Bar(
        x=digits, y=values, marker_color=[colour if d == top else GREY for d in range(10)],
        text=[f"{v:.0%}" if v >= 0.005 else "" for v in values], textposition="outside",
        cliponaxis=False, hovertemplate="digit %{x}: %{y:.2%}<extra></extra>"))
    figure.update_layout(
        height=260, margin={"l": 40, "r": 10, "t": 20, "b": 40}, showlegend=False,
        xaxis={"title": "digit", "type": "category"},
        yaxis={"range": [0, 1.12], "tickformat": ".0%", "tickvals": [0, 0.5, 1]},
        plot_bgcolor="white", paper_bgcolor="white")
    return figure


def _preview(model_input):
    """The 28x28 image the model saw (ink white on black, as MNIST), enlarged."""
    a = np.zeros((28, 28)) if model_input is None else model_input
    pixels = np.clip(np.asarray(a) * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels.repeat(PREVIEW, axis=0).repeat(PREVIEW, axis=1))


def build_app():
    """The Blocks: sketchpad and upload tabs on the left, the answer on the right."""
    empty_answer, empty_chart, empty_preview, empty_details = show(None)
    with gr.Blocks(title="digitwidget: draw a digit", analytics_enabled=False) as app:
        gr.Markdown("## Draw a digit\nThe answer updates each time you lift the pen.")
        with gr.Row():
            with gr.Column(scale=3, min_width=440):
                with gr.Tabs():
                    with gr.Tab("Draw", id="draw"):
                        sketch = gr.Sketchpad(
                            elem_id="sketch", label="Draw a digit 0-9", show_label=False,
                            canvas_size=(CANVAS, CANVAS), fixed_canvas=True, height=CANVAS + 90,
                            brush=gr.Brush(colors=["#000000"], color_mode="fixed",
                                           default_size=BRUSH),
                            layers=False, transforms=(), buttons=[], type="numpy")
                    with gr.Tab("Upload an image", id="upload"):
                        upload = gr.File(elem_id="upload", label="A photo or scan of one digit",
                                         file_types=["image"], type="filepath")
                clear = gr.ClearButton([upload], value="Clear", elem_id="clear")
            with gr.Column(scale=2, min_width=320):
                answer = gr.HTML(empty_answer, elem_id="answer")
                chart = gr.Plot(empty_chart, elem_id="chart", show_label=False)
                with gr.Row():
                    preview = gr.Image(empty_preview, elem_id="preview",
                                       label="What the model sees (28x28)", type="pil",
                                       format="png", interactive=False, buttons=[],
                                       width=28 * PREVIEW + 20, height=28 * PREVIEW + 40)
                with gr.Accordion("Details (what the API returns)", open=False):
                    details = gr.JSON(empty_details, elem_id="details", show_label=False)
        outputs = [answer, chart, preview, details]
        sketch.change(predict_sketch, sketch, outputs, api_name="predict",
                      trigger_mode="always_last", show_progress="hidden")
        upload.change(predict_file, upload, outputs, api_name="predict_upload",
                      show_progress="hidden")
        clear.click(cleared, None, outputs, js=CLEAR_CANVAS, api_visibility="private",
                    show_progress="hidden")
    return app


def main(argv=None):
    """Serve the app. Host and port default to Gradio's own GRADIO_SERVER_NAME and
    GRADIO_SERVER_PORT, so the Docker image runs the same command with 0.0.0.0."""
    parser = argparse.ArgumentParser(prog="python -m digitwidget.app", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    args = parser.parse_args(argv)
    predictor()  # load the model before the first visitor, not during their first stroke
    build_app().launch(server_name=args.host, server_port=args.port, share=False,
                       js=SELECT_BRUSH, footer_links=["api"], run_history=False,
                       ssr_mode=False)


if __name__ == "__main__":
    main()
