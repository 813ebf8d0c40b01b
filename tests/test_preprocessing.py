"""Tests of `preprocessing.to_mnist`: what it accepts, what it refuses, what it makes."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from preprocessing import MAX_PIXELS, EmptyDrawingError, ImageTooLargeError, to_mnist

# A "7" with a crossbar, as a polyline in the unit square: (x, y), y down.
SEVEN = [(0.15, 0.1), (0.85, 0.1), (0.45, 0.95)]
CROSSBAR = [(0.35, 0.5), (0.75, 0.5)]


def render(
    strokes: list[list[tuple[float, float]]],
    side: int = 400,
    width: int = 12,
    box: tuple[float, float, float] = (0.2, 0.2, 0.6),
) -> np.ndarray:
    """Ink coverage (side, side) uint8 of polylines drawn with a round brush.

    `box` is (left, top, size) of the drawing's unit square as fractions of the canvas.
    """
    left, top, size = box
    ink = Image.new("L", (side, side), 0)
    pen = ImageDraw.Draw(ink)
    for stroke in strokes:
        points = [(side * (left + size * x), side * (top + size * y)) for x, y in stroke]
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in points:
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(ink)


def seven(**kwargs) -> np.ndarray:
    return render([SEVEN, CROSSBAR], **kwargs)


def alike(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two digits' pixels: 1 for the same picture."""
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    """Height and width of the bounding box of the digit's nonzero pixels."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(digit: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(digit.shape)
    mass = digit.sum(dtype=float)
    return np.array([(rows * digit).sum() / mass, (cols * digit).sum() / mass])


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """The "7" drawn white on black, through `to_mnist`."""
    return to_mnist(seven())


# --- what comes out -------------------------------------------------------------------------


def test_output_is_a_28x28_uint8_digit_on_black_paper(reference):
    assert reference.shape == (28, 28)
    assert reference.dtype == np.uint8
    assert reference.max() == 255
    assert reference[0].max() == reference[-1].max() == 0
    assert 40 < (reference > 0).sum() < 400


def test_longest_side_is_20_and_centre_of_mass_is_at_14_14(reference):
    assert max(ink_box(reference)) in (19, 20, 21)
    assert np.abs(centre_of_mass(reference) - 14).max() <= 0.5


def test_narrow_digit_keeps_its_aspect_ratio():
    one = to_mnist(render([[(0.5, 0.0), (0.5, 1.0)]], width=16))
    height, width = ink_box(one)
    assert height in (19, 20, 21)
    assert 1 <= width <= 5


polyline = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=6).filter(
    lambda points: np.ptp(np.array(points), axis=0).max() > 0.3
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    strokes=st.lists(polyline, min_size=1, max_size=3),
    side=st.integers(100, 800),
    width_share=st.floats(0.005, 0.06),
    place=st.tuples(st.floats(0, 0.5), st.floats(0, 0.5), st.floats(0.3, 0.5)),
)
@example(  # its centre of mass fell on a half pixel, and rounding to uint8 pushed it past
    strokes=[[(0.0, 0.609375), (0.984375, 0.984375)]],
    side=100,
    width_share=0.0078125,
    place=(0.0, 0.0, 0.30078125),
)
def test_any_drawing_fits_the_20_box_centred_by_mass(strokes, side, width_share, place):
    drawing = render(strokes, side=side, width=max(1, round(width_share * side)), box=place)
    digit = to_mnist(255 - drawing)
    height, width = ink_box(digit)
    assert max(height, width) in (19, 20, 21)
    assert min(height, width) >= 1
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    for axis, (centre, occupied) in enumerate(
        zip(centre_of_mass(digit), (rows, cols), strict=True)
    ):
        touches_edge = occupied[0] == 0 or occupied[-1] == 27
        assert abs(centre - 14) <= 0.5 or touches_edge, f"axis {axis}: centre {centre:.2f}"


def test_thin_and_thick_renderings_come_out_alike():
    thin = to_mnist(seven(side=700, width=2))
    thick = to_mnist(seven(side=700, width=60))
    medium = to_mnist(seven(side=700, width=20))
    assert alike(thin, thick) > 0.85
    assert alike(thin, medium) > 0.9
    masses = [digit.sum(dtype=float) for digit in (thin, medium, thick)]
    assert max(masses) / min(masses) < 1.3


def test_stroke_width_ends_like_an_mnist_pen_stroke(reference):
    solid_per_row = (reference[8:20] >= 128).sum(axis=1)
    ink_rows = solid_per_row[solid_per_row > 0]
    assert 1.5 <= np.median(ink_rows) <= 4


def loops(digit: np.ndarray) -> int:
    """How many separate regions of paper the digit's solid ink encloses."""
    paper = digit < 128
    seen = np.zeros_like(paper)
    count = -1  # the first region, from the paper corner (0, 0), is the outside
    for start in map(tuple, np.argwhere(paper)):
        if seen[start]:
            continue
        count += 1
        stack = [start]
        seen[start] = True
        while stack:
            r, c = stack.pop()
            for y, x in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= y < 28 and 0 <= x < 28 and paper[y, x] and not seen[y, x]:
                    seen[y, x] = True
                    stack.append((y, x))
    return count


