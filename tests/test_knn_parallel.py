"""Work cut in parts between the calling thread and the shared pool."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from knn import parallel
from knn.search import MIN_PART_ROWS, ExactSearch


@pytest.mark.parametrize(("n", "min_part"), [(0, 4), (3, 4), (10, 4), (1000, 7), (9, 1)])
def test_the_parts_cover_the_range_once_each_long_enough(n: int, min_part: int) -> None:
    parts = parallel.split(n, 2, min_part)
    covered = np.concatenate([np.arange(n)[p] for p in parts])
    assert np.array_equal(covered, np.arange(n))
    assert len(parts) == 1 or all(p.stop - p.start >= min_part for p in parts)


def test_every_part_is_done_once() -> None:
    done = np.zeros(100_000, dtype=int)
    parallel.in_parts(lambda part: np.add.at(done, np.arange(len(done))[part], 1), len(done), 1)
    assert np.all(done == 1)


def test_parts_the_busy_pool_has_not_started_are_done_by_the_caller() -> None:
    if (parallel.os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: in_parts makes a single part and never uses the pool")
    release = threading.Event()
    blockers = [parallel._pool().submit(release.wait) for _ in range(parallel._pool()._max_workers)]
    try:
        threads: list[threading.Thread] = []
        parallel.in_parts(lambda part: threads.append(threading.current_thread()), 10, 1)
        assert threads and all(t is threading.current_thread() for t in threads)
    finally:
        release.set()
        for blocker in blockers:
            blocker.result()


def test_one_query_over_rows_scored_in_parts_matches_a_float64_brute_force() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(2 * MIN_PART_ROWS + 5, 6)).astype(np.float32)
    query = rng.normal(size=(1, 6)).astype(np.float32)
    sq_distances, indices = ExactSearch(points).kneighbors(query, 7, chunk_rows=1)
    exact = ((points.astype(np.float64) - query.astype(np.float64)) ** 2).sum(axis=1)
    assert np.array_equal(indices[0], np.argsort(exact, kind="stable")[:7])
    np.testing.assert_allclose(sq_distances[0], np.sort(exact)[:7], rtol=1e-6)
