"""The size steps of the pipeline: working scale, stroke width, 20x20 box, 28x28 field.

Arrays here are float32 ink maps in [0, 1]: 0 paper, 1 full ink.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from preprocessing.morphology import dilate, erode, stroke_width

WORK_SIDE = 80  # strokes are normalised with the digit's longest side this long
BOX_SIDE = 20  # MNIST fits each digit's longest side to 20 px ...
FIELD_SIDE = 28  # ... inside a 28x28 field ...
CENTRE = 14.0  # ... with its centre of mass at row 14, column 14 (as measured on MNIST)
STROKE_RATIO = 0.14  # median stroke width over longest side of MNIST digits, measured as here
SOLID_LEVELS = (0.5, 0.6, 0.7, 0.8)  # fractions of the core level from which ink is solid,
# tried in turn while strokes are too thick (see `normalise_stroke_width`)
EDGE_SPAN = 0.5  # ink ramps from paper to solid over this fraction of the core level


def to_working_scale(crop: Image.Image) -> np.ndarray:
    """Resize the cropped ink (mode L) so its longest side is `WORK_SIDE`, aspect kept.

    Shrinking averages areas, so a line thinner than a working pixel keeps its ink as grey.
    """
    scale = WORK_SIDE / max(crop.size)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = crop.resize(size, resample, reducing_gap=2.0 if scale < 1 else None)
    return np.asarray(resized, dtype=np.float32) / 255


def normalise_stroke_width(work: np.ndarray) -> np.ndarray:
    """Make strokes solid and as wide, relative to the digit's size, as MNIST's pen strokes.

    Lines thinner than a pixel (grey after shrinking) become solid. Strokes too thick are
    first thinned by raising the level from which ink counts as solid: in blurred or
    low-resolution ink a stroke's centre is darker than its edges and than loops the blur
    filled in, so a higher level follows the centre lines and reopens the loops, where
    erosion would only shrink the blob. Then the width is measured and strokes are grown or
    thinned by octagonal steps. Growing by s steps widens the digit by 2s too, which the
    20 px fit later shrinks: s = (r * L - w) / (2 * (1 - r)).
    """
    relative = work / core_level(work)
    for level in SOLID_LEVELS:
        solid = solid_ink(relative, level)
        width = stroke_width(solid >= 0.5)
        steps = round((STROKE_RATIO * max(work.shape) - width) / (2 * (1 - STROKE_RATIO)))
        if steps >= 0:
            return dilate(np.pad(solid, steps), steps)
    thinned = erode(solid, -steps)
    return thinned if (thinned >= 0.5).any() else solid


def solid_ink(ink: np.ndarray, level: float) -> np.ndarray:
    """Ink over its core level mapped to [0, 1]: 1 from `level` on, 0 at `EDGE_SPAN` below."""
    return np.clip((ink - level) / EDGE_SPAN + 1, 0, 1)


def fit_box(work: np.ndarray) -> np.ndarray:
    """Crop to the ink and shrink by area averaging so the longest side is `BOX_SIDE`."""
    rows = np.flatnonzero((work > 0.02).any(axis=1))
    cols = np.flatnonzero((work > 0.02).any(axis=0))
    crop = work[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = BOX_SIDE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    shrunk = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32)).resize(
        size, Image.Resampling.BOX
    )
    return np.asarray(shrunk)


def stretch_contrast(box: np.ndarray) -> np.ndarray:
    """Scale so the ink's core reaches 1, clipping above."""
    return np.clip(box / core_level(box), 0, 1)


def core_level(ink: np.ndarray) -> float:
    """The level of the ink's core: the 90th percentile of the values above paper."""
    values = ink[ink > 0]
    rank = int(0.9 * (values.size - 1))
    return float(np.partition(values, rank)[rank])


def place_by_centre_of_mass(box: np.ndarray) -> np.ndarray:
    """Paste the box into the 28x28 field so its centre of mass falls on (14, 14).

    The shift is in whole pixels as in MNIST, and clipped so no ink leaves the field. The centre
    is measured on the rounded uint8 values returned, so rounding cannot move it further off.
    Returns (28, 28) uint8, 0 paper, 255 ink.
    """
    levels = np.round(box * 255).astype(np.uint8)
    height, width = levels.shape
    rows, cols = np.indices(levels.shape)
    mass = levels.sum(dtype=np.float64)
    top = shift_towards_centre((rows * levels).sum() / mass, FIELD_SIDE - height)
    left = shift_towards_centre((cols * levels).sum() / mass, FIELD_SIDE - width)
    field = np.zeros((FIELD_SIDE, FIELD_SIDE), dtype=np.uint8)
    field[top : top + height, left : left + width] = levels
    return field


def shift_towards_centre(centre_of_mass: float, largest: int) -> int:
    """The whole-pixel offset bringing `centre_of_mass` nearest `CENTRE`, within [0, largest]."""
    return int(np.clip(np.floor(CENTRE - centre_of_mass + 0.5), 0, largest))
