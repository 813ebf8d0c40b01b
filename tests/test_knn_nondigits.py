"""The non-digit references: a recipe of our own, deterministic, without letters written like
digits; they join the nearest drawings and refuse what looks like them, never voting for a digit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import knn
from knn import nondigits
from knn.model import NOT_A_DIGIT, SOURCES, load_references, looks_like_digits, non_digit_shares
from knn.nondigits import LOOK_ALIKES, N_REFERENCES, REFERENCE_SEED, make_references
from knn.virtual import rotate
from preprocessing import to_mnist

#: Capitals and small letters nobody writes as a digit, rendered from Pillow's bundled font.
LETTERS = "AEFHKMNRTWXYaehkmnrtwx"


def test_the_references_are_the_same_for_the_same_seed() -> None:
    first, again, other = make_references(60, 7), make_references(60, 7), make_references(60, 8)
    assert np.array_equal(first.images, again.images)
    assert list(first.names) == list(again.names) and list(first.kinds) == list(again.kinds)
    assert not np.array_equal(first.images, other.images)
    assert first.images.dtype == np.uint8 and first.images.shape == (60, 28, 28)
    assert all(image.max() == 255 for image in first.images)  # each has ink, as to_mnist gives


def test_no_letter_written_like_a_digit_is_a_reference() -> None:
    references = make_references(400, 0)
    letters = set(references.names[references.kinds == "letter"])
    assert len(letters) > 20 and not letters & LOOK_ALIKES
    assert not set(nondigits.STROKE_FONT) & LOOK_ALIKES
    assert not set(nondigits.SYMBOL_FONT) & set("0123456789")
    assert {"!", "?"} <= set(nondigits.SYMBOL_FONT)  # drawn with a dot the pipeline keeps
    assert set(references.kinds) == set(nondigits.KIND_SHARES)
    words = references.names[references.kinds == "word"]
    assert all(2 <= len(word) <= 4 for word in words)  # a look-alike only ever inside a word


def test_a_letter_with_a_printed_form_is_drawn_in_both_forms() -> None:
    assert set(nondigits.PRINTED_FORMS) <= set(nondigits.STROKE_FONT)  # else never drawn
    rng = np.random.default_rng(0)
    forms: dict[str, set[tuple[int, ...]]] = {}
    for _ in range(600):
        name, strokes = nondigits._letter(rng)
        forms.setdefault(name, set()).add(tuple(len(stroke) for stroke in strokes))
    assert all(len(forms[name]) == 2 for name in nondigits.PRINTED_FORMS)
    assert all(len(forms[name]) == 1 for name in set(forms) - set(nondigits.PRINTED_FORMS))


def test_the_non_digit_share_weighs_the_nearest_by_inverse_distance() -> None:
    digits = np.array([[1.0, 2.0], [1.0, 2.0], [4.0, 5.0]])
    references = np.array([[3.0, 4.0], [2.0, 3.0], [1.0, 2.0]])
    shares = non_digit_shares(digits, references, k=2)
    assert shares[0] == 0  # both nearest are digits
    assert shares[1] == 0  # a tie goes to the digit
    assert shares[2] == 1
    three = (1 / 3) / (1 + 1 / 2 + 1 / 3)  # digits at 1 and 2, then a reference at 3
    assert non_digit_shares(digits, references, k=3)[0] == pytest.approx(three)
    assert np.all(non_digit_shares(digits, np.empty((3, 0)), k=2) == 0)


@pytest.fixture(scope="module")
def small(mnist) -> tuple[knn.DigitModel, knn.DigitModel]:
    """A small model, without and with references (the share test on, at a half)."""
    model = knn.DigitModel.from_images(
        mnist.train_images[:3000], mnist.train_labels[:3000], max_non_digit_share=0.5
    )
    return model, model.with_references(make_references(300, 0).images)


def test_references_show_but_never_vote(small, mnist) -> None:
    plain, model = small
    for image in mnist.test_images[:20]:
        np.testing.assert_array_equal(
            model.classify(image).probabilities, plain.classify(image).probabilities
        )
    letter = model.references.images[0]
    result = model.classify(letter)
    assert result.non_digit_share == pytest.approx(1) and not result.is_digit
    assert np.array_equal(result.probabilities, plain.classify(letter).probabilities)
    shown = [n for n in result.neighbours if n.source == "non-digit"]
    assert 1 <= len(shown) <= model.params.n_neighbors and "non-digit" in SOURCES
    assert shown[0].index == 0 and shown[0].distance == 0
    assert all(n.label == NOT_A_DIGIT and n.weight == 0 for n in shown)
    assert sum(n.source == "training" for n in result.neighbours) == model.params.n_neighbors
    distances = [n.distance for n in result.neighbours]
    assert distances == sorted(distances)
    assert plain.classify(letter).non_digit_share == 0  # no references, no share


def test_references_are_measured_among_their_copies_as_the_digits_are(small) -> None:
    plain, model = small
    references = model.references.images[:40]
    without = plain.with_params(virtual=False).with_references(references)
    assert model.references.deformed is not None and without.references.deformed is None
    # A reference turned 7 degrees lies near one of its own rotated copies.
    turned = np.clip(rotate(references.astype(np.float32), 7.0), 0, 255).round().astype(np.uint8)
    with_copies = plain.with_references(references).reference_neighbours(turned)[0][:, 0]
    alone = without.reference_neighbours(turned)[0][:, 0]
    assert (with_copies <= alone).all() and np.median(with_copies) < 0.7 * np.median(alone)


def test_the_reference_shortlist_bounds_what_the_references_cost(small, mnist) -> None:
    """A shorter reference shortlist re-ranks fewer candidates: its nearest references are
    never nearer than a longer one's, and the digits' neighbours do not change."""
    _, model = small
    queries = mnist.test_images[:30]
    short, long = (
        model.with_params(reference_shortlist=2),
        model.with_params(reference_shortlist=64),
    )
    near_short, near_long = (
        short.reference_neighbours(queries)[0],
        long.reference_neighbours(queries)[0],
    )
    assert np.all(near_short >= near_long - 1e-9) and np.any(near_short > near_long)
    np.testing.assert_array_equal(short.kneighbors(queries)[0], long.kneighbors(queries)[0])
    assert short.judge(queries)[0].tolist() == long.judge(queries)[0].tolist()


def test_variants_keep_the_references(small, mnist) -> None:
    _, model = small
    assert model.with_params(n_neighbors=3).references is model.references
    taught = model.with_examples(mnist.train_images[:2], mnist.train_labels[:2])
    assert taught.references is model.references


def test_the_references_are_cached_with_the_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(nondigits, "N_REFERENCES", 50)
    monkeypatch.setattr(knn.model, "N_REFERENCES", 50)
    first = load_references(tmp_path)
    (entry,) = (tmp_path / "references").iterdir()
    assert sorted(p.name for p in entry.iterdir()) == [
        "features.npy",
        "images.npy",
        "kinds.npy",
        "meta.json",
        "names.npy",
    ]
    assert np.array_equal(first["images"], make_references(50, REFERENCE_SEED).images)
    monkeypatch.setattr(knn.model, "make_references", None)  # a second load builds nothing
    assert np.array_equal(load_references(tmp_path)["names"], first["names"])
    monkeypatch.setattr(knn.model, "RECIPE_VERSION", nondigits.RECIPE_VERSION + 1)
    monkeypatch.setattr(knn.model, "make_references", make_references)
    load_references(tmp_path)
    assert len(list((tmp_path / "references").iterdir())) == 2  # a new recipe, a new entry
    monkeypatch.setattr(knn.model, "PIPELINE_VERSION", knn.model.PIPELINE_VERSION + 1)
    load_references(tmp_path)
    assert len(list((tmp_path / "references").iterdir())) == 3  # drawn another way: another


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> knn.DigitModel:
    """The served model, with its references and fitted thresholds."""
    return knn.load_model(cache_dir=tmp_path_factory.mktemp("cache"))


def rendered(letter: str, size: int) -> np.ndarray:
    """A letter from Pillow's bundled font (always there, unlike system fonts), as to_mnist
    makes a drawing of it."""
    font = ImageFont.load_default(size)
    left, top, right, bottom = font.getbbox(letter)
    image = Image.new("L", (right - left + size, bottom - top + size), 255)
    ImageDraw.Draw(image).text((size // 2 - left, size // 2 - top), letter, fill=0, font=font)
    return to_mnist(np.asarray(image))


def test_the_served_model_refuses_rendered_letters(served) -> None:
    results = [served.classify(rendered(c, size)) for c in LETTERS for size in (60, 120)]
    assert np.mean([not r.is_digit for r in results]) >= 0.8
    assert any(n.source == "non-digit" for r in results for n in r.neighbours)


def test_validation_digits_stay_digits(mnist) -> None:
    """A model fitted as python -m knn.calibrate fits it (all but the last 10,000 training digits
    and the references) keeps about 99% of the held-out digits."""
    params = knn.ModelParams().as_dict()
    model = knn.DigitModel.from_images(
        mnist.train_images[:50_000], mnist.train_labels[:50_000], **params
    ).with_references(make_references(N_REFERENCES, REFERENCE_SEED).images)
    held = mnist.train_images[-400:]
    nearest, reference_nearest, shares = model.judge(held)
    assert np.all(reference_nearest > 0) and np.all(np.isfinite(reference_nearest))
    kept = looks_like_digits(nearest, reference_nearest, shares, model.params)
    assert kept.mean() >= 0.97
    assert model.params.max_non_digit_share < 1  # the share test is on


@pytest.mark.parametrize("symbol", ["!", "?"])
def test_the_dot_of_a_reference_survives_the_pipeline(symbol) -> None:
    """Without its dot a ! is a 1 and a ? a 2: the dot is heavy enough not to be a speck."""
    differ = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        strokes = nondigits._distort(nondigits._glyph(symbol, nondigits.SYMBOL_FONT, rng)[1], rng)
        state = rng.bit_generator.state
        with_dot = nondigits._draw(strokes, rng)
        rng.bit_generator.state = state
        differ.append(not np.array_equal(with_dot, nondigits._draw(strokes[:1], rng)))
    assert np.mean(differ) >= 0.9
