"""Re-ranking a shortlist with the image distortion model (IDM), a distance that forgives small
local deformations (Keysers et al., 2007).

Each query pixel may match the best reference pixel within a small window (``window`` x
``window``) around its own position. Pixels are compared by their local context: the 3x3
neighbourhood of the horizontal and vertical gradients, so that a match is about the shape of the
stroke, not just its ink. The distance is the sum over query pixels of the best match's squared
difference.

The sum over a 3x3 context of squared differences equals (away from the border) a 3x3 box sum of
the per-pixel squared gradient differences, so each displacement costs one subtraction and one
box filter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from knn.parallel import in_parts, split
from knn.virtual import VirtualDigits

RERANKERS = ("idm",)

#: Candidates each thread measures, at least, for a single query (a drawing): its 192 digits
#: and 16 to 20 non-digit references in two parts took the app's classify from 9.2 ms to 8.3
#: ms; the references alone stay in one part.
MIN_PART_CANDIDATES = 64


class Shortlist(NamedTuple):
    """Rows to re-rank for each query: ``candidates`` int (n, s) indices into ``references``
    (float (n_rows, h, w), or the rows of :class:`~knn.virtual.VirtualDigits`), the training
    digit each is a copy of (``owners`` (n, s); default the candidates themselves), and the k
    distinct owners to keep."""

    references: np.ndarray | VirtualDigits
    candidates: np.ndarray
    k: int
    owners: np.ndarray | None = None


def rerank_idm(
    queries: np.ndarray,
    references: np.ndarray | VirtualDigits,
    candidates: np.ndarray,
    k: int,
    window: int,
    owners: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Put each query's shortlist in IDM order and keep the k best.

    queries : float (n, h, w); references, candidates, k, owners : as :class:`Shortlist`. A digit
    counts once, at the distance of its nearest copy; each query needs at least k distinct
    owners. Returns (distances float64 (n, k), the square root of the IDM sums; owners (n, k)),
    ordered by (distance, owner).
    """
    return rerank_shortlists(queries, [Shortlist(references, candidates, k, owners)], window)[0]


def rerank_shortlists(
    queries: np.ndarray, shortlists: Sequence[Shortlist], window: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`rerank_idm` of the same queries in several shortlists, one result per shortlist.

    Each query's candidates of all the shortlists go through one :func:`idm_distances`, whose
    loop over the displacements then runs once (for a drawing, its digits and its non-digit
    references: 0.6 ms less). The distances are those of separate calls, to the bit.
    """
    found = [
        (np.empty((len(queries), s.k)), np.empty((len(queries), s.k), dtype=np.intp))
        for s in shortlists
    ]
    owners = [s.candidates if s.owners is None else s.owners for s in shortlists]
    query_gradients = gradients(queries)

    def rerank(rows: slice) -> None:
        for i in range(rows.start, rows.stop):
            images = [s.references[s.candidates[i]] for s in shortlists]
            references = gradients(images[0] if len(images) == 1 else np.concatenate(images))
            d = _idm_in_parts(query_gradients[i], references, window, len(queries) == 1)
            parts = np.split(d, np.cumsum([len(part) for part in images[:-1]]))
            for s, mine, part, (distances, indices) in zip(
                shortlists, owners, parts, found, strict=True
            ):
                order = np.lexsort((mine[i], part))
                _, first = np.unique(mine[i][order], return_index=True)  # each owner's nearest
                best = order[np.sort(first)[: s.k]]
                distances[i], indices[i] = np.sqrt(part[best]), mine[i][best]

    # NumPy lets go of the GIL in the loops of idm_distances, so queries split among threads
    # keep every core busy (one query splits its candidates instead: _idm_in_parts).
    parts = split(len(queries), os.cpu_count() or 1, 1)
    if len(parts) == 1:
        rerank(parts[0])
    else:
        with ThreadPoolExecutor(len(parts)) as pool:
            list(pool.map(rerank, parts))
    return found


def _idm_in_parts(
    query: np.ndarray, references: np.ndarray, window: int, in_threads: bool
) -> np.ndarray:
    """:func:`idm_distances`; with ``in_threads``, over parts of the references at once
    (:func:`knn.parallel.in_parts`), for a single query that the threads over queries leave
    in one thread. Each reference's distance is the same either way."""
    if not in_threads:
        return idm_distances(query, references, window)
    distances = np.empty(len(references))

    def measure(part: slice) -> None:
        distances[part] = idm_distances(query, references[part], window)

    in_parts(measure, len(references), MIN_PART_CANDIDATES)
    return distances


def gradients(images: np.ndarray) -> np.ndarray:
    """Sobel gradients of images float (n, h, w): float32 (n, 2, h, w), horizontal then vertical.

    Outside the image is paper (0).
    """
    p = np.pad(np.asarray(images, dtype=np.float32), ((0, 0), (1, 1), (1, 1)))
    smooth_rows = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]  # (n, h, w + 2)
    smooth_cols = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]  # (n, h + 2, w)
    horizontal = smooth_rows[:, :, 2:] - smooth_rows[:, :, :-2]
    vertical = smooth_cols[:, 2:] - smooth_cols[:, :-2]
    return np.stack([horizontal, vertical], axis=1)


