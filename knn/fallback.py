"""The offline fallback model: scikit-learn's bundled 8x8 digits, made MNIST-like.

When MNIST is nowhere to be found and cannot be downloaded, the app still runs on the 1,797
digits that ship inside scikit-learn. Each one is upscaled and put through the same
``preprocessing.to_mnist`` as a drawing, so the training digits look like what the model is asked
about: (28, 28) uint8, 0 paper, 255 ink.
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from knn.model import DEFAULT_K, DEFAULT_WEIGHTS, DigitModel
from preprocessing import to_mnist

DATASET = "scikit-learn's 8x8 digits (1,797 images upscaled to 28x28; offline fallback)"

UPSCALE = 8  # 8x8 pixels to 64x64, smooth enough for to_mnist to find strokes
MARGIN = 16  # paper around the upscaled digit, so paper is the most common colour


def fallback_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as MNIST-like images uint8 (1797, 28, 28) and labels int (1797,)."""
    from sklearn.datasets import load_digits  # imported here: only the fallback needs it

    digits = load_digits()
    ink = np.rint(digits.images * (255 / 16)).astype(np.uint8)  # 0..16 -> 0 paper, 255 ink
    side = 8 * UPSCALE
    images = np.stack(
        [
            to_mnist(np.pad(np.asarray(Image.fromarray(digit).resize((side, side))), MARGIN))
            for digit in tqdm(ink, desc="fallback digits", unit="digit", file=sys.stderr)
        ]
    )
    return images, digits.target


def load_fallback_model(n_neighbors: int = DEFAULT_K, weights: str = DEFAULT_WEIGHTS) -> DigitModel:
    """A :class:`DigitModel` fitted on :func:`fallback_digits`, named :data:`DATASET`."""
    images, labels = fallback_digits()
    return DigitModel.from_images(images, labels, DATASET, n_neighbors=n_neighbors, weights=weights)
