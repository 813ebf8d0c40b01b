"""The page's image inputs, made safe and lean before Gradio would decode anything.

Out of the box, Gradio's image inputs decode what a client sends before the app sees it: the
sketchpad decodes and re-encodes its background, layers and composite on every stroke; an image
input opens any server path a client names, and decodes ``data:`` URLs. Here the two inputs hand
the handler one Pillow image, opened only as far as its header, after these checks:

- a path must name a regular file inside the folder where this app's uploads go (no device,
  FIFO, link out or other path), and every refusal reads the same whether the file exists or not;
- at most ``MAX_UPLOAD_BYTES`` are read, and only PNG, JPEG, WebP, GIF, BMP or TIFF is opened;
- an image of more than ``MAX_PIXELS`` pixels is refused from its header, before decoding;
- ``data:`` URLs are refused;
- the sketchpad keeps only the composite of the strokes a client sends, a bounded number of them.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from collections import OrderedDict
from typing import Any

import gradio as gr
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorData
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder
from PIL import Image

from webapp.settings import BRUSH_SIZE, MAX_PIXELS, MAX_UPLOAD_BYTES

FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
NOT_AN_IMAGE = "That file isn't an image this app can read: PNG, JPEG, WebP, GIF, BMP or TIFF."
TOO_LARGE = (
    f"That image is larger than this app takes: at most {MAX_UPLOAD_BYTES // 2**20} MB and "
    f"{MAX_PIXELS // 10**6} megapixels. Send a smaller one."
)
PAD_FRAME = 120  # pixels of a pad's box besides its canvas's height: the toolbars and margins
SCREEN_MARGIN = 124  # pixels of a phone's width beside a pad's canvas: the page's and pad's margins
MAX_PENDING_DRAWINGS = 64  # drawings sent by clients and not yet classified, kept at most


class ImageRefused(gr.Error):
    """A client sent something this app does not open; the message says what it takes."""

    def __init__(self, message: str = NOT_AN_IMAGE) -> None:
        super().__init__(message, print_exception=False)


def open_image(data: bytes) -> Image.Image:
    """Open image bytes as far as the header: the format and the pixel count are checked, the
    pixels are decoded later, by the caller."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(TOO_LARGE)
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise ImageRefused(TOO_LARGE) from None
    except (OSError, ValueError, SyntaxError):  # Pillow's ways of saying "not an image I read"
        raise ImageRefused() from None
    if image.width * image.height > MAX_PIXELS:
        raise ImageRefused(TOO_LARGE)
    return image


def read_upload(path: str | None) -> bytes:
    """The bytes of a file this app's uploads folder holds, or :class:`ImageRefused`.

    The path is resolved (links followed) and must lie inside the uploads folder; it must be a
    regular file, opened without following a final link and without blocking on a FIFO, and
    is checked again once open, so a swap between the check and the open is caught.
    """
    folder = os.path.realpath(get_upload_folder())
    real = os.path.realpath(path) if path else ""
    if os.path.commonpath([folder, real or "/"]) != folder:
        raise ImageRefused()
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise ImageRefused() from None
    try:
        facts = os.fstat(fd)
        if not stat.S_ISREG(facts.st_mode):
            raise ImageRefused()
        if facts.st_size > MAX_UPLOAD_BYTES:
            raise ImageRefused(TOO_LARGE)
        with open(fd, "rb", closefd=False) as file:
            return file.read(MAX_UPLOAD_BYTES + 1)
    finally:
        os.close(fd)


def open_payload(file: FileData | bytes | None) -> Image.Image | None:
    """The image a client sent as an uploaded file or as raw bytes, checked."""
    if file is None:
        return None
    if isinstance(file, bytes):
        return open_image(file)
    if file.url and file.url.startswith("data:"):
        raise ImageRefused()
    return open_image(read_upload(file.path))


class PendingDrawings:
    """Composites that clients send ahead of their events, keyed by the event's id: at most
    ``MAX_PENDING_DRAWINGS``, the oldest dropped first, each taken once."""

    def __init__(self) -> None:
        self._drawings: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def accept_blobs(self, data: AcceptBlobs) -> None:
        """Gradio's sketchpad sends its background, layers and composite here before each event;
        only the composite is needed, and it is kept bounded."""
        if data.data.get("type") != "composite" or not data.files:
            return
        blob = data.files[0][1]
        if len(blob) > MAX_UPLOAD_BYTES:
            raise ImageRefused(TOO_LARGE)
        key = str(data.data.get("id"))
        with self._lock:
            self._drawings[key] = blob
            self._drawings.move_to_end(key)
            while len(self._drawings) > MAX_PENDING_DRAWINGS:
                self._drawings.popitem(last=False)

    def take(self, key: str) -> bytes | None:
        with self._lock:
            return self._drawings.pop(key, None)

    def __len__(self) -> int:
        return len(self._drawings)


def pad_options(canvas_size: tuple[int, int]) -> dict[str, Any]:
    """A sketchpad for drawing digits: a fixed canvas, a black pen, no layers or transforms."""
    return {
        "canvas_size": canvas_size,
        "fixed_canvas": True,
        "brush": gr.Brush(default_size=BRUSH_SIZE, colors=["#000000"], color_mode="fixed"),
        "layers": False,
        "transforms": (),
        "buttons": [],
        "height": pad_height(canvas_size),
    }


def pad_height(canvas_size: tuple[int, int]) -> int:
    """The height in pixels of a pad's box around a canvas of ``canvas_size`` (width, height)."""
    return canvas_size[1] + PAD_FRAME


def pad_height_css(canvas_size: tuple[int, int]) -> str:
    """The CSS height of a pad's box on any screen: ``pad_height``, or less where the canvas
    shrinks to fit a narrow screen's width (Gradio keeps the box's height fixed, so a phone
    would show the canvas in a box twice its height and the answer below the fold), and never
    more than a short screen's height."""
    width, height = canvas_size
    fitted = f"{height / width:.4f} * (100vw - {SCREEN_MARGIN}px) + {PAD_FRAME}px"
    return f"min({pad_height(canvas_size)}px, {fitted}, 100vh)"


def drawing_pad(**options: Any) -> gr.Sketchpad:
    """A ``gr.Sketchpad(**options)`` whose handler receives the composite of the strokes (the
    strokes on the paper, RGBA) as a checked, not yet decoded Pillow image.

    Gradio's own component is kept (subclasses make Gradio write stub files beside this module);
    its ``preprocess`` and its ``accept_blobs`` route are replaced on this instance.
    """
    pad = gr.Sketchpad(**options)
    pending = PendingDrawings()

    def preprocess(payload: EditorData | None) -> Image.Image | None:
        if payload is None:
            return None
        if payload.id is not None:
            return open_payload(pending.take(payload.id))
        return open_payload(payload.composite)

    @server
    def accept_blobs(data: AcceptBlobs) -> None:
        pending.accept_blobs(data)

    pad.preprocess = preprocess
    pad.accept_blobs = accept_blobs
    pad.pending = pending
    return pad


def image_file(**options: Any) -> gr.Image:
    """A ``gr.Image(**options)`` whose handler receives a checked, not yet decoded Pillow image."""
    image = gr.Image(**options)
    image.preprocess = open_payload
    return image