@pytest.mark.parametrize("blur", [2, 4])
def test_blurred_low_resolution_eight_keeps_both_loops(blur):
    # A thick "8" at 64x64, blurred until its loops are grey, enlarged: a blurred photo or an
    # upscaled thumbnail. Thinning by erosion alone would leave a filled blob or a stick.
    small = Image.new("L", (64, 64), 0)
    pen = ImageDraw.Draw(small)
    pen.ellipse((20, 4, 44, 30), outline=255, width=7)
    pen.ellipse((18, 28, 46, 60), outline=255, width=7)
    blurred = small.filter(ImageFilter.GaussianBlur(blur)).resize((400, 400), Image.BICUBIC)
    assert loops(to_mnist(blurred)) == 2


def test_small_digit_in_a_corner_equals_a_large_centred_one(reference):
    small = to_mnist(seven(side=800, width=5, box=(0.02, 0.75, 0.2)))
    assert alike(small, reference) > 0.9


def test_far_speck_is_dropped(reference):
    drawing = seven(side=400).copy()
    drawing[380:386, 380:386] = 255
    assert alike(to_mnist(drawing), reference) > 0.97


def test_ink_near_the_digit_is_kept(reference):
    drawing = seven(side=400).copy()
    drawing[150:170, 40:60] = 255  # a blob just left of the crossbar: part of the drawing
    assert alike(to_mnist(drawing), reference) < 0.95


# --- polarity and paper ---------------------------------------------------------------------


def test_both_polarities_and_transparent_paper_give_the_same_digit(reference):
    ink = seven()
    transparent = np.zeros((*ink.shape, 4), dtype=np.uint8)
    transparent[..., 3] = ink
    white_ink_on_transparent = transparent.copy()
    white_ink_on_transparent[..., :3] = 255
    for drawing in (255 - ink, transparent, white_ink_on_transparent):
        assert alike(to_mnist(drawing), reference) > 0.98


def test_coloured_ink_on_coloured_paper():
    ink = seven().astype(float)[..., None] / 255
    paper, colour = np.array([250, 240, 200]), np.array([200, 20, 30])
    drawing = np.round(paper * (1 - ink) + colour * ink).astype(np.uint8)
    assert alike(to_mnist(drawing), to_mnist(seven())) > 0.97


def test_photo_of_paper_under_uneven_light(reference):
    rng = np.random.default_rng(0)
    ink = seven(side=600, width=10).astype(float) / 255
    rows, cols = np.indices(ink.shape) / 600
    light = 0.25 + 0.7 * (0.6 * cols + 0.4 * rows)  # dark corner to bright corner
    photo = light * (1 - 0.65 * ink) + rng.normal(0, 0.02, ink.shape)
    digit = to_mnist(np.clip(photo, 0, 1))
    assert alike(digit, reference) > 0.9


