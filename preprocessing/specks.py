"""Keep the digit, drop specks far from it, and crop to what is kept."""

from __future__ import annotations

import numpy as np
from PIL import Image

from preprocessing.errors import EmptyDrawingError
from preprocessing.ink import MIN_CONTRAST, NO_INK

GRID_SIDE = 24  # the ink is grouped on a grid of at most about this many cells across
MAX_CELL = 16  # cells are first averaged no larger, so one ink pixel still shows in its mean
MIN_SHARE = 0.15  # groups with less ink than this share of the largest group are specks
NEIGHBOURS = [(dy, dx) for dy in range(3) for dx in range(3) if (dy, dx) != (1, 1)]


def crop_to_digit(ink: Image.Image) -> Image.Image:
    """Crop the ink image (mode L, 0 paper) to the digit, with far-off specks blanked.

    Ink is summed over the cells of a coarse grid where neighbouring cells join, so strokes
    a cell or two apart belong to one group; groups holding far less ink than the largest
    are specks.
    """
    cell = min(MAX_CELL, max(1, -(-max(ink.size) // GRID_SIDE)))
    means = np.asarray(ink.reduce(cell) if cell > 1 else ink, dtype=np.float32)
    factor = max(1, -(-max(means.shape) // GRID_SIDE))
    mass = pool_sums(means, factor)
    keep = digit_cells(mass)
    cell *= factor
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = (left * cell, top * cell, min(right * cell, ink.width), min(bottom * cell, ink.height))
    crop = ink.crop(box)
    if (mass[top:bottom, left:right] > 0)[~keep[top:bottom, left:right]].any():
        crop = blank_outside(crop, keep[top:bottom, left:right], cell)
    crop = crop.crop(crop.getbbox())
    if crop.getextrema()[1] < MIN_CONTRAST:
        raise EmptyDrawingError(NO_INK)
    return crop


def pool_sums(values: np.ndarray, factor: int) -> np.ndarray:
    """Sum over `factor` x `factor` blocks (the last ones partial)."""
    height, width = values.shape
    rows, cols = -(-height // factor), -(-width // factor)
    padded = np.pad(values, ((0, rows * factor - height), (0, cols * factor - width)))
    return padded.reshape(rows, factor, cols, factor).sum(axis=(1, 3))


def digit_cells(mass: np.ndarray) -> np.ndarray:
    """Bool grid of the cells, given the ink mass of each, that belong to the digit."""
    near_ink = dilate_cells(mass > 0)
    if not near_ink.any():
        raise EmptyDrawingError(NO_INK)
    labels = label_groups(near_ink)
    group_mass = np.bincount(labels.ravel(), weights=mass.ravel())
    group_mass[0] = 0
    return (group_mass >= MIN_SHARE * group_mass.max())[labels]


def dilate_cells(mask: np.ndarray) -> np.ndarray:
    """Grow a bool grid by one cell in all 8 directions."""
    padded = np.pad(mask, 1)
    height, width = mask.shape
    grown = mask.copy()
    for dy, dx in NEIGHBOURS:
        grown |= padded[dy : dy + height, dx : dx + width]
    return grown


def label_groups(mask: np.ndarray) -> np.ndarray:
    """Label 8-connected groups of a bool grid with positive numbers (0 outside).

    Each cell starts with its own number; every round takes the largest number among its
    neighbours and then jumps to the number that cell holds, so labels spread fast.
    """
    height, width = mask.shape
    labels = np.where(mask, np.arange(1, mask.size + 1).reshape(mask.shape), 0)
    padded = np.zeros((height + 2, width + 2), dtype=labels.dtype)
    holding = np.zeros(mask.size + 1, dtype=labels.dtype)
    while True:
        padded[1:-1, 1:-1] = labels
        spread = labels.copy()
        for dy, dx in NEIGHBOURS:
            np.maximum(spread, padded[dy : dy + height, dx : dx + width], out=spread)
        spread *= mask
        holding[1:] = spread.ravel()
        spread = holding[spread]
        if np.array_equal(spread, labels):
            return labels
        labels = spread


def blank_outside(crop: Image.Image, keep: np.ndarray, cell: int) -> Image.Image:
    """Zero the crop's pixels whose grid cell is not kept."""
    full = np.repeat(np.repeat(keep, cell, axis=0), cell, axis=1)[: crop.height, : crop.width]
    return Image.fromarray(np.where(full, np.asarray(crop), 0).astype(np.uint8))
