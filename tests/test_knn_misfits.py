"""The judge's misfits: pairs and parts of training digits that tell a wrong cut from a digit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

import knn
import knn.judge
from knn.judge import MISFIT_RATIO, DigitJudge, load_judge
from knn.misfits import make_misfits
from preprocessing.pipeline import mnist_from_ink

TRAINING_DIGITS = 3000


@pytest.fixture(scope="module")
def model(mnist) -> knn.DigitModel:
    return knn.DigitModel.from_images(
        mnist.train_images[:TRAINING_DIGITS], mnist.train_labels[:TRAINING_DIGITS]
    )


@pytest.fixture(scope="module")
def misfits(model) -> np.ndarray:
    return make_misfits(model.images, 600, seed=1)


def test_misfits_are_mnist_like_and_the_same_for_a_seed(model, misfits) -> None:
    assert misfits.shape == (600, 28, 28) and misfits.dtype == np.uint8
    assert (misfits.reshape(600, -1).max(axis=1) == 255).all()  # stretched to full contrast
    again = make_misfits(model.images, 600, seed=1)
    assert np.array_equal(again, misfits)
    assert not np.array_equal(make_misfits(model.images, 600, seed=2), misfits)


def side_by_side(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two 28x28 digits touching, as one piece of ink through the pipeline."""
    ink = np.zeros((28, 50), dtype=np.uint8)
    ink[:, :28] = first
    np.maximum(ink[:, 18:46], second, out=ink[:, 18:46])
    return mnist_from_ink(Image.fromarray(np.pad(ink, 10)))


def test_misfits_make_the_judge_tell_two_digits_drawn_as_one_from_one(mnist, model, misfits):
    held = mnist.train_images[-200:]
    pairs = np.stack([side_by_side(a, b) for a, b in zip(held[:100], held[100:], strict=True)])
    alone = np.stack([mnist_from_ink(Image.fromarray(np.pad(d, 10))) for d in held])
    plain, judge = DigitJudge(model), DigitJudge(model, misfits)
    # The misfits only ever add to the score, and add more to pairs than to single digits.
    added_pairs, added_alone = judge(pairs) - plain(pairs), judge(alone) - plain(alone)
    assert (added_pairs >= -1e-9).all() and (added_alone >= -1e-9).all()
    assert np.median(added_pairs) > 0 and np.median(added_alone) == pytest.approx(0)
    assert added_pairs.mean() > 5 * added_alone.mean()
    # What is added is MISFIT_COST per unit past MISFIT_RATIO of the nearest misfit's distance.
    digit = judge.model.kneighbors(pairs)[0][:, 0]
    misfit = judge.model.reference_neighbours(pairs)[0][:, 0]
    expected = knn.judge.MISFIT_COST * np.maximum(0, digit / misfit - MISFIT_RATIO)
    np.testing.assert_allclose(added_pairs, expected, atol=1e-9)


def test_a_candidate_that_is_a_misfit_costs_much_but_not_infinitely(model, misfits) -> None:
    judge = DigitJudge(model, misfits)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by a zero distance
        scores = judge(np.stack([misfits[0], model.images[0]]))
    assert np.isfinite(scores).all() and scores[0] > 100 * knn.judge.MISFIT_COST
    assert scores[1] == pytest.approx(DigitJudge(model)(model.images[:1])[0])


def test_the_judge_searches_the_training_digits_without_their_copies(mnist, model, misfits):
    pieces = mnist.train_images[-50:]
    assert model.params.virtual  # the default reads digits among the deformed copies too
    judge = DigitJudge(model, misfits)
    assert not judge.model.params.virtual
    without = DigitJudge(model.with_params(virtual=False), misfits)
    np.testing.assert_array_equal(judge(pieces), without(pieces))


def test_load_judge_caches_the_misfits_keyed_by_the_training_digits(
    mnist, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(knn.judge, "N_MISFITS", 40)
    small = knn.DigitModel.from_images(mnist.train_images[:500], mnist.train_labels[:500])
    first = load_judge(small, tmp_path)
    assert first.model.references is not None and len(first.model.references.labels) == 40
    monkeypatch.setattr(knn.judge, "make_misfits", None)  # a second load builds nothing
    second = load_judge(small, tmp_path)
    assert np.array_equal(second.model.references.images, first.model.references.images)
    other = knn.DigitModel.from_images(mnist.train_images[500:1000], mnist.train_labels[500:1000])
    with pytest.raises(TypeError):  # other training digits: a new entry, so a build
        load_judge(other, tmp_path)
    assert len(list((tmp_path / "misfits").iterdir())) == 1
