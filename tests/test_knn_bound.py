"""The projection lower bound: never above a true distance, tight where the rows have few
directions, and a basis of orthonormal leading directions."""

from __future__ import annotations

import numpy as np
import pytest

from knn.bound import RELATIVE_SLACK, ProjectionBound, leading_directions


def bounds_and_distances(points: np.ndarray, queries: np.ndarray, n_dims: int):
    """Squared bounds, squared distances float64 (m, n) of every query and row, and the slack
    each bound is allowed, RELATIVE_SLACK * (|a|^2 + 2 |b|^2)."""
    bound = ProjectionBound(points, n_dims)
    a, b = bound.embed(queries).astype(np.float64), bound.embed(points).astype(np.float64)
    bounds = ((a[:, None] - b[None]) ** 2).sum(-1)
    exact = ((queries[:, None].astype(np.float64) - points[None]) ** 2).sum(-1)
    slack = RELATIVE_SLACK * ((a**2).sum(1)[:, None] + 2 * (b**2).sum(1)[None])
    return bounds, exact, slack


@pytest.mark.parametrize("n_dims", [1, 8, 40])
def test_the_bound_never_exceeds_the_distance(n_dims: int) -> None:
    rng = np.random.default_rng(n_dims)
    points = rng.normal(size=(300, 40)).astype(np.float32)
    queries = (3 * rng.normal(size=(50, 40))).astype(np.float32)
    bounds, exact, slack = bounds_and_distances(points, queries, n_dims)
    assert (bounds <= exact + slack / 100).all()  # rounding takes far less than the slack
    if n_dims == 40:  # the whole space: the bound is the distance
        np.testing.assert_allclose(bounds, exact, rtol=1e-4, atol=1e-3)


def test_the_bound_is_tight_for_rows_near_a_subspace() -> None:
    rng = np.random.default_rng(0)
    points = (rng.normal(size=(500, 3)) @ rng.normal(size=(3, 50)) + 5).astype(np.float32)
    points += 0.01 * rng.normal(size=points.shape).astype(np.float32)
    bounds, exact, slack = bounds_and_distances(points, points[:20], 3)
    assert (bounds <= exact + slack / 100).all()
    assert (bounds >= 0.95 * exact - 0.1).all()


def test_leading_directions_are_orthonormal_and_follow_the_spread() -> None:
    rng = np.random.default_rng(1)
    scales = np.array([10.0, 5.0, 1.0, 0.1, 0.1, 0.1])
    centred = (rng.normal(size=(2000, 6)) * scales).astype(np.float32)
    basis = leading_directions(centred - centred.mean(axis=0), 2)
    np.testing.assert_allclose(basis.T @ basis, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.abs(basis[:2]), np.eye(2), atol=0.02)


def test_the_variance_held_tells_structured_rows_from_random_ones() -> None:
    rng = np.random.default_rng(2)
    structured = rng.normal(size=(3000, 8)) @ rng.normal(size=(8, 200))
    structured += rng.normal(size=structured.shape)
    assert ProjectionBound(structured.astype(np.float32), 20).captured_ > 0.9
    assert ProjectionBound(rng.normal(size=(3000, 200)).astype(np.float32), 20).captured_ < 0.2
    assert ProjectionBound(np.ones((50, 10), np.float32), 2).captured_ == 1.0  # no variance


def test_bad_number_of_directions() -> None:
    with pytest.raises(ValueError, match=r"n_dims must be in 1\.\.4"):
        ProjectionBound(np.zeros((10, 4), np.float32), 5)
