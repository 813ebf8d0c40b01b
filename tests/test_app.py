"""The app's handlers and page, in-process: synthetic drawings, a small model, no server."""

from __future__ import annotations

import os
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image, ImageDraw

import app
import knn
import preprocessing
from assets import make_examples
from knn.fallback import DATASET

REPORT = {
    "dataset": "MNIST",
    "feature": "deskewed 28x28 pixels",
    "k": 4,
    "weights": "distance",
    "n_train": 60000,
    "n_test": 10000,
    "accuracy": 0.9812,
    "ms_per_query": 1.25,
    "queries_per_second": 800.0,
}


@pytest.fixture(scope="module")
def model(mnist: knn.MNIST) -> knn.DigitModel:
    """A kNN on the first 10,000 MNIST training digits: quick to fit, right on clear drawings."""
    return knn.DigitModel.from_images(mnist.train_images[:10000], mnist.train_labels[:10000])


def sketchpad(*strokes: list[tuple[int, int]], side: int = 400, width: int = 24) -> dict:
    """A Sketchpad value as Gradio passes it: black strokes on a transparent RGBA layer."""
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for stroke in strokes:
        draw.line(stroke, fill=(0, 0, 0, 255), width=width, joint="curve")
    pixels = np.asarray(layer)
    return {"background": np.zeros_like(pixels), "layers": [pixels], "composite": pixels.copy()}


ONE = sketchpad([(200, 60), (205, 340)])
SEVEN = sketchpad([(110, 80), (290, 80), (170, 340)])


@pytest.mark.parametrize(("drawing", "digit"), [(ONE, 1), (SEVEN, 7)])
def test_classify_explains_a_drawing(model: knn.DigitModel, drawing: dict, digit: int) -> None:
    probabilities, preview, gallery, votes, kept = app.classify(model, drawing, 4, "distance")
    assert max(probabilities, key=probabilities.get) == str(digit)
    assert sorted(probabilities) == [str(d) for d in range(10)]
    assert sum(probabilities.values()) == pytest.approx(1)
    assert Image.open(preview).size == (28 * app.PREVIEW_SCALE, 28 * app.PREVIEW_SCALE)
    assert len(gallery) == 4
    distances = [float(caption.rsplit(" ", 1)[1]) for _, caption in gallery]
    assert distances == sorted(distances)
    assert gallery[0][1].startswith(f"{digit} · distance ")
    assert f"**{digit}**: " in votes and " of 4 (" in votes
    np.testing.assert_array_equal(kept, preprocessing.to_mnist(drawing))


def test_preview_and_thumbnails_have_crisp_square_pixels(model: knn.DigitModel) -> None:
    digit = preprocessing.to_mnist(SEVEN)
    _, preview, gallery, _, _ = app.classify(model, SEVEN, 4, "distance")
    blocks = np.asarray(Image.open(preview)).reshape(28, app.PREVIEW_SCALE, 28, app.PREVIEW_SCALE)
    np.testing.assert_array_equal(blocks.min(axis=(1, 3)), digit)
    np.testing.assert_array_equal(blocks.max(axis=(1, 3)), digit)
    assert Image.open(gallery[0][0]).size == (28 * app.THUMBNAIL_SCALE, 28 * app.THUMBNAIL_SCALE)


def test_images_are_files_named_by_their_content_and_written_once(model: knn.DigitModel) -> None:
    first = app.classify(model, SEVEN, 4, "distance")
    path = Path(first[1])
    written = path.stat().st_ino
    second = app.classify(model, SEVEN, 4, "distance")
    assert second[1] == first[1] and path.stat().st_ino == written  # not replaced
    assert [p for p, _ in second[2]] == [p for p, _ in first[2]]
    assert path.parent == app.IMAGES and path.suffix == ".png"


def test_unused_images_are_pruned_and_used_ones_kept() -> None:
    kept, stale = (Path(app.as_png_file(Image.new("L", (3, 3), shade))) for shade in (1, 2))
    hour_ago = time.time() - 3600
    for path in (kept, stale):
        os.utime(path, (hour_ago, hour_ago))
    app.as_png_file(Image.new("L", (3, 3), 1))  # used again
    assert app.prune_images(max_age=1800) >= 1
    assert kept.exists() and not stale.exists()


def test_k_and_weighting_apply_to_the_kept_digit(model: knn.DigitModel) -> None:
    digit = app.classify(model, SEVEN, 4, "distance")[-1]
    probabilities, _, gallery, votes, _ = app.explain(model, digit, 7, "uniform")
    assert len(gallery) == 7
    assert "one vote each" in votes
    sevenths = np.array(list(probabilities.values())) * 7
    np.testing.assert_allclose(sevenths, np.round(sevenths), atol=1e-9)
    assert model.params == knn.ModelParams()  # the shared model is untouched


@pytest.mark.parametrize(
    "blank",
    [sketchpad(), None, np.full((300, 300, 3), 255, np.uint8)],
    ids=["canvas", "none", "white"],
)
def test_a_blank_drawing_gives_a_hint(model: knn.DigitModel, blank: object) -> None:
    probabilities, preview, gallery, votes, kept = app.classify(model, blank, 4, "distance")
    assert (probabilities, preview, gallery, kept) == (None, None, [], None)
    assert votes.startswith("✏️") and "draw a digit" in votes.lower()