def idm_distances(query: np.ndarray, references: np.ndarray, window: int = 5) -> np.ndarray:
    """IDM distance from one query to each reference.

    query : gradients (2, h, w); references : gradients (n, 2, h, w), as :func:`gradients` gives.
    window : odd size of the square of displacements each query pixel may take (1 = none).
    Returns float64 (n,).

    Where a query pixel's whole context is blank, its best match is the least 3x3 box sum of
    the reference's squared gradients within the window, which needs no loop over displacements
    (:func:`_blank_terms`). So only the box around the query's gradients goes through that loop;
    the paper outside it is 38% of an MNIST test digit's pixels on average. Both add the same
    numbers in the same order as the loop over the whole image would, so the sums are the same
    to the bit.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd integer, got {window}")
    n, _, h, w = references.shape
    r = window // 2
    # The candidates are the last axis, so that every operation below runs over long contiguous
    # rows (w * n numbers) instead of rows of w: 1.5 times faster, the same sums.
    shifted = np.zeros((2, h + 2 * r, w + 2 * r, n), dtype=np.float32)
    shifted[:, r : r + h, r : r + w] = references.transpose(1, 2, 3, 0)
    best = np.empty((h, w, n), dtype=np.float32)
    rows, cols = _context_box(query)
    if rows.start < rows.stop:
        best[rows, cols] = _context_terms(query, shifted, rows, cols, window)
    bands = [
        (slice(0, rows.start), [slice(0, w)]),
        (rows, [slice(0, cols.start), slice(cols.stop, w)]),
        (slice(rows.stop, h), [slice(0, w)]),
    ]
    bands = [(b, [c for c in cs if c.start < c.stop]) for b, cs in bands if b.start < b.stop]
    bands = [(b, cs) for b, cs in bands if cs]
    if bands:
        squares = shifted[0] * shifted[0]
        squares += shifted[1] * shifted[1]
        for band, band_cols in bands:
            _blank_terms(squares, band, band_cols, window - 1, best)
    return best.sum(axis=(0, 1), dtype=np.float64)


def _context_box(query: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the smallest box holding every pixel whose 3x3 context (within the
    image) holds some of the query's gradients; empty for a blank query. Images under 2 pixels
    a side are taken whole (:func:`_blank_terms` needs a first and a last pixel)."""
    _, h, w = query.shape
    if h < 2 or w < 2:
        return slice(0, h), slice(0, w)
    ink = (query != 0).any(axis=0)
    ys, xs = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(ys) == 0:
        return slice(0, 0), slice(0, 0)
    return (
        slice(max(int(ys[0]) - 1, 0), min(int(ys[-1]) + 2, h)),
        slice(max(int(xs[0]) - 1, 0), min(int(xs[-1]) + 2, w)),
    )