def test_opaque_drawing_with_transparent_margins(reference):
    rgba = np.zeros((400, 400, 4), dtype=np.uint8)
    rgba[..., :3] = (255 - seven())[..., None]
    rgba[40:360, 40:360, 3] = 255
    assert alike(to_mnist(rgba), reference) > 0.97


# --- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F", "CMYK"])
def test_pil_images_in_any_mode(mode, reference):
    image = Image.fromarray(255 - seven())
    if mode == "I;16":
        image = Image.fromarray((255 - seven()).astype(np.uint16) * 257)
    elif mode == "F":
        image = image.convert("F")
    else:
        image = image.convert(mode)
    assert image.mode == mode
    assert alike(to_mnist(image), reference) > 0.95


@pytest.mark.parametrize("shape", ["HW", "HW1", "HW3", "HW4"])
@pytest.mark.parametrize("dtype", ["uint8", "bool", "float32", "float64"])
def test_numpy_arrays_of_each_shape_and_dtype(shape, dtype, reference):
    ink = seven()
    values = {"uint8": ink, "bool": ink >= 128}.get(dtype, ink.astype(dtype) / 255)
    layout = {
        "HW": values,
        "HW1": values[..., None],
        "HW3": np.repeat(values[..., None], 3, axis=2),
        "HW4": np.concatenate(
            [
                np.repeat(values[..., None], 3, axis=2),
                np.ones_like(values)[..., None] * values.max(),
            ],
            axis=2,
        ),
    }[shape]
    assert alike(to_mnist(layout), reference) > 0.95


def test_sketchpad_dict_with_composite_or_layers(reference):
    ink = seven()
    background = np.full((*ink.shape, 4), 255, dtype=np.uint8)
    layer = np.zeros((*ink.shape, 4), dtype=np.uint8)
    layer[..., 3] = ink
    composite = background.copy()
    composite[..., :3] = (255 - ink)[..., None]
    values = [
        {"background": background, "layers": [layer], "composite": composite},
        {"background": background, "layers": [layer], "composite": None},
        {"background": None, "layers": [None, layer], "composite": None},
        {
            "background": Image.fromarray(background),
            "layers": [Image.fromarray(layer)],
            "composite": None,
        },
    ]
    for value in values:
        assert alike(to_mnist(value), reference) > 0.97


def test_empty_sketchpad_raises_empty_drawing():
    with pytest.raises(EmptyDrawingError):
        to_mnist({"background": None, "layers": [], "composite": None})
    blank = np.full((300, 300, 4), 255, dtype=np.uint8)
    with pytest.raises(EmptyDrawingError):
        to_mnist({"background": blank, "layers": [np.zeros_like(blank)], "composite": None})


def test_sketchpad_layers_must_match_the_canvas():
    with pytest.raises(ValueError, match="layers must match"):
        to_mnist(
            {
                "background": np.zeros((10, 10, 4), np.uint8),
                "layers": [np.zeros((9, 10, 4), np.uint8)],
                "composite": None,
            }
        )


def test_file_paths_as_str_and_path(tmp_path, reference):
    path = tmp_path / "seven.png"
    Image.fromarray(255 - seven()).save(path)
    assert alike(to_mnist(str(path)), reference) > 0.97
    assert alike(to_mnist(Path(path)), reference) > 0.97


def test_exif_orientation_is_applied(tmp_path):
    upright = Image.fromarray(255 - seven())
    stored = upright.rotate(180)  # the camera's raw pixels, upside down
    exif = Image.Exif()
    exif[0x0112] = 3  # orientation: rotate 180 to display
    path = tmp_path / "photo.jpg"
    stored.save(path, exif=exif, quality=95)
    expected = to_mnist(upright)
    assert alike(to_mnist(str(path)), expected) > 0.95
    assert alike(to_mnist(Image.open(path)), expected) > 0.95
    assert alike(to_mnist(stored), expected) < 0.5


