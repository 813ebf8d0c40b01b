"""Drawings that are not digits, made as people draw: letters, symbols, shapes, scribbles, words.

No handwriting collection of letters is used. Letters, symbols and words are rendered from fonts
at many sizes, slants and stroke widths; shapes and scribbles are drawn as lines. Every one is
then made a drawing the way ``benchmarks.drawn_digits`` makes its digits: thinned to its centre
lines and redrawn with a round brush 2 to 60 px wide on a 280 to 800 px canvas, and put through
``to_mnist``. The fonts are DejaVu and Liberation where installed, else Pillow's bundled font
(``ImageFont.load_default(size)``), so the set can be made on any machine with FreeType.

Some letters are written as digits by many people (O and 0, I and 1, S and 5, ...):
:data:`LOOK_ALIKES` names them, so that a measure can be given with and without them.
"""

from __future__ import annotations

import glob
import string
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.drawn_digits import black_on_white, draw_strokes, thin
from preprocessing import to_mnist

FONT_GLOBS = (
    "/usr/share/fonts/truetype/dejavu/*.ttf",
    "/usr/share/fonts/truetype/liberation/*.ttf",
)
LETTERS = string.ascii_uppercase + string.ascii_lowercase
SYMBOLS = "+=?!@#$%&*<>{}~^"
WORDS = ("hi", "cat", "yes", "no", "ok", "dog", "abc", "wow")
#: Letters many people write exactly as a digit: O o D Q as 0, I l i as 1, Z z as 2, S s as 5,
#: b G as 6, g q as 9, B as 8.
LOOK_ALIKES = frozenset("OoDQIliZzSsbGgqB")
SIDE = 112  # the skeletons are drawn in this square, as drawn_digits' centre lines are
#: Share of each kind in a set.
KIND_SHARES = {"letter": 0.5, "symbol": 0.15, "shape": 0.15, "scribble": 0.1, "word": 0.1}


@dataclass(frozen=True)
class NonDigits:
    """A set of non-digits: ``digits`` uint8 (n, 28, 28) (0 paper, 255 ink) as ``to_mnist``
    gives them, and for each its kind (a key of :data:`KIND_SHARES`) and what it shows."""

    digits: np.ndarray
    kinds: tuple[str, ...]
    names: tuple[str, ...]

    def look_alike(self) -> np.ndarray:
        """bool (n,): which are letters of :data:`LOOK_ALIKES`."""
        return np.array(
            [
                k == "letter" and n in LOOK_ALIKES
                for k, n in zip(self.kinds, self.names, strict=True)
            ]
        )


def make_non_digits(n: int, rng: np.random.Generator) -> NonDigits:
    """``n`` non-digits in the shares of :data:`KIND_SHARES`, each drawn and put through
    ``to_mnist``."""
    makers: dict[str, Callable[[np.random.Generator], tuple[str, np.ndarray]]] = {
        "letter": lambda r: _glyph_skeleton(str(r.choice(list(LETTERS))), r),
        "symbol": lambda r: _glyph_skeleton(str(r.choice(list(SYMBOLS))), r),
        "shape": _shape_skeleton,
        "scribble": lambda r: ("scribble", _scribble_skeleton(r)),
        "word": lambda r: _glyph_skeleton(str(r.choice(WORDS)), r),
    }
    kinds = rng.choice(list(KIND_SHARES), size=n, p=list(KIND_SHARES.values()))
    digits, names = [], []
    for kind in kinds:
        name, skeleton = makers[str(kind)](rng)
        digits.append(to_mnist(black_on_white(draw_strokes(skeleton, rng))))
        names.append(name)
    return NonDigits(np.stack(digits), tuple(map(str, kinds)), tuple(names))


def fonts() -> list[str]:
    """The TrueType fonts found here (may be empty: then Pillow's bundled font is used)."""
    return sorted(path for pattern in FONT_GLOBS for path in glob.glob(pattern))


def load_font(size: int, rng: np.random.Generator) -> ImageFont.FreeTypeFont:
    """A random installed font at ``size`` px, or Pillow's bundled one."""
    found = fonts()
    if found:
        return ImageFont.truetype(str(rng.choice(found)), size)
    return ImageFont.load_default(size)


