"""Exact Euclidean nearest neighbours at the speed of the matrix product that ranks them.

For a query ``a`` the training rows ``b`` rank by ``|b|^2 / 2 - a.b`` (half the squared distance,
less the query's constant ``|a|^2 / 2``). Each training row is stored once with ``|b|^2 / 2`` as
an extra column, and each query becomes ``(-a, 1)``, so one float32 matrix product gives the
scores, with no further pass over them.

Selecting the best few of 60,000 scores per query with ``np.argpartition`` would cost as much
as the product. The training rows are dealt into ``n_groups`` groups instead (row ``j`` goes to
group ``j % n_groups``). The c smallest scores of a query lie in the c groups whose minima are
smallest: any other group's members are each beaten by those c minima. So one pass over the
scores takes the minimum of each group, a partition of the group minima picks c groups, and only
their members are partitioned. The c candidates are then measured again exactly (in float64,
from the differences) and sorted by (distance, training index), so float32 rounding and ties
change neither the neighbours nor their order.

A large batch of queries runs in chunks, so memory stays bounded. The product of a chunk uses
all of BLAS's threads; the selection in the chunk is split among a few threads of our own (NumPy
releases the GIL in its reductions, partitions and sorts), which run while the product of the
next chunk is computed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise

import numpy as np

#: Candidates kept beyond the k best before the exact re-sort, to absorb float32 rounding.
SAFETY_MARGIN = 8

#: Training rows per group: enough groups that their minima are cheap to partition, few enough
#: members that the chosen groups are (about 700 scores for k=3 over 60,000 rows).
GROUP_SIZE = 64

#: Below this many queries in a chunk, threads cost more than they save (a drawing is one query).
MIN_ROWS_PER_THREAD = 64

#: Fewer queries than this are scored by NumPy's own loop, not BLAS: on a busy machine BLAS's
#: threads take milliseconds to wake, longer than the whole product for one query (measured for
#: one drawing's shortlist, 60,000 x 81: 0.85 ms in NumPy's loop, 8 ms with BLAS's two threads).
SMALL_BATCH = 4

#: Padding rows score this, so no real row is ever beaten by one.
_FAR = np.finfo(np.float32).max


class ExactSearch:
    """The k nearest training rows of each query by Euclidean distance, exactly.

    points : float array (n, d), the training rows. They are copied once into a float32
    (n_padded, d + 1) matrix: the rows, half their squared norms, and padding up to whole groups.

    Attributes
    ----------
    points : ndarray float32 (n, d)
        A view of the training rows inside that matrix (one copy in memory, not two).
    n_groups : int
        Number of groups the rows are dealt into (see the module docstring).
    """

    def __init__(self, points: np.ndarray) -> None:
        n, d = points.shape
        self.n_groups = max(1, -(-n // GROUP_SIZE))
        n_padded = -(-n // self.n_groups) * self.n_groups
        rows = np.zeros((n_padded, d + 1), dtype=np.float32)
        rows[:n, :d] = points
        rows[:n, d] = np.einsum("ij,ij->i", rows[:n, :d], rows[:n, :d], dtype=np.float64) / 2
        rows[n:, d] = _FAR
        self._rows = rows
        self.points = rows[:n, :d]

    def kneighbors(
        self, queries: np.ndarray, k: int, chunk_rows: int, n_threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact squared distances float64 (m, k) and indices (m, k), nearest first.

        queries : float32 (m, d). chunk_rows : queries per matrix product (memory: two float32
        scores per query and training row). n_threads : threads for the selection (default: the
        CPUs). Ties in distance go to the lower training index.
        """
        n_threads = n_threads or os.cpu_count() or 1
        sq_distances = np.empty((len(queries), k))
        indices = np.empty((len(queries), k), dtype=np.intp)
        chunk_rows = min(chunk_rows, len(queries))
        extended = np.empty((chunk_rows, self._rows.shape[1]), np.float32)
        # Two score buffers: the threads search one chunk's while the next product fills the other.
        buffers = np.empty((2, chunk_rows, len(self._rows)), np.float32)
        pending: list[tuple[slice, Future]] = []
        with ThreadPoolExecutor(n_threads) as pool:
            submit = pool.submit if len(queries) >= 2 * MIN_ROWS_PER_THREAD else _run_now
            for chunk, start in enumerate(range(0, len(queries), chunk_rows)):
                q = queries[start : start + chunk_rows]
                np.negative(q, out=extended[: len(q), :-1])
                extended[: len(q), -1] = 1.0
                scores = _product(extended[: len(q)], self._rows, buffers[chunk % 2, : len(q)])
                _collect(pending, sq_distances, indices)
                pending = [
                    (
                        slice(start + p.start, start + p.stop),
                        submit(self._nearest, q[p], scores[p], k),
                    )
                    for p in _split(len(q), n_threads)
                ]
            _collect(pending, sq_distances, indices)
        return sq_distances, indices

    def _nearest(
        self, queries: np.ndarray, scores: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest of each query, from its scores (m, n_padded): the exact re-sort of
        :func:`candidates`."""
        n = len(self.points)
        n_candidates = min(k + SAFETY_MARGIN, n)
        if n_candidates == n:
            found = np.broadcast_to(np.arange(n), (len(queries), n))
        else:
            found = candidates(scores, n_candidates, self.n_groups)
        diff = self.points[found] - queries[:, None, :]
        exact = np.einsum("qcf,qcf->qc", diff, diff, dtype=np.float64)
        order = np.lexsort((found, exact))[:, :k]
        return np.take_along_axis(exact, order, axis=1), np.take_along_axis(found, order, axis=1)


def candidates(scores: np.ndarray, c: int, n_groups: int) -> np.ndarray:
    """Indices int (m, c) of the c smallest scores of each row, in no particular order.

    scores : float32 (m, n), n a multiple of n_groups; column j belongs to group j % n_groups.
    Only the members of the c groups with the smallest minima are looked at (see the module
    docstring); with c >= n_groups that is every column.
    """
    m, n = scores.shape
    if c >= n_groups:
        return np.argpartition(scores, c - 1, axis=1)[:, :c]
    by_group = scores.reshape(m, n // n_groups, n_groups)  # [query, member, group]
    groups = np.argpartition(by_group.min(axis=1), c - 1, axis=1)[:, :c]  # (m, c)
    members = np.take_along_axis(by_group, groups[:, None, :], axis=2).reshape(m, -1)
    best = np.argpartition(members, c - 1, axis=1)[:, :c]  # flat (member, chosen group)
    member, chosen = np.divmod(best, c)
    return member * n_groups + np.take_along_axis(groups, chosen, axis=1)


def _product(queries: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``queries @ rows.T`` into ``out`` (float32), by BLAS unless there are only a few queries."""
    if len(queries) < SMALL_BATCH:
        return np.einsum("qd,nd->qn", queries, rows, out=out)
    return np.matmul(queries, rows.T, out=out)


def _collect(
    pending: list[tuple[slice, Future]], sq_distances: np.ndarray, indices: np.ndarray
) -> None:
    """Write the results of finished selections into their rows."""
    for rows, future in pending:
        sq_distances[rows], indices[rows] = future.result()


def _run_now(function: Callable, *args: object) -> Future:
    """Call at once, in this thread, and return the result as a finished future."""
    future: Future = Future()
    future.set_result(function(*args))
    return future


def _split(n_rows: int, n_threads: int) -> list[slice]:
    """Up to n_threads contiguous slices of range(n_rows), none under MIN_ROWS_PER_THREAD rows
    (one slice if n_rows is small)."""
    n_parts = max(1, min(n_threads, n_rows // MIN_ROWS_PER_THREAD))
    bounds = np.linspace(0, n_rows, n_parts + 1).astype(int)
    return [slice(a, b) for a, b in pairwise(bounds)]
