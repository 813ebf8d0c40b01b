"""`split_digits`: a drawn row of digits in, one MNIST-like digit per digit out, left to right.

The ink is analysed on a coarse grid: its connected strokes are grouped into digits where they
overlap sideways (a 7's crossbar, a 4 or a 5 drawn in two strokes), groups too wide for one
digit are cut along the path from top to bottom crossing fewest strokes (touching digits),
and groups short and light next to the others are dropped as specks. The row's digit height
is the scale of every test. Each digit's ink, alone on the canvas, then goes through
`mnist_from_ink` like any drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from preprocessing.errors import EmptyDrawingError, TooManyDigitsError
from preprocessing.ink import MIN_CONTRAST, NO_INK, find_ink
from preprocessing.inputs import load_drawing
from preprocessing.morphology import dilate, stroke_width
from preprocessing.pipeline import mnist_from_ink
from preprocessing.specks import label_groups

MAX_DIGITS = 12  # a 900 px canvas holds about a dozen legible digits; more is not one number
ANALYSIS_SIDE = 300  # the ink is analysed on a grid of at most about this many cells across
# Judged on numbers of MNIST training digits (python -m benchmarks.numbers --split train); the
# four pair thresholds were searched there. Sizes are in digit heights, ink in stroke length
# over the digit height.
MERGE_OVERLAP = 0.6  # strokes sharing this share of the narrower one's columns are one digit,
WHOLE_HEIGHT = 0.7  # ... unless the narrower one is this tall: a digit by itself
TWO_WIDTH = 1.25  # groups this wide are two digits or more (1% of single digits are wider) ...
PAIR_WIDTH = 0.65  # ... and so are groups this wide that hold ...
PAIR_LENGTH = 3.4  # ... this much ink (an 8 has about 3) ...
CUT_STROKES = 1  # ... where a cut crosses this many strokes
PER_CELL = 1e-3  # a cut's cost per ink cell: of cuts crossing as many strokes, the thinnest wins
PART_HEIGHT = 0.4  # each side of a cut must be this tall ...
PART_LENGTH = 0.6  # ... and hold this much ink (a 1 has about 1)
SPECK_HEIGHT = 0.35  # groups shorter than this ...
SPECK_SHARE = 0.15  # ... with less ink than this share of the heaviest group are specks


def split_digits(image: Any) -> list[np.ndarray]:
    """Split a drawn row of digits into MNIST-like digits, left to right.

    `image` is anything `to_mnist` takes. Returns a list of (28, 28) uint8 arrays, 0 paper,
    255 ink, each made by `mnist_from_ink` from that digit's ink alone, exactly as `to_mnist`
    makes a single digit. Raises `EmptyDrawingError` when there is no ink and
    `TooManyDigitsError` for more than `MAX_DIGITS` digits.
    """
    ink = find_ink(load_drawing(image))
    return [mnist_from_ink(digit) for digit in separate_digits(ink)]


def separate_digits(ink: Image.Image) -> list[Image.Image]:
    """The ink (mode L, 0 paper) of each digit alone on the canvas, left to right."""
    if ink.getextrema()[1] < MIN_CONTRAST:
        raise EmptyDrawingError(NO_INK)
    factor = -(-max(ink.size) // ANALYSIS_SIDE)
    cells = np.asarray(ink.reduce(factor) if factor > 1 else ink) > 0
    strokes = connected_strokes(cells)
    height = digit_height(strokes)
    groups = group_by_overlap(strokes, height)
    row = Row(height, max(1.0, stroke_width(cells)))
    digits = drop_specks([part for group in groups for part in cut_too_wide(group, row)], height)
    if len(digits) > MAX_DIGITS:
        raise TooManyDigitsError(
            f"Found {len(digits)} digits, more than the {MAX_DIGITS} one number may have. "
            "Write fewer digits, or leave clear gaps so strokes are not read as digits."
        )
    digits.sort(key=lambda mask: bounding_box(mask)[2])
    return [ink_alone(ink, digit, factor) for digit in digits]


def connected_strokes(mask: np.ndarray) -> list[np.ndarray]:
    """One bool mask per 8-connected group of ink cells."""
    labels = label_groups(mask)
    return [labels == label for label in np.unique(labels[labels > 0])]


@dataclass(frozen=True)
class Row:
    """The scales of one drawn number, in grid cells."""

    height: float  # a digit's height
    stroke: float  # a stroke's width

    def length(self, cells: np.ndarray) -> np.ndarray:
        """Ink cells as stroke length in digit heights."""
        return cells / (self.stroke * self.height)


def digit_height(strokes: list[np.ndarray]) -> float:
    """The row's digit height in cells: the median stroke height, weighted by ink."""
    heights = np.array([bottom - top for top, bottom, _, _ in map(bounding_box, strokes)])
    masses = np.array([stroke.sum() for stroke in strokes])
    order = np.argsort(heights)
    cumulative = np.cumsum(masses[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


Box = tuple[int, int, int, int]  # top, bottom, left, right (bottom and right exclusive)


def bounding_box(mask: np.ndarray) -> Box:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1] + 1), int(cols[0]), int(cols[-1] + 1)


def group_by_overlap(strokes: list[np.ndarray], height: float) -> list[np.ndarray]:
    """Merge strokes sharing most of the narrower one's columns, unless that one is a digit's
    height by itself (a 1 under a 7's bar), until no two groups do."""
    groups = list(strokes)
    boxes = [bounding_box(stroke) for stroke in strokes]
    while (pair := overlapping_pair(boxes, height)) is not None:
        first, second = pair
        groups[first] = groups[first] | groups.pop(second)
        boxes.pop(second)
        boxes[first] = bounding_box(groups[first])
    return groups


