"""The digit model the app uses: deskewed MNIST features, a fitted kNN, and the training images.

``load_model()`` builds the features of the training images once and caches them; later calls
load the cache. ``DigitModel.classify`` answers one drawing with its label, the probabilities from
the neighbours' votes and the neighbours themselves.
"""

from __future__ import annotations

import heapq
import os
import threading
from dataclasses import dataclass, field, replace
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
from knn.features import FEATURE_DTYPE, FEATURE_VERSION, IMAGE_SHAPE, extract_features
from knn.nondigits import N_REFERENCES, RECIPE_VERSION, REFERENCE_SEED, make_references
from knn.params import SHORTLIST_COMPONENTS, ModelParams
from knn.projection import PrincipalComponents
from knn.rerank import Shortlist, rerank_shortlists
from knn.storage import default_cache_dir
from knn.virtual import DEFORMATIONS, VirtualDigits
from preprocessing.pipeline import PIPELINE_VERSION

#: Where a neighbour comes from: the model's training set (MNIST, or the offline fallback's
#: digits), examples reviewed and served to everyone (``load_model(extra_examples=...)``), the
#: visitor's own corrections (``DigitModel.with_examples``), or the drawings of what is not a
#: digit the model holds as references (``DigitModel.with_references``, :mod:`knn.nondigits`).
SOURCES = ("training", "shared", "yours", "non-digit")
#: The label of a non-digit reference: it votes for none of the ten digits.
NOT_A_DIGIT = -1
#: The least distance to a reference the is-a-digit rule counts (:func:`allowed_distances`): a
#: speck next to the distances between drawings (thousands), so that a drawing identical to a
#: reference has a finite strangeness.
MIN_REFERENCE_DISTANCE = 1.0


