"""The page: its layout and its events. ``build_demo(model)`` makes it for any model.

What each event does lives in :mod:`webapp.answers`; how an answer looks, in :mod:`webapp.view`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

import knn
from knn.engine import WEIGHTS
from knn.params import MAX_NEIGHBOURS
from webapp import answers, view
from webapp.inputs import drawing_pad, image_file
from webapp.settings import (
    BRUSH_SIZE,
    CANVAS_SIDE,
    CONCURRENCY,
    FILE_LIFETIME,
    PREVIEW_SCALE,
    QUEUE_SIZE,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"

INTRO = (
    "# Draw a digit\nA k-nearest-neighbours classifier written from scratch says which digit it "
    "sees, how sure it is, and which training digits voted."
)

#: Gradio opens the sketchpad, and leaves it after "Clear canvas", with no tool selected:
#: select the brush (the first tool) so that the first touch draws.
SELECT_BRUSH = """
() => {
  const select = () => {
    const brush = document.querySelector("#sketchpad .toolbar-wrap button");
    if (brush) brush.click();
    else setTimeout(select, 100);
  };
  select();
}
"""

CSS = f"""
.digit {{ image-rendering: pixelated; background: #000; }}
#preview .digit {{ max-width: 100%; height: auto; }}
.neighbours {{ display: flex; flex-wrap: wrap; gap: 8px; }}
.neighbour {{ margin: 0; text-align: center; font-size: 0.85em; }}
.neighbour figcaption {{ margin-top: 2px; }}
#notice {{ border: 1px solid #d97706; border-radius: 8px; padding: 0 12px; background: #fef3c7; }}
#sketchpad {{ max-width: 100%; }}
#draw-column {{ min-width: min({CANVAS_SIDE + 60}px, 100%); }}
"""


def build_demo(
    model: knn.DigitModel, notice: str | None = None, report: dict[str, Any] | None = None
) -> gr.Blocks:
    """The page for ``model``, with ``notice`` as a banner and ``report`` in the About panel."""
    with gr.Blocks(title="Draw a digit", delete_cache=(FILE_LIFETIME, FILE_LIFETIME)) as demo:
        gr.Markdown(INTRO)
        if notice:
            gr.Markdown(notice, elem_id="notice")
        digit = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(elem_id="draw-column"):
                with gr.Tab("Draw"):
                    sketchpad = drawing_pad(
                        label="Your digit",
                        elem_id="sketchpad",
                        canvas_size=(CANVAS_SIDE, CANVAS_SIDE),
                        fixed_canvas=True,
                        brush=gr.Brush(
                            default_size=BRUSH_SIZE, colors=["#000000"], color_mode="fixed"
                        ),
                        layers=False,
                        transforms=(),
                        buttons=[],
                        height=CANVAS_SIDE + 120,
                    )
                    classify_button = gr.Button("Classify", variant="primary")
                with gr.Tab("Upload"):
                    upload = image_file(
                        label="A photo or scan of one digit on paper",
                        sources=["upload", "webcam", "clipboard"],
                    )
                    gr.Examples(
                        [[str(path)] for path in sorted(ASSETS.glob("digit-*.png"))],
                        inputs=upload,
                        label="Digits drawn by this project",
                        examples_per_page=10,
                    )
            with gr.Column():
                prediction = gr.Label(label="Prediction", num_top_classes=3, elem_id="prediction")
                votes = gr.Markdown(view.hint().votes, elem_id="votes")
                preview = gr.HTML(
                    label=f"What the model sees (28x28, shown {PREVIEW_SCALE}x)",
                    show_label=True,
                    container=True,
                    elem_id="preview",
                )
                neighbours = gr.HTML(
                    label="Nearest training digits, nearest first",
                    show_label=True,
                    container=True,
                    elem_id="neighbours",
                )
        with gr.Accordion("Advanced", open=False):
            k = gr.Slider(
                1, MAX_NEIGHBOURS, value=model.params.n_neighbors, step=1, label="k: voters"
            )
            weights = gr.Radio(list(WEIGHTS), value=model.params.weights, label="Weighting")
        with gr.Accordion("About", open=False):
            gr.Markdown(view.about(model, report), elem_id="about")

        # The API: an image file in; the Label value and the details as JSON out.
        api_image = image_file(visible=False)
        api_images = gr.Checkbox(False, visible=False, label="images")
        api_label = gr.Label(visible=False)
        api_details = gr.JSON(visible=False)

        def shown(answer: view.View) -> dict[gr.components.Component, Any]:
            return {
                prediction: answer.label,
                votes: answer.votes,
                preview: answer.preview,
                neighbours: answer.neighbours,
                digit: answer.digit,
            }

        def on_drawing(drawing: Any, k: float, weights: str) -> dict:
            return shown(answers.classify(model, drawing, k, weights))

        def on_options(kept: Any, k: float, weights: str) -> dict:
            return shown(answers.reclassify(model, kept, k, weights))

        def on_api(image: Any, k: float, weights: str, images: bool) -> tuple:
            return answers.classify_for_api(model, image, k, weights, images)

        outputs = [prediction, votes, preview, neighbours, digit]
        limits = {"concurrency_limit": CONCURRENCY, "concurrency_id": "classify"}
        page = {**limits, "api_visibility": "private", "show_progress": "hidden"}
        gr.on(
            [sketchpad.change, classify_button.click],
            on_drawing,
            [sketchpad, k, weights],
            outputs,
            trigger_mode="always_last",
            **page,
        )
        upload.change(on_drawing, [upload, k, weights], outputs, **page)
        gr.on([k.change, weights.change], on_options, [digit, k, weights], outputs, **page)
        api_image.upload(
            on_api,
            [api_image, k, weights, api_images],
            [api_label, api_details],
            api_name="classify",
            **limits,
        )
        demo.load(None, js=SELECT_BRUSH)
        sketchpad.clear(None, js=SELECT_BRUSH)
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