def overlapping_pair(boxes: list[Box], height: float) -> tuple[int, int] | None:
    """The first two boxes sharing `MERGE_OVERLAP` of the narrower one's columns, that one
    shorter than `WHOLE_HEIGHT` digit heights; or None."""
    for first, (a_top, a_bottom, a_left, a_right) in enumerate(boxes):
        for second in range(first + 1, len(boxes)):
            b_top, b_bottom, b_left, b_right = boxes[second]
            shared = min(a_right, b_right) - max(a_left, b_left)
            narrower = min(
                (a_right - a_left, a_bottom - a_top), (b_right - b_left, b_bottom - b_top)
            )
            if shared >= MERGE_OVERLAP * narrower[0] and narrower[1] < WHOLE_HEIGHT * height:
                return first, second
    return None


def cut_too_wide(group: np.ndarray, row: Row) -> list[np.ndarray]:
    """Cut a group too wide, or too wide and long, for one digit along the path from top to
    bottom crossing fewest strokes, again and again."""
    _, _, left, right = bounding_box(group)
    width = (right - left) / row.height
    if width < PAIR_WIDTH:
        return [group]
    cut, strokes = cheapest_cut(group, row)
    long = row.length(group.sum()) >= PAIR_LENGTH
    if cut is None or not (width >= TWO_WIDTH or (long and strokes <= CUT_STROKES)):
        return [group]
    return [part for side in (group & cut, group & ~cut) for part in cut_too_wide(side, row)]


def cheapest_cut(group: np.ndarray, row: Row) -> tuple[np.ndarray | None, int]:
    """The left side (bool mask) of the cheapest top-to-bottom cut leaving a digit on each
    side, and how many strokes it crosses; (None, 0) when there is none.

    Of the cuts crossing as few strokes, the one ending nearest the middle wins: where a bar
    joins two digits every cut along it is as good, and two digits meet nearer the middle
    than one digit's own stroke does.
    """
    top, bottom, left, right = bounding_box(group)
    box = (slice(top, bottom), slice(left, right))
    paths, costs = cheapest_paths(dilate(group, 1)[box])
    inside = np.cumsum(group[box], axis=1)
    left = inside[np.arange(len(paths))[:, None], paths]
    for side in (left, inside[:, -1:] - left):
        short = spans(side > 0) < PART_HEIGHT * row.height
        costs[short | (row.length(side.sum(axis=0)) < PART_LENGTH)] = np.inf
    if not np.isfinite(costs.min()):
        return None, 0
    strokes = np.floor(costs)
    fewest = np.flatnonzero(strokes == strokes.min())
    best = fewest[np.argmin(np.abs(fewest - (len(costs) - 1) / 2))]
    cut = np.zeros_like(group)
    cut[box] = np.arange(paths.shape[1])[None, :] <= paths[:, best : best + 1]
    return cut, int(strokes[best])


def cheapest_paths(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-to-bottom paths through a bool ink mask that move down a row at a time and at
    most one column sideways, by dynamic programming as in seam carving.

    For each bottom column, the path ending there that enters the ink fewest times, ties
    going to the one through fewest ink cells: its columns (rows, width) and its cost,
    entries + `PER_CELL` * cells. The caller thickens the ink by a cell first, so no path
    slips diagonally between the cells of a thin stroke.
    """
    height, width = ink.shape
    total = ink[0] * (1 + PER_CELL)
    moves = np.zeros((height, width), dtype=np.int64)
    for row in range(1, height):
        padded = np.pad(total, 1, constant_values=np.inf)
        above = np.pad(ink[row - 1], 1)
        entering = [ink[row] & ~above[shift : shift + width] for shift in range(3)]
        options = np.stack([padded[shift : shift + width] + entering[shift] for shift in range(3)])
        moves[row] = np.argmin(options, axis=0) - 1
        total = options.min(axis=0) + PER_CELL * ink[row]
    paths = np.zeros((height, width), dtype=np.int64)
    paths[-1] = np.arange(width)
    for row in range(height - 1, 0, -1):
        paths[row - 1] = paths[row] + moves[row, paths[row]]
    return paths, total


def spans(rows_with_ink: np.ndarray) -> np.ndarray:
    """For each column of a bool (rows, n) array, the span from its first to last True row."""
    any_ink = rows_with_ink.any(axis=0)
    first = np.argmax(rows_with_ink, axis=0)
    last = len(rows_with_ink) - 1 - np.argmax(rows_with_ink[::-1], axis=0)
    return np.where(any_ink, last - first + 1, 0)


def drop_specks(digits: list[np.ndarray], height: float) -> list[np.ndarray]:
    """Drop groups short and light next to the heaviest digit: dots and specks."""
    masses = np.array([digit.sum() for digit in digits])
    heights = [bottom - top for top, bottom, _, _ in map(bounding_box, digits)]
    return [
        digit
        for digit, mass, tall in zip(digits, masses, heights, strict=True)
        if tall >= SPECK_HEIGHT * height or mass >= SPECK_SHARE * masses.max()
    ]


def ink_alone(ink: Image.Image, cells: np.ndarray, factor: int) -> Image.Image:
    """The full-resolution ink inside the grid cells of one digit, paper elsewhere."""
    full = np.repeat(np.repeat(cells, factor, axis=0), factor, axis=1)[: ink.height, : ink.width]
    return Image.fromarray(np.where(full, np.asarray(ink), 0).astype(np.uint8))