@dataclass(frozen=True)
class Neighbour:
    """A digit that voted: its index (in the training set for source "training", in the
    references for "non-digit", else in the order its examples were added), label, distance, its
    share of the vote, its 28x28 image and its source (one of :data:`SOURCES`).

    The shares of a classification's neighbours sum to 1 minus ``Classification.prior_share``.
    A non-digit reference has label :data:`NOT_A_DIGIT` and no share of the vote."""

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
    strangeness: the distance to the nearest training digit divided by the distance the model
        allows (:func:`allowed_distances`: ``digit_threshold``, less for a drawing near a
        non-digit reference, more for one far from every reference): with the non-digit share
        test, 1.0 keeps 99.5% of held-out training digits (``knn.calibrate.KEEP``); 2 is twice
        as far as allowed.
    non_digit_share: of the model's ``n_neighbors`` nearest drawings, digits and non-digit
        references together, the references' share of the inverse distances: 0 when the
        nearest are all digits, 1 when they are all references (0 for a model without any).
    is_digit: ``strangeness <= 1`` and ``non_digit_share <= max_non_digit_share``: the drawing
        is as near to some training digit as held-out training digits are (for drawings as
        near to the references), and its nearest drawings are not mostly non-digits. When
        False the label is still the vote's answer, and the probabilities are always the
        digits' votes alone.
    """

    label: int
    probabilities: np.ndarray
    neighbours: tuple[Neighbour, ...]
    prior_share: float = 0.0
    strangeness: float = 0.0
    non_digit_share: float = 0.0
    is_digit: bool = True


@dataclass(frozen=True)
class TrainingIndex:
    """The training digits and the searches fitted on them, built once and shared by every
    variant of a model (other k, weighting or re-ranking)."""

    images: np.ndarray  # uint8 (n, 28, 28), 0 paper, 255 ink
    labels: np.ndarray  # (n,) digits 0..9
    features: np.ndarray  # FEATURE_DTYPE (n, 784): the deskewed images
    projection: PrincipalComponents  # ``features`` to SHORTLIST_COMPONENTS numbers
    shortlister: KNNClassifier  # over the projected features, to make re-ranking shortlists
    deformed: KNNClassifier | None  # over the projected deformed copies (rows n.. of ``virtual``)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _euclidean: KNNClassifier | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def virtual(self) -> VirtualDigits:
        """The training digits and their deformed copies, as rows the re-ranking can read."""
        return VirtualDigits(self.features, DEFORMATIONS)

    @property
    def euclidean(self) -> KNNClassifier:
        """The Euclidean search over all 784 features, for ``rerank=None``: made at its first
        use, as it holds the features again as float32 (188 MB and its bound for MNIST) and
        the default model, which re-ranks, never needs it."""
        with self._lock:
            if self._euclidean is None:
                search = KNNClassifier().fit(self.features, self.labels)
                object.__setattr__(self, "_euclidean", search)  # frozen: set once, here
            return self._euclidean

    @classmethod
    def build(
        cls,
        images: np.ndarray,
        labels: np.ndarray,
        cached: dict[str, np.ndarray] | None = None,
        *,
        projection: PrincipalComponents | None = None,
        virtual: bool = False,
    ) -> TrainingIndex:
        """Fit on images uint8 (n, 28, 28) and labels (n,); with ``virtual``, also search their
        deformed copies (``ModelParams.virtual``). ``projection`` fixes the principal components
        (the references are projected as the training digits are).

        ``cached`` may hold what :func:`load_model` caches: ``features``,
        ``projection_mean`` and ``projection_components``, ``deformed``
        (:func:`project_deformed`, which implies ``virtual``). Each array is taken out of it
        before its search copies it and let go once copied, so a load holds one array twice at
        a time, not all of them.
        """
        images = _check_images(images)
        labels = np.asarray(labels)
        cached = {} if cached is None else cached
        features = cached.pop("features", None)
        features = extract_features(images) if features is None else features
        if "projection_mean" in cached:
            projection = PrincipalComponents.from_arrays(
                cached.pop("projection_mean"), cached.pop("projection_components")
            )
        elif projection is None:
            n_components = min(SHORTLIST_COMPONENTS, features.shape[1])
            projection = PrincipalComponents(n_components).fit(features)
        points = cached.pop("deformed", None)
        if points is None and virtual:
            points = project_deformed(features, projection)
        deformed = None
        if points is not None:
            deformed = KNNClassifier().fit(points, np.tile(labels, len(DEFORMATIONS)))
            del points  # the search holds its own copy
        shortlister = KNNClassifier().fit(projection.transform(features), labels)
        features = np.asarray(features, dtype=FEATURE_DTYPE)
        return cls(images, labels, features, projection, shortlister, deformed)

    def search(
        self, queries: np.ndarray, projected: np.ndarray | None, k: int, params: ModelParams
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances float64 (n, k) and indices (n, k) of the k nearest rows, nearest first, as
        ``params`` search. queries : deskewed (n, 784); projected : their principal
        components (None without re-ranking)."""
        if params.rerank is None:
            return self.euclidean.kneighbors(queries, k)
        queries = queries.reshape(-1, *IMAGE_SHAPE)
        return rerank_shortlists(queries, [self.shortlist(projected, k, params)], params.window)[0]

    def shortlist(self, projected: np.ndarray, k: int, params: ModelParams) -> Shortlist:
        """The rows the re-ranking measures for queries of principal components ``projected``,
        to keep the k nearest digits: the ``params.shortlist`` nearest training digits, or with
        ``params.virtual`` the nearest of the digits and their deformed copies."""
        if not (params.virtual and self.deformed is not None):
            shortlist = min(max(params.shortlist, k), len(self.labels))
            candidates = self.shortlister.kneighbors(projected, shortlist, return_distance=False)
            return Shortlist(self.features.reshape(-1, *IMAGE_SHAPE), candidates, k)
        candidates = self._virtual_shortlist(projected, k, params.shortlist)
        return Shortlist(self.virtual, candidates, k, self.virtual.owners(candidates))

    def _virtual_shortlist(self, projected: np.ndarray, k: int, shortlist: int) -> np.ndarray:
        """Rows of ``virtual`` nearest to each query's principal components (n, s): the
        training digits and their deformed copies.

        The top s of the union is the top s of the two searches' top s. With c copies of each
        digit, s >= k * c rows hold at least k distinct digits, as the re-ranking needs."""
        n, copies = len(self.labels), 1 + len(DEFORMATIONS)
        size = min(max(shortlist, k * copies), n * copies)
        distances, rows = self.shortlister.kneighbors(projected, min(size, n))
        more = self.deformed.kneighbors(projected, min(size, n * (copies - 1)))
        distances = np.concatenate([distances, more[0]], axis=1)
        rows = np.concatenate([rows, more[1] + n], axis=1)
        order = np.lexsort((rows, distances))[:, :size]
        return np.take_along_axis(rows, order, 1)


