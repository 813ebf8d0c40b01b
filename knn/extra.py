"""Examples added to a model's neighbours without touching its training set: learning is adding
a neighbour.

The training arrays (60,000 digits) are shared, never copied: the extra examples keep their own
small arrays, are searched on their own the way the model searches (Euclidean, or a shortlist by
principal components re-ranked by IDM), and their nearest are merged with the training set's.
A visitor's own examples ("yours") are each searched as the drawing and a few deformations of it
(:mod:`knn.variants`), as near as the nearest of them, so that their next drawing of the same
habit, which differs a little, finds it; each is one voter, ranked as if
``example_distance_scale`` of that distance away and weighed as if ``example_vote_scale``.
Reviewed examples served to everyone ("shared") count as training digits, as themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knn.features import IMAGE_SHAPE, extract_features
from knn.projection import PrincipalComponents
from knn.rerank import rerank_idm
from knn.variants import variant_features


@dataclass(frozen=True)
class ExtraExamples:
    """Digits added to a model: images uint8 (m, 28, 28), 0 paper, 255 ink; labels int64 (m,)
    in 0..9; sources (m,) of "shared" or "yours".

    Each example is searched as one or more variants (a visitor's own as the drawing and its
    deformations, :mod:`knn.variants`; a shared one as itself), and is as near as its nearest
    variant: features ``FEATURE_DTYPE`` (v, 784), the deskewed variants; projected float32 (v, c),
    their principal components; owner int64 (v,), the example each belongs to, non-decreasing."""

    images: np.ndarray
    labels: np.ndarray
    sources: np.ndarray
    features: np.ndarray
    projected: np.ndarray
    owner: np.ndarray

    @classmethod
    def build(
        cls,
        images: np.ndarray,
        labels: np.ndarray,
        source: str,
        projection: PrincipalComponents,
    ) -> ExtraExamples:
        """Features of ``images`` (checked by the caller) with ``labels``, all from ``source``."""
        images = np.ascontiguousarray(images, dtype=np.uint8)
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer) or (
            labels.size and not (labels.min() >= 0 and labels.max() <= 9)
        ):
            raise ValueError("labels must be integers 0..9")
        # (m, variants per example, 784): a visitor's as themselves and deformed, others as such.
        made = variant_features(images) if source == "yours" else extract_features(images)[:, None]
        features = made.reshape(-1, made.shape[2])
        return cls(
            images,
            labels.astype(np.int64),
            np.full(len(images), source, dtype=object),
            features,
            projection.transform(features),
            np.repeat(np.arange(len(images)), made.shape[1]),
        )

    def __len__(self) -> int:
        return len(self.labels)

    def joined(self, other: ExtraExamples | None) -> ExtraExamples:
        """These examples followed by ``other``'s (a few hundred rows at most: cheap)."""
        if other is None:
            return self
        return ExtraExamples(
            *(np.concatenate([a, b]) for a, b in zip(self._arrays(), other._arrays(), strict=True)),
            np.concatenate([self.owner, other.owner + len(self)]),
        )

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.images, self.labels, self.sources, self.features, self.projected

    def scale(self, yours: float) -> np.ndarray:
        """float64 (m,): the factor each example's distance is ranked or weighed by, ``yours``
        for a visitor's own examples and 1 for shared ones."""
        return np.where(self.sources == "yours", yours, 1.0)

    def kneighbors(
        self,
        queries: np.ndarray,
        projected: np.ndarray,
        k: int,
        rerank: str | None,
        shortlist: int,
        window: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest examples (fewer if there are fewer) of each query, by the model's
        distance: (distances float64 (n, k'), indices (n, k')), nearest first.

        queries : the deskewed queries (n, 784); projected : their principal components.
        """
        k = min(k, len(self))
        if rerank is None:
            distances = _euclidean(queries, self.features)
        else:
            n_variants = len(self.owner)
            candidates = _nearest(_euclidean(projected, self.projected), min(shortlist, n_variants))
            candidates = np.sort(candidates[1], axis=1)  # ties then go to the earlier example
            found = rerank_idm(
                queries.reshape(-1, *IMAGE_SHAPE),
                self.features.reshape(-1, *IMAGE_SHAPE),
                candidates,
                candidates.shape[1],
                window,
            )
            distances = np.full((len(queries), n_variants), np.inf)
            np.put_along_axis(distances, found[1], found[0], axis=1)
        return _nearest(self._per_example(distances), k)

    def _per_example(self, distances: np.ndarray) -> np.ndarray:
        """(n, v) distances to variants -> (n, m) to examples: each its nearest variant's."""
        starts = np.flatnonzero(np.r_[True, self.owner[1:] != self.owner[:-1]])
        return np.minimum.reduceat(distances, starts, axis=1)


def merge(
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    offset: int,
    second_scale: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best of two neighbour lists (distances, indices), ranked by distance, the second's
    distances multiplied by ``second_scale[index]`` for the ranking and its indices moved by
    ``offset``. Returns the true (unscaled) distances and the merged indices, (n, k)."""
    distances = np.concatenate([first[0], second[0]], axis=1)
    ranked = np.concatenate([first[0], second[0] * second_scale[second[1]]], axis=1)
    indices = np.concatenate([first[1], second[1] + offset], axis=1)
    order = np.lexsort((indices, ranked))[:, :k]
    return np.take_along_axis(distances, order, 1), np.take_along_axis(indices, order, 1)


def _euclidean(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Exact Euclidean distances float64 (n, m) between few rows: no search needed."""
    diff = queries[:, None, :].astype(np.float64) - references[None, :, :]
    return np.sqrt(np.einsum("qmf,qmf->qm", diff, diff))


def _nearest(distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((np.broadcast_to(np.arange(distances.shape[1]), distances.shape), distances))
    order = order[:, :k]
    return np.take_along_axis(distances, order, 1), order
