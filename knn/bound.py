"""A lower bound on Euclidean distances from a few coordinates, so that an exact search needs
the full distance only for the rows that could be among the nearest.

For a basis ``P`` of ``d`` orthonormal columns, every vector splits into its part in the span of
``P`` and a residual orthogonal to it: ``|x|^2 = |P^T x|^2 + |x - P P^T x|^2``. Take ``x = a - b``
and write each point by its coordinates ``P^T (a - m)`` (``m`` the mean of the training rows)
and the length of its residual; the residual of ``a - b`` is the difference of the residuals of
``a`` and ``b``, at least as long as the difference of their lengths. Hence

    |a - b|^2 >= |P^T (a - m) - P^T (b - m)|^2 + (|res(a)| - |res(b)|)^2,

the squared distance between the two points' d + 1 numbers (:meth:`ProjectionBound.embed`). It
holds for any orthonormal basis; it is tight when the basis holds most of the rows' variance, so
the basis is their leading principal directions. For MNIST digits 96 directions of 784 leave
about 0.05% of the training rows with a bound below a query's third-nearest distance.
"""

from __future__ import annotations

import numpy as np

#: Training rows the basis is fitted on, evenly spaced: the leading directions of 60,000 digits
#: are found as well from 4,096 of them, at a fifteenth of the cost. The bound holds for any basis.
SAMPLE_ROWS = 4096

#: Extra directions carried through the subspace iteration, and its rounds: with them the d
#: leading directions converge well enough for the bound (an inexact basis only prunes less).
OVERSAMPLE = 16
ITERATIONS = 3

#: How far from the identity the Gram matrix of a basis may be: the bound's exact identity
#: holds to this much of the squared norms, far inside RELATIVE_SLACK.
ORTHONORMAL = 1e-9

#: Rows projected at a time in float64 (8 MB of them), so the conversion stays small in memory.
PROJECT_ROWS = 1024

#: Slack on a bound computed in float32 as ``|a|^2 + |b|^2 - 2 a.b`` over the d + 1 numbers of
#: the embeddings a and b (the norm of b in one of the d + 2 terms, as :mod:`knn.search` does):
#: that sum errs by at most (d + 2) * 2^-24 * (|a|^2 + 2 |b|^2), under 7.8e-6 * (|a|^2 + 2 |b|^2)
#: for d <= 128. Lowering each bound by RELATIVE_SLACK * (|a|^2 + 2 |b|^2) keeps it a bound with
#: more than as much again to spare for the other roundings, each a few 2^-24 of those norms:
#: the embeddings and norms (computed in float64, rounded once to float32) and the limit a
#: bound is compared with.
RELATIVE_SLACK = 2e-5


class ProjectionBound:
    """The embedding in d + 1 numbers whose distances bound the Euclidean distances from below.

    points : float (n, n_features), the training rows; n_dims : directions kept, at most
    n_features. Attributes: ``mean_`` float64 (n_features,), ``basis_`` float64
    (n_features, n_dims) with orthonormal columns, ``captured_`` the fraction of the rows'
    variance the basis holds (1 if they have none): the bound is tight only where it is high.
    """

    def __init__(self, points: np.ndarray, n_dims: int) -> None:
        sample = np.asarray(points[:: max(1, len(points) // SAMPLE_ROWS)], dtype=np.float32)
        self.mean_ = sample.mean(axis=0, dtype=np.float64)
        centred = sample - self.mean_.astype(np.float32)
        self.basis_ = leading_directions(centred, n_dims)
        total = np.einsum("ij,ij->", centred, centred, dtype=np.float64)
        held = np.square(centred @ self.basis_).sum()
        self.captured_ = float(held / total) if total > 0 else 1.0

    def embed(self, X: np.ndarray) -> np.ndarray:
        """Coordinates in the basis and the residual's length: float32 (m, n_dims + 1)."""
        out = np.empty((len(X), self.basis_.shape[1] + 1), dtype=np.float32)
        for start in range(0, len(X), PROJECT_ROWS):
            centred = np.asarray(X[start : start + PROJECT_ROWS], np.float64) - self.mean_
            coordinates = centred @ self.basis_
            rest = np.einsum("ij,ij->i", centred, centred) - np.einsum(
                "ij,ij->i", coordinates, coordinates
            )
            out[start : start + len(centred), :-1] = coordinates
            out[start : start + len(centred), -1] = np.sqrt(np.maximum(rest, 0.0))
        return out


def leading_directions(centred: np.ndarray, n_dims: int) -> np.ndarray:
    """Orthonormal float64 (n_features, n_dims): the directions of largest variance of the
    centred rows float32 (n, n_features), by subspace iteration on their covariance (a full
    ``eigh`` of a 784 x 784 matrix costs a sizeable part of the search it serves)."""
    n_features = centred.shape[1]
    if not 1 <= n_dims <= n_features:
        raise ValueError(f"n_dims must be in 1..{n_features}, got {n_dims}")
    covariance = (centred.T @ centred).astype(np.float64)
    width = min(n_dims + OVERSAMPLE, n_features)
    subspace = np.random.default_rng(0).standard_normal((n_features, width))
    for _ in range(ITERATIONS):
        subspace = orthonormal(covariance @ subspace)
    _, vectors = np.linalg.eigh(subspace.T @ covariance @ subspace)  # ascending
    return orthonormal(subspace @ vectors[:, ::-1][:, :n_dims])


def orthonormal(columns: np.ndarray) -> np.ndarray:
    """Orthonormal columns float64 (n, w) spanning those given, by two rounds of Cholesky QR: a
    few small products where ``np.linalg.qr`` can take a second when other processes keep
    OpenBLAS's threads waiting. Columns that are not independent (rows fewer than columns,
    constant features) go to ``np.linalg.qr``, whose columns are orthonormal whatever comes in."""
    q = columns
    with np.errstate(all="ignore"):
        for _ in range(2):
            try:
                q = np.linalg.solve(np.linalg.cholesky(q.T @ q), q.T).T
            except np.linalg.LinAlgError:
                break
    if np.isfinite(q).all() and np.allclose(q.T @ q, np.eye(q.shape[1]), rtol=0, atol=ORTHONORMAL):
        return q
    return np.linalg.qr(columns)[0]
