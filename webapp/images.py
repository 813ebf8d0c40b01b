"""28x28 digits as small PNG data URLs, so a page shows them without any file round trip.

A digit is a few hundred bytes as PNG. Sent inline, it needs no file written, hashed, copied into
Gradio's cache and fetched again by the browser; the browser enlarges it with square pixels
(CSS ``image-rendering: pixelated``).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def png_data_url(digit: np.ndarray) -> str:
    """A ``data:image/png;base64,...`` URL of a uint8 (28, 28) digit (0 paper, 255 ink), shown
    as the model sees it: white ink on black."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(digit, dtype=np.uint8)).save(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
