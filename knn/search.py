"""Exact Euclidean nearest neighbours, measuring in full only the rows that could be nearest.

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

With many features (MNIST's 784 pixels) most of that product is wasted: a query has few near
rows and many far ones. So the rows are also embedded in BOUND_DIMS + 1 numbers whose distances
bound theirs from below (:mod:`knn.bound`), and the same trick scores the embeddings: a product
an eighth the size gives every row's bound. The best few rows by bound are measured, and the
k-th of their distances is the query's bar. A row whose bound, less a slack for float32 rounding,
is above the bar cannot be among the k nearest; only the rows under it are measured (for MNIST
a few dozen of 60,000), then sorted by (distance, training index) with the others measured. So
the result is the brute force's, exactly. Where the bound leaves too many rows to measure (rows
spread evenly in all directions, as random data are), a chunk is scored by the full product
instead, and so are the chunks after it.

A large batch of queries runs in chunks, so memory stays bounded. The product of a chunk uses
all of BLAS's threads; the selection in the chunk is split among a few threads of our own (NumPy
releases the GIL in its reductions, partitions and sorts), which run while the product of the
next chunk is computed. A few queries (a drawing is one) are scored by NumPy's own loop instead,
over parts of the rows at once, the calling thread and a pool kept for the process sharing them
(:mod:`knn.parallel`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from knn.bound import RELATIVE_SLACK, ProjectionBound
from knn.parallel import in_parts, split

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

#: Training rows each thread scores, at least, for a few queries: the 240,000 deformed copies'
#: principal components (78 MB) took 1.31 ms in two parts against 2.46 ms in one. Smaller sets
#: stay in one part: the 60,000 digits' (0.9 ms in all) and the non-digit references'.
MIN_PART_ROWS = 32768

#: Directions of the lower bound (:mod:`knn.bound`): for MNIST digits and k=3, 96 of 784 leave
#: 0.05% of the (query, row) pairs to measure over all 784; 64 leave 0.13%, 128 leave 0.03%.
#: On all of MNIST, fit and search took 4.3-5.4 CPU seconds with 96 (64: 5.3-6.3, 128:
#: 4.5-5.2), the bare product alone 12.2-12.8 (same busy machine).
BOUND_DIMS = 96

#: Rows with fewer features are searched without the bound: its product over BOUND_DIMS + 2
#: numbers would cost more than a quarter of the full one.
MIN_BOUND_FEATURES = 4 * BOUND_DIMS

#: The bound is used only if its directions hold at least this fraction of the rows' variance:
#: 96 directions hold 91% of MNIST's, 21% of random normal rows' in 784 dimensions, which the
#: bound cannot prune (the search would fall back to the full product after paying for both).
MIN_CAPTURED = 0.5

#: Candidates, in order of their bounds, measured beyond the k best to set each query's bar (the
#: k-th smallest of their distances); for MNIST the bar is then the true k-th distance more
#: than 24 times in 25, and rows are measured only where their bound is under the bar.
FIRST_BATCH = 8

#: If more than this fraction of the rows is to be measured, the bound does not pay: the chunk is
#: scored by the full product instead, and so are the chunks after it. Measuring a row by itself
#: costs some 160 times its share of the product (6.7 us against 42 ns, measured on MNIST on a
#: busy machine), and the bound's own product and selection cost about half the full product,
#: so measuring 1/256 of the rows costs about what the full product does.
MAX_MEASURED = 1 / 256

#: (query, row) pairs measured at a time: their differences take 12 MB for 784 features.
PAIR_BATCH = 4096

#: Padding rows score this, so no real row is ever beaten by one.
_FAR = np.finfo(np.float32).max


@dataclass
class SearchCounts:
    """What searches did, added up: ``pairs`` of a query and a training row, of which
    ``measured`` got a distance over all the features (the others were ruled out by the bound)."""

    pairs: int = 0
    measured: int = 0


class _Found(NamedTuple):
    sq_distances: np.ndarray  # float64 (m, k)
    indices: np.ndarray  # (m, k)
    measured: int  # pairs whose distance was computed over all the features
    bound_paid: bool  # False if the bound would have left too many rows to measure


class ExactSearch:
    """The k nearest training rows of each query by Euclidean distance, exactly.

    points : float array (n, d), the training rows. They are copied once into a float32
    (n_padded, d + 1) matrix: the rows, half their squared norms, and padding up to whole groups.
    With at least MIN_BOUND_FEATURES features, if BOUND_DIMS directions hold MIN_CAPTURED of
    their variance, the rows are also embedded in BOUND_DIMS + 1 numbers whose distances bound
    theirs from below (:mod:`knn.bound`), held the same way.

    Attributes
    ----------
    points : ndarray float32 (n, d)
        A view of the training rows inside that matrix (one copy in memory, not two).
    n_groups : int
        Number of groups the rows are dealt into (see the module docstring).
    """

    def __init__(self, points: np.ndarray) -> None:
        # The bound is fitted on the float32 rows the search measures, and before they are
        # copied: its working arrays are gone by then, and a caller still holding ``points``
        # (the app, loading its cached features) never holds them, the copy and those at once.
        points = np.asarray(points, dtype=np.float32)
        n, d = points.shape
        self.n_groups = max(1, -(-n // GROUP_SIZE))
        n_padded = -(-n // self.n_groups) * self.n_groups
        self._bound = ProjectionBound(points, BOUND_DIMS) if d >= MIN_BOUND_FEATURES else None
        if self._bound is not None and self._bound.captured_ < MIN_CAPTURED:
            self._bound = None
        if self._bound is not None:
            self._bound_rows = _with_half_norms(self._bound.embed(points), n_padded)
            # Lowers each row's computed bound by RELATIVE_SLACK * 2 |b|^2, its share of the slack.
            self._bound_rows[:n, -1] *= 1 - 2 * RELATIVE_SLACK
        self._rows = _with_half_norms(points, n_padded)
        self.points = self._rows[:n, :d]

    def kneighbors(
        self,
        queries: np.ndarray,
        k: int,
        chunk_rows: int,
        n_threads: int | None = None,
        counts: SearchCounts | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact squared distances float64 (m, k) and indices (m, k), nearest first.

        queries : float32 (m, d). chunk_rows : queries per matrix product (memory: two float32
        scores per query and training row). n_threads : threads for the selection (default: the
        CPUs). counts : if given, what the search measured is added to it. Ties in distance go to
        the lower training index.
        """
        n_threads = n_threads or os.cpu_count() or 1
        sq_distances = np.empty((len(queries), k))
        indices = np.empty((len(queries), k), dtype=np.intp)
        chunk_rows = min(chunk_rows, len(queries))
        # Two score buffers: the threads search one chunk's while the next product fills the other.
        buffers = np.empty((2, chunk_rows, len(self._rows)), np.float32)
        bounded = self._bound is not None
        pending: list[tuple[slice, Future]] = []
        with ThreadPoolExecutor(n_threads) as pool:
            submit = pool.submit if len(queries) >= 2 * MIN_ROWS_PER_THREAD else _run_now
            for chunk, start in enumerate(range(0, len(queries), chunk_rows)):
                q = queries[start : start + chunk_rows]
                buffer = buffers[chunk % 2, : len(q)]
                if bounded:
                    embedded = self._bound.embed(q)
                    scores = _product(_extended(embedded), self._bound_rows, buffer)
                else:
                    embedded, scores = q, _product(_extended(q), self._rows, buffer)
                task = self._nearest_bounded if bounded else self._nearest_measured
                bounded &= _collect(pending, sq_distances, indices, counts)
                pending = [
                    (
                        slice(start + p.start, start + p.stop),
                        submit(task, q[p], embedded[p], scores[p], k),
                    )
                    for p in split(len(q), n_threads, MIN_ROWS_PER_THREAD)
                ]
            _collect(pending, sq_distances, indices, counts)
        if counts is not None:
            counts.pairs += len(queries) * len(self.points)
        return sq_distances, indices

    def _nearest_measured(
        self, queries: np.ndarray, _embedded: np.ndarray, scores: np.ndarray, k: int
    ) -> _Found:
        """The k nearest of each query, from its full scores (m, n_padded): the exact re-sort
        of :func:`candidates`."""
        n = len(self.points)
        n_candidates = min(k + SAFETY_MARGIN, n)
        if n_candidates == n:
            found = np.broadcast_to(np.arange(n), (len(queries), n))
        else:
            found = candidates(scores, n_candidates, self.n_groups)
        exact = self._sq_distances(queries, found)
        order = np.lexsort((found, exact))[:, :k]
        return _Found(
            np.take_along_axis(exact, order, axis=1),
            np.take_along_axis(found, order, axis=1),
            measured=len(queries) * n,
            bound_paid=True,
        )

    def _nearest_bounded(
        self, queries: np.ndarray, embedded: np.ndarray, scores: np.ndarray, k: int
    ) -> _Found:
        """The k nearest of each query, from the scores of its bounds (m, n_padded).

        The best few by bound are measured to set the query's bar; every row whose bound is under
        the bar is then measured, the others cannot be nearer than the k already found. If that
        leaves too many rows, the full product scores them instead (``bound_paid`` False).
        """
        n, m = len(self.points), len(queries)
        first = candidates(scores, min(k + FIRST_BATCH, n), self.n_groups)
        first_sq = self._sq_distances(queries, first)
        bar = np.partition(first_sq, k - 1, axis=1)[:, k - 1]
        sq_norms = np.einsum("ij,ij->i", embedded, embedded, dtype=np.float64)
        # A row's bound, less its slack (knn.bound.RELATIVE_SLACK), is 2 * score plus the query's
        # squared norm less the query's share of the slack.
        limits = (bar - (1 - RELATIVE_SLACK) * sq_norms) / 2
        np.put_along_axis(scores, first, np.inf, axis=1)  # measured already
        query, row = np.divmod(
            np.flatnonzero(scores[:, :n] <= limits.astype(np.float32)[:, None]), n
        )
        if len(row) > MAX_MEASURED * m * n:
            full = np.empty((m, len(self._rows)), np.float32)
            found = self._nearest_measured(
                queries, queries, _product(_extended(queries), self._rows, full), k
            )
            return found._replace(bound_paid=False)
        exact = np.concatenate((first_sq.ravel(), self._pair_sq_distances(queries, query, row)))
        query = np.concatenate((np.repeat(np.arange(m), first.shape[1]), query))
        row = np.concatenate((first.ravel(), row))
        order = np.lexsort((row, exact, query))  # by query, then distance, then index
        counts = np.bincount(query, minlength=m)
        nearest = order[(np.cumsum(counts) - counts)[:, None] + np.arange(k)]
        return _Found(exact[nearest], row[nearest], len(row), bound_paid=True)

    def _sq_distances(self, queries: np.ndarray, found: np.ndarray) -> np.ndarray:
        """Squared distances float64 (m, c) from each query to its rows ``found`` (m, c),
        summed in float64 from the differences."""
        diff = self.points[found] - queries[:, None, :]
        return np.einsum("qcf,qcf->qc", diff, diff, dtype=np.float64)

    def _pair_sq_distances(
        self, queries: np.ndarray, query: np.ndarray, row: np.ndarray
    ) -> np.ndarray:
        """Squared distances float64 (p,) of the pairs (queries[query[i]], points[row[i]]), as
        :meth:`_sq_distances` computes them, PAIR_BATCH at a time."""
        out = np.empty(len(row))
        for start in range(0, len(row), PAIR_BATCH):
            pairs = slice(start, start + PAIR_BATCH)
            diff = self.points[row[pairs]] - queries[query[pairs]]
            out[pairs] = np.einsum("pf,pf->p", diff, diff, dtype=np.float64)
        return out


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


