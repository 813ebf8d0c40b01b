"""The page: its layout and its events. ``build_demo(model)`` makes it for any model.

What each event does lives in :mod:`webapp.answers`; how an answer looks, in :mod:`webapp.view`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

import knn
from knn.engine import WEIGHTS
from knn.examples import ExampleStore
from knn.params import MAX_NEIGHBOURS
from webapp import answers, view
from webapp.inputs import drawing_pad, image_file, pad_height_css, pad_options
from webapp.settings import (
    CANVAS_SIDE,
    CONCURRENCY,
    FILE_LIFETIME,
    NUMBER_CANVAS,
    PREVIEW_SCALE,
    QUEUE_SIZE,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"

INTRO = (
    "# Draw a digit\nA k-nearest-neighbours classifier written from scratch says which digit it "
    "sees, how sure it is, and which training digits voted."
)

#: Gradio opens a sketchpad, and leaves it after "Clear canvas", with no tool selected: select
#: the brush (the first tool) of each pad so that the first touch draws. A pad in a hidden tab
#: is drawn when its tab opens, so the selection is tried again for a while.
SELECT_BRUSH = """
() => {
  const done = new Set();
  let tries = 0;
  const select = () => {
    for (const id of ["sketchpad", "number-pad"]) {
      const brush = document.querySelector(`#${id} .toolbar-wrap button`);
      if (brush && !done.has(id)) { brush.click(); done.add(id); }
    }
    if (done.size < 2 && tries++ < 600) setTimeout(select, 100);
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
#sketchpad {{ max-width: 100%; height: {pad_height_css((CANVAS_SIDE, CANVAS_SIDE))} !important; }}
#draw-column {{ min-width: min({CANVAS_SIDE + 60}px, 100%); }}
#number-pad {{ max-width: 100%; height: {pad_height_css(NUMBER_CANVAS)} !important; }}
#number h1 {{ font-size: 3em; letter-spacing: 0.1em; margin: 0; }}
#teach {{ flex-wrap: wrap; gap: 4px; align-items: center; }}
#teach button {{ flex: 0 0 auto; }}
#teach-label {{ flex: 0 0 auto !important; width: max-content !important; }}
.yours {{ background: #fde68a; border-radius: 4px; padding: 0 4px; font-weight: 600; }}
"""


def visitor(request: gr.Request) -> tuple[str, str | None]:
    """Who asks: the session (one page) and the user name when logged in."""
    return request.session_hash, request.username


def build_demo(
    model: knn.DigitModel,
    store: ExampleStore,
    notice: str | None = None,
    report: dict[str, Any] | None = None,
    judge: knn.DigitJudge | None = None,
) -> gr.Blocks:
    """The page for ``model``, keeping visitors' corrections in ``store``, with ``notice`` as a
    banner and ``report`` in the About panel; ``judge`` says where a written number's touching
    digits part (default: one without misfits, :class:`knn.DigitJudge`)."""
    judge = judge if judge is not None else knn.DigitJudge(model)
    with gr.Blocks(title="Draw a digit", delete_cache=(FILE_LIFETIME, FILE_LIFETIME)) as demo:
        gr.Markdown(INTRO)
        if notice:
            gr.Markdown(notice, elem_id="notice")
        digit = gr.State(None)
        read_digits = gr.State([])
        mine = gr.State(answers.NOBODY)  # what this visitor taught, and their model
        standing = gr.State(None)  # the drawn digit whose answer stands until corrected or cleared
        with gr.Row(equal_height=False):
            with gr.Column(elem_id="draw-column"):
                with gr.Tab("Draw"):
                    sketchpad = drawing_pad(
                        label="Your digit",
                        elem_id="sketchpad",
                        **pad_options((CANVAS_SIDE, CANVAS_SIDE)),
                    )
                    classify_button = gr.Button("Classify", variant="primary")
                with gr.Tab("Number"):
                    number_pad = drawing_pad(
                        label="Your number", elem_id="number-pad", **pad_options(NUMBER_CANVAS)
                    )
                    number = gr.Markdown(view.number_hint().text, elem_id="number")
                    number_digits = gr.HTML(elem_id="number-digits")
                    picked = gr.Radio(
                        [], label="Show a digit's voters", elem_id="number-pick", visible=False
                    )
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
                with gr.Row(elem_id="teach", equal_height=True):
                    gr.Markdown("Wrong? It's a …", elem_id="teach-label")
                    teach_buttons = [
                        gr.Button(str(d), size="sm", min_width=36, elem_id=f"teach-{d}")
                        for d in range(10)
                    ]
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
        with gr.Accordion("Your examples", open=False, elem_id="your-examples"):
            gr.Markdown(view.STORE_NOTE)
            nothing_yet, _ = view.examples_view(answers.NO_EXAMPLES, answers.NO_EXAMPLES)
            yours = gr.HTML(nothing_yet, elem_id="yours")
            with gr.Row():
                to_remove = gr.Dropdown([], label="Remove an example", elem_id="remove-choice")
                remove_button = gr.Button("Remove", elem_id="remove")
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
        api_number_image = image_file(visible=False)
        api_number_text = gr.Textbox(visible=False)

        def shown(answer: view.View) -> dict[gr.components.Component, Any]:
            return {
                prediction: answer.label,
                votes: answer.votes,
                preview: answer.preview,
                neighbours: answer.neighbours,
                digit: answer.digit,
            }

        def on_drawing(drawing: Any, k: float, weights: str, taught: answers.Taught) -> dict:
            return shown(answers.classify(answers.for_visitor(model, taught), drawing, k, weights))

        def on_sketch(
            drawing: Any,
            k: float,
            weights: str,
            taught: answers.Taught,
            stood: np.ndarray | None,
            answer: dict[str, float] | None,
        ) -> dict:
            """The drawing's answer; when the canvas is cleared, the answer it showed before
            stood uncorrected: that digit joins the visitor's examples with it."""
            drawn = answers.classify(answers.for_visitor(model, taught), drawing, k, weights)
            label = answers.shown_label(answer)
            if drawn.digit is None and stood is not None and label is not None:
                taught = answers.accept(model, stood, label, taught)
                return {**shown(drawn), **examples_shown(taught), standing: None}
            return {**shown(drawn), standing: drawn.digit if drawn.is_digit else None}

        def on_upload(image: Any, k: float, weights: str, taught: answers.Taught) -> dict:
            return {**on_drawing(image, k, weights, taught), standing: None}

        def on_options(kept: Any, k: float, weights: str, taught: answers.Taught) -> dict:
            return shown(answers.reclassify(answers.for_visitor(model, taught), kept, k, weights))

        def examples_shown(taught: answers.Taught) -> dict:
            html, choices = view.examples_view(taught.examples, taught.accepted)
            return {mine: taught, yours: html, to_remove: gr.Dropdown(choices=choices, value=None)}

        def on_teach(label: int) -> Callable[..., dict]:
            def teach(
                kept: Any,
                answer: dict[str, float] | None,
                k: float,
                weights: str,
                taught: answers.Taught,
                digits: list[np.ndarray],
                request: gr.Request,
            ) -> dict:
                if kept is None:
                    raise gr.Error("Draw a digit first, then say which digit it is.")
                predicted = answers.shown_label(answer)
                taught = answers.teach(
                    store, model, kept, label, predicted, taught, *visitor(request)
                )
                answer = on_options(kept, k, weights, taught)
                return {
                    **answer,
                    **examples_shown(taught),
                    **number_reread(kept, digits, taught),
                    standing: None,  # it does not stand
                }

            return teach

        def number_reread(
            kept: np.ndarray, digits: list[np.ndarray], taught: answers.Taught
        ) -> dict:
            """If the digit taught is one of the written number's, the number read again with
            it, that digit still picked."""
            mine = [i for i, d in enumerate(digits) if np.array_equal(d, kept)]
            if not mine:
                return {}
            read = answers.reread_number(answers.for_visitor(model, taught), digits)
            return {
                number: read.text,
                number_digits: read.digits_html,
                picked: gr.Radio(choices=read.choices, value=read.choices[mine[0]]),
            }

        def on_remove(
            chosen: str | None,
            kept: Any,
            k: float,
            weights: str,
            taught: answers.Taught,
            request: gr.Request,
        ) -> dict:
            if chosen is None:
                return {}
            taught = answers.forget(store, model, taught, chosen, *visitor(request))
            return {**on_options(kept, k, weights, taught), **examples_shown(taught)}

        def on_load(request: gr.Request) -> dict:
            """A logged-in visitor gets back the examples of earlier visits."""
            if not request.username:
                return {}
            earlier = store.examples(user=request.username)
            return examples_shown(answers.Taught.build(model, earlier))

        def on_api(image: Any, k: float, weights: str, images: bool) -> tuple:
            return answers.classify_for_api(model, image, k, weights, images)

        def on_number(drawing: Any, taught: answers.Taught, before: list[np.ndarray]) -> dict:
            read = answers.read_number(answers.for_visitor(model, taught), drawing, judge, before)
            if read is None:  # the digits already shown
                return {}
            choices = read.choices
            return {
                number: read.text,
                number_digits: read.digits_html,
                picked: gr.Radio(choices=choices, value=None, visible=bool(choices)),
                read_digits: read.digits,
            }

        def on_pick(
            choice: str | None, digits: list, k: float, weights: str, taught: answers.Taught
        ) -> dict:
            if not choice:
                return {}
            position = int(choice.split(":", 1)[0]) - 1
            return {**on_options(digits[position], k, weights, taught), standing: None}

        def on_number_api(image: Any) -> tuple:
            return answers.read_number_for_api(model, image, judge)

        outputs = [prediction, votes, preview, neighbours, digit]
        limits = {"concurrency_limit": CONCURRENCY, "concurrency_id": "classify"}
        page = {**limits, "api_visibility": "private", "show_progress": "hidden"}
        taught_outputs = [*outputs, mine, yours, to_remove, standing]
        gr.on(
            [sketchpad.change, classify_button.click],
            on_sketch,
            [sketchpad, k, weights, mine, standing, prediction],  # the answer shown may stand
            taught_outputs,
            trigger_mode="always_last",
            **page,
        )
        upload.change(on_upload, [upload, k, weights, mine], [*outputs, standing], **page)
        gr.on([k.change, weights.change], on_options, [digit, k, weights, mine], outputs, **page)
        # The answer shown is recorded; a digit of the written number re-reads the number.
        teach_inputs = [digit, prediction, k, weights, mine, read_digits]
        teach_outputs = [*taught_outputs, number, number_digits, picked]
        for label, button in enumerate(teach_buttons):
            button.click(on_teach(label), teach_inputs, teach_outputs, **page)
        remove_button.click(on_remove, [to_remove, digit, k, weights, mine], taught_outputs, **page)
        number_outputs = [number, number_digits, picked, read_digits]
        number_pad.change(
            on_number,
            [number_pad, mine, read_digits],
            number_outputs,
            trigger_mode="always_last",
            **page,
        )
        picked.input(on_pick, [picked, read_digits, k, weights, mine], [*outputs, standing], **page)
        api_image.upload(
            on_api,
            [api_image, k, weights, api_images],
            [api_label, api_details],
            api_name="classify",
            **limits,
        )
        api_number_image.upload(
            on_number_api,
            api_number_image,
            [api_number_text, api_details],
            api_name="read_number",
            **limits,
        )
        demo.load(on_load, None, [mine, yours, to_remove], api_visibility="private")
        demo.load(None, js=SELECT_BRUSH)
        for pad in (sketchpad, number_pad):
            pad.clear(None, js=SELECT_BRUSH)
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
