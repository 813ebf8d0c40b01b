"""Find the ink in a drawing whatever its polarity, as a mode L image: 0 paper, >0 ink."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from preprocessing.errors import EmptyDrawingError

MIN_CONTRAST = 24  # grey levels between paper and ink below which nothing counts as drawn
NOISE_FLOOR = 0.15  # fraction of the paper-to-ink contrast treated as paper (noise, JPEG)
FLAT_SHARE = 0.3  # paper is flat (digital) when its colour covers this share of the image
MAX_GRAIN = 12  # grey levels flat paper may stray from its colour (JPEG, scanners)
SAMPLE_SIDE = 128  # the paper is judged from about this many pixels across
PHOTO_SIDE = 512  # photos are analysed at most this large
NO_INK = "No ink found: the canvas is blank or a single colour. Draw a digit first."


def find_ink(drawing: Image.Image) -> Image.Image:
    """Return the ink of a mode L or RGBA drawing as mode L: 0 paper, more ink the higher.

    Ink held only in alpha (strokes on transparent paper) is read from alpha; opaque paper
    is found as the most common luminance and ink as what departs from it, darker or lighter.
    """
    if drawing.mode == "RGBA":
        alpha_sample = sample(drawing)[..., 3]
        if alpha_sample.min() < 255:
            if np.mean(alpha_sample >= 128) < 0.5:
                return drawing.getchannel("A")
            return ink_from_luminance(flatten_onto_paper(drawing, alpha_sample))
    return ink_from_luminance(drawing.convert("L"))


def sample(image: Image.Image) -> np.ndarray:
    """Every few pixels, about `SAMPLE_SIDE` across: cheap enough for statistics."""
    step = max(1, max(image.size) // SAMPLE_SIDE)
    size = (-(-image.width // step), -(-image.height // step))
    return np.asarray(image.resize(size, Image.Resampling.NEAREST) if step > 1 else image)


def flatten_onto_paper(drawing: Image.Image, alpha_sample: np.ndarray) -> Image.Image:
    """Compose a mostly opaque RGBA drawing over its own paper colour, as mode L."""
    luminance = drawing.convert("L")
    opaque = sample(luminance)[alpha_sample >= 128]
    paper = Image.new("L", drawing.size, int(np.median(opaque)))
    return Image.composite(luminance, paper, drawing.getchannel("A"))


def ink_from_luminance(luminance: Image.Image) -> Image.Image:
    """Ink as departure from the paper; photos of unevenly lit paper get an adaptive threshold.

    Digital paper is flat: its one luminance covers much of the sample. Otherwise (a photo)
    the paper is the median luminance.
    """
    values = sample(luminance)
    counts = np.bincount(values.ravel(), minlength=256)
    near = np.convolve(counts, np.ones(2 * MAX_GRAIN + 1), mode="same")
    flat = near.max() >= FLAT_SHARE * values.size
    paper = int(counts.argmax()) if flat else int(np.median(values))
    darkest, lightest = int(values.min()), int(values.max())
    if max(paper - darkest, lightest - paper) < MIN_CONTRAST:
        dark_ink = paper >= 128  # the sample missed thin strokes: ink contrasts with paper
    else:
        dark_ink = paper - darkest >= lightest - paper
    if flat:
        grain = paper_grain(counts, paper)
        return departure_from_paper(
            luminance, paper - grain if dark_ink else paper + grain, dark_ink
        )
    return ink_on_uneven_paper(luminance, dark_ink)


def paper_grain(counts: np.ndarray, paper: int) -> int:
    """How far flat paper's luminance strays from its mode (JPEG, scanning): 0 if exact.

    The smallest distance holding 99% of the sample within `MAX_GRAIN` levels of the mode.
    """
    low, high = max(0, paper - MAX_GRAIN), min(255, paper + MAX_GRAIN)
    total = counts[low : high + 1].sum()
    for grain in range(MAX_GRAIN + 1):
        if counts[max(0, paper - grain) : paper + grain + 1].sum() >= 0.99 * total:
            return grain
    return MAX_GRAIN


def departure_from_paper(luminance: Image.Image, paper: int, dark_ink: bool) -> Image.Image:
    """How far each pixel departs beyond the `paper` level towards the ink: 0 paper, up to 255.

    For flat paper, as in digital drawings; the ink's own level is stretched at the end.
    """
    if dark_ink and paper == 255:
        return ImageChops.invert(luminance)
    if not dark_ink and paper == 0:
        return luminance
    levels = np.arange(256) - paper
    return luminance.point(np.clip(-levels if dark_ink else levels, 0, 255).tolist())


def ink_on_uneven_paper(luminance: Image.Image, dark_ink: bool) -> Image.Image:
    """Adaptive threshold: ink relative to the local paper brightness (for photos).

    The paper's brightness is its local extreme (brightest for dark ink) over windows of about
    a fifth of the image, smoothed; ink is the relative departure from it, above the paper's
    own grain (its median departure plus four robust standard deviations).
    """
    small = shrink_to(luminance, PHOTO_SIDE).filter(ImageFilter.GaussianBlur(1))
    values = np.asarray(small, dtype=np.float32) / 255
    if not dark_ink:
        values = 1 - values
    paper = local_paper_level(values)
    departure = np.clip(1 - values / np.maximum(paper, 1 / 255), 0, 1)
    full_ink = float(np.percentile(departure, 99.5))
    typical = float(np.median(departure))
    grain = typical + 4 * 1.4826 * float(np.median(np.abs(departure - typical)))
    floor = max(NOISE_FLOOR * full_ink, grain)
    if (full_ink - floor) * paper.max() * 255 < MIN_CONTRAST:
        raise EmptyDrawingError(NO_INK)
    ink = np.clip((departure - floor) / (full_ink - floor), 0, 1)
    return Image.fromarray(np.round(ink * 255).astype(np.uint8))


def shrink_to(image: Image.Image, side: int) -> Image.Image:
    """Shrink by an integer factor (box average) so the longest side is at most `side`."""
    factor = -(-max(image.size) // side)
    return image.reduce(factor) if factor > 1 else image


def local_paper_level(values: np.ndarray) -> np.ndarray:
    """Brightest value over blocks of 1/16 of the image, spread over 3x3 blocks, smoothed."""
    height, width = values.shape
    block = max(1, -(-max(height, width) // 16))
    rows, cols = -(-height // block), -(-width // block)
    padded = np.pad(values, ((0, rows * block - height), (0, cols * block - width)), mode="edge")
    maxima = padded.reshape(rows, block, cols, block).max(axis=(1, 3))
    spread = np.pad(maxima, 1, mode="edge")
    windows = [spread[dy : dy + rows, dx : dx + cols] for dy in range(3) for dx in range(3)]
    level = Image.fromarray(np.max(windows, axis=0).astype(np.float32))
    return np.asarray(level.resize((width, height), Image.Resampling.BILINEAR))
