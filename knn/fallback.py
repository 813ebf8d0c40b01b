"""The offline fallback: when MNIST is nowhere, serve scikit-learn's bundled 8x8 digits.

The 1,797 digits that ship inside scikit-learn are made MNIST-like with NumPy alone, the way
MNIST itself was made: the ink fitted to a 20x20 box (bilinear) and centred by mass in 28x28.
"""

from __future__ import annotations

import os

import numpy as np

from knn.data import MNISTFolderError, MNISTNotFoundError
from knn.features import sample_bilinear
from knn.model import DigitModel, load_model, with_shared_examples
from knn.params import ModelParams

DATASET = "scikit-learn's 8x8 digits (1,797 images upscaled to 28x28; offline fallback)"
BOX_SIDE, FIELD_SIDE = 20, 28  # as MNIST: the longest side fitted to 20 px in a 28x28 field


def load_model_or_fallback(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    n_train: int | None = None,
    download: bool = True,
    params: ModelParams | None = None,
    extra_examples: str | os.PathLike[str] | None = None,
) -> tuple[DigitModel, MNISTNotFoundError | None]:
    """The MNIST model, or the fallback model and why when MNIST is not found.

    A folder the user named that lacks MNIST raises :class:`~knn.data.MNISTFolderError`:
    that is a mistake to report, not a reason to serve other data. ``extra_examples`` is a folder
    of reviewed examples served to everyone (see :func:`~knn.model.load_model`), with either model.
    """
    try:
        model, reason = load_model(data_dir, cache_dir, n_train, download, params), None
    except MNISTFolderError:
        raise
    except MNISTNotFoundError as missing:
        model, reason = load_fallback_model(params), missing
    if extra_examples is not None:
        model = with_shared_examples(model, extra_examples)
    return model, reason


def load_fallback_model(params: ModelParams | None = None) -> DigitModel:
    """A :class:`DigitModel` fitted on :func:`fallback_digits`, named :data:`DATASET`."""
    images, labels = fallback_digits()
    return DigitModel.from_images(images, labels, DATASET, **(params or ModelParams()).as_dict())


def fallback_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as MNIST-like images uint8 (1797, 28, 28) and labels int (1797,)."""
    from sklearn.datasets import load_digits  # imported here: only the fallback needs it

    digits = load_digits()
    return np.stack([as_mnist(digit) for digit in digits.images]), digits.target


def as_mnist(small: np.ndarray) -> np.ndarray:
    """A small digit (any positive scale, 0 paper) as MNIST's: uint8 (28, 28), 0 paper, 255 ink.

    Its ink's bounding box is resized bilinearly so the longest side is 20 pixels, aspect kept,
    and the result is shifted by whole pixels so its centre of mass falls on (14, 14).
    """
    rows, cols = np.flatnonzero(small.any(axis=1)), np.flatnonzero(small.any(axis=0))
    crop = np.asarray(small[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], dtype=np.float32)
    scale = BOX_SIDE / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    # Pixel centres of the box mapped back onto the crop; the crop is padded so its edge fades.
    padded = np.pad(crop, 1)
    src_r = (np.arange(height, dtype=np.float32)[:, None] + 0.5) / scale + 0.5
    src_c = (np.arange(width, dtype=np.float32)[None, :] + 0.5) / scale + 0.5
    src_r, src_c = np.broadcast_arrays(src_r, src_c)
    box = sample_bilinear(padded[None], src_r[None], src_c[None])[0]
    box = np.round(255 * box / box.max()).astype(np.uint8)
    mass = box.sum(dtype=np.float64)
    centre_r = (np.arange(height)[:, None] * box).sum() / mass
    centre_c = (np.arange(width)[None, :] * box).sum() / mass
    top = int(np.clip(np.floor(FIELD_SIDE / 2 - centre_r + 0.5), 0, FIELD_SIDE - height))
    left = int(np.clip(np.floor(FIELD_SIDE / 2 - centre_c + 0.5), 0, FIELD_SIDE - width))
    field = np.zeros((FIELD_SIDE, FIELD_SIDE), dtype=np.uint8)
    field[top : top + height, left : left + width] = box
    return field
