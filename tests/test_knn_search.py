"""The exact search's own paths: pruning by group minima, the lower bound and its fallback to the
full product, padding, chunks and threads, each against a float64 brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knn.search import (
    GROUP_SIZE,
    MAX_MEASURED,
    MIN_BOUND_FEATURES,
    MIN_ROWS_PER_THREAD,
    SMALL_BATCH,
    ExactSearch,
    SearchCounts,
    candidates,
)


def brute_force(points: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances and indices of the k nearest, float64, ties to the lower index."""
    points = points.astype(np.float64)
    d = np.stack([((points - q) ** 2).sum(axis=1) for q in queries.astype(np.float64)])
    order = np.lexsort((np.broadcast_to(np.arange(len(points)), d.shape), d))[:, :k]
    return np.take_along_axis(d, order, axis=1), order


def searched(
    points: np.ndarray, queries: np.ndarray, k: int, chunk_rows: int, n_threads: int = 2
) -> tuple[np.ndarray, np.ndarray, float]:
    """The search's squared distances and indices, and the fraction of pairs it measured."""
    counts = SearchCounts()
    found = ExactSearch(points).kneighbors(queries, k, chunk_rows, n_threads, counts)
    return *found, counts.measured / counts.pairs


def low_rank(rng: np.random.Generator, n: int, d: int = MIN_BOUND_FEATURES) -> np.ndarray:
    """float32 (n, d) rows near a 10-dimensional subspace, where the lower bound prunes."""
    return (rng.normal(size=(n, 10)) @ rng.normal(size=(10, d)) * 10).astype(np.float32) + (
        rng.normal(size=(n, d)).astype(np.float32)
    )


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
@pytest.mark.parametrize("d", [6, MIN_BOUND_FEATURES])  # without the bound, then with it
def test_matches_a_float64_brute_force(n: int, k: int, chunk_rows: int, d: int) -> None:
    rng = np.random.default_rng(n + k)
    points = rng.normal(size=(n, d)).astype(np.float32)
    queries = rng.normal(size=(40, d)).astype(np.float32)
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


@pytest.mark.parametrize("k", [1, 4])  # 4: the app's
def test_the_bound_prunes_mnist_and_stays_exact(mnist, k: int) -> None:
    points = mnist.train_images[:10_000].reshape(10_000, -1).astype(np.float32)
    queries = mnist.test_images[:200].reshape(200, -1).astype(np.float32)
    sq_distances, indices, measured = searched(points, queries, k, chunk_rows=128)
    expected_distances, expected_indices = brute_force(points, queries, k)
    assert measured < MAX_MEASURED  # the pruned path, not the fallback
    assert np.array_equal(indices, expected_indices)
    assert np.array_equal(sq_distances, expected_distances)  # integer pixels: no rounding


@pytest.mark.parametrize("chunk_rows", [SMALL_BATCH - 1, 2 * MIN_ROWS_PER_THREAD, 1000])
def test_where_the_bound_prunes_nothing_the_full_product_takes_over(chunk_rows: int) -> None:
    """Random rows in many dimensions are all about as far, so the bound could rule out none: the
    search does without it (its directions hold little of the variance) and stays exact."""
    rng = np.random.default_rng(3)
    points = rng.normal(size=(3000, MIN_BOUND_FEATURES)).astype(np.float32)
    queries = rng.normal(size=(5 * MIN_ROWS_PER_THREAD, MIN_BOUND_FEATURES)).astype(np.float32)
    sq_distances, indices, measured = searched(points, queries, 5, chunk_rows)
    expected_distances, expected_indices = brute_force(points, queries, 5)
    assert measured == 1.0  # every pair by the full product
    assert np.array_equal(indices, expected_indices)
    np.testing.assert_allclose(sq_distances, expected_distances, rtol=1e-6)


def test_chunks_that_prune_and_chunks_that_do_not_mix() -> None:
    """The bound pays for the first chunks (queries near the subspace of half the rows) and not
    for the last (queries amid the other half, a random cloud): all stay exact."""
    rng = np.random.default_rng(4)
    cloud = rng.normal(size=(2300, MIN_BOUND_FEATURES)) + 100  # far from the subspace
    points = np.concatenate([low_rank(rng, 2000), cloud[:2000]]).astype(np.float32)
    queries = np.concatenate([low_rank(rng, 3 * MIN_ROWS_PER_THREAD), cloud[2000:]])
    queries = queries.astype(np.float32)
    sq_distances, indices, measured = searched(points, queries, 4, 2 * MIN_ROWS_PER_THREAD)
    expected_distances, expected_indices = brute_force(points, queries, 4)
    assert 0.5 < measured < 1.0
    assert np.array_equal(indices, expected_indices)
    np.testing.assert_allclose(sq_distances, expected_distances, rtol=1e-6)


def test_the_bound_keeps_ties_in_index_order() -> None:
    """Copies of whole-numbered rows: many rows at exactly the same distance, found all the same."""
    rng = np.random.default_rng(5)
    originals = np.rint(low_rank(rng, 2000))
    points = originals[rng.integers(0, 2000, size=6000)].astype(np.float32)
    queries = np.concatenate([originals[:30], originals[30:60] + 1]).astype(np.float32)
    sq_distances, indices, measured = searched(points, queries, 6, chunk_rows=7)
    expected_distances, expected_indices = brute_force(points, queries, 6)
    assert (expected_distances[:, 1:] == expected_distances[:, :-1]).sum() > 100  # ties
    assert measured < MAX_MEASURED
    assert np.array_equal(indices, expected_indices)
    assert np.array_equal(sq_distances, expected_distances)


@pytest.mark.parametrize("n", [3, 12, GROUP_SIZE + 1])
def test_the_bound_with_k_beyond_the_first_candidates(n: int) -> None:
    """k close to n: the first batch measured is every row, padding included in the groups."""
    rng = np.random.default_rng(n)
    points, queries = low_rank(rng, n), low_rank(rng, 9)
    for k in (n - 1, n):
        sq_distances, indices, _ = searched(points, queries, k, chunk_rows=4)
        expected_distances, expected_indices = brute_force(points, queries, k)
        assert np.array_equal(indices, expected_indices)
        np.testing.assert_allclose(sq_distances, expected_distances, rtol=1e-6)


def test_the_bound_gives_the_same_with_and_without_threads() -> None:
    rng = np.random.default_rng(6)
    points = low_rank(rng, 3000)
    queries = low_rank(rng, 5 * MIN_ROWS_PER_THREAD + 3)
    search = ExactSearch(points)
    alone = search.kneighbors(queries, 5, chunk_rows=len(queries), n_threads=1)
    for chunk_rows, n_threads in ((len(queries), 3), (2 * MIN_ROWS_PER_THREAD + 1, 2), (1, 2)):
        both = search.kneighbors(queries, 5, chunk_rows=chunk_rows, n_threads=n_threads)
        for ours, theirs in zip(both, alone, strict=True):
            assert np.array_equal(ours, theirs)
    assert np.array_equal(alone[1], brute_force(points, queries, 5)[1])
