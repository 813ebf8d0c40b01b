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
from knn.data import (
    MNISTFormatError,
    file_checksums,
    find_mnist,
    load_mnist,
    mnist_files,
    read_idx,
)
from knn.engine import KNNClassifier, tally, vote_weights
from knn.extra import ExtraExamples, merge
from knn.features import FEATURE_VERSION, extract_features
from knn.params import SHORTLIST_COMPONENTS, ModelParams
from knn.projection import PrincipalComponents
from knn.rerank import rerank_idm
from knn.storage import default_cache_dir

IMAGE_SHAPE = (28, 28)


#: Where a neighbour comes from: the model's training set (MNIST, or the offline fallback's
#: digits), examples reviewed and served to everyone (``load_model(extra_examples=...)``), or the
#: visitor's own corrections (``DigitModel.with_examples``).
SOURCES = ("training", "shared", "yours")


@dataclass(frozen=True)
class Neighbour:
    """A digit that voted: its index (in the training set for source "training", else in the
    order its examples were added), label, distance, its share of the vote, its 28x28 image and
    its source (one of :data:`SOURCES`).

    The shares of a classification's neighbours sum to 1 minus ``Classification.prior_share``."""

    index: int
    label: int
    distance: float
    weight: float
    image: np.ndarray
    source: str = "training"


