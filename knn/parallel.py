"""One query's work shared between the calling thread and a pool kept for the process.

A drawing is one query: NumPy's loops over its shortlist search run in one thread, and BLAS,
whose threads take milliseconds to wake on a busy machine, is not used for it (see
:data:`knn.search.SMALL_BATCH`). Cutting the rows in parts and handing all but the first to a
pool that is already running keeps the second core busy too. The calling thread does its part,
then any part no pool thread has started yet, so a busy machine costs no more than one thread.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def split(n: int, n_parts: int, min_part: int) -> list[slice]:
    """Up to n_parts contiguous slices that cover range(n), none under min_part long (one
    slice if n is small)."""
    n_parts = max(1, min(n_parts, n // max(min_part, 1)))
    bounds = np.linspace(0, n, n_parts + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """The process's pool: one thread fewer than the CPUs (the caller is the other)."""
    return ThreadPoolExecutor(max(1, (os.cpu_count() or 1) - 1), thread_name_prefix="knn-part")


def in_parts(work: Callable[[slice], object], n: int, min_part: int) -> None:
    """Call ``work(part)`` for parts of range(n) that cover it, each at least ``min_part`` long
    (one part if n is small or there is one CPU): the first in this thread, the others in the
    pool or, if it has not started them by the time the first is done, here. ``work`` must
    release the GIL for the parts to overlap (NumPy's loops over large arrays do)."""
    parts = split(n, os.cpu_count() or 1, min_part)
    futures = [_pool().submit(work, part) for part in parts[1:]]
    work(parts[0])
    for part, future in zip(parts[1:], futures, strict=True):
        if future.cancel():  # still waiting for a thread: quicker done here
            work(part)
        else:
            future.result()