def test_the_advanced_controls_before_any_drawing_give_the_start_hint(
    model: knn.DigitModel,
) -> None:
    assert app.explain(model, None, 9, "uniform")[3] == f"✏️ {app.START_HINT}"


def test_bad_input_gives_a_short_message_not_a_traceback(
    model: knn.DigitModel, tmp_path: Path
) -> None:
    not_an_image = tmp_path / "digit.png"
    not_an_image.write_text("hello")
    for bad in (str(not_an_image), np.zeros((5, 5, 7), np.uint8), object()):
        with pytest.raises(gr.Error) as caught:
            app.classify(model, bad, 4, "distance")
        assert 0 < len(caught.value.message) < 400
        assert "Traceback" not in caught.value.message
        assert caught.value.print_exception is False


def test_about_reads_the_evaluation_report(model: knn.DigitModel) -> None:
    text = app.about(model, REPORT)
    assert "98.12%" in text and "10,000 test digits" in text
    assert "deskewed 28x28 pixels" in text and "1.25 ms" in text
    assert f"{len(model.labels):,} training digits" in text


def test_about_without_a_report_says_how_to_make_one(model: knn.DigitModel) -> None:
    text = app.about(model, None)
    assert "python -m knn.evaluate" in text and "%" not in text


def component(demo: gr.Blocks, elem_id: str) -> gr.components.Component:
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_the_page_has_its_parts_and_one_public_endpoint(model: knn.DigitModel) -> None:
    demo = app.build_demo(model, notice="**Offline mode.** test", report=REPORT)
    pad = component(demo, "sketchpad")
    assert isinstance(pad, gr.Sketchpad)
    assert pad.canvas_size == (app.CANVAS_SIDE, app.CANVAS_SIDE) and pad.fixed_canvas
    assert pad.brush.colors == ["#000000"] and pad.brush.color_mode == "fixed"
    assert isinstance(component(demo, "prediction"), gr.Label)
    assert component(demo, "prediction").num_top_classes == 3
    assert isinstance(component(demo, "preview"), gr.Image)
    assert isinstance(component(demo, "neighbours"), gr.Gallery)
    assert "Offline mode" in component(demo, "notice").value
    assert "98.12%" in component(demo, "about").value
    public = [f.api_name for f in demo.fns.values() if f.api_visibility == "public"]
    assert public == ["classify"]
    classify = [f for f in demo.fns.values() if f.concurrency_id == "classify"]
    assert len(classify) == 4  # drawing or button, upload, Advanced controls, API
    assert all(f.concurrency_limit == app.CONCURRENCY > 1 for f in classify)
    assert demo._queue.max_size == app.QUEUE_SIZE


def test_no_notice_without_a_fallback(model: knn.DigitModel) -> None:
    demo = app.build_demo(model)
    assert not any(getattr(b, "elem_id", None) == "notice" for b in demo.blocks.values())


def test_flags_default_to_gradios_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    monkeypatch.setenv(app.AUTH_ENV, "ada:secret")
    args = app.parse_args([])
    assert (args.host, args.port, args.auth, args.k) == ("0.0.0.0", 8123, "ada:secret", 4)
    args = app.parse_args(["--host", "127.0.0.1", "--port", "9000", "--k", "7"])
    assert (args.host, args.port, args.k) == ("127.0.0.1", 9000, 7)


@pytest.mark.parametrize("flags", [["--k", "0"], ["--k", "16"], ["--auth", "nopassword"]])
def test_bad_flags_are_refused(flags: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(app.AUTH_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_:
        app.parse_args(flags)
    assert exit_.value.code == 2


def test_a_wrong_data_dir_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    args = app.parse_args(["--data-dir", str(tmp_path), "--no-download"])
    with pytest.raises(knn.MNISTNotFoundError):
        app.load_digit_model(args)


def test_without_mnist_the_app_falls_back_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    args = app.parse_args(["--no-download", "--cache-dir", str(tmp_path), "--k", "3"])
    with caplog.at_level("WARNING", logger="draw-a-digit"):
        model, notice = app.load_digit_model(args)
    assert model.dataset == DATASET and len(model.labels) == 1797 and model.params.n_neighbors == 3
    assert "Offline mode" in notice and "--data-dir" in notice and "MNIST_DIR" in notice
    assert "MNIST was not found" in caplog.text
    assert model.images.shape == (1797, 28, 28) and model.images.dtype == np.uint8
    assert model.images.max(axis=(1, 2)).min() == 255  # every training digit has full ink
    assert set(model.labels.tolist()) == set(range(10))
    examples = [app.ASSETS / f"digit-{digit}.png" for digit in range(10)]
    labels = [model.classify(preprocessing.to_mnist(path)).label for path in examples]
    assert sum(label == digit for digit, label in enumerate(labels)) >= 8, labels


@pytest.mark.parametrize("digit", range(10))
def test_each_example_is_drawn_by_the_script_and_recognised(
    model: knn.DigitModel, digit: int
) -> None:
    path = app.ASSETS / f"digit-{digit}.png"
    committed = np.asarray(Image.open(path).convert("L"))
    np.testing.assert_array_equal(
        committed, np.asarray(make_examples.draw_digit(make_examples.DIGITS[digit]))
    )
    assert app.classify(model, str(path), 4, "distance")[0][str(digit)] > 0.5
