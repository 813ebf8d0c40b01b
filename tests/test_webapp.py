"""The web package in-process: handlers, views, page structure and options; no server."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image, ImageDraw

import knn
import preprocessing
from assets import make_examples
from knn.examples import ExampleStore
from knn.fallback import DATASET
from knn.nondigits import make_references
from webapp import answers, page, view
from webapp.settings import AUTH_ENV, CONCURRENCY, QUEUE_SIZE, parse_args

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


@pytest.fixture
def store(tmp_path: Path) -> ExampleStore:
    return ExampleStore(tmp_path / "examples.sqlite")


@pytest.fixture(scope="module")
def model(mnist: knn.MNIST) -> knn.DigitModel:
    """A kNN on the first 10,000 MNIST training digits: quick to fit, right on clear drawings."""
    return knn.DigitModel.from_images(mnist.train_images[:10000], mnist.train_labels[:10000])


def sketch(*strokes: list[tuple[int, int]], side: int = 400, width: int = 24) -> Image.Image:
    """What the sketchpad hands over: black strokes on white paper, RGBA."""
    image = Image.new("RGBA", (side, side), "white")
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill="black", width=width, joint="curve")
    return image


ONE = sketch([(200, 60), (205, 340)])
SEVEN = sketch([(110, 80), (290, 80), (170, 340)])


def decoded(data_url: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :]))))


def img_sources(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


@pytest.mark.parametrize(("drawing", "digit"), [(ONE, 1), (SEVEN, 7)])
def test_a_drawing_is_shown_with_its_voters(
    model: knn.DigitModel, drawing: Image.Image, digit: int
) -> None:
    shown = answers.classify(model, drawing, 4, "distance")
    assert max(shown.label, key=shown.label.get) == str(digit)
    assert sorted(shown.label) == [str(d) for d in range(10)]
    assert sum(shown.label.values()) == pytest.approx(1)
    np.testing.assert_array_equal(shown.digit, preprocessing.to_mnist(drawing))
    (preview,) = img_sources(shown.preview)
    np.testing.assert_array_equal(decoded(preview), shown.digit)  # the very pixels, no resampling
    result = model.classify(shown.digit)
    sources = img_sources(shown.neighbours)
    assert len(sources) == 4
    for source, neighbour in zip(sources, result.neighbours, strict=True):
        np.testing.assert_array_equal(decoded(source), neighbour.image)
    captions = re.findall(r"<b>(\d)</b> · distance (\d+) · vote (\d+)%", shown.neighbours)
    assert [int(label) for label, _, _ in captions] == [n.label for n in result.neighbours]
    assert [int(d) for _, d, _ in captions] == sorted(int(d) for _, d, _ in captions)
    assert f"**{digit}**: " in shown.votes and " of 4 (" in shown.votes


def test_advanced_options_apply_to_the_kept_digit(model: knn.DigitModel) -> None:
    kept = answers.classify(model, SEVEN, 4, "distance").digit
    shown = answers.reclassify(model, kept, 7, "uniform")
    assert len(img_sources(shown.neighbours)) == 7
    sevenths = np.array(list(shown.label.values())) * 7
    np.testing.assert_allclose(sevenths, np.round(sevenths), atol=1e-9)  # one vote each
    assert model.params == knn.ModelParams()  # the shared model is untouched


@pytest.mark.parametrize(
    "blank",
    [sketch(), None, np.full((300, 300, 3), 255, np.uint8)],
    ids=["canvas", "none", "white"],
)
def test_a_blank_drawing_gives_a_hint(model: knn.DigitModel, blank: object) -> None:
    shown = answers.classify(model, blank, 4, "distance")
    assert (shown.label, shown.preview, shown.neighbours, shown.digit) == (None, "", "", None)
    assert shown.votes.startswith("✏️") and "draw a digit" in shown.votes.lower()


def test_the_advanced_controls_before_any_drawing_give_the_start_hint(
    model: knn.DigitModel,
) -> None:
    assert answers.reclassify(model, None, 9, "uniform").votes == f"✏️ {view.START_HINT}"


def test_input_that_cannot_be_read_is_a_short_message(model: knn.DigitModel) -> None:
    for bad in (np.zeros((5, 5, 7), np.uint8), object()):
        with pytest.raises(gr.Error) as caught:
            answers.classify(model, bad, 4, "distance")
        assert 0 < len(caught.value.message) < 400 and "Traceback" not in caught.value.message
        assert caught.value.print_exception is False


def test_the_api_answers_with_data_and_images_only_on_request(model: knn.DigitModel) -> None:
    label, details = answers.classify_for_api(model, SEVEN, 4, "distance", images=False)
    result = model.classify(preprocessing.to_mnist(SEVEN))
    assert label == view.probabilities(result) and details["label"] == 7
    assert details["probabilities"] == pytest.approx(result.probabilities.tolist())
    assert [
        (n["index"], n["label"], n["distance"], n["weight"]) for n in details["neighbours"]
    ] == [(n.index, n.label, n.distance, n.weight) for n in result.neighbours]
    assert "preview" not in details and all("image" not in n for n in details["neighbours"])
    _, with_images = answers.classify_for_api(model, SEVEN, 4, "distance", images=True)
    np.testing.assert_array_equal(decoded(with_images["preview"]), preprocessing.to_mnist(SEVEN))
    first = with_images["neighbours"][0]
    np.testing.assert_array_equal(decoded(first["image"]), model.images[first["index"]])
    assert answers.classify_for_api(model, sketch(), 4, "distance", False)[0] is None


def test_about_reads_the_evaluation_report(model: knn.DigitModel) -> None:
    text = view.about(model, REPORT)
    assert "98.12%" in text and "10,000 test digits" in text
    assert "deskewed 28x28 pixels" in text and "1.25 ms" in text
    assert f"{len(model.labels):,} training digits" in text
    assert "python -m knn.evaluate" in view.about(model, None)


def component(demo: gr.Blocks, elem_id: str) -> gr.components.Component:
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_the_page_keeps_its_ids_and_two_public_endpoints(
    model: knn.DigitModel, store: ExampleStore
) -> None:
    demo = page.build_demo(model, store, notice="**Offline mode.** test", report=REPORT)
    pad = component(demo, "sketchpad")
    assert isinstance(pad, gr.Sketchpad) and pad.get_block_name() == "imageeditor"
    assert [fn.__name__ for fn in pad.server_fns] == ["accept_blobs"]
    assert isinstance(component(demo, "prediction"), gr.Label)
    assert isinstance(component(demo, "preview"), gr.HTML)
    assert isinstance(component(demo, "neighbours"), gr.HTML)
    assert "Offline mode" in component(demo, "notice").value
    buttons = {b.value for b in demo.blocks.values() if isinstance(b, gr.Button)}
    assert "Classify" in buttons
    public = [f.api_name for f in demo.fns.values() if f.api_visibility == "public"]
    assert public == ["classify", "read_number"]
    (api,) = [f for f in demo.fns.values() if f.api_name == "classify"]
    assert [type(o) for o in api.outputs] == [gr.Label, gr.JSON]  # data, no files
    classify = [f for f in demo.fns.values() if f.concurrency_id == "classify"]
    # digit, upload, Advanced, number, pick, ten corrections, removal, two APIs: one limit
    assert len(classify) == 18
    assert all(f.concurrency_limit == CONCURRENCY > 1 for f in classify)
    assert demo._queue.max_size == QUEUE_SIZE
    assert not any(b.elem_id == "notice" for b in page.build_demo(model, store).blocks.values())
    assert all(component(demo, f"teach-{d}").value == str(d) for d in range(10))


def test_options_default_to_gradios_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    monkeypatch.setenv(AUTH_ENV, "ada:secret")
    settings = parse_args([])
    assert (settings.host, settings.port, settings.auth) == ("0.0.0.0", 8123, ("ada", "secret"))
    assert settings.params == knn.ModelParams()
    settings = parse_args(["--port", "9000", "--k", "7", "--rerank", "none"])
    assert settings.port == 9000
    assert settings.params == knn.ModelParams(n_neighbors=7, rerank=None)


@pytest.mark.parametrize(
    "flags",
    [["--k", "0"], ["--k", "16"], ["--window", "4"], ["--auth", "nopassword"], ["--n-train", "3"]],
)
def test_bad_options_are_refused(flags: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTH_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_:
        parse_args(flags)
    assert exit_.value.code == 2


def test_a_named_folder_without_mnist_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    with pytest.raises(knn.MNISTFolderError):
        knn.load_model_or_fallback(tmp_path, download=False)


def test_without_mnist_the_fallback_serves_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fallback, missing = knn.load_model_or_fallback(
        cache_dir=tmp_path, download=False, params=knn.ModelParams(n_neighbors=3)
    )
    assert isinstance(missing, knn.MNISTNotFoundError) and "--data-dir" in str(missing)
    assert fallback.dataset == DATASET and len(fallback.labels) == 1797
    assert fallback.params.n_neighbors == 3
    assert fallback.images.shape == (1797, 28, 28) and fallback.images.dtype == np.uint8
    assert fallback.images.max(axis=(1, 2)).min() == 255  # every training digit has full ink
    examples = [page.ASSETS / f"digit-{digit}.png" for digit in range(10)]
    labels = [fallback.classify(preprocessing.to_mnist(path)).label for path in examples]
    assert sum(label == digit for digit, label in enumerate(labels)) >= 8, labels


@pytest.mark.parametrize("digit", range(10))
def test_each_example_is_drawn_by_the_script_and_recognised(
    model: knn.DigitModel, digit: int
) -> None:
    path = page.ASSETS / f"digit-{digit}.png"
    committed = np.asarray(Image.open(path).convert("L"))
    np.testing.assert_array_equal(
        committed, np.asarray(make_examples.draw_digit(make_examples.DIGITS[digit]))
    )
    assert answers.classify(model, Image.open(path), 4, "distance").label[str(digit)] > 0.5


def test_a_written_number_is_read_digit_by_digit(model: knn.DigitModel) -> None:
    four_two = sketch(
        [(120, 60), (60, 250), (200, 250)],
        [(170, 120), (170, 340)],
        [(300, 110), (340, 60), (420, 80), (420, 160), (290, 330), (450, 330)],
        side=600,
    )
    judge = knn.DigitJudge(model)
    read = answers.read_number(model, four_two, judge)
    assert read.text == "# 42" and read.choices == ["1: 4", "2: 2"]
    assert len(read.digits) == 2 and len(img_sources(read.digits_html)) == 2
    np.testing.assert_array_equal(read.digits[0], preprocessing.split_digits(four_two, judge)[0])
    text, details = answers.read_number_for_api(model, four_two, judge)
    assert text == "42" and [d["label"] for d in details["digits"]] == [4, 2]
    assert all(sum(d["probabilities"]) == pytest.approx(1) for d in details["digits"])
    assert answers.read_number(model, sketch(), judge).text.startswith("✏️")
    blank = answers.read_number_for_api(model, sketch(), judge)
    assert blank == ("", {"hint": preprocessing.ink.NO_INK})


def test_a_number_already_read_is_not_shown_again_so_its_pick_stays(
    model: knn.DigitModel, store: ExampleStore
) -> None:
    """The pad may report one stroke twice; the late report, answered after the visitor picked
    a digit or taught one, must leave the page as it is (it once unset the pick)."""
    demo = page.build_demo(model, store)
    pad = component(demo, "number-pad")
    (on_number,) = [f.fn for f in demo.fns.values() if (pad._id, "change") in f.targets]
    one_seven = sketch([(150, 60), (150, 340)], [(300, 80), (480, 80), (360, 340)], side=600)
    first = on_number(one_seven, answers.NOBODY, [])
    (digits,) = [value for block, value in first.items() if isinstance(block, gr.State)]
    assert first[component(demo, "number")] == "# 17" and len(digits) == 2
    assert on_number(one_seven, answers.NOBODY, digits) == {}  # the pick is left alone
    again = on_number(ONE, answers.NOBODY, digits)  # a new drawing is read
    assert again[component(demo, "number")] == "# 1"


def test_a_correction_teaches_this_visitor_alone(
    model: knn.DigitModel, store: ExampleStore
) -> None:
    digit = preprocessing.to_mnist(SEVEN)
    answer = answers.reclassify(model, digit, 4, "distance")
    assert answers.shown_label(answer.label) == 7
    for hostile in ({"label": 1.0}, {"7": "x"}, {"12": 1.0}, [3], "7", 5):
        assert answers.shown_label(hostile) is None  # recorded as unknown, never an error
    mine = answers.teach(store, model, digit, 1, 7, answers.NOBODY, "visitor", None)
    taught = answers.for_visitor(model, mine).classify(digit)
    assert taught.label == 1 and taught.neighbours[0].source == "yours"
    shown = answers.reclassify(answers.for_visitor(model, mine), digit, 4, "distance")
    assert '<span class="yours">yours</span>' in shown.neighbours
    assert model.classify(digit).label == 7  # the shared model, as every other visitor sees it
    assert answers.for_visitor(model, answers.NOBODY) is model
    assert store.count(session="visitor") == 1 and store.count(session="stranger") == 0
    html, choices = view.examples_view(mine.examples, mine.accepted)
    ids = mine.examples.ids
    assert len(img_sources(html)) == 1 and choices == [(f"#{ids[0]}: a 1", f"correction {ids[0]}")]
    forgotten = answers.forget(store, model, mine, f"correction {ids[0]}", "visitor", None)
    assert len(forgotten.examples.ids) == 0 and store.count() == 0
    assert answers.for_visitor(model, forgotten).classify(digit).label == 7


def test_a_visitors_model_is_built_when_their_corrections_change_only(
    model: knn.DigitModel, store: ExampleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = []
    with_examples = knn.DigitModel.with_examples
    monkeypatch.setattr(
        knn.DigitModel,
        "with_examples",
        lambda self, *args: builds.append(len(args[1])) or with_examples(self, *args),
    )
    monkeypatch.setattr(knn.DigitModel, "classify", _no_classify)
    seven, one = preprocessing.to_mnist(SEVEN), preprocessing.to_mnist(ONE)
    mine = answers.teach(store, model, seven, 1, 7, answers.NOBODY, "visitor", None)
    mine = answers.teach(store, model, one, 7, 1, mine, "visitor", None)
    assert builds == [1, 2]  # each correction builds the model once, without classifying
    with sqlite3.connect(store.path) as db:
        recorded = db.execute("SELECT predicted FROM examples ORDER BY id").fetchall()
    assert recorded == [(7,), (1,)]
    first = answers.for_visitor(model, mine)
    assert all(answers.for_visitor(model, mine) is first for _ in range(3))  # no rebuild
    assert builds == [1, 2]
    mine = answers.forget(store, model, mine, f"correction {mine.examples.ids[0]}", "visitor", None)
    assert builds == [1, 2, 1] and answers.for_visitor(model, mine) is not first
    mine = answers.accept(model, seven, 7, mine)
    assert builds == [1, 2, 1, 2]  # an answer let stand builds it once too, with the correction


def test_answers_let_stand_teach_this_visitor_in_memory_only(
    model: knn.DigitModel, store: ExampleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answers, "MAX_ACCEPTED", 2)
    seven, one = preprocessing.to_mnist(SEVEN), preprocessing.to_mnist(ONE)
    mine = answers.accept(model, seven, 7, answers.NOBODY)
    taught = answers.for_visitor(model, mine).classify(seven)
    assert taught.neighbours[0].source == "yours" and taught.neighbours[0].label == 7
    assert model.classify(seven).neighbours[0].source == "training"  # the shared model
    assert store.count() == 0  # nothing of it is kept on the server
    mine = answers.accept(model, one, 1, answers.accept(model, one, 1, mine))
    assert mine.accepted.ids.tolist() == [2, 3] and mine.accepted.labels.tolist() == [1, 1]
    mine = answers.teach(store, model, seven, 1, 7, mine, "visitor", None)
    html, choices = view.examples_view(mine.examples, mine.accepted)
    assert "Answers you let stand" in html and len(img_sources(html)) == 3
    assert [value for _, value in choices] == [
        f"correction {mine.examples.ids[0]}",
        "answer 2",
        "answer 3",
    ]
    for hostile in ("answer x", "answer 9", "correction -1", "nonsense", "", "answer 2 2"):
        assert answers.forget(store, model, mine, hostile, "visitor", None) is mine
    kept = answers.forget(store, model, mine, "answer 2", "visitor", None)
    assert kept.accepted.ids.tolist() == [3] and len(kept.examples.ids) == 1
    assert store.count(session="visitor") == 1  # the correction stays stored


def _no_classify(*_: object) -> None:
    raise AssertionError("the answer shown is recorded; the model is not asked again")


def test_a_drawing_unlike_any_digit_is_said_so(model: knn.DigitModel) -> None:
    result = model.classify(preprocessing.to_mnist(SEVEN))
    strange = dataclasses.replace(result, is_digit=False, strangeness=2.5)
    text = view.tally(strange)
    assert text.startswith("⚠️ **That doesn't look like a digit.**") and "2.5 times" in text
    assert "Votes of the 4 nearest" in text  # the evidence stays
    assert not view.tally(result).startswith("⚠️")
    details = view.answer(strange)
    assert details["is_digit"] is False and details["strangeness"] == 2.5
    assert {n["source"] for n in details["neighbours"]} == {"training"}


def test_a_drawing_like_the_non_digit_references_shows_them(model: knn.DigitModel) -> None:
    letter = make_references(1, 5).images[0]
    refused = model.with_params(
        max_non_digit_share=0.5, digit_threshold=1e9, reference_exponent=0.0
    )
    refused = refused.with_references(letter[None])
    result = refused.classify(letter)
    assert not result.is_digit and result.strangeness <= 1
    text = view.tally(result)
    assert text.startswith("⚠️ **That doesn't look like a digit.**") and "100%" in text
    assert "Votes of the 4 nearest training digits" in text  # the reference has no vote
    shown = view.gallery(result)
    assert "<b>not a digit</b> · distance 0 · no vote" in shown
    assert len(img_sources(shown)) == 5  # the reference and the four training digits
    assert shown.count('class="neighbour reference"') == 1  # marked, for the page and its tests
    details = view.answer(result)
    assert details["non_digit_share"] == pytest.approx(1) and details["is_digit"] is False
    nearest = details["neighbours"][0]
    assert nearest["source"] == "non-digit" and nearest["label"] == -1 and nearest["weight"] == 0


FREE_TWICE = """
import numpy as np
from pathlib import Path
from webapp.allocator import return_freed_arrays

def rss_kb():
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])

if {fixed}:
    assert return_freed_arrays()
for _ in range(2):  # the first free raises glibc's threshold; the second block stays in its heap
    block = np.ones(2_000_000)  # 16 MB, every page touched
    before = rss_kb() - block.nbytes // 1024
    del block
print(rss_kb() - before)
"""


def test_freed_arrays_stay_resident_only_without_the_fixed_threshold() -> None:
    """The app's start frees working arrays of a few MB: glibc alone keeps them resident (the
    premise, checked first), with the threshold the app fixes they are returned."""

    def kept_kb(fixed: bool) -> int:
        script = FREE_TWICE.format(fixed=fixed)
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[1],
        )
        return int(done.stdout)

    assert kept_kb(fixed=False) > 14_000
    assert kept_kb(fixed=True) < 2_000