def project_deformed(features: np.ndarray, projection: PrincipalComponents) -> np.ndarray:
    """The principal components of every deformed copy of the training digits ``features``
    (n, 784): float32 (len(DEFORMATIONS) * n, n_components), copy by copy."""
    virtual = VirtualDigits(features, DEFORMATIONS)
    return np.concatenate([projection.transform(virtual.copies(d)) for d in DEFORMATIONS])


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
        references: TrainingIndex | None = None,
    ) -> None:
        params = params or ModelParams()
        if params.n_neighbors > len(index.labels):
            raise ValueError(
                f"n_neighbors={params.n_neighbors} exceeds the {len(index.labels)} training digits"
            )
        if params.virtual and index.deformed is None:
            raise ValueError(
                "virtual=True needs the deformed copies: build or load the model with virtual=True"
            )
        self.index = index
        self.dataset = dataset
        self.params = params
        self.extra = extra  # examples added to the neighbours (with_examples), or None
        self.references = references  # non-digit references (with_references), or None

    @classmethod
    def from_images(
        cls, images: np.ndarray, labels: np.ndarray, dataset: str = "custom", **params: Any
    ) -> DigitModel:
        """Fit on ``images`` uint8 (n, 28, 28) and ``labels`` (n,) in 0..9; ``params`` are
        :class:`~knn.params.ModelParams` fields."""
        params = ModelParams(**params)
        return cls(TrainingIndex.build(images, labels, virtual=params.virtual), dataset, params)

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
        return DigitModel(
            self.index, self.dataset, replace(self.params, **changes), self.extra, self.references
        )

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
        return DigitModel(self.index, self.dataset, self.params, extra, self.references)

    def with_references(self, images: np.ndarray, features: np.ndarray | None = None) -> DigitModel:
        """A model that also holds these drawings of what is not a digit (uint8 (m, 28, 28), as
        :func:`knn.nondigits.make_references` makes them) as references: they join the nearest
        neighbours and set ``Classification.non_digit_share``, but never vote over the digits.
        ``features`` (their deskewed images) may come from a cache. Replaces any references.

        With ``virtual``, the references get deformed copies too (a few MB for thousands, made
        here, not cached), so that a drawing's nearest reference is measured as its nearest
        digit is."""
        images = _check_images(images)
        labels = np.full(len(images), NOT_A_DIGIT)
        cached = {} if features is None else {"features": features}
        references = TrainingIndex.build(
            images, labels, cached, projection=self.index.projection, virtual=self.params.virtual
        )
        return DigitModel(self.index, self.dataset, self.params, self.extra, references)

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
        (distances, indices), (reference_distances, reference_indices) = (
            self._neighbours_and_references(*self._features(image[None]))
        )
        shares = self._shares(distances, indices)
        probabilities = tally(self._labels_of(indices), shares, n_classes=10)[0]
        voters = [
            Neighbour(i, int(label), float(d), float(w), image, source)
            for d, w, (i, label, image, source) in zip(
                distances[0], shares[0], map(self._describe, indices[0]), strict=True
            )
        ]
        non_digit_share = float(
            non_digit_shares(distances, reference_distances, self.params.n_neighbors)[0]
        )
        # The references among the n_neighbors nearest drawings are shown beside the voters,
        # who keep their order (a visitor's example ranks at its scaled distance).
        shown = [
            Neighbour(int(i), NOT_A_DIGIT, float(d), 0.0, self.references.images[i], "non-digit")
            for d, i in zip(reference_distances[0], reference_indices[0], strict=True)
            if np.sum(distances[0] <= d) + np.sum(reference_distances[0] < d)
            < self.params.n_neighbors
        ]
        neighbours = tuple(heapq.merge(voters, shown, key=lambda n: n.distance))
        reference_nearest = nearest_references(reference_distances)
        strangeness = float(distances[0, 0] / allowed_distances(reference_nearest, self.params)[0])
        return Classification(
            int(probabilities.argmax()),
            probabilities,
            neighbours,
            prior_share=float(max(0.0, 1.0 - shares[0].sum())),
            strangeness=strangeness,
            non_digit_share=non_digit_share,
            is_digit=bool(
                looks_like_digits(distances[0, 0], reference_nearest, non_digit_share, self.params)
            ),
        )

    def kneighbors(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances float64 (n, k) and training indices (n, k) of the voters, nearest first."""
        return self._neighbours(*self._features(images))

    def reference_neighbours(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances float64 (n, k) and indices (n, k) into ``references`` of the nearest
        non-digit references, nearest first; (n, 0) for a model without references."""
        return self._reference_neighbours(*self._features(images))

    def neighbours_and_references(
        self, images: np.ndarray
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """``kneighbors`` and ``reference_neighbours`` of the same images, their features
        computed once."""
        return self._neighbours_and_references(*self._features(images))

    def judge(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For images uint8 (n, 28, 28): the distances float64 (n,) to the nearest training
        digit and to the nearest non-digit reference (inf without references), and the
        non-digit share (n,) (see :class:`Classification`)."""
        (distances, _), (references, _) = self.neighbours_and_references(images)
        shares = non_digit_shares(distances, references, self.params.n_neighbors)
        return distances[:, 0], nearest_references(references), shares

    def _features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The deskewed queries ``FEATURE_DTYPE`` (n, 784) and, with re-ranking, their principal
        components."""
        queries = extract_features(_check_images(images))
        return queries, self.index.projection.transform(queries) if self.params.rerank else None

    def _reference_neighbours(
        self, queries: np.ndarray, projected: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.references is None:
            return np.empty((len(queries), 0)), np.empty((len(queries), 0), dtype=np.intp)
        return self.references.search(queries, projected, *self._reference_search())

    def _reference_search(self) -> tuple[int, ModelParams]:
        """k and the parameters the non-digit references are searched with: the model's, with
        ``reference_shortlist`` candidates."""
        k = min(self.params.n_neighbors, len(self.references.labels))
        return k, replace(self.params, shortlist=self.params.reference_shortlist)

    def _neighbours(
        self, queries: np.ndarray, projected: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        params = self.params
        found = self.index.search(queries, projected, params.n_neighbors, params)
        return self._with_extra(found, queries, projected)

    def _neighbours_and_references(
        self, queries: np.ndarray, projected: np.ndarray | None
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """:meth:`_neighbours` and :meth:`_reference_neighbours`; with re-ranking, both
        shortlists are re-ranked in one pass (:func:`knn.rerank.rerank_shortlists`)."""
        params = self.params
        if params.rerank is None or self.references is None:
            found = self._neighbours(queries, projected)
            return found, self._reference_neighbours(queries, projected)
        shortlists = [
            self.index.shortlist(projected, params.n_neighbors, params),
            self.references.shortlist(projected, *self._reference_search()),
        ]
        images = queries.reshape(-1, *IMAGE_SHAPE)
        found, references = rerank_shortlists(images, shortlists, params.window)
        return self._with_extra(found, queries, projected), references

    def _with_extra(
        self,
        found: tuple[np.ndarray, np.ndarray],
        queries: np.ndarray,
        projected: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The training neighbours ``found`` merged with the nearest extra examples (a visitor's
        or shared ones), if the model has any."""
        if self.extra is None:
            return found
        params = self.params
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


def non_digit_shares(
    digit_distances: np.ndarray, reference_distances: np.ndarray, k: int
) -> np.ndarray:
    """Of the k nearest of each query's digits (n, k) and non-digit references (n, k') by
    distance, the references' share of the inverse distances: float64 (n,) in 0..1 (a digit
    wins a tie)."""
    distances = np.concatenate([digit_distances, reference_distances], axis=1)
    is_reference = np.arange(distances.shape[1]) >= digit_distances.shape[1]
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    weights = vote_weights(np.take_along_axis(distances, order, axis=1), "distance")
    return (weights * is_reference[order]).sum(axis=1)


def nearest_references(reference_distances: np.ndarray) -> np.ndarray:
    """The distance float64 (n,) to each query's nearest non-digit reference, from their
    distances (n, k) nearest first; inf where there are none (k=0)."""
    if reference_distances.shape[1] == 0:
        return np.full(len(reference_distances), np.inf)
    return reference_distances[:, 0]


def counted_reference_distances(reference_distances: Any) -> np.ndarray:
    """The distances float64 (n,) to the nearest references as the rule of ``is_digit`` counts
    them: at least :data:`MIN_REFERENCE_DISTANCE`; inf (no references) stays inf."""
    return np.maximum(np.asarray(reference_distances, dtype=float), MIN_REFERENCE_DISTANCE)


def allowed_distances(reference_distances: np.ndarray, values: Any) -> np.ndarray:
    """How far float64 (n,) the nearest training digit may be for drawings whose nearest
    non-digit reference is ``reference_distances`` (n,) away: ``t ** (1 - e) *
    r ** e`` (``digit_threshold``, ``reference_exponent`` of ``values``, a ModelParams or
    fitted values), ``t`` without references. Both distances weigh in, as a likelihood ratio
    would: a drawing is a digit if it is much nearer to the digits than to the references.
    ``r`` is counted as :func:`counted_reference_distances` says."""
    r = counted_reference_distances(reference_distances)
    t, e = values.digit_threshold, values.reference_exponent
    return np.where(np.isinf(r), t, t ** (1 - e) * r**e)


def looks_like_digits(
    nearest: np.ndarray, reference_nearest: np.ndarray, shares: np.ndarray, values: Any
) -> np.ndarray:
    """The rule of ``Classification.is_digit`` for drawings whose nearest training digit is
    ``nearest`` away (n,), nearest reference ``reference_nearest`` away (n,), with non-digit
    shares ``shares`` (n,): bool (n,). ``values`` holds ``digit_threshold``,
    ``reference_exponent`` and ``max_non_digit_share`` (a ModelParams, or fitted values)."""
    return (np.asarray(nearest) <= allowed_distances(reference_nearest, values)) & (
        np.asarray(shares) <= values.max_non_digit_share
    )


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
    principal components (of the digits and of their deformed copies, :mod:`knn.virtual`) are
    cached under ``cache_dir`` (default: the per-user cache), keyed by the checksums of the data
    files, the feature version, ``n_train``, the number of components and the deformations.
    ``params`` (default :class:`~knn.params.ModelParams`) change nothing that is cached, so they
    apply at once, but for ``virtual``: the deformed copies are made and cached only with it.
    """
    params = params or ModelParams()
    paths = mnist_files(find_mnist(data_dir, download=download))
    fields = {
        "data": file_checksums(paths),
        "feature_version": FEATURE_VERSION,
        "n_train": n_train,
        "shortlist_components": SHORTLIST_COMPONENTS,
        "deformations": list(DEFORMATIONS) if params.virtual else [],
    }

    def build() -> dict[str, np.ndarray]:
        mnist = load_mnist(Path(paths["train_images"]).parent, download=False)
        images = mnist.train_images[:n_train]
        features = extract_features(images, progress=True)
        projection = PrincipalComponents(SHORTLIST_COMPONENTS).fit(features)
        deformed = {"deformed": project_deformed(features, projection)} if params.virtual else {}
        return {
            **deformed,
            "images": images,
            "labels": mnist.train_labels[:n_train],
            "features": features,
            "projection_mean": projection.mean_,
            "projection_components": projection.components_,
        }

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    arrays, _ = load_or_build(root / "models", fields, build)
    index = TrainingIndex.build(arrays.pop("images"), arrays.pop("labels"), arrays)
    model = DigitModel(index, "MNIST", params)
    references = load_references(root)
    model = model.with_references(references["images"], references["features"])
    return model if extra_examples is None else with_shared_examples(model, extra_examples)


def load_references(root: Path) -> dict[str, np.ndarray]:
    """The model's non-digit references (:func:`knn.nondigits.make_references` with
    ``N_REFERENCES`` and ``REFERENCE_SEED``) under ``root``, built at the first call:
    "images" uint8 (n, 28, 28), "features" ``FEATURE_DTYPE`` (n, 784), "names" and "kinds" str (n,).
    Keyed by their recipe's version, count and seed, and the versions of the drawing pipeline
    and of the features."""
    fields = {
        "non_digit_references": RECIPE_VERSION,
        "pipeline_version": PIPELINE_VERSION,
        "n": N_REFERENCES,
        "seed": REFERENCE_SEED,
        "feature_version": FEATURE_VERSION,
    }

    def build() -> dict[str, np.ndarray]:
        references = make_references(N_REFERENCES, REFERENCE_SEED)
        return {
            "images": references.images,
            "features": extract_features(references.images),
            "names": references.names,
            "kinds": references.kinds,
        }

    return load_or_build(root / "references", fields, build)[0]


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