def _with_half_norms(points: np.ndarray, n_padded: int) -> np.ndarray:
    """float32 (n_padded, d + 1): the rows (n, d), half their squared norms, then padding rows
    that score _FAR against any query of :func:`_extended`."""
    n, d = points.shape
    rows = np.zeros((n_padded, d + 1), dtype=np.float32)
    rows[:n, :d] = points
    rows[:n, d] = np.einsum("ij,ij->i", rows[:n, :d], rows[:n, :d], dtype=np.float64) / 2
    rows[n:, d] = _FAR
    return rows


def _extended(queries: np.ndarray) -> np.ndarray:
    """float32 (m, d + 1): each query ``a`` as ``(-a, 1)``, whose product with a row of
    :func:`_with_half_norms` is ``|b|^2 / 2 - a.b``."""
    return np.hstack((-queries, np.ones((len(queries), 1), np.float32)))


def _product(queries: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``queries @ rows.T`` into ``out`` (float32), by BLAS unless there are only a few queries;
    then NumPy's loop, over parts of the rows at once (:func:`knn.parallel.in_parts`)."""
    if len(queries) >= SMALL_BATCH:
        return np.matmul(queries, rows.T, out=out)

    def score(part: slice) -> None:
        np.einsum("qd,nd->qn", queries, rows[part], out=out[:, part])

    in_parts(score, len(rows), MIN_PART_ROWS)
    return out


def _collect(
    pending: list[tuple[slice, Future]],
    sq_distances: np.ndarray,
    indices: np.ndarray,
    counts: SearchCounts | None,
) -> bool:
    """Write the results of finished selections into their rows; False if the bound did not
    pay for one of them."""
    paid = True
    for rows, future in pending:
        found = future.result()
        sq_distances[rows], indices[rows] = found.sq_distances, found.indices
        paid &= found.bound_paid
        if counts is not None:
            counts.measured += found.measured
    return paid


def _run_now(function: Callable, *args: object) -> Future:
    """Call at once, in this thread, and return the result as a finished future."""
    future: Future = Future()
    future.set_result(function(*args))
    return future
