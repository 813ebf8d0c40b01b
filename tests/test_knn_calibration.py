"""Probabilities that mean what they say, and drawings that do not look like digits."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import knn
from benchmarks import non_digits
from knn import calibrate
from knn.calibrate import HeldOut, expected_calibration_error, fit_calibration, log_loss
from knn.engine import tally, vote_weights
from knn.model import allowed_distances, looks_like_digits


class Untouchable:
    """Stands for the test set: any use of it fails the test."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the test set was read ({name})")

    def __array__(self, *args, **kwargs):
        raise AssertionError("the test set was read (as an array)")

    def __len__(self) -> int:
        raise AssertionError("the test set was read (len)")

    def __getitem__(self, item):
        raise AssertionError("the test set was read (indexed)")


def test_calibrate_fits_on_the_training_set_alone(mnist, monkeypatch, capsys) -> None:
    blind = knn.MNIST(
        mnist.train_images[:1500], mnist.train_labels[:1500], Untouchable(), Untouchable(), {}
    )
    monkeypatch.setattr(calibrate, "load_mnist", lambda *args, **kwargs: blind)
    args = ["--n-validation", "300", "--rerank", "none"]
    assert calibrate.main(args) == 0
    first = capsys.readouterr().out
    assert "prior_distance=" in first and "digit_threshold=" in first
    assert "max_non_digit_share=" in first and "held-out non-digits" in first
    assert calibrate.main(args) == 0  # and deterministic
    assert capsys.readouterr().out == first


def test_the_fitted_prior_minimises_log_loss() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    labels = rng.integers(0, 10, n)
    distances = np.sort(rng.uniform(1, 3, size=(n, 4)), axis=1)
    wrong = rng.random((n, 4)) < distances / 8  # farther neighbours are wrong more often
    neighbour_labels = np.where(wrong, (labels[:, None] + 1) % 10, labels[:, None])
    held = HeldOut(distances, neighbour_labels, labels)
    fitted = fit_calibration(held)

    def loss(rho: float) -> float:
        return log_loss(knn.engine.vote(neighbour_labels, distances, "distance", 10, rho), labels)

    assert loss(fitted.prior_distance) < loss(fitted.prior_distance * 2)
    assert loss(fitted.prior_distance) < loss(fitted.prior_distance / 2)
    assert loss(fitted.prior_distance) < loss(math.inf)
    kept = np.mean(distances[:, 0] <= fitted.digit_threshold)
    assert kept == pytest.approx(calibrate.KEEP, abs=0.002)


def test_expected_calibration_error() -> None:
    sure = np.tile(np.eye(10)[0], (10, 1))
    assert expected_calibration_error(sure, np.zeros(10, int)) == 0
    assert expected_calibration_error(sure, np.array([0] * 5 + [1] * 5)) == pytest.approx(0.5)


