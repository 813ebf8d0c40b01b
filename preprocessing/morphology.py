"""Octagonal morphology on small NumPy arrays: erode, dilate, measure stroke width.

Steps alternate between the 3x3 cross and the 3x3 square, so repeated steps grow or shrink
a shape by an octagon, close to a disc, in every direction alike. No Pillow rank filter is
used, so no filter size can ever reach 1.
"""

from __future__ import annotations

import numpy as np

_CROSS = ((0, 1), (1, 0), (1, 1), (1, 2), (2, 1))
_SQUARE = tuple((dy, dx) for dy in range(3) for dx in range(3))


def _neighbourhood(step: int) -> tuple[tuple[int, int], ...]:
    return _CROSS if step % 2 == 0 else _SQUARE


def _combine(values: np.ndarray, step: int, ufunc: np.ufunc) -> np.ndarray:
    """Combine (with np.maximum or np.minimum) the array shifted over the step's neighbourhood.

    Outside the array counts as paper (0).
    """
    height, width = values.shape
    padded = np.zeros((height + 2, width + 2), dtype=values.dtype)
    padded[1:-1, 1:-1] = values
    result = values.copy()
    for dy, dx in _neighbourhood(step):
        ufunc(result, padded[dy : dy + height, dx : dx + width], out=result)
    return result


def dilate(values: np.ndarray, steps: int) -> np.ndarray:
    """Grey dilation (local maximum) by `steps` octagonal steps; pad beforehand to grow."""
    for step in range(steps):
        values = _combine(values, step, np.maximum)
    return values


def erode(values: np.ndarray, steps: int) -> np.ndarray:
    """Grey erosion (local minimum) by `steps` octagonal steps."""
    for step in range(steps):
        values = _combine(values, step, np.minimum)
    return values


def distance_to_paper(mask: np.ndarray) -> np.ndarray:
    """Octagonal distance of each ink pixel of a bool mask to the paper (1 on the edge, 0 paper)."""
    distance = np.zeros(mask.shape, dtype=np.int32)
    step = 0
    while mask.any():
        distance += mask
        mask = _combine(mask, step, np.minimum)
        step += 1
    return distance


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width in pixels of a bool ink mask: twice the mean ridge distance.

    The ridge (pixels at least as far from the paper as their 8 neighbours) runs along the
    strokes' centre lines; a stroke w pixels wide has ridge distance about (w + 0.5) / 2.
    """
    distance = distance_to_paper(mask)
    neighbours = _combine(distance, 1, np.maximum)
    ridge = mask & (distance >= neighbours)
    return 2 * float(np.mean(distance[ridge])) - 0.5
