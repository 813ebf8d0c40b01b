"""Read every accepted kind of drawing into one Pillow image of mode L or RGBA."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from preprocessing.errors import EmptyDrawingError, ImageTooLargeError

MAX_PIXELS = 40_000_000
ACCEPTED = (
    "a PIL image, a NumPy array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) "
    "holding uint8, bool or float in [0, 1], a Gradio Sketchpad dict with 'background', "
    "'layers' and 'composite', or the path of an image file"
)
NO_DRAWING = "Nothing is drawn yet: draw a digit first."

# Modes whose samples exceed 8 bits, with the value that stands for white.
_WIDE_MODE_WHITE = {
    "I;16": 65535,
    "I;16L": 65535,
    "I;16B": 65535,
    "I;16N": 65535,
    "I": 255,
    "F": 255,
}


def load_drawing(image: Any) -> Image.Image:
    """Read `image` (see `ACCEPTED`) as a Pillow image of mode L or RGBA.

    The caller's object is never modified.
    """
    return with_plain_mode(load_image(image))


def load_image(image: Any) -> Image.Image:
    """Turn any accepted input into a Pillow image, EXIF orientation applied."""
    if image is None:
        raise EmptyDrawingError(NO_DRAWING)
    if isinstance(image, dict):
        return compose_sketchpad(image)
    if isinstance(image, (str, os.PathLike)):
        return open_image_file(image)
    if isinstance(image, Image.Image):
        check_pixel_count(*image.size)
        return ImageOps.exif_transpose(image)
    if isinstance(image, np.ndarray):
        return image_from_array(image)
    raise TypeError(f"Cannot read a drawing from {type(image).__name__}; expected {ACCEPTED}.")


def check_pixel_count(width: int, height: int) -> None:
    """Refuse images with no pixels or more than `MAX_PIXELS`, before they are decoded."""
    if width == 0 or height == 0:
        raise ValueError(f"The image is empty ({width}x{height} pixels); expected {ACCEPTED}.")
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(
            f"The image has {width}x{height} pixels, more than the {MAX_PIXELS:,} a drawing "
            "may have; send a smaller image."
        )


def open_image_file(path: str | os.PathLike) -> Image.Image:
    """Open an image file, refusing oversized images and decompression bombs before decoding."""
    try:
        with Image.open(path) as opened:
            check_pixel_count(*opened.size)
            opened.load()
            return ImageOps.exif_transpose(opened)
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(f"Refused {os.fspath(path)!r}: {error}") from error
    except Image.UnidentifiedImageError as error:
        raise ValueError(f"{os.fspath(path)!r} is not an image file Pillow can read.") from error


def image_from_array(array: np.ndarray) -> Image.Image:
    """Validate a NumPy drawing and wrap it as a Pillow image (mode L, RGB or RGBA)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ValueError(f"Unsupported array shape {array.shape}; expected {ACCEPTED}.")
    check_pixel_count(array.shape[1], array.shape[0])
    return Image.fromarray(np.ascontiguousarray(array_as_uint8(array)))


def array_as_uint8(array: np.ndarray) -> np.ndarray:
    """Return the array as uint8 (0 black, 255 white); bool and float [0, 1] are converted."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError(f"The array holds NaN or infinite values; expected {ACCEPTED}.")
        if array.min() < 0 or array.max() > 1:
            raise ValueError(f"Float arrays must hold values in [0, 1]; expected {ACCEPTED}.")
        return (array * 255 + 0.5).astype(np.uint8)
    raise TypeError(f"Unsupported array dtype {array.dtype}; expected {ACCEPTED}.")


def compose_sketchpad(value: dict) -> Image.Image:
    """Return a Sketchpad's composite, or its layers composed over its background (RGBA)."""
    missing = {"background", "layers", "composite"} - value.keys()
    if missing:
        raise ValueError(f"The Sketchpad dict lacks {sorted(missing)}; expected {ACCEPTED}.")
    if value["composite"] is not None:
        return load_image(value["composite"])
    parts = [value["background"], *(value["layers"] or [])]
    images = [load_image(part).convert("RGBA") for part in parts if part is not None]
    if not images:
        raise EmptyDrawingError(NO_DRAWING)
    composite = images[0]
    for layer in images[1:]:
        if layer.size != composite.size:
            raise ValueError(
                f"A Sketchpad layer is {layer.size[0]}x{layer.size[1]} pixels but the canvas "
                f"is {composite.size[0]}x{composite.size[1]}; layers must match the canvas."
            )
        composite = Image.alpha_composite(composite, layer)
    return composite


def with_plain_mode(image: Image.Image) -> Image.Image:
    """Convert a Pillow image of any mode to L (no alpha) or RGBA (with alpha)."""
    if image.mode in _WIDE_MODE_WHITE:
        return wide_to_luminance(image)
    if image.mode in ("L", "RGBA"):
        return image
    if image.mode in ("1", "RGB", "CMYK", "YCbCr") or (
        image.mode == "P" and "transparency" not in image.info
    ):
        return image.convert("L")
    return image.convert("RGBA")


def wide_to_luminance(image: Image.Image) -> Image.Image:
    """Scale a 16-bit, 32-bit or float image to mode L (white is 65535 for I;16, else 255)."""
    samples = np.asarray(image, dtype=np.float64)
    if not np.isfinite(samples).all():
        raise ValueError(f"The image holds NaN or infinite values; expected {ACCEPTED}.")
    scaled = np.clip(samples * (255 / _WIDE_MODE_WHITE[image.mode]), 0, 255)
    return Image.fromarray((scaled + 0.5).astype(np.uint8))
