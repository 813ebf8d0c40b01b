"""How long one call takes, timed the same way in every benchmark that times a single call."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def call_ms(repeats: int, function: Callable[..., object], *args: object) -> np.ndarray:
    """Milliseconds of ``repeats`` calls of ``function(*args)``, after one untimed call that
    warms caches (the first call pays for imports, thread pools and lazily built tables):
    float (repeats,)."""
    function(*args)
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        function(*args)
        times[i] = time.perf_counter() - start
    return 1000 * times
