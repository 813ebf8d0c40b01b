"""A k-nearest-neighbours classifier from scratch: Euclidean search and vote in NumPy.

The search (:mod:`knn.search`) ranks the training rows with one float32 matrix product per chunk
of queries, so memory stays bounded whatever the number of queries, and keeps a few more than the
k best candidates; their distances are then computed again exactly (in float64, from the
differences) and sorted by (distance, training index), so the neighbours and their order do not
depend on float32 rounding and ties are broken the same way every time. With many features the
product runs over a small embedding whose distances bound the true ones from below, and only the
rows that bound cannot rule out are measured.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from knn.search import ExactSearch

WEIGHTS = ("uniform", "distance")

#: Temporary bytes per (query, training row) pair: a float32 score in each of two buffers.
_BYTES_PER_PAIR = 8


class NotFittedError(ValueError, AttributeError):
    """The classifier was used before ``fit``."""


class KNNClassifier:
    """k-nearest-neighbours classifier with Euclidean distance, in scikit-learn's conventions.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours that vote.
    weights : {"uniform", "distance"}, default="uniform"
        ``"uniform"``: each neighbour has one vote. ``"distance"``: a vote weighs ``1 / distance``;
        a query with neighbours at distance 0 gives all the weight to them, as scikit-learn does.
    max_chunk_bytes : int, default=256 MiB
        Bound on the temporary scores of the search: two chunks of queries (one searched while
        the next is scored), a float32 for each pair of a query and a training row.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels; columns of :meth:`predict_proba` follow this order.
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_samples_fit_ : int
        Number of training samples.
    fit_X_ : ndarray float32 of shape (n_samples_fit, n_features)
        The training samples as the search holds them (a view of its one copy).

    Examples
    --------
    >>> clf = KNNClassifier(n_neighbors=1).fit([[0, 0], [1, 1], [9, 9]], ["a", "a", "b"])
    >>> clf.predict([[8, 8]]).tolist(), clf.predict_proba([[0, 1]]).tolist()
    (['b'], [[1.0, 0.0]])
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        weights: str = "uniform",
        max_chunk_bytes: int = 256 * 2**20,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.max_chunk_bytes = max_chunk_bytes

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, as scikit-learn's ``clone`` and grid search expect."""
        return {
            "n_neighbors": self.n_neighbors,
            "weights": self.weights,
            "max_chunk_bytes": self.max_chunk_bytes,
        }

    def set_params(self, **params: Any) -> KNNClassifier:
        """Set constructor parameters; unknown names raise ``ValueError``."""
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"unknown parameter {name!r} for KNNClassifier")
            setattr(self, name, value)
        return self

    def fit(self, X: Any, y: Any) -> KNNClassifier:
        """Store the training set.

        X : array-like of shape (n_samples, n_features), numbers; y : array-like of shape
        (n_samples,). Returns self.
        """
        _check_n_neighbors(self.n_neighbors)
        _check_weights(self.weights)
        X = _as_float32_matrix(X, "X")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must have shape ({len(X)},), got {y.shape}")
        if len(X) == 0:
            raise ValueError("cannot fit on an empty training set")
        self.classes_, self._y_index = np.unique(y, return_inverse=True)
        self._search = ExactSearch(X)
        self.fit_X_ = self._search.points
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = len(X)
        return self

    def kneighbors(
        self, X: Any, n_neighbors: int | None = None, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """The nearest training samples of each query, nearest first.

        X : array-like of shape (n_queries, n_features). Returns ``(distances, indices)``, each of
        shape (n_queries, n_neighbors): Euclidean distances (float64) and training indices; or
        only the indices if ``return_distance`` is False.
        """
        self._check_fitted()
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        _check_n_neighbors(k)
        if k > self.n_samples_fit_:
            raise ValueError(f"n_neighbors={k} exceeds the {self.n_samples_fit_} training samples")
        X = self._check_queries(X)
        sq_distances, indices = self._search.kneighbors(X, k, self._chunk_rows())
        return (np.sqrt(sq_distances), indices) if return_distance else indices

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from the neighbours' votes: shape (n_queries, n_classes), rows sum
        to 1, columns in the order of ``classes_``."""
        distances, indices = self.kneighbors(X)
        return vote(self._y_index[indices], distances, self.weights, len(self.classes_))

    def predict(self, X: Any) -> np.ndarray:
        """The class with the most votes for each query (ties go to the first in ``classes_``)."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy of :meth:`predict` on ``X`` against the labels ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def _check_fitted(self) -> None:
        if not hasattr(self, "_search"):
            raise NotFittedError("this KNNClassifier is not fitted yet: call fit(X, y) first")

    def _check_queries(self, X: Any) -> np.ndarray:
        X = _as_float32_matrix(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the classifier was fitted with "
                f"{self.n_features_in_}"
            )
        return X

    def _chunk_rows(self) -> int:
        return max(1, int(self.max_chunk_bytes) // (_BYTES_PER_PAIR * self.n_samples_fit_))


def vote_weights(
    distances: np.ndarray, weights: str, prior_distance: float = math.inf
) -> np.ndarray:
    """Each neighbour's share of its query's vote: float64 (n_queries, k).

    distances : float array (n_queries, k). ``"uniform"``: 1 / k each. ``"distance"``: shares
    proportional to 1 / distance, with a prior that votes like one more neighbour at
    ``prior_distance``, its vote spread evenly over the classes by :func:`tally`; so a row sums
    to 1 minus the prior's share, which grows as the neighbours get farther (``inf``: no prior,
    rows sum to 1). Neighbours at distance 0 share all of it, as in scikit-learn.
    """
    _check_weights(weights)
    if weights == "uniform":
        w = np.ones(distances.shape)
        return w / w.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        w = 1.0 / np.asarray(distances, dtype=np.float64)
    exact = np.isinf(w).any(axis=1)
    w[exact] = np.isinf(w[exact])  # exact matches take all the weight
    prior = np.where(exact, 0.0, 1.0 / prior_distance)[:, None]
    return w / (w.sum(axis=1, keepdims=True) + prior)


def tally(neighbour_classes: np.ndarray, shares: np.ndarray, n_classes: int) -> np.ndarray:
    """Add up the neighbours' shares per class: float64 (n_queries, n_classes).

    neighbour_classes : int array (n_queries, k) of class indices; shares : float (n_queries, k)
    as :func:`vote_weights` gives them. What the neighbours leave of a row's vote (the prior's
    share) is spread evenly over the classes; a row without neighbours stays zero.
    """
    proba = np.zeros((len(shares), n_classes))
    rows = np.arange(len(shares))
    for column in range(shares.shape[1]):
        proba[rows, neighbour_classes[:, column]] += shares[:, column]
    if shares.shape[1]:
        proba += np.clip(1.0 - shares.sum(axis=1, keepdims=True), 0.0, None) / n_classes
    return proba


def vote(
    neighbour_classes: np.ndarray,
    distances: np.ndarray,
    weights: str,
    n_classes: int,
    prior_distance: float = math.inf,
) -> np.ndarray:
    """Class probabilities float64 (n_queries, n_classes) from the neighbours' votes; rows sum
    to 1. neighbour_classes : int (n_queries, k) class indices; distances : (n_queries, k);
    ``prior_distance`` as in :func:`vote_weights`."""
    return tally(neighbour_classes, vote_weights(distances, weights, prior_distance), n_classes)


def _as_float32_matrix(X: Any, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return X


def _check_n_neighbors(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"n_neighbors must be a positive integer, got {k!r}")


def _check_weights(weights: Any) -> None:
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
