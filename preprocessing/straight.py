"""Straight strokes: a 1 drawn into its neighbour, found as a long straight run of ink.

A 1 touching a 4's bar, drawn into a 6's stem or through a 2 shares columns with its
neighbour, so no cut from top to bottom parts them cleanly; but a 1 is one straight stroke about
a digit tall. A candidate line through a part's ink is a slant and the column it crosses the
middle row at; a row covers it when ink lies within half a stroke's width of the line there.
The lines covered for most rows in a row, apart from one another, are the part's straight
strokes, each the ink near its line from its first covered row to its last. Whether a stroke
and the rest without it are a 1 and a digit is left to the judge.
"""

from __future__ import annotations

import numpy as np

SLANTS = np.linspace(-0.4, 0.4, 17)  # columns per row a line may lean: a 1 leans up to about
# 22 degrees either way, in steps of about a cell over a digit's height of 40 cells
MAX_STRAIGHT = 3  # straight strokes offered per part at most: a digit has few


def straight_runs(
    part: np.ndarray, half: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every line through a bool mask (each slant of `SLANTS` by each column it crosses
    the middle row at), the longest run of rows in a row with ink within `half` cells of it
    (its length, first row and last row) and the ink cells within `half` of it in all rows:
    int (slants, width) each."""
    height, width = part.shape
    reach = int(np.floor(half))
    padded = np.pad(part, ((0, 0), (reach, reach))).astype(np.int64)
    near = sum(padded[:, s : s + width] for s in range(2 * reach + 1))
    rows = np.arange(height)[:, None]
    lengths, firsts, lasts, inks = [], [], [], []
    for slant in SLANTS:
        columns = np.arange(width)[None, :] + np.round(slant * (rows - height / 2)).astype(int)
        inside = (columns >= 0) & (columns < width)
        ink = np.where(inside, near[rows, columns.clip(0, width - 1)], 0)
        last_gap = np.maximum.accumulate(np.where(ink > 0, -1, rows), axis=0)
        run = rows - last_gap
        last = np.argmax(run, axis=0)
        length = run.max(axis=0)
        lengths.append(length)
        lasts.append(last)
        firsts.append(last - length + 1)
        inks.append(ink.sum(axis=0))
    return np.array(lengths), np.array(firsts), np.array(lasts), np.array(inks)


def straight_strokes(part: np.ndarray, half: float, least: float) -> list[np.ndarray]:
    """The cells (bool masks like `part`) of the part's straight strokes, left to right: the
    lines covered for at least `least` rows in a row (`straight_runs`), longest first and of
    those the one nearest most ink (through a stroke's middle, not along its edge), each
    whose middle lies a stroke width (2 `half`) or more from those taken before, at most
    `MAX_STRAIGHT`; each stroke its ink within `half` cells of its line over its run."""
    rows, cols = np.nonzero(part)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    crop = part[box]
    height, width = crop.shape
    lengths, firsts, lasts, inks = straight_runs(crop, half)
    slants, starts = np.nonzero(lengths >= least)
    middles = starts + SLANTS[slants] * ((firsts + lasts)[slants, starts] / 2 - height / 2)
    taken: list[int] = []
    for line in np.lexsort((-inks[slants, starts], -lengths[slants, starts])):
        if len(taken) == MAX_STRAIGHT:
            break
        if all(abs(middles[line] - middles[other]) >= 2 * half for other in taken):
            taken.append(int(line))
    y, x = np.arange(height)[:, None], np.arange(width)[None, :]
    strokes = []
    for line in sorted(taken, key=middles.__getitem__):
        slant, start = SLANTS[slants[line]], starts[line]
        band = np.abs(x - start - slant * (y - height / 2)) <= half
        band &= (y >= firsts[slants[line], start]) & (y <= lasts[slants[line], start])
        stroke = np.zeros_like(part)
        stroke[box] = crop & band
        strokes.append(stroke)
    return strokes
