"""`to_mnist`: a drawing in, a (28, 28) MNIST-like digit out; `mnist_from_ink` its second half."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from preprocessing.ink import find_ink
from preprocessing.inputs import load_drawing
from preprocessing.specks import crop_to_digit
from preprocessing.steps import (
    fit_box,
    normalise_stroke_width,
    place_by_centre_of_mass,
    stretch_contrast,
    to_working_scale,
)

#: Bumped whenever the same drawing comes out as a different digit: what is made from digits
#: and cached (the non-digit references, drawn through this chain) is keyed by it.
PIPELINE_VERSION = 1


def to_mnist(image: Any) -> np.ndarray:
    """Turn a drawing into one MNIST-like digit: (28, 28) uint8, 0 paper, 255 ink.

    `image` is a PIL image (any mode), a NumPy array (H, W), (H, W, 1), (H, W, 3) or
    (H, W, 4) of uint8, bool or float in [0, 1], a Gradio Sketchpad dict, or a file path.
    Raises `EmptyDrawingError` when there is no ink, `ImageTooLargeError` above 40 megapixels,
    and `ValueError` or `TypeError` for other inputs it cannot read.

    >>> import numpy as np
    >>> canvas = np.full((280, 280), 255, np.uint8)
    >>> canvas[60:220, 130:150] = 0
    >>> to_mnist(canvas).shape
    (28, 28)
    """
    return mnist_from_ink(find_ink(load_drawing(image)))


def mnist_from_ink(ink: Image.Image) -> np.ndarray:
    """Make one digit's ink (mode L, 0 paper) into an MNIST digit: (28, 28) uint8, 255 ink.

    Specks far from the digit are dropped and the rest cropped, brought to the working scale
    and MNIST's stroke width, fitted to 20x20, stretched to full contrast and centred by mass.
    Every digit the package makes, alone or split from a number, goes through this chain.
    """
    digit = normalise_stroke_width(to_working_scale(crop_to_digit(ink)))
    return place_by_centre_of_mass(stretch_contrast(fit_box(digit)))
