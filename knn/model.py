"""The digit model the app uses: deskewed MNIST features, a fitted kNN, and the training images.

``load_model()`` builds the features of the training images once and caches them; later calls
load the cache. ``DigitModel.classify`` answers one drawing with its label, the probabilities from
the neighbours' votes and the neighbours themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from knn.cache import load_or_build
from knn.data import file_checksums, find_mnist, load_mnist, mnist_files
from knn.engine import KNNClassifier, tally, vote_weights
from knn.features import FEATURE_VERSION, extract_features
from knn.params import SHORTLIST_COMPONENTS, ModelParams
from knn.projection import PrincipalComponents
from knn.rerank import rerank_idm
from knn.storage import default_cache_dir

IMAGE_SHAPE = (28, 28)


@dataclass(frozen=True)
class Neighbour:
    """A training image that voted: its index in the training set, label, distance, its share
    of the vote (the shares of a classification's neighbours sum to 1) and its 28x28 image."""

    index: int
    label: int
    distance: float
    weight: float
    image: np.ndarray


@dataclass(frozen=True)
class Classification:
    """The answer for one image: label, 10 probabilities (sum 1), neighbours nearest first."""

    label: int
    probabilities: np.ndarray
    neighbours: tuple[Neighbour, ...]


@dataclass(frozen=True)
class TrainingIndex:
    """The training digits and the searches fitted on them, built once and shared by every
    variant of a model (other k, weighting or re-ranking)."""

    images: np.ndarray  # uint8 (n, 28, 28), 0 paper, 255 ink
    labels: np.ndarray  # (n,) digits 0..9
    features: np.ndarray  # float32 (n, 784): the deskewed images
    euclidean: KNNClassifier  # over ``features``
    projection: PrincipalComponents  # ``features`` to SHORTLIST_COMPONENTS numbers
    shortlister: KNNClassifier  # over the projected features, to make re-ranking shortlists

    @classmethod
    def build(
        cls,
        images: np.ndarray,
        labels: np.ndarray,
        features: np.ndarray | None = None,
        projection: PrincipalComponents | None = None,
    ) -> TrainingIndex:
        """Fit on images uint8 (n, 28, 28) and labels (n,); ``features`` and ``projection`` may
        come from a cache."""
        images = _check_images(images)
        labels = np.asarray(labels)
        features = extract_features(images) if features is None else features
        if projection is None:
            n_components = min(SHORTLIST_COMPONENTS, features.shape[1])
            projection = PrincipalComponents(n_components).fit(features)
        euclidean = KNNClassifier().fit(features, labels)
        return cls(
            images,
            labels,
            euclidean.fit_X_,  # the search's copy of the features: they are held once
            euclidean,
            projection,
            KNNClassifier().fit(projection.transform(features), labels),
        )


class DigitModel:
    """A kNN over digit images that keeps the training images to show which ones voted.

    Build one with :func:`load_model` (MNIST, cached) or :meth:`from_images` (any labelled digits).
    Images are uint8 (28, 28), 0 paper and 255 ink, as in MNIST. ``params`` say how it searches
    and votes (:class:`~knn.params.ModelParams`): with ``rerank=None`` the voters are the
    nearest in Euclidean distance between deskewed digits; with ``rerank="idm"`` a Euclidean
    search over the digits' principal components makes a shortlist, which the image distortion
    model (:mod:`knn.rerank`) puts in a new order.
    """

    def __init__(
        self, index: TrainingIndex, dataset: str, params: ModelParams | None = None
    ) -> None:
        params = params or ModelParams()
        if params.n_neighbors > len(index.labels):
            raise ValueError(
                f"n_neighbors={params.n_neighbors} exceeds the {len(index.labels)} training digits"
            )
        self.index = index
        self.dataset = dataset
        self.params = params

    @classmethod
    def from_images(
        cls, images: np.ndarray, labels: np.ndarray, dataset: str = "custom", **params: Any
    ) -> DigitModel:
        """Fit on ``images`` uint8 (n, 28, 28) and ``labels`` (n,) in 0..9; ``params`` are
        :class:`~knn.params.ModelParams` fields."""
        return cls(TrainingIndex.build(images, labels), dataset, ModelParams(**params))

    @property
    def images(self) -> np.ndarray:
        return self.index.images

    @property
    def labels(self) -> np.ndarray:
        return self.index.labels

    def with_params(self, **changes: Any) -> DigitModel:
        """A model sharing this one's index with some parameters changed.

        Cheap, and leaves this model untouched, so concurrent requests can each use their own k.
        Unknown names raise ``TypeError``, bad values ``ValueError``.
        """
        return DigitModel(self.index, self.dataset, replace(self.params, **changes))

    def describe(self) -> str:
        """The features and the distance, in a few words."""
        return self.params.describe()

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
        shares = vote_weights(distances, self.params.weights)
        probabilities = tally(self.labels[indices], shares, n_classes=10)[0]
        neighbours = tuple(
            Neighbour(int(i), int(self.labels[i]), float(d), float(w), self.images[i])
            for d, i, w in zip(distances[0], indices[0], shares[0], strict=True)
        )
        return Classification(int(probabilities.argmax()), probabilities, neighbours)

    def kneighbors(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances float64 (n, k) and training indices (n, k) of the voters, nearest first."""
        params = self.params
        queries = extract_features(_check_images(images))
        if params.rerank is None:
            return self.index.euclidean.kneighbors(queries, params.n_neighbors)
        shortlist = min(max(params.shortlist, params.n_neighbors), len(self.labels))
        candidates = self.index.shortlister.kneighbors(
            self.index.projection.transform(queries), shortlist, return_distance=False
        )
        return rerank_idm(
            queries.reshape(-1, *IMAGE_SHAPE),
            self.index.features.reshape(-1, *IMAGE_SHAPE),
            candidates,
            params.n_neighbors,
            params.window,
        )

    def _vote(self, distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
        shares = vote_weights(distances, self.params.weights)
        return tally(self.labels[indices], shares, n_classes=10)


def load_model(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    n_train: int | None = None,
    download: bool = True,
    params: ModelParams | None = None,
) -> DigitModel:
    """The digit model fitted on the MNIST training set (its first ``n_train`` images if given).

    The data is found as :func:`knn.data.find_mnist` describes. The deskewed features and the
    principal components are cached under ``cache_dir`` (default: the per-user cache), keyed by
    the checksums of the data files, the feature version, ``n_train`` and the number of
    components. ``params`` (default :class:`~knn.params.ModelParams`) change nothing that is
    cached, so they apply at once.
    """
    paths = mnist_files(find_mnist(data_dir, download=download))
    fields = {
        "data": file_checksums(paths),
        "feature_version": FEATURE_VERSION,
        "n_train": n_train,
        "shortlist_components": SHORTLIST_COMPONENTS,
    }

    def build() -> dict[str, np.ndarray]:
        mnist = load_mnist(Path(paths["train_images"]).parent, download=False)
        images = mnist.train_images[:n_train]
        features = extract_features(images, progress=True)
        projection = PrincipalComponents(SHORTLIST_COMPONENTS).fit(features)
        return {
            "images": images,
            "labels": mnist.train_labels[:n_train],
            "features": features,
            "projection_mean": projection.mean_,
            "projection_components": projection.components_,
        }

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    arrays, _ = load_or_build(root / "models", fields, build)
    projection = PrincipalComponents.from_arrays(
        arrays["projection_mean"], arrays["projection_components"]
    )
    index = TrainingIndex.build(arrays["images"], arrays["labels"], arrays["features"], projection)
    return DigitModel(index, "MNIST", params)


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
