"""The exact search's own paths: pruning by group minima, padding, chunks and threads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knn.search import GROUP_SIZE, MIN_ROWS_PER_THREAD, SMALL_BATCH, ExactSearch, candidates


def brute_force(points: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances and indices of the k nearest, float64, ties to the lower index."""
    d = ((queries[:, None, :].astype(np.float64) - points[None].astype(np.float64)) ** 2).sum(-1)
    order = np.lexsort((np.broadcast_to(np.arange(len(points)), d.shape), d))[:, :k]
    return np.take_along_axis(d, order, axis=1), order


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_groups=st.integers(1, 40),
    members=st.integers(1, 30),
    c=st.integers(1, 50),
)
def test_candidates_are_the_c_smallest(seed: int, n_groups: int, members: int, c: int) -> None:
    rng = np.random.default_rng(seed)
    n = n_groups * members
    c = min(c, n)
    scores = rng.permutation(n * 7).reshape(7, n).astype(np.float32)  # distinct values
    found = candidates(scores, c, n_groups)
    expected = np.sort(scores, axis=1)[:, :c]
    assert np.array_equal(np.sort(np.take_along_axis(scores, found, axis=1), axis=1), expected)


def test_the_best_may_all_share_one_group() -> None:
    """Pruning keeps whole groups: the c best can all be members of the same group."""
    n_groups, members = 50, 20
    scores = np.full((1, n_groups * members), 100.0, dtype=np.float32)
    scores[0, 7::n_groups] = np.arange(members)  # group 7 holds the 20 best
    assert sorted(candidates(scores, 11, n_groups)[0] // n_groups) == list(range(11))
    assert set(candidates(scores, 11, n_groups)[0] % n_groups) == {7}


@pytest.mark.parametrize("n", [1, 5, GROUP_SIZE, 20 * GROUP_SIZE + 7])
@pytest.mark.parametrize("k", [1, 3, 12])
@pytest.mark.parametrize("chunk_rows", [1, SMALL_BATCH, 16])  # NumPy's loop, then BLAS
def test_matches_a_float64_brute_force(n: int, k: int, chunk_rows: int) -> None:
    rng = np.random.default_rng(n + k)
    points = rng.normal(size=(n, 6)).astype(np.float32)
    queries = rng.normal(size=(40, 6)).astype(np.float32)
    k = min(k, n)
    search = ExactSearch(points)
    assert np.array_equal(search.points, points)
    sq_distances, indices = search.kneighbors(queries, k, chunk_rows)
    expected_distances, expected_indices = brute_force(points, queries, k)
    assert np.array_equal(indices, expected_indices)
    np.testing.assert_allclose(
        sq_distances, expected_distances, rtol=1e-6
    )  # differences taken in float32


def test_threads_and_chunks_do_not_change_results() -> None:
    rng = np.random.default_rng(0)
    points = rng.integers(0, 4, size=(3000, 10)).astype(np.float32)  # many exact ties
    queries = rng.integers(0, 4, size=(5 * MIN_ROWS_PER_THREAD + 3, 10)).astype(np.float32)
    search = ExactSearch(points)
    alone = search.kneighbors(queries, 5, chunk_rows=len(queries), n_threads=1)
    expected = brute_force(points, queries, 5)
    for chunk_rows, n_threads in ((len(queries), 3), (2 * MIN_ROWS_PER_THREAD + 1, 2), (1, 2)):
        both = search.kneighbors(queries, 5, chunk_rows=chunk_rows, n_threads=n_threads)
        for ours, theirs in zip(both, alone, strict=True):
            assert np.array_equal(ours, theirs)
    np.testing.assert_allclose(alone[0], expected[0])  # more ties than candidates: any of them