def _glyph_skeleton(text: str, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """``text`` rendered at a random size, stroke width and slant, thinned to centre lines."""
    size = int(rng.integers(40, 160))
    font = load_font(size, rng)
    stroke = int(rng.integers(0, max(1, size // 12)))
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    pad = size // 2
    image = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(image).text(
        (pad - left, pad - top), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255
    )
    slant = float(rng.uniform(-0.35, 0.35))
    height = image.size[1]
    image = image.transform(
        image.size, Image.Transform.AFFINE, (1, slant, -slant * height / 2, 0, 1, 0)
    )
    return text, _fit_skeleton(np.asarray(image) >= 128)


def _fit_skeleton(mask: np.ndarray) -> np.ndarray:
    """The centre lines of a mask's ink, its longest side scaled to fit a SIDE square."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = Image.fromarray(
        mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.uint8) * 255
    )
    scale = (SIDE - 8) / max(crop.size)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    square = Image.new("L", (SIDE, SIDE), 0)
    square.paste(crop.resize(size, Image.Resampling.BILINEAR), (4, 4))
    return thin(np.asarray(square) >= 128)


def _lines(points_list: list[np.ndarray]) -> np.ndarray:
    """Polylines (each (m, 2) x, y in 0..1) drawn 1 px wide in a SIDE square: bool skeleton."""
    image = Image.new("1", (SIDE, SIDE), 0)
    pen = ImageDraw.Draw(image)
    for points in points_list:
        xy = [tuple(p) for p in (4 + points * (SIDE - 9)).tolist()]
        pen.line(xy, fill=1, width=1)
    return thin(np.asarray(image, dtype=bool))


def _shape_skeleton(rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """A triangle, square, star, spiral, zigzag, grid, arrow or smiley, with some wobble."""
    shapes = {
        "triangle": [np.array([[0.5, 0], [1, 1], [0, 1], [0.5, 0]])],
        "square": [np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]])],
        "star": [
            np.stack([0.5 + 0.5 * np.sin(a), 0.5 - 0.5 * np.cos(a)], axis=1)
            for a in [np.arange(6) * 4 * np.pi / 5]
        ],
        "spiral": [
            np.stack([0.5 + s * np.cos(6 * np.pi * s), 0.5 + s * np.sin(6 * np.pi * s)], axis=1)
            for s in [np.linspace(0.02, 0.5, 80)]
        ],
        "zigzag": [np.stack([np.linspace(0, 1, 7), np.arange(7) % 2], axis=1)],
        "grid": [np.array([[x, 0], [x, 1]]) for x in (0.33, 0.67)]
        + [np.array([[0, y], [1, y]]) for y in (0.33, 0.67)],
        "arrow": [np.array([[0, 0.5], [1, 0.5]]), np.array([[0.7, 0.2], [1, 0.5], [0.7, 0.8]])],
        "smiley": [
            np.stack([0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)], axis=1)
            for a in [np.linspace(0, 2 * np.pi, 40)]
        ]
        + [np.array([[0.35, 0.35], [0.35, 0.4]]), np.array([[0.65, 0.35], [0.65, 0.4]])]
        + [
            np.stack([0.5 + 0.25 * np.cos(t2), 0.55 + 0.2 * np.sin(t2)], axis=1)
            for t2 in [np.linspace(0.2, np.pi - 0.2, 12)]
        ],
    }
    name = str(rng.choice(list(shapes)))
    stretch = rng.uniform(0.5, 1.0, size=2)
    wobble = [p * stretch + rng.normal(0, 0.015, p.shape) for p in shapes[name]]
    return name, _lines([np.clip(p, 0, 1) for p in wobble])


def _scribble_skeleton(rng: np.random.Generator) -> np.ndarray:
    """A random walk of 6 to 20 strokes, as a bored hand draws."""
    steps = rng.normal(0, 0.25, size=(int(rng.integers(6, 21)), 2))
    walk = np.cumsum(steps, axis=0)
    walk -= walk.min(axis=0)
    walk /= max(float(walk.max()), 1e-9)
    return _lines([walk])