def test_the_prior_takes_more_of_the_vote_the_farther_the_neighbours() -> None:
    distances = np.array([[1.0, 2.0], [100.0, 200.0]])
    shares = vote_weights(distances, "distance", prior_distance=10.0)
    assert shares[0].sum() > 0.8 > 0.2 > shares[1].sum()
    proba = tally(np.array([[3, 3], [3, 3]]), shares, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert proba[0, 3] > 0.9 and proba[1, 3] < 0.3
    np.testing.assert_allclose(vote_weights(distances, "distance").sum(axis=1), 1)


@pytest.fixture(scope="module")
def model(mnist, tmp_path_factory) -> knn.DigitModel:
    """The served model: its digit threshold was fitted for the full training set."""
    return knn.load_model(cache_dir=tmp_path_factory.mktemp("cache"))


def test_mnist_digits_are_digits_and_drawn_non_digits_are_not(model, mnist, monkeypatch) -> None:
    digits = [model.classify(image) for image in mnist.test_images[:60]]
    assert np.mean([r.is_digit for r in digits]) >= 0.95
    monkeypatch.setattr(non_digits, "fonts", lambda: [])  # Pillow's bundled font, as on CI
    shapes = non_digits.make_non_digits(60, np.random.default_rng(3))
    others = [model.classify(image) for image in shapes.digits]
    assert np.mean([not r.is_digit for r in others]) >= 0.7
    assert np.median([r.non_digit_share for r in others]) > 0.5
    assert np.mean([r.non_digit_share > 0 for r in digits]) < 0.1
    assert np.median([r.strangeness for r in others]) > 1.2 * np.median(
        [r.strangeness for r in digits]
    )
    images = [*mnist.test_images[:60], *shapes.digits]
    for image, r in zip(images, digits + others, strict=True):
        limit = model.params.max_non_digit_share
        assert r.is_digit == (r.strangeness <= 1 and r.non_digit_share <= limit)
        nearest = next(n for n in r.neighbours if n.source == "training")
        reference = min(model.reference_neighbours(image[None])[0][0])
        allowed = allowed_distances(np.array([reference]), model.params)[0]
        assert r.strangeness == pytest.approx(nearest.distance / allowed)


def test_the_share_test_keeps_almost_every_digit_and_the_distance_the_rest() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    distances = np.sort(rng.uniform(1, 3, size=(n, 4)), axis=1)
    shares = np.where(rng.random(n) < 0.02, rng.uniform(0, 1, n), 0.0)
    fitted = fit_calibration(HeldOut(distances, np.zeros((n, 4), int), np.zeros(n, int), shares))
    by_share = shares <= fitted.max_non_digit_share
    assert by_share.mean() == pytest.approx(calibrate.SHARE_KEEP, abs=0.0005)
    assert fitted.max_non_digit_share < 1
    kept = by_share & (distances[:, 0] <= fitted.digit_threshold)
    assert calibrate.KEEP <= kept.mean() <= calibrate.KEEP + 0.001
    alone = fit_calibration(HeldOut(distances, np.zeros((n, 4), int), np.zeros(n, int)))
    assert alone.max_non_digit_share == 1.0
    assert alone.digit_threshold < fitted.digit_threshold
    assert np.mean(distances[:, 0] <= alone.digit_threshold) == pytest.approx(
        calibrate.KEEP, abs=0.001
    )


def test_the_allowed_distance_weighs_the_nearest_reference() -> None:
    params = knn.ModelParams(digit_threshold=100.0, reference_exponent=0.5)
    allowed = allowed_distances(np.array([100.0, 400.0, 25.0, np.inf]), params)
    np.testing.assert_allclose(allowed, [100, 200, 50, 100])  # 100 ** 0.5 * r ** 0.5
    alone = dataclasses.replace(params, reference_exponent=0.0)
    np.testing.assert_allclose(allowed_distances(np.array([1.0, 1e6]), alone), [100, 100])


def test_the_threshold_is_fitted_with_the_reference_distances() -> None:
    """With an exponent, the fitted threshold keeps KEEP of the digits by the rule the model
    applies, and a digit as far from its nearest training digit is kept when the references
    are far and refused when one is near."""
    rng = np.random.default_rng(2)
    n = 5000
    distances = np.sort(rng.uniform(1, 3, size=(n, 4)), axis=1)
    references = rng.uniform(2, 6, n)
    shares = np.zeros(n)
    held = HeldOut(distances, np.zeros((n, 4), int), np.zeros(n, int), shares, references)
    fitted = fit_calibration(held, reference_exponent=0.6)
    assert fitted.reference_exponent == 0.6
    kept = looks_like_digits(distances[:, 0], references, shares, fitted)
    assert calibrate.KEEP <= kept.mean() <= calibrate.KEEP + 0.001
    edge = np.full(2, fitted.digit_threshold)
    far, near = 4 * fitted.digit_threshold, fitted.digit_threshold / 4
    assert looks_like_digits(edge, np.array([far, near]), np.zeros(2), fitted).tolist() == [
        True,
        False,
    ]


def test_params_check_the_fitted_values() -> None:
    with pytest.raises(ValueError, match="prior_distance"):
        dataclasses.replace(knn.ModelParams(), prior_distance=0)
    with pytest.raises(ValueError, match="digit_threshold"):
        knn.ModelParams(digit_threshold=float("nan"))
    with pytest.raises(ValueError, match="max_non_digit_share"):
        knn.ModelParams(max_non_digit_share=1.5)
    for exponent in (-0.1, 1.0, True):
        with pytest.raises(ValueError, match="reference_exponent"):
            knn.ModelParams(reference_exponent=exponent)
    with pytest.raises(ValueError, match="reference_shortlist"):
        knn.ModelParams(reference_shortlist=0)