def _context_terms(
    query: np.ndarray, shifted: np.ndarray, rows: slice, cols: slice, window: int
) -> np.ndarray:
    """Each query pixel's best match in rows x cols, float32 (rows, cols, n): for every
    displacement the squared differences of the gradients, their 3x3 box sums, the least."""
    _, h, w = query.shape
    n = shifted.shape[-1]
    # The box sums read one pixel around the box, inside the image.
    ys = slice(max(rows.start - 1, 0), min(rows.stop + 1, h))
    xs = slice(max(cols.start - 1, 0), min(cols.stop + 1, w))
    bh, bw = rows.stop - rows.start, cols.stop - cols.start
    query = np.broadcast_to(query[:, ys, xs, None], (2, ys.stop - ys.start, xs.stop - xs.start, n))
    # Buffers reused for every displacement: this loop is the hot path of a query.
    diff = np.empty(query.shape, dtype=np.float32)
    framed = np.zeros((bh + 2, bw + 2, n), dtype=np.float32)  # outside the image stays zero
    inside = framed[
        ys.start - rows.start + 1 : ys.stop - rows.start + 1,
        xs.start - cols.start + 1 : xs.stop - cols.start + 1,
    ]
    sums = np.empty((bh, bw + 2, n), dtype=np.float32)
    box = np.empty((bh, bw, n), dtype=np.float32)
    best = np.full((bh, bw, n), np.inf, dtype=np.float32)
    for dy in range(window):
        for dx in range(window):
            moved = shifted[:, ys.start + dy : ys.stop + dy, xs.start + dx : xs.stop + dx]
            np.subtract(moved, query, out=diff)
            np.multiply(diff, diff, out=diff)
            np.add(diff[0], diff[1], out=inside)
            _box3(framed, sums, box)
            np.minimum(best, box, out=best)
    return best


def _blank_terms(
    squares: np.ndarray, rows: slice, col_ranges: list[slice], span: int, out: np.ndarray
) -> None:
    """Each pixel's best match where the query is blank in its context, into ``out[rows, c]``
    for each c of col_ranges.

    squares : float32 (h + span, w + span, n), the reference's squared gradients summed, padded
    as in :func:`idm_distances`. With a blank query the squared differences at displacement d
    are the squares moved by d, so a pixel's term is the least of their 3x3 box sums over the
    window: the box sums are made once and the least taken by a running minimum. A pixel on the
    image's edge sums only its context inside the image, as the loop does.
    """
    h, w = out.shape[:2]
    for vertical_rows, vertical in _edge_sums(squares, rows, h, span, axis=0):
        for cols in col_ranges:
            for box_cols, box in _edge_sums(vertical, cols, w, span, axis=1):
                least = _running_min(_running_min(box, span, axis=0), span, axis=1)
                out[vertical_rows, box_cols] = least


def _edge_sums(
    a: np.ndarray, pixels: slice, n: int, span: int, axis: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """Three-term sums along ``axis`` for the pixels (a slice of range(n)), in up to three
    groups: (pixels of the group, their sums at each of their span + 1 displacements).

    Position y + d of ``a`` is pixel y at displacement d. A middle pixel sums
    (a[y - 1] + a[y]) + a[y + 1]; the first pixel has nothing before it (a[y] + a[y + 1]) and
    the last nothing after it (a[y - 1] + a[y]), the order in which :func:`_box3` adds them.
    """
    if pixels.start == 0:
        yield slice(0, 1), _cut(a, axis, 0, span + 1) + _cut(a, axis, 1, span + 2)
    lo, hi = max(pixels.start, 1), min(pixels.stop, n - 1)
    if lo < hi:
        sums = _cut(a, axis, lo - 1, hi - 1 + span) + _cut(a, axis, lo, hi + span)
        sums += _cut(a, axis, lo + 1, hi + 1 + span)
        yield slice(lo, hi), sums
    if pixels.stop == n:
        yield slice(n - 1, n), _cut(a, axis, n - 2, n - 1 + span) + _cut(a, axis, n - 1, n + span)


def _running_min(a: np.ndarray, span: int, axis: int) -> np.ndarray:
    """The least of each span + 1 consecutive values along ``axis`` (that axis shrinks by span)."""
    length = a.shape[axis] - span
    least = _cut(a, axis, 0, length).copy()
    for d in range(1, span + 1):
        np.minimum(least, _cut(a, axis, d, d + length), out=least)
    return least


def _cut(a: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    """``a[start:stop]`` along ``axis``."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def _box3(framed: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """3x3 box sums of ``framed`` (h + 2, w + 2, n), whose frame is zero, into ``out`` (h, w, n);
    ``rows`` (h, w + 2, n) is scratch space."""
    np.add(framed[:-2], framed[1:-1], out=rows)
    rows += framed[2:]
    np.add(rows[:, :-2], rows[:, 1:-1], out=out)
    out += rows[:, 2:]