@dataclass(frozen=True)
class Classification:
    """The answer for one image: label, 10 probabilities (sum 1), neighbours nearest first.

    prior_share: the part of the vote no neighbour holds, spread evenly over the ten digits
        (each probability is its neighbours' shares plus prior_share / 10).
    strangeness: the distance to the nearest neighbour divided by the model's
        ``digit_threshold``: 1.0 is as far as the farthest 1% of held-out training digits are
        from theirs; around 0.65 is typical of a digit, 2 is twice the threshold.
    is_digit: ``strangeness <= 1``: the drawing is as near to some training digit as 99% of
        held-out training digits are. When False the label is still the vote's answer.
    """

    label: int
    probabilities: np.ndarray
    neighbours: tuple[Neighbour, ...]
    prior_share: float = 0.0
    strangeness: float = 0.0
    is_digit: bool = True


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
        self,
        index: TrainingIndex,
        dataset: str,
        params: ModelParams | None = None,
        extra: ExtraExamples | None = None,
    ) -> None:
        params = params or ModelParams()
        if params.n_neighbors > len(index.labels):
            raise ValueError(
                f"n_neighbors={params.n_neighbors} exceeds the {len(index.labels)} training digits"
            )
        self.index = index
        self.dataset = dataset
        self.params = params
        self.extra = extra  # examples added to the neighbours (with_examples), or None

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
        return DigitModel(self.index, self.dataset, replace(self.params, **changes), self.extra)

    def with_examples(
        self, images: np.ndarray, labels: np.ndarray, source: str = "yours"
    ) -> DigitModel:
        """A model whose neighbours also include these examples; this one is left untouched.

        images : uint8 (m, 28, 28), 0 paper, 255 ink; labels : int (m,) in 0..9; source :
        "yours" (a visitor's corrections, each searched as itself and a few deformations of it,
        :mod:`knn.variants`, and ranked as if ``example_distance_scale`` of its nearest
        variant's distance away and weighed as if ``example_vote_scale``) or "shared" (reviewed
        examples, counted as training digits). The training arrays are shared, not copied; a
        model's examples are added after any it already has. Building one takes tens of
        milliseconds for 100 examples.
        """
        if source not in SOURCES[1:]:
            raise ValueError(f"source must be one of {SOURCES[1:]}, got {source!r}")
        images = _check_images(images)
        added = ExtraExamples.build(images, labels, source, self.index.projection)
        if not len(added):
            return self  # nothing to add: no empty arrays to search
        extra = added if self.extra is None else self.extra.joined(added)
        return DigitModel(self.index, self.dataset, self.params, extra)

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
        shares = self._shares(distances, indices)
        probabilities = tally(self._labels_of(indices), shares, n_classes=10)[0]
        neighbours = tuple(
            Neighbour(i, int(label), float(d), float(w), image, source)
            for d, w, (i, label, image, source) in zip(
                distances[0], shares[0], map(self._describe, indices[0]), strict=True
            )
        )
        strangeness = float(distances[0, 0]) / self.params.digit_threshold
        return Classification(
            int(probabilities.argmax()),
            probabilities,
            neighbours,
            prior_share=float(max(0.0, 1.0 - shares[0].sum())),
            strangeness=strangeness,
            is_digit=strangeness <= 1.0,
        )

    def kneighbors(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances float64 (n, k) and training indices (n, k) of the voters, nearest first."""
        params = self.params
        queries = extract_features(_check_images(images))
        projected = self.index.projection.transform(queries) if params.rerank else None
        if params.rerank is None:
            found = self.index.euclidean.kneighbors(queries, params.n_neighbors)
        else:
            shortlist = min(max(params.shortlist, params.n_neighbors), len(self.labels))
            candidates = self.index.shortlister.kneighbors(
                projected, shortlist, return_distance=False
            )
            found = rerank_idm(
                queries.reshape(-1, *IMAGE_SHAPE),
                self.index.features.reshape(-1, *IMAGE_SHAPE),
                candidates,
                params.n_neighbors,
                params.window,
            )
        if self.extra is None:
            return found
        extra = self.extra.kneighbors(
            queries, projected, params.n_neighbors, params.rerank, params.shortlist, params.window
        )
        scale = self.extra.scale(params.example_distance_scale)
        return merge(found, extra, len(self.labels), scale, params.n_neighbors)

    def _vote(self, distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return tally(self._labels_of(indices), self._shares(distances, indices), n_classes=10)

    def _shares(self, distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Each voter's share of the vote, a visitor's own examples at their scaled distance."""
        if self.extra is not None:
            scale = self.extra.scale(self.params.example_vote_scale)
            extra = indices >= len(self.labels)
            distances = np.where(
                extra, distances * scale[np.where(extra, indices - len(self.labels), 0)], distances
            )
        return vote_weights(distances, self.params.weights, self.params.prior_distance)

    def _labels_of(self, indices: np.ndarray) -> np.ndarray:
        """Labels of neighbours by index: training digits first, then the extra examples."""
        if self.extra is None:
            return self.labels[indices]
        n = len(self.labels)
        return np.where(
            indices < n,
            self.labels[np.minimum(indices, n - 1)],
            self.extra.labels[np.maximum(indices - n, 0)],
        )

    def _describe(self, index: int) -> tuple[int, int, np.ndarray, str]:
        """(index within its source, label, image, source) of one neighbour."""
        n = len(self.labels)
        if index < n:
            return int(index), int(self.labels[index]), self.images[index], "training"
        i = int(index) - n
        extra = self.extra
        return i, int(extra.labels[i]), extra.images[i], str(extra.sources[i])


def load_model(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    n_train: int | None = None,
    download: bool = True,
    params: ModelParams | None = None,
    extra_examples: str | os.PathLike[str] | None = None,
) -> DigitModel:
    """The digit model fitted on the MNIST training set (its first ``n_train`` images if given).

    ``extra_examples``: a folder of reviewed examples as ``python -m knn.examples export``
    writes them (``train-images-idx3-ubyte.gz`` and ``train-labels-idx1-ubyte.gz``), served to
    everyone as neighbours of source "shared". They are read and their features computed at
    every load (milliseconds for thousands), never cached, so a changed folder cannot meet a
    stale cache entry; the model's ``dataset`` names how many there are.

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
    model = DigitModel(index, "MNIST", params)
    return model if extra_examples is None else with_shared_examples(model, extra_examples)


def with_shared_examples(model: DigitModel, folder: str | os.PathLike[str]) -> DigitModel:
    """``model`` with the reviewed examples in ``folder`` (see :func:`read_examples`) among
    its neighbours for everyone, as source "shared"; its ``dataset`` says how many."""
    images, labels = read_examples(folder)
    shared = model.with_examples(images, labels, source="shared")
    shared.dataset = f"{model.dataset} + {len(labels)} shared examples"
    return shared


def read_examples(folder: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """The examples in ``folder`` (the train files of the four MNIST names, gzip or raw):
    images uint8 (n, 28, 28) and labels uint8 (n,). Raises MNISTFormatError or
    MNISTNotFoundError, naming the folder, when they are missing or malformed."""
    paths = mnist_files(folder)
    images, labels = read_idx(paths["train_images"]), read_idx(paths["train_labels"])
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE or labels.shape != (len(images),):
        raise MNISTFormatError(
            f"{folder}: expected n images of 28x28 and n labels, got {images.shape} and "
            f"{labels.shape}"
        )
    if labels.size and labels.max() > 9:
        raise MNISTFormatError(f"{paths['train_labels']}: labels must be digits 0..9")
    return images, labels


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
