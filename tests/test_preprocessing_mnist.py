"""MNIST digits passed through `to_mnist` stay recognisable: they are MNIST-shaped already."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from preprocessing import to_mnist

N_TRAIN = 10_000
N_TEST = 400


@pytest.fixture(scope="module")
def classifier(mnist) -> KNeighborsClassifier:
    """scikit-learn's kNN on raw pixels of the first 10,000 MNIST training digits."""
    images = mnist.train_images[:N_TRAIN].reshape(N_TRAIN, -1)
    labels = mnist.train_labels[:N_TRAIN]
    return KNeighborsClassifier(n_neighbors=3, algorithm="brute").fit(images, labels)


@pytest.fixture(scope="module")
def test_digits(mnist) -> tuple[np.ndarray, np.ndarray]:
    return mnist.test_images[:N_TEST], mnist.test_labels[:N_TEST]


def accuracy(classifier: KNeighborsClassifier, digits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(classifier.predict(digits.reshape(len(digits), -1)) == labels))


def test_mnist_digits_passed_through_stay_recognisable(classifier, test_digits):
    images, labels = test_digits
    passed = np.stack([to_mnist(image) for image in images])
    raw_accuracy = accuracy(classifier, images, labels)
    assert raw_accuracy > 0.9
    assert accuracy(classifier, passed, labels) >= raw_accuracy - 0.015


def test_mnist_digits_keep_their_place_and_size(test_digits):
    images, _ = test_digits
    for image in images[:100]:
        digit = to_mnist(image)
        rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)
        overlap = np.minimum(digit > 64, image > 64).sum() / max(1, (image > 64).sum())
        assert overlap > 0.5


def test_inverted_mnist_digits_give_the_same_digit(test_digits):
    images, _ = test_digits
    for image in images[:50]:
        assert np.abs(to_mnist(255 - image).astype(int) - to_mnist(image)).max() <= 1
