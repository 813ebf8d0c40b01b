"""`split_digits`: a drawn row of digits in, one MNIST-like digit per digit out, left to right.

The ink is analysed on a coarse grid: its connected strokes are grouped into digits where they
overlap sideways (a 7's crossbar, a 4 or a 5 drawn in two strokes), groups too short or too
light for a digit join the group nearest them (a 5's flag drawn apart, a broken stroke, a
tick), groups too wide for one digit are cut along the path from top to bottom crossing
fewest strokes (touching digits), and groups short and light next to the others, or holding
too little ink for any digit (a colon), are dropped as specks. The row's digit height
is the scale of every test. Each digit's ink, alone on the canvas, then goes through
`mnist_from_ink` like any drawing.

Geometry alone cannot tell a wide 0 or a 7 with a long bar from two touching digits. Given a
`Judge` (a classifier's score of how unlike a digit a 28x28 image is), every group wide enough
for two digits gets several candidate cuts instead (paths from top to bottom that may also run
along a row, under a stroke overhanging the next digit such as a 7's bar, each parting the ink
differently from the others), each candidate digit between two of them
is made by `mnist_from_ink` and judged (all in one call), and each group is read, cut or not,
as the candidates of least total cost by dynamic programming over its cuts: each candidate's
unlikeness, a cost for width beyond a digit's, a prior per digit, and the cost of the cuts it
is read with (the strokes they cross). Two groups that overlap sideways but were kept apart
because both are a digit's height (a 1 under a 7's bar, or the halves of a 0 drawn with a gap)
are judged as one group too, and read as one where that costs less. No such cut parts a 1
drawn into its neighbour (through a 4's bar, into a 6's stem), so each digit read wide enough
for a 1 and a digit is offered once more as one of its straight strokes
(`preprocessing.straight`) and the rest, judged in a second call and read as two where they
cost less, with one more digit's prior and a cost for the peel. `preprocessing` knows no
classifier: the judge is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
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
from preprocessing.straight import straight_strokes

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
PART_HEIGHT = 0.4  # a digit, a group or either side of a cut, must be this tall ...
PART_LENGTH = 0.6  # ... and hold this much ink (a 1 has about 1)
ATTACH_GAP = 0.3  # groups too short or light for a digit join the nearest group this near (a
# 5's flag is drawn touching or nearly touching its body; digits stand further apart)
SPECK_HEIGHT = 0.35  # groups shorter than this ...
SPECK_SHARE = 0.15  # ... with less ink than this share of the heaviest group are specks,
SPECK_LENGTH = 0.3  # ... and so are groups with less ink than this, however tall (a colon)
# With a judge (chosen on numbers of MNIST training digits, as above; JUDGED_PER_STROKE, CUT_COST
# and DIGIT_PRIOR on numbers of the 10,000 training digits the model was not fitted on):
SPLIT_WIDTH = 0.5  # groups this wide may be two digits or more, and get candidate cuts:
CUT_EVERY = 0.15  # ... one per this much width, ...
MAX_CUTS = 10  # ... this many at most, the cheapest ...
CUT_APART = 0.15  # ... parting ink this long differently from one another (digit heights), ...
JUDGED_PER_STROKE = 0.05  # ... each costing an entry into the ink, this per stroke width run
# through (little: two strokes touching side by side, a 1 along a 0, are cut along their seam)
JUDGED_PER_STEP = 0.2  # ... and this per sideways step (digits stand side by side) ...
JUDGED_PER_RUN = 0.2  # ... or step along a row (passing under a stroke that overhangs)
WIDE_DIGIT = 0.7  # candidates wider than this (the median digit cut from a touching pair) ...
WIDTH_COST = 2.0  # ... cost this per squared digit height beyond it: the judge sees no width
CUT_COST = 0.2  # a reading pays this per unit of its cuts' costs: a cut across two strokes
# of a wide 0 costs more than one through the joint of two touching digits
DIGIT_PRIOR = 0.35  # added to the cost of every digit read: higher, fewer digits
PEEL_WIDTH = 0.45  # digits read this wide may be a 1 drawn into a digit: a straight stroke ...
ONE_HEIGHT = 0.7  # ... this tall at either end is offered as a 1 ...
PEELED_HEIGHT = 0.6  # ... with the rest, this tall, as the other digit
SLIVER_LENGTH = 0.3  # pieces of the rest lighter than this are the stroke's edges, peeled too
PEEL_COST = 0.15  # a 1 and its rest pay this beyond DIGIT_PRIOR to replace the whole: the
# stem of a 6 or a 4 peeled off leaves a rest (a 0, a 7) that costs barely less than the whole

Judge = Callable[[np.ndarray], np.ndarray]
"""Scores candidate digits, uint8 (n, 28, 28), 0 paper, 255 ink: float (n,), how unlike a digit
each one is, lower more digit-like."""


def split_digits(image: Any, judge: Judge | None = None) -> list[np.ndarray]:
    """Split a drawn row of digits into MNIST-like digits, left to right.

    `image` is anything `to_mnist` takes. Returns a list of (28, 28) uint8 arrays, 0 paper,
    255 ink, each made by `mnist_from_ink` from that digit's ink alone, exactly as `to_mnist`
    makes a single digit. Raises `EmptyDrawingError` when there is no ink and
    `TooManyDigitsError` for more than `MAX_DIGITS` digits.

    Without a `judge`, groups are cut by geometry alone. With one, every group wide enough
    for two digits gets candidate cuts, and the judge scores each candidate digit they make
    (all in one call); each group is read as the candidates, cut or not, of least total
    unlikeness, `width_cost` and `DIGIT_PRIOR` per digit.
    """
    layout = lay_out(find_ink(load_drawing(image)))
    if judge is None:
        parts = [part for group in layout.groups for part in cut_too_wide(group, layout.row)]
        return [mnist_from_ink(layout.alone(parts[i])) for i in reading_order(parts, layout.row)]
    return judged_digits(layout, judge)


@dataclass(frozen=True)
class Layout:
    """A drawing analysed on the coarse grid: its ink, the grid, the scales, the groups."""

    ink: Image.Image  # mode L, 0 paper
    factor: int  # pixels per grid cell, across and down
    row: Row
    groups: list[np.ndarray]  # bool masks on the grid, strokes grouped by overlap

    def alone(self, cells: np.ndarray) -> Image.Image:
        """The full-resolution ink inside some grid cells, paper elsewhere."""
        full = np.repeat(np.repeat(cells, self.factor, axis=0), self.factor, axis=1)
        full = full[: self.ink.height, : self.ink.width]
        return Image.fromarray(np.where(full, np.asarray(self.ink), 0).astype(np.uint8))


def lay_out(ink: Image.Image) -> Layout:
    """Find the grid, the row's scales and the groups of strokes of the ink (mode L, 0 paper)."""
    if ink.getextrema()[1] < MIN_CONTRAST:
        raise EmptyDrawingError(NO_INK)
    factor = -(-max(ink.size) // ANALYSIS_SIDE)
    cells = np.asarray(ink.reduce(factor) if factor > 1 else ink) > 0
    strokes = connected_strokes(cells)
    height = digit_height(strokes)
    row = Row(height, max(1.0, stroke_width(cells)))
    groups = attach_fragments(group_by_overlap(strokes, height), row)
    return Layout(ink, factor, row, groups)


def reading_order(parts: list[np.ndarray], row: Row) -> list[int]:
    """The indices of the parts (bool grid masks) that are digits, not specks, left to right
    by their ink's mean column: a 1 drawn into a 6 comes first though the 6's loop reaches
    further left. `row` holds the number's scales (`Row`). Raises `TooManyDigitsError` for
    more than `MAX_DIGITS`.
    """
    kept = drop_specks(parts, row)
    if len(kept) > MAX_DIGITS:
        raise TooManyDigitsError(
            f"Found {len(kept)} digits, more than the {MAX_DIGITS} one number may have. "
            "Write fewer digits, or leave clear gaps so strokes are not read as digits."
        )
    return sorted(kept, key=lambda i: np.nonzero(parts[i])[1].mean())


def judged_digits(layout: Layout, judge: Judge) -> list[np.ndarray]:
    """Read each group as the candidate digits of least total cost (`candidate_cost`), and
    each pair of groups kept apart though they overlap sideways (`pairs_kept_apart`) as one
    group too where that costs less, judging the candidates of every group with a choice in
    one call; then offer each digit read a straight stroke peeled off either end
    (`peel_ones`); then drop specks and order left to right as `reading_order` does. MNIST
    digits as `split_digits` returns."""
    groups, row = layout.groups, layout.row
    pairs = pairs_kept_apart(groups)
    paired = {index for pair in pairs for index in pair}
    readings = [candidate_parts(group, row) for group in groups]
    joined = [candidate_parts(groups[first] | groups[second], row) for first, second in pairs]
    judged = [i in paired or len(reading.parts) > 1 for i, reading in enumerate(readings)]
    choices = [r for r, j in zip(readings, judged, strict=True) if j] + joined
    images = [
        mnist_from_ink(layout.alone(p)) for reading in choices for p in reading.parts.values()
    ]
    unlike, rendered = iter(judge(np.stack(images)) if images else []), iter(images)

    def cheapest(candidates: Candidates) -> tuple[float, list[Reading]]:
        shapes = {
            span: judged_reading(part, next(rendered), next(unlike), row)
            for span, part in candidates.parts.items()
        }
        costs = {span: candidate_cost(candidates, span, r.shape) for span, r in shapes.items()}
        spans = cheapest_reading(costs)
        return sum(costs[span] + DIGIT_PRIOR for span in spans), [shapes[s] for s in spans]

    read = [
        cheapest(reading)
        if judge_it
        else (0.0, [Reading(p, None, None) for p in reading.parts.values()])
        for reading, judge_it in zip(readings, judged, strict=True)
    ]
    for (first, second), candidates in zip(pairs, joined, strict=True):
        cost, chosen = cheapest(candidates)
        if cost < read[first][0] + read[second][0]:
            read[first], read[second] = (cost, chosen), (0.0, [])
    digits = peel_ones([r for _, chosen in read for r in chosen], layout, judge)
    return [
        mnist_from_ink(layout.alone(digits[i].part)) if digits[i].image is None else digits[i].image
        for i in reading_order([r.part for r in digits], layout.row)
    ]


def pairs_kept_apart(groups: list[np.ndarray]) -> list[tuple[int, int]]:
    """Pairs of groups, left to right and each group in one pair at most, sharing
    `MERGE_OVERLAP` of the narrower one's columns: strokes `group_by_overlap` kept apart
    because both are a digit's height (a 1 under a 7's bar, but also the two halves of a 0 or
    an 8 drawn with a gap), for the judge to read as one digit or two."""
    boxes = [bounding_box(group) for group in groups]
    order = sorted(range(len(groups)), key=lambda i: boxes[i][2])
    pairs: list[tuple[int, int]] = []
    paired: set[int] = set()
    for place, first in enumerate(order):
        if first in paired:
            continue
        for second in order[place + 1 :]:
            if second not in paired and shares_columns(boxes[first], boxes[second]):
                pairs.append((first, second))
                paired |= {first, second}
                break
    return pairs


@dataclass(frozen=True)
class Reading:
    """A digit read: its cells, and when judged its image and its shape's cost (unlikeness and
    `width_cost`); None for both when it was never judged."""

    part: np.ndarray
    image: np.ndarray | None
    shape: float | None


def judged_reading(part: np.ndarray, image: np.ndarray, unlike: float, row: Row) -> Reading:
    """A digit read and judged: its shape costs the judge's unlikeness and its `width_cost`."""
    return Reading(part, image, float(unlike) + width_cost(part, row))


def peel_ones(read: list[Reading], layout: Layout, judge: Judge) -> list[Reading]:
    """The digits read, each wide enough for a 1 and a digit replaced by one of its straight
    strokes and the rest without it (`peels`) where the judge finds that the two, with
    `DIGIT_PRIOR` and `PEEL_COST` added, cost less than the whole: a 1 drawn into its
    neighbour, which no cut parts. The digits never judged and all the pairs are judged in one
    more call."""
    row = layout.row
    offers = [peels(r.part, row) for r in read]
    masks = [
        mask
        for r, offered in zip(read, offers, strict=True)
        if offered
        for mask in [*([r.part] if r.image is None else []), *(m for p in offered for m in p)]
    ]
    if not masks:
        return read
    images = [mnist_from_ink(layout.alone(mask)) for mask in masks]
    unlike, rendered = iter(judge(np.stack(images))), iter(images)
    peeled: list[Reading] = []
    for r, offered in zip(read, offers, strict=True):
        if not offered:
            peeled.append(r)
            continue
        if r.image is None:
            r = judged_reading(r.part, next(rendered), next(unlike), row)
        best, chosen = r.shape, [r]
        for pair in offered:
            sides = [judged_reading(side, next(rendered), next(unlike), row) for side in pair]
            cost = sum(side.shape for side in sides) + DIGIT_PRIOR + PEEL_COST
            if cost < best:
                best, chosen = cost, sides
        peeled.extend(chosen)
    return peeled


def peels(part: np.ndarray, row: Row) -> list[tuple[np.ndarray, np.ndarray]]:
    """A part wide enough for a 1 and a digit, as the rest and each of its straight strokes
    (`straight_strokes`, with the rest's slivers lighter than `SLIVER_LENGTH`: the edges of
    the stroke its band missed), where both are digits, the rest `PEELED_HEIGHT` tall."""
    _, _, left, right = bounding_box(part)
    if right - left < PEEL_WIDTH * row.height:
        return []
    found = []
    for one in straight_strokes(part, row.stroke / 2 + 1, ONE_HEIGHT * row.height):
        rest = part & ~one
        for piece in connected_strokes(rest):
            if row.length(piece.sum()) < SLIVER_LENGTH:
                rest, one = rest & ~piece, one | piece
        if not rest.any() or not whole_digit(one, row):
            continue
        top, bottom, _, _ = bounding_box(rest)
        if bottom - top >= PEELED_HEIGHT * row.height and digit_sized(rest, row):
            found.append((rest, one))
    return found


Span = tuple[int, int]  # a candidate digit between two of a group's boundaries, left then right


@dataclass(frozen=True)
class Candidates:
    """A group's candidate digits (bool masks) by the boundaries they lie between, and what
    each boundary costs (its cut's cost, `candidate_cuts`; 0 at the group's edges)."""

    parts: dict[Span, np.ndarray]
    boundaries: list[float]


def candidate_parts(group: np.ndarray, row: Row) -> Candidates:
    """The candidate digits of a group, by the boundaries they lie between.

    Boundary 0 is the group's left edge, the last its right edge, those between its
    `candidate_cuts`. Candidates too short, light or wide for a digit are left out; the whole
    group (0, last) is always in.
    """
    cuts = candidate_cuts(group, row)
    sides = [np.zeros_like(group), *(side for side, _ in cuts), group]
    parts = {(0, len(sides) - 1): group}
    for right in range(1, len(sides)):
        for left in range(right):
            part = group & sides[right] & ~sides[left]
            if part.any() and digit_sized(part, row):
                parts[left, right] = part
    return Candidates(parts, [0.0, *(cost for _, cost in cuts), 0.0])


def candidate_cost(candidates: Candidates, span: Span, shape: float) -> float:
    """What reading a candidate as a digit costs: its shape's cost (`judged_reading`), and
    `CUT_COST` per unit of its right boundary's cost (every cut used is one candidate's right
    boundary: a reading pays for the strokes its cuts cross)."""
    return shape + CUT_COST * candidates.boundaries[span[1]]


def digit_sized(part: np.ndarray, row: Row) -> bool:
    """Whether a part is tall enough, holds ink enough and is narrow enough for a digit."""
    _, _, left, right = bounding_box(part)
    return whole_digit(part, row) and right - left < TWO_WIDTH * row.height


def width_cost(part: np.ndarray, row: Row) -> float:
    """`WIDTH_COST` per squared digit height the part is wider than `WIDE_DIGIT`: every
    candidate is fitted to 20x20 for the judge, which so cannot tell a wide pair by its width."""
    _, _, left, right = bounding_box(part)
    return WIDTH_COST * max(0.0, (right - left) / row.height - WIDE_DIGIT) ** 2


def cheapest_reading(costs: dict[Span, float]) -> list[Span]:
    """The spans from the first boundary to the last, each next to the one before, of least
    total cost plus `DIGIT_PRIOR` per span: dynamic programming over the boundaries."""
    last = max(right for _, right in costs)
    best = np.full(last + 1, np.inf)
    best[0] = 0.0
    came_from = np.zeros(last + 1, dtype=np.int64)
    for (left, right), cost in sorted(costs.items(), key=lambda item: item[0][1]):
        if best[left] + cost + DIGIT_PRIOR < best[right]:
            best[right] = best[left] + cost + DIGIT_PRIOR
            came_from[right] = left
    spans = []
    right = last
    while right > 0:
        spans.append((int(came_from[right]), right))
        right = spans[-1][0]
    return spans[::-1]


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
            narrower = min(
                (a_right - a_left, a_bottom - a_top), (b_right - b_left, b_bottom - b_top)
            )
            if shares_columns(boxes[first], boxes[second]) and narrower[1] < WHOLE_HEIGHT * height:
                return first, second
    return None


def shares_columns(a: Box, b: Box) -> bool:
    """Whether two boxes share `MERGE_OVERLAP` of the narrower one's columns."""
    (_, _, a_left, a_right), (_, _, b_left, b_right) = a, b
    shared = min(a_right, b_right) - max(a_left, b_left)
    return shared >= MERGE_OVERLAP * min(a_right - a_left, b_right - b_left)


def attach_fragments(groups: list[np.ndarray], row: Row) -> list[np.ndarray]:
    """Join each group too short or too light for a digit (`whole_digit`) to the nearest group
    within `ATTACH_GAP` digit heights, lightest first: a 5's flag or a 4's stem drawn apart, a
    broken stroke, are part of the digit they were written with, not digits by themselves.
    Fragments with no group so near are left for `drop_specks`."""
    groups = list(groups)
    while True:
        lengths = [row.length(group.sum()) for group in groups]
        for fragment in map(int, np.argsort(lengths, kind="stable")):
            if whole_digit(groups[fragment], row):
                continue
            nearest = nearest_group(groups, fragment, ATTACH_GAP * row.height)
            if nearest is not None:
                joining = groups.pop(fragment)
                groups[nearest - (nearest > fragment)] |= joining
                break
        else:
            return groups


def whole_digit(part: np.ndarray, row: Row) -> bool:
    """Whether a part is tall enough and holds ink enough to be a digit by itself."""
    top, bottom, _, _ = bounding_box(part)
    return bottom - top >= PART_HEIGHT * row.height and row.length(part.sum()) >= PART_LENGTH


def nearest_group(groups: list[np.ndarray], index: int, reach: float) -> int | None:
    """The index of the group whose nearest cell is nearest `groups[index]`'s, if within
    `reach` cells; else None. Groups whose boxes lie further apart are not measured."""
    cells = np.argwhere(groups[index])
    top, bottom, left, right = bounding_box(groups[index])
    best, gap = None, reach
    for other, group in enumerate(groups):
        o_top, o_bottom, o_left, o_right = bounding_box(group)
        apart = np.hypot(
            max(0, o_top - bottom, top - o_bottom), max(0, o_left - right, left - o_right)
        )
        if other == index or apart > gap:
            continue
        offsets = np.argwhere(group)[None, :, :] - cells[:, None, :]
        found = float(np.sqrt((offsets**2).sum(axis=2).min()))
        if found <= gap:
            best, gap = other, found
    return best


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
    box, paths, costs, _ = cut_costs(group, row, PER_CELL)
    if not np.isfinite(costs.min()):
        return None, 0
    strokes = np.floor(costs)
    fewest = np.flatnonzero(strokes == strokes.min())
    best = fewest[np.argmin(np.abs(fewest - (len(costs) - 1) / 2))]
    return left_of(group, box, paths[:, best]), int(strokes[best])


def candidate_cuts(group: np.ndarray, row: Row) -> list[tuple[np.ndarray, float]]:
    """The left sides (bool masks) of the cheapest cuts of a group wide enough for two digits,
    and their costs; one per `CUT_EVERY` of its width and at most `MAX_CUTS`, each leaving a
    digit on either side, `CUT_APART` from one another; ordered left to right."""
    _, _, left, right = bounding_box(group)
    width = (right - left) / row.height
    if width < SPLIT_WIDTH:
        return []
    wanted = min(MAX_CUTS, int(width / CUT_EVERY))
    box, paths, costs, on_left = cut_costs(
        group, row, JUDGED_PER_STROKE / row.stroke, JUDGED_PER_STEP, JUDGED_PER_RUN
    )
    middles = paths.mean(axis=0)
    on_left = row.length(on_left)
    chosen: list[int] = []
    for end in np.argsort(costs, kind="stable"):
        if len(chosen) == wanted or not np.isfinite(costs[end]):
            break
        moved = np.abs(on_left[:, [end]] - on_left[:, chosen]).sum(axis=0)
        if (moved >= CUT_APART).all():
            chosen.append(int(end))
    return [
        (left_of(group, box, paths[:, end]), float(costs[end]))
        for end in sorted(chosen, key=middles.__getitem__)
    ]


def cut_costs(
    group: np.ndarray,
    row: Row,
    per_cell: float,
    per_step: float = 0.0,
    per_run: float = np.inf,
) -> tuple[Box, np.ndarray, np.ndarray, np.ndarray]:
    """The group's bounding box, and for each of its bottom columns the cheapest path from top
    to bottom ending there (`cheapest_paths`: its columns (rows, width) inside the box), its
    cost, infinite when a side would be too short or too light for a digit, and the ink cells
    left of it in each row (rows, width)."""
    top, bottom, left, right = box = bounding_box(group)
    inside = np.cumsum(group[top:bottom, left:right], axis=1)
    paths, costs = cheapest_paths(
        dilate(group, 1)[top:bottom, left:right], per_cell, per_step, per_run
    )
    on_left = inside[np.arange(len(paths))[:, None], paths]
    for side in (on_left, inside[:, -1:] - on_left):
        short = spans(side > 0) < PART_HEIGHT * row.height
        costs[short | (row.length(side.sum(axis=0)) < PART_LENGTH)] = np.inf
    return box, paths, costs, on_left


def left_of(group: np.ndarray, box: Box, path: np.ndarray) -> np.ndarray:
    """The cells of the group's grid at or left of a path (its column in each row of the box)."""
    top, bottom, left, right = box
    cut = np.zeros_like(group)
    cut[top:bottom, left:right] = np.arange(right - left)[None, :] <= path[:, None]
    return cut


def cheapest_paths(
    ink: np.ndarray, per_cell: float, per_step: float, per_run: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Top-to-bottom paths through a bool ink mask that move down a row at a time and at
    most one column sideways, and along a row by up to its width, by dynamic programming as in
    seam carving.

    For each bottom column, the cheapest path ending there: the column it leaves each row by
    (rows, width) and its cost, ink entries + `per_cell` * ink cells + `per_step` * sideways
    steps between rows + `per_run` * steps along a row (infinite: none). A path running along
    a row parts the ink above it from the ink below: it can pass under a digit's overhanging
    stroke (a 7's bar, a 9's tail). The caller thickens the ink by a cell first, so no path
    slips diagonally between the cells of a thin stroke.
    """
    height, width = ink.shape
    total = ink[0] * (1 + per_cell)
    moves = np.zeros((height, width), dtype=np.int64)
    entries = np.zeros((height, width), dtype=np.int64)
    for row in range(height):
        if row > 0:
            padded = np.pad(total, 1, constant_values=np.inf)
            above = np.pad(ink[row - 1], 1)
            entering = [ink[row] & ~above[shift : shift + width] for shift in range(3)]
            options = np.stack(
                [
                    padded[shift : shift + width] + entering[shift] + per_step * (shift != 1)
                    for shift in range(3)
                ]
            )
            moves[row] = np.argmin(options, axis=0) - 1
            total = options.min(axis=0) + per_cell * ink[row]
        total, entries[row] = along_row(total, ink[row], per_cell, per_run)
    paths = np.zeros((height, width), dtype=np.int64)
    column = np.arange(width)
    for row in range(height - 1, -1, -1):
        paths[row] = column
        entry = entries[row, column]
        column = entry + moves[row, entry]
    return paths, total


def along_row(
    arriving: np.ndarray, ink: np.ndarray, per_cell: float, per_run: float
) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest costs of leaving a row by each column, moving along it from the column
    a path arrived by, and those columns: float (width,), int (width,). A step into column j
    costs `per_run`, `per_cell` into an ink cell and 1 into a stroke; a run from i to j costs the
    difference of their cumulative step costs, so each direction is a running minimum."""
    width = len(arriving)
    best, entry = arriving.copy(), np.arange(width)
    if not np.isfinite(per_run):
        return best, entry
    for flip in (slice(None), slice(None, None, -1)):
        cells, costs = ink[flip], arriving[flip]
        into = per_run + per_cell * cells + (cells & ~np.concatenate([[False], cells[:-1]]))
        into[0] = 0.0
        cumulative = np.cumsum(into)
        offset = costs - cumulative
        lowest = np.minimum.accumulate(offset)
        source = np.maximum.accumulate(np.where(offset <= lowest, np.arange(width), 0))
        run = (lowest + cumulative)[flip]
        better = run < best
        best[better] = run[better]
        entry[better] = (source if flip.step is None else width - 1 - source)[flip][better]
    return best, entry


def spans(rows_with_ink: np.ndarray) -> np.ndarray:
    """For each column of a bool (rows, n) array, the span from its first to last True row."""
    any_ink = rows_with_ink.any(axis=0)
    first = np.argmax(rows_with_ink, axis=0)
    last = len(rows_with_ink) - 1 - np.argmax(rows_with_ink[::-1], axis=0)
    return np.where(any_ink, last - first + 1, 0)


def drop_specks(digits: list[np.ndarray], row: Row) -> list[int]:
    """The indices of the digits kept: groups short and light next to the heaviest digit, and
    groups with too little ink for any digit, are dots and specks."""
    masses = np.array([digit.sum() for digit in digits])
    heights = np.array([bottom - top for top, bottom, _, _ in map(bounding_box, digits)])
    keep = (heights >= SPECK_HEIGHT * row.height) | (masses >= SPECK_SHARE * masses.max())
    keep &= row.length(masses) >= SPECK_LENGTH
    return np.flatnonzero(keep).tolist()
