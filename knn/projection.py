"""Principal components, so that the shortlist for re-ranking is searched in few dimensions.

The re-ranking only needs the true neighbours somewhere in a shortlist of dozens, not in exact
order, so the Euclidean search that makes the shortlist can run over the digits' first
principal components (80 instead of 784 numbers, ten times less memory to scan per query).
"""

from __future__ import annotations

import numpy as np

#: Rows projected per product: enough for BLAS to run at full speed, a few MB of copy at most.
TRANSFORM_ROWS = 4096


class PrincipalComponents:
    """Projection on the directions of largest variance, fitted with NumPy's ``eigh``.

    Attributes after ``fit``: ``mean_`` float32 (n_features,), ``components_`` float32
    (n_features, n_components), columns by decreasing variance.
    """

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def fit(self, X: np.ndarray) -> PrincipalComponents:
        """Learn the mean and the leading eigenvectors of the covariance of X (n, n_features)."""
        X = np.asarray(X, dtype=np.float32)
        if not 1 <= self.n_components <= X.shape[1]:
            raise ValueError(f"n_components must be in 1..{X.shape[1]}, got {self.n_components}")
        mean = X.mean(axis=0, dtype=np.float64)
        centred = X - mean.astype(np.float32)
        covariance = (centred.T @ centred).astype(np.float64) / max(len(X) - 1, 1)
        _, vectors = np.linalg.eigh(covariance)  # ascending eigenvalues
        self.mean_ = mean.astype(np.float32)
        self.components_ = np.ascontiguousarray(
            vectors[:, ::-1][:, : self.n_components], np.float32
        )
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Coordinates float32 (n, n_components) of X (n, n_features).

        (X - mean) @ C without the centred copy of X, TRANSFORM_ROWS rows at a time, each
        converted to float32 only as its product needs it: at load X is the training digits in
        float16, whose float32 copy would take 188 MB at once (it was the app's start-up peak)."""
        X = np.asarray(X)
        out = np.empty((len(X), self.components_.shape[1]), dtype=np.float32)
        shift = self.mean_ @ self.components_
        for start in range(0, len(X), TRANSFORM_ROWS):
            rows = np.asarray(X[start : start + TRANSFORM_ROWS], dtype=np.float32)
            np.subtract(
                rows @ self.components_,
                shift,
                out=out[start : start + TRANSFORM_ROWS],
            )
        return out

    @classmethod
    def from_arrays(cls, mean: np.ndarray, components: np.ndarray) -> PrincipalComponents:
        """A fitted projection from the arrays ``fit`` learned (read back from a cache)."""
        projection = cls(components.shape[1])
        projection.mean_, projection.components_ = mean, components
        return projection
