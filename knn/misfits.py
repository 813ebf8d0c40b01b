"""What a wrong cut of a written number makes, for ``knn.DigitJudge`` to recognise as no digit.

A cut in the wrong place leaves either two digits drawn into each other as one piece, or part of
a digit. Both can lie fairly near some training digit (two 1s touching are near a 4, the left
half of a 0 is near a 1 or a 6), so the nearest digit's distance alone does not always give them
away. Held as references beside the training digits, examples of both do: a candidate nearer to
them than to any digit is probably one of them. A kNN answer again, with its own evidence.

They are made from the training digits themselves, so nothing else is needed:

- pairs: two training digits side by side, the second 75 to 100% as tall, their ink boxes
  touching or overlapping by up to a fifth of the height, or a few pixels apart;
- parts: one training digit (not a 1) cut along a line at 30 to 70% of its width, up to 17
  degrees from upright, either side kept when it holds a quarter of the ink and 40% of the height.

Each is then put through ``preprocessing.mnist_from_ink`` as a piece of a drawing is.
``make_misfits(images, n, seed)`` is deterministic.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from preprocessing.pipeline import mnist_from_ink

#: Bumped whenever the recipe changes: part of the cache key of a judge's misfits.
MISFIT_VERSION = 1
SCALE = 4  # training digits are enlarged this much before they are put together or cut
PAIR_SHARE = 0.5  # of the misfits, pairs; the rest parts
SECOND_HEIGHT = (0.75, 1.0)  # the second digit of a pair, as a share of the first's size
PAIR_GAPS = (-0.2, 0.03)  # between a pair's ink boxes, in digit heights (negative: overlap)
DROP = 0.05  # each digit of a pair stands this many heights above or below the baseline at most
CUT_AT = (0.3, 0.7)  # a part's cut, as a share of the digit's width
CUT_SLOPE = 0.3  # ... leaning up to this many columns per row
NARROWEST = 0.35  # digits narrower than this share of their height (1s) are not cut into parts
PART_INK = 0.25  # a part keeps at least this share of the digit's ink ...
PART_HEIGHT = 0.4  # ... and this share of its height
MARGIN = 20  # paper around a misfit before it goes through the pipeline, in pixels
INKED = 64  # a pixel of an enlarged digit this dark or darker counts as ink


def make_misfits(images: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` misfits, pairs then parts, made from ``images`` (uint8 (m, 28, 28), 0 paper, 255
    ink) with a generator seeded by ``seed``: uint8 (n, 28, 28) as ``mnist_from_ink`` makes
    them."""
    rng = np.random.default_rng(seed)
    n_pairs = round(PAIR_SHARE * n)
    pairs = [_pair(images, rng) for _ in range(n_pairs)]
    parts: list[np.ndarray] = []
    while len(parts) < n - n_pairs:
        digit = _enlarged(images[rng.integers(len(images))])
        part = _part(digit, rng) if digit.shape[1] >= NARROWEST * digit.shape[0] else None
        if part is not None:
            parts.append(part)
    return np.stack([mnist_from_ink(Image.fromarray(np.pad(m, MARGIN))) for m in pairs + parts])


def _enlarged(image: np.ndarray, size: int = 28 * SCALE) -> np.ndarray:
    """A training digit enlarged to ``size`` pixels square, cropped to its ink."""
    big = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
    rows, cols = np.flatnonzero(big.any(axis=1)), np.flatnonzero(big.any(axis=0))
    return big[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _pair(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two training digits side by side, touching, overlapping or nearly touching."""
    first, second = rng.choice(len(images), 2)
    digits = [
        _enlarged(images[first]),
        _enlarged(images[second], round(28 * SCALE * rng.uniform(*SECOND_HEIGHT))),
    ]
    if rng.random() < 0.5:
        digits.reverse()
    height = max(digit.shape[0] for digit in digits)
    gap = round(rng.uniform(*PAIR_GAPS) * height)
    tops = [
        int(np.clip(height - d.shape[0] + rng.uniform(-DROP, DROP) * height, 0, height))
        for d in digits
    ]
    lefts = [0, max(0, digits[0].shape[1] + gap)]
    width = max(left + digit.shape[1] for left, digit in zip(lefts, digits, strict=True))
    canvas = np.zeros((height + max(tops) + 1, width), dtype=np.uint8)
    for digit, top, left in zip(digits, tops, lefts, strict=True):
        region = canvas[top : top + digit.shape[0], left : left + digit.shape[1]]
        np.maximum(region, digit, out=region)
    return canvas


def _part(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """One side of a digit cut along a leaning line, or None when that side is too small."""
    height, width = digit.shape
    at = rng.uniform(*CUT_AT) * width
    slope = rng.uniform(-CUT_SLOPE, CUT_SLOPE)
    line = at + slope * (np.arange(height)[:, None] - height / 2)
    left = np.arange(width)[None, :] < line
    part = np.where(left if rng.random() < 0.5 else ~left, digit, 0).astype(np.uint8)
    ink = part > INKED
    rows = np.flatnonzero(ink.any(axis=1))
    if (
        not len(rows)
        or rows[-1] - rows[0] < PART_HEIGHT * height
        or ink.sum() < PART_INK * (digit > INKED).sum()
    ):
        return None
    return part
