"""The digit model the app uses: deskewed MNIST features, a fitted kNN, and the training images.

``load_model()`` builds the features of the training images once and caches them; later calls
load the cache. ``DigitModel.classify`` answers one drawing with its label, the probabilities from
the neighbours' votes and the neighbours themselves.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knn.cache import load_or_build
from knn.data import file_checksums, find_mnist, load_mnist, mnist_files
from knn.engine import KNNClassifier, vote
from knn.features import FEATURE_VERSION, extract_features
from knn.rerank import RERANKERS, rerank_idm
from knn.storage import default_cache_dir

#: Chosen on a validation split held out from the training set (``python -m knn.tune``).
DEFAULT_K = 4
DEFAULT_WEIGHTS = "distance"
DEFAULT_RERANK: str | None = "idm"
DEFAULT_SHORTLIST = 64
DEFAULT_WINDOW = 5

IMAGE_SHAPE = (28, 28)
_RERANK_PARAMS = ("rerank", "shortlist", "window")


@dataclass(frozen=True)
class Neighbour:
    """A training image that voted: its index in the training set, label, distance, 28x28 image."""

    index: int
    label: int
    distance: float
    image: np.ndarray


@dataclass(frozen=True)
class Classification:
    """The answer for one image: label, 10 probabilities (sum 1), neighbours nearest first."""

    label: int
    probabilities: np.ndarray
    neighbours: tuple[Neighbour, ...]


class DigitModel:
    """A kNN over digit images that keeps the training images to show which ones voted.

    Build one with :func:`load_model` (MNIST, cached) or :meth:`from_images` (any labelled digits).
    Images are uint8 (28, 28), 0 paper and 255 ink, as in MNIST.

    With ``rerank="idm"`` the Euclidean search only makes a shortlist of ``shortlist`` candidates,
    which the image distortion model (:mod:`knn.rerank`, displacements within ``window`` x
    ``window``) puts in a new order; the top ``n_neighbors`` of that order vote.
    """

    def __init__(
        self,
        classifier: KNNClassifier,
        features: np.ndarray,
        images: np.ndarray,
        labels: np.ndarray,
        dataset: str,
        rerank: str | None = DEFAULT_RERANK,
        shortlist: int = DEFAULT_SHORTLIST,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        self.classifier = classifier
        self.features = features
        self.images = images
        self.labels = labels
        self.dataset = dataset
        self.rerank = rerank
        self.shortlist = shortlist
        self.window = window

    @classmethod
    def from_images(
        cls,
        images: np.ndarray,
        labels: np.ndarray,
        n_neighbors: int = DEFAULT_K,
        weights: str = DEFAULT_WEIGHTS,
        dataset: str = "custom",
        features: np.ndarray | None = None,
        **rerank: Any,
    ) -> DigitModel:
        """Fit on ``images`` uint8 (n, 28, 28) and ``labels`` (n,) in 0..9.

        ``features`` may pass ``extract_features(images)`` computed earlier (from a cache);
        ``rerank``, ``shortlist`` and ``window`` go to the constructor.
        """
        images = _check_images(images)
        features = extract_features(images) if features is None else features
        classifier = KNNClassifier(n_neighbors=n_neighbors, weights=weights).fit(features, labels)
        return cls(classifier, features, images, np.asarray(labels), dataset, **rerank)

    @property
    def n_neighbors(self) -> int:
        return self.classifier.n_neighbors

    @property
    def weights(self) -> str:
        return self.classifier.weights

    def with_params(self, **params: Any) -> DigitModel:
        """A model sharing this one's arrays with other ``n_neighbors``, ``weights``, ``rerank``,
        ``shortlist`` or ``window``.

        Cheap, and leaves this model untouched, so concurrent requests can each use their own k.
        """
        rerank = {name: params.pop(name, getattr(self, name)) for name in _RERANK_PARAMS}
        classifier = copy.copy(self.classifier).set_params(**params)
        return DigitModel(
            classifier, self.features, self.images, self.labels, self.dataset, **rerank
        )

    def describe(self) -> str:
        """The features and the distance, in a few words."""
        return describe(self.rerank, self.shortlist, self.window)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Probabilities float64 (n, 10) for images uint8 (n, 28, 28); rows sum to 1."""
        return self._vote(*self.kneighbors(images))

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Labels int (n,) for images uint8 (n, 28, 28)."""
        return self.predict_proba(images).argmax(axis=1)

    def classify(self, image: np.ndarray) -> Classification:
        """Label, probabilities and nearest training images for one uint8 (28, 28) image."""
        image = np.asarray(image)
        if image.shape != IMAGE_SHAPE:
            raise ValueError(f"classify takes one image of shape {IMAGE_SHAPE}, got {image.shape}")
        distances, indices = self.kneighbors(image[None])
        probabilities = self._vote(distances, indices)[0]
        neighbours = tuple(
            Neighbour(int(i), int(self.labels[i]), float(d), self.images[i])
            for d, i in zip(distances[0], indices[0], strict=True)
        )
        return Classification(int(probabilities.argmax()), probabilities, neighbours)

    def kneighbors(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances float64 (n, k) and training indices (n, k) of the voters, nearest first."""
        queries = extract_features(_check_images(images))
        if self.rerank is None:
            return self.classifier.kneighbors(queries)
        if self.rerank not in RERANKERS:
            raise ValueError(f"rerank must be None or one of {RERANKERS}, got {self.rerank!r}")
        shortlist = min(max(self.shortlist, self.n_neighbors), len(self.features))
        candidates = self.classifier.kneighbors(queries, shortlist, return_distance=False)
        return rerank_idm(
            queries.reshape(-1, *IMAGE_SHAPE),
            self.features.reshape(-1, *IMAGE_SHAPE),
            candidates,
            self.n_neighbors,
            self.window,
        )

    def _vote(self, distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return vote(self.labels[indices], distances, self.weights, n_classes=10)


def describe(rerank: str | None, shortlist: int, window: int) -> str:
    """The features and the distance of a model with these options, in a few words."""
    if rerank is None:
        return "deskewed 28x28 pixels, Euclidean distance"
    return (
        f"deskewed 28x28 pixels, Euclidean shortlist of {shortlist} re-ranked by "
        f"{rerank.upper()} ({window}x{window} window)"
    )


def load_model(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    n_neighbors: int = DEFAULT_K,
    weights: str = DEFAULT_WEIGHTS,
    n_train: int | None = None,
    download: bool = True,
    rerank: str | None = DEFAULT_RERANK,
    shortlist: int = DEFAULT_SHORTLIST,
    window: int = DEFAULT_WINDOW,
) -> DigitModel:
    """The digit model fitted on the MNIST training set (its first ``n_train`` images if given).

    The data is found as :func:`knn.data.find_mnist` describes. The features are cached under
    ``cache_dir`` (default: the per-user cache), keyed by the checksums of the data files, the
    feature version and ``n_train``. The other parameters (see :class:`DigitModel`) change nothing
    that is cached (the re-ranking computes the gradients of its few candidates as it goes), so
    they apply at once.
    """
    paths = mnist_files(find_mnist(data_dir, download=download))
    fields = {
        "data": file_checksums(paths),
        "feature_version": FEATURE_VERSION,
        "n_train": n_train,
    }

    def build() -> dict[str, np.ndarray]:
        mnist = load_mnist(Path(paths["train_images"]).parent, download=False)
        images = mnist.train_images[:n_train]
        return {
            "images": images,
            "labels": mnist.train_labels[:n_train],
            "features": extract_features(images, progress=True),
        }

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    arrays, _ = load_or_build(root / "models", fields, build)
    return DigitModel.from_images(
        arrays["images"],
        arrays["labels"],
        n_neighbors,
        weights,
        dataset="MNIST",
        features=arrays["features"],
        rerank=rerank,
        shortlist=shortlist,
        window=window,
    )


def _check_images(images: Any) -> np.ndarray:
    """Check a batch of digits: (n, 28, 28), numbers in 0..255, finite."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"images must have shape (n, 28, 28), got {images.shape}")
    if not np.issubdtype(images.dtype, np.number) and images.dtype != bool:
        raise TypeError(f"images must hold numbers (uint8, 0 paper, 255 ink), got {images.dtype}")
    if images.size and not (
        np.isfinite(images).all() and images.min() >= 0 and images.max() <= 255
    ):
        raise ValueError("image values must be finite and within 0..255 (0 paper, 255 ink)")
    return images
