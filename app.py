"""Draw a digit; a from-scratch kNN says what it is, how sure it is and why: ``python app.py``.

This file is the page only. ``preprocessing.to_mnist`` turns a drawing into a 28x28 digit and
``knn.DigitModel`` classifies it. ``build_demo(model)`` builds the page for any model (tests use a
small one); ``main`` loads the MNIST model, or the offline fallback, and serves it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

import knn
import preprocessing
from knn.evaluate import load_report
from knn.fallback import load_model_or_fallback
from knn.params import ModelParams
from knn.storage import atomic_write

ASSETS = Path(__file__).resolve().parent / "assets"
IMAGES = Path(tempfile.gettempdir()) / "draw-a-digit-images"  # see `as_png_file`
CANVAS_SIDE = 400  # pixels, the sketchpad's canvas and its size on the page
BRUSH_SIZE = 12  # pixels; strokes about as thick, relative to the digit, as MNIST's
PREVIEW_SCALE = 10  # the 28x28 model input is shown 280x280
THUMBNAIL_SCALE = 4  # neighbours are shown 112x112
MAX_K = 15
CONCURRENCY = 4  # classify requests served at once; the model is read-only
QUEUE_SIZE = 64  # requests waiting beyond those; more are refused rather than kept waiting
MAX_FILE_SIZE = "5mb"
FILE_LIFETIME = 3600  # seconds files stay: our images once unused, uploads and Gradio's copies
AUTH_ENV = "APP_AUTH"
START_HINT = "Draw a digit on the canvas: the prediction follows your pen."

#: Gradio 6 opens the sketchpad, and leaves it after "Clear canvas", with no tool selected:
#: select the brush (the first tool) so that the first click draws.
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

CSS = """
#preview img, #neighbours img { image-rendering: pixelated; }
#notice { border: 1px solid #d97706; border-radius: 8px; padding: 0 12px; background: #fef3c7; }
"""

log = logging.getLogger("draw-a-digit")

#: What every classify event returns: the Label value, the model input enlarged (a PNG file),
#: the gallery of neighbours (PNG files and captions), the vote tally (or a hint), and the 28x28
#: digit kept for the Advanced controls.
Outputs = tuple[dict[str, float] | None, str | None, list[tuple[str, str]], str, np.ndarray | None]


def classify(model: knn.DigitModel, image: Any, k: float, weights: str) -> Outputs:
    """Read a drawing (Sketchpad dict, file path, ...) and show the model's answer.

    A blank drawing gives a hint; input that cannot be read gives a short ``gr.Error``.
    """
    try:
        digit = preprocessing.to_mnist(image)
    except preprocessing.EmptyDrawingError as err:
        return hint(str(err))
    except (ValueError, TypeError) as err:
        raise gr.Error(str(err), print_exception=False) from None
    return explain(model, digit, k, weights)


def explain(model: knn.DigitModel, digit: np.ndarray | None, k: float, weights: str) -> Outputs:
    """Classify a uint8 (28, 28) digit (0 paper, 255 ink) with k neighbours and this weighting."""
    if digit is None:
        return hint(START_HINT)
    result = model.with_params(n_neighbors=int(k), weights=weights).classify(digit)
    probabilities = {str(d): float(p) for d, p in enumerate(result.probabilities)}
    gallery = [
        (enlarge(n.image, THUMBNAIL_SCALE), f"{n.label} · distance {n.distance:.0f}")
        for n in result.neighbours
    ]
    return probabilities, enlarge(digit, PREVIEW_SCALE), gallery, tally(result, weights), digit


def hint(message: str) -> Outputs:
    """Empty outputs and a message in place of the vote tally."""
    return None, None, [], f"✏️ {message}", None


def enlarge(digit: np.ndarray, scale: int) -> str:
    """A uint8 (28, 28) digit enlarged ``scale`` times with square, crisp pixels, as a PNG file."""
    height, width = digit.shape
    size = (width * scale, height * scale)
    return as_png_file(Image.fromarray(digit).resize(size, Image.Resampling.NEAREST))


def as_png_file(image: Image.Image) -> str:
    """The path of a PNG file of ``image`` in IMAGES, named by its content, written once atomically.

    Gradio rewrites the cache file of an image returned as pixels on every request, in place, so
    two requests with the same answer (a popular neighbour) can serve a half-written file. A file
    path is copied into its cache once, atomically.
    """
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    data = buffer.getvalue()
    path = IMAGES / f"{hashlib.sha256(data).hexdigest()[:32]}.png"
    if path.exists():
        path.touch()  # used again: `prune_images` keeps it
    else:
        with atomic_write(path) as file:
            file.write(data)
    return str(path)


def prune_images(max_age: float) -> int:
    """Delete the files in IMAGES unused for ``max_age`` seconds; return how many went."""
    cutoff = time.time() - max_age
    pruned = 0
    for path in IMAGES.glob("*.png"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                pruned += 1
        except FileNotFoundError:  # another process pruned it first
            pass
    return pruned


def keep_images_pruned() -> None:
    """Prune IMAGES every `FILE_LIFETIME` seconds, forever (a daemon thread's loop)."""
    while True:
        time.sleep(FILE_LIFETIME)
        log.info("Pruned %d unused image files", prune_images(FILE_LIFETIME))


def tally(result: knn.Classification, weights: str) -> str:
    """The neighbours' votes, most probable digit first, as one line of Markdown."""
    counts = Counter(n.label for n in result.neighbours)
    order = sorted(counts, key=lambda label: -result.probabilities[label])
    votes = ", ".join(
        f"**{label}**: {counts[label]} of {len(result.neighbours)} "
        f"({result.probabilities[label]:.0%})"
        for label in order
    )
    how = "each vote weighs 1 / distance" if weights == "distance" else "one vote each"
    return f"Votes of the {len(result.neighbours)} nearest training digits ({how}): {votes}"


def about(model: knn.DigitModel, report: dict[str, Any] | None) -> str:
    """The About panel: the model served, and the figures of the last evaluation if any."""
    lines = [
        f"**Serving:** {model.dataset}, {len(model.labels):,} training digits, "
        f"k = {model.params.n_neighbors}, {model.params.weights} weighting "
        "(change them under Advanced).",
        "",
        f"**Features and distance:** {model.describe()}.",
        "",
    ]
    if report is None:
        lines.append(
            "**Accuracy and speed:** not measured yet. Run `python -m knn.evaluate` (with the "
            "same `--cache-dir` as the app, if you give one) and restart the app to see them here."
        )
    else:
        lines += [
            f"**Last evaluation** (`python -m knn.evaluate`): {report['dataset']}, "
            f"{report['n_train']:,} training digits, k = {report['k']}, "
            f"{report['weights']} weighting, features: {report['feature']}.",
            "",
            f"**Test accuracy:** {report['accuracy']:.2%} on {report['n_test']:,} test digits. "
            f"**Speed:** {report['ms_per_query']:.2f} ms per digit in batches "
            f"({report['queries_per_second']:,.0f} digits per second).",
        ]
    return "\n".join(lines)


def build_demo(
    model: knn.DigitModel, notice: str | None = None, report: dict[str, Any] | None = None
) -> gr.Blocks:
    """The page for ``model``, with ``notice`` as a banner and ``report`` in the About panel."""
    lifetime = (FILE_LIFETIME, FILE_LIFETIME)  # uploads and Gradio's copies go after an hour
    with gr.Blocks(title="Draw a digit", delete_cache=lifetime) as demo:
        gr.Markdown(
            "# Draw a digit\nA k-nearest-neighbours classifier written from scratch says which "
            "digit it sees, how sure it is, and which training digits voted."
        )
        if notice:
            gr.Markdown(notice, elem_id="notice")
        digit = gr.State(None)
        with gr.Row():
            with gr.Column(scale=0, min_width=CANVAS_SIDE + 80):
                with gr.Tab("Draw"):
                    sketchpad = gr.Sketchpad(
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
                        width=CANVAS_SIDE + 60,
                        height=CANVAS_SIDE + 120,
                    )
                    button = gr.Button("Classify", variant="primary")
                with gr.Tab("Upload"):
                    upload = gr.Image(
                        label="A photo or scan of one digit on paper",
                        type="filepath",
                        image_mode=None,
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
                votes = gr.Markdown(f"✏️ {START_HINT}", label="Votes", elem_id="votes")
                preview = gr.Image(
                    label="What the model sees (28x28)",
                    elem_id="preview",
                    interactive=False,
                    height=PREVIEW_SCALE * 28 + 40,
                    buttons=[],
                )
                neighbours = gr.Gallery(
                    label="Nearest training digits, nearest first",
                    elem_id="neighbours",
                    columns=6,
                    height=260,
                    object_fit="contain",
                    interactive=False,
                )
        with gr.Accordion("Advanced", open=False):
            k = gr.Slider(
                1, MAX_K, value=model.params.n_neighbors, step=1, label="k: neighbours that vote"
            )
            weights = gr.Radio(
                ["uniform", "distance"], value=model.params.weights, label="Weighting"
            )
        with gr.Accordion("About", open=False):
            gr.Markdown(about(model, report), elem_id="about")
        # The API's input is an image file and its first output the Label with all ten classes.
        api_image = gr.Image(type="filepath", image_mode=None, visible=False)
        api_label = gr.Label(label="Prediction", visible=False)

        def read(image: Any, k: float, weights: str) -> Outputs:
            return classify(model, image, k, weights)

        def reread(digit: np.ndarray | None, k: float, weights: str) -> Outputs:
            return explain(model, digit, k, weights)

        shown = [prediction, preview, neighbours, votes, digit]
        options = {"concurrency_limit": CONCURRENCY, "concurrency_id": "classify"}
        page = {**options, "api_visibility": "private", "show_progress": "hidden"}
        gr.on(
            [sketchpad.change, button.click],
            read,
            [sketchpad, k, weights],
            shown,
            trigger_mode="always_last",
            **page,
        )
        upload.change(read, [upload, k, weights], shown, **page)
        gr.on([k.change, weights.change], reread, [digit, k, weights], shown, **page)
        api_image.upload(
            read, [api_image, k, weights], [api_label, *shown[1:]], api_name="classify", **options
        )
        demo.load(None, js=SELECT_BRUSH)
        sketchpad.clear(None, js=SELECT_BRUSH)
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)


def load_digit_model(args: argparse.Namespace) -> tuple[knn.DigitModel, str | None]:
    """The MNIST model, or the offline fallback with a notice saying so when MNIST is nowhere."""
    model, reason = load_model_or_fallback(
        args.data_dir,
        args.cache_dir,
        n_train=args.n_train,
        download=not args.no_download,
        params=ModelParams(n_neighbors=args.k),
    )
    if reason is None:
        return model, None
    notice = (
        "**Offline mode.** MNIST was not found, so this demo runs on scikit-learn's 1,797 "
        "bundled 8x8 digits, upscaled to 28x28: expect rougher answers. To use MNIST, start the "
        "app once with internet access (it downloads MNIST), or put the four MNIST files in a "
        "folder and pass `--data-dir FOLDER` or set `MNIST_DIR`."
    )
    log.warning("%s\n(%s)", notice.replace("**", ""), reason)
    return model, notice


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on; 0.0.0.0 for the local network (default: $GRADIO_SERVER_NAME "
        "or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )
    parser.add_argument("--share", action="store_true", help="also serve a public gradio.live link")
    parser.add_argument(
        "--auth",
        default=os.environ.get(AUTH_ENV),
        metavar="USER:PASSWORD",
        help=f"ask visitors for this login (default: ${AUTH_ENV}, which keeps it out of `ps`)",
    )
    parser.add_argument(
        "--k",
        type=int,
        default=ModelParams().n_neighbors,
        help=f"neighbours that vote, 1 to {MAX_K}",
    )
    parser.add_argument(
        "--n-train",
        type=int,
        help="use only the first N MNIST training digits: faster answers, less memory, a little "
        "less accurate",
    )
    parser.add_argument(
        "--data-dir", help="folder with the four MNIST files (else $MNIST_DIR, ...)"
    )
    parser.add_argument("--cache-dir", help="model cache and evaluation report folder")
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="do not try to download MNIST: if it is not found, serve the offline fallback at once",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.k <= MAX_K:
        parser.error(f"--k must be between 1 and {MAX_K}")
    if args.n_train is not None and args.n_train < MAX_K:
        parser.error(f"--n-train must be at least {MAX_K}")
    if args.auth is not None and ":" not in args.auth:
        parser.error("--auth must look like USER:PASSWORD")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(format="%(message)s")
    log.setLevel(logging.INFO)
    try:
        model, notice = load_digit_model(args)
    except knn.MNISTError as err:
        raise SystemExit(f"error: {err}") from None
    log.info("Model ready: %s, %d training digits", model.dataset, len(model.labels))
    demo = build_demo(model, notice, load_report(args.cache_dir))
    threading.Thread(target=keep_images_pruned, daemon=True).start()
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=tuple(args.auth.split(":", 1)) if args.auth else None,
        max_file_size=MAX_FILE_SIZE,
        allowed_paths=[str(ASSETS)],
        css=CSS,
    )


if __name__ == "__main__":
    main()