def test_the_callers_array_is_not_modified():
    ink = np.ascontiguousarray(np.repeat((255 - seven())[..., None], 4, axis=2))
    ink[..., 3] = 255
    layer = np.zeros_like(ink)
    layer[..., 3] = seven()
    before = ink.copy(), layer.copy()
    to_mnist(ink)
    to_mnist({"background": ink, "layers": [layer], "composite": None})
    assert np.array_equal(ink, before[0])
    assert np.array_equal(layer, before[1])


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "blank",
    [
        None,
        np.full((280, 280), 255, np.uint8),
        np.zeros((280, 280), np.uint8),
        np.full((50, 80, 3), (30, 120, 200), np.uint8),
        np.zeros((280, 280, 4), np.uint8),
        np.full((280, 280, 4), (0, 0, 0, 0), np.uint8) + np.array([255, 255, 255, 0], np.uint8),
        np.ones((1, 1), bool),
        np.full((28, 28), 0.5),
    ],
    ids=["none", "white", "black", "flat-colour", "alpha-0", "white-alpha-0", "1x1", "grey"],
)
def test_blank_canvas_raises_empty_drawing_error(blank):
    with pytest.raises(EmptyDrawingError) as raised:
        to_mnist(blank)
    assert isinstance(raised.value, ValueError)
    assert "draw" in str(raised.value).lower()


def test_faint_smudge_is_no_drawing():
    canvas = np.full((280, 280), 255, np.uint8)
    canvas[100:180, 130:140] = 245
    with pytest.raises(EmptyDrawingError):
        to_mnist(canvas)


@pytest.mark.parametrize(
    "array",
    [
        np.full((28, 28), np.nan),
        np.full((28, 28), np.inf),
        np.full((28, 28), 2.0),
        np.full((28, 28), -0.5),
        np.zeros((0, 28), np.uint8),
        np.zeros((28, 0, 3), np.uint8),
        np.zeros((28, 28, 2), np.uint8),
        np.zeros((28, 28, 5), np.uint8),
        np.zeros(28, np.uint8),
        np.zeros((2, 28, 28, 3), np.uint8),
    ],
    ids=[
        "nan",
        "inf",
        "above-1",
        "below-0",
        "no-rows",
        "no-cols",
        "2-channels",
        "5-channels",
        "1d",
        "4d",
    ],
)
def test_malformed_arrays_raise_value_error(array):
    with pytest.raises(ValueError, match="expected"):
        to_mnist(array)


@pytest.mark.parametrize(
    "value",
    [
        np.zeros((28, 28), np.int64),
        np.zeros((28, 28), np.uint16),
        np.zeros((28, 28), complex),
        [[0, 255]],
        7,
        b"png",
    ],
    ids=["int64", "uint16", "complex", "list", "int", "bytes"],
)
def test_unsupported_types_raise_type_error_naming_what_is_accepted(value):
    with pytest.raises(TypeError, match="NumPy array"):
        to_mnist(value)


def test_not_an_image_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        to_mnist(path)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming width x height 1-bit pixels, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(8000, 6000), (30000, 30000)], ids=["48-megapixels", "bomb"])
def test_huge_image_files_are_refused_before_decoding(tmp_path, size):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(*size))
    start = time.perf_counter()
    with pytest.raises(ImageTooLargeError):
        to_mnist(path)
    assert time.perf_counter() - start < 1


def test_huge_images_and_arrays_are_refused():
    with pytest.raises(ImageTooLargeError):
        to_mnist(Image.new("1", (8000, 6000)))
    with pytest.raises(ImageTooLargeError):
        to_mnist(np.broadcast_to(np.uint8(0), (MAX_PIXELS // 1000 + 1, 1000)))


def test_tiny_drawings_still_give_a_digit():
    for drawing in (
        np.array([[0, 255]], np.uint8),
        np.eye(3, dtype=bool),
        np.eye(1, 500, dtype=bool),
    ):
        digit = to_mnist(drawing)
        assert digit.shape == (28, 28)
        assert digit.max() == 255


def test_jpeg_drawing_with_compression_noise(tmp_path, reference):
    path = tmp_path / "seven.jpg"
    Image.fromarray(255 - seven()).convert("RGB").save(path, quality=60)
    digit = to_mnist(path)
    assert max(ink_box(digit)) in (19, 20, 21)
    assert alike(digit, reference) > 0.95
