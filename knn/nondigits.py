"""Drawings that are not digits, for the model to hold as references of its "not a digit" class.

A kNN can only say "this looks like a 7" if a 7 is the nearest thing it knows. Given examples
of what is not a digit as well, it can say "the nearest things I know are letters": the
references here join the neighbours (:class:`knn.model.DigitModel`), never the vote over the
ten digits.

They are drawn from a small stroke font written here (each letter a few polylines in a unit box,
a few also in the form print gives them), symbols, shapes and scribbles made by their own
generators, and strings of two to four letters, each with random slant, rotation, aspect, wobble
and pen width, then put through the same pipeline as a visitor's drawing
(``preprocessing.mnist_from_ink``). No font file is read, so the set is the same on every
machine. Letters many people write exactly as a digit (:data:`LOOK_ALIKES`: O as 0, l as 1, S as
5, ...) are left out, and so are shapes a digit is made of (a circle is a 0, a figure of eight
an 8, a lone bar a 1). The dots of ! and ? are drawn heavy enough that the pipeline keeps them
(a lighter one is dropped as a speck, and the ! becomes a 1).

``make_references(n, seed)`` is deterministic: the model's references use
:data:`REFERENCE_SEED`; ``python -m knn.calibrate`` fits its thresholds on other seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from preprocessing.pipeline import mnist_from_ink

#: Bumped whenever the drawings change: part of the cache key of the references.
RECIPE_VERSION = 4
#: References the model holds: enough that every letter is seen in many hands (about 60 each),
#: few enough to search in a millisecond and hold in 12 MB.
N_REFERENCES = 3000
REFERENCE_SEED = 2024
#: Letters many people write exactly as a digit: O o D Q as 0, I l i as 1, Z z as 2, S s as 5,
#: b G as 6, g q as 9, B as 8. They are not "not a digit".
LOOK_ALIKES = frozenset("OoDQIliZzSsbGgqB")
#: Share of each kind among the references.
KIND_SHARES = {"letter": 0.45, "symbol": 0.2, "shape": 0.15, "scribble": 0.1, "word": 0.1}

Stroke = list[tuple[float, float]]  # a polyline, (x, y) with y down, in a unit box


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float) -> Stroke:
    """Points of an elliptic arc from angle ``start`` to ``stop`` in degrees (0 right, 90 down)."""
    t = np.radians(np.linspace(start, stop, max(4, int(abs(stop - start) / 12))))
    return list(zip((cx + rx * np.cos(t)).tolist(), (cy + ry * np.sin(t)).tolist(), strict=True))


# Capitals stand from y=0 to the baseline y=1; small letters from the x-height 0.45 to 1, with
# ascenders from 0 and descenders to 1.35.
_BOWL = _arc(0.25, 0.725, 0.25, 0.275, 0, 360)  # the round body of a, d, p
STROKE_FONT: dict[str, list[Stroke]] = {
    "A": [[(0, 1), (0.35, 0), (0.7, 1)], [(0.13, 0.62), (0.57, 0.62)]],
    "C": [_arc(0.4, 0.5, 0.4, 0.5, -45, -315)],
    "E": [[(0.6, 0), (0, 0), (0, 1), (0.6, 1)], [(0, 0.5), (0.45, 0.5)]],
    "F": [[(0.6, 0), (0, 0), (0, 1)], [(0, 0.5), (0.45, 0.5)]],
    "H": [[(0, 0), (0, 1)], [(0.6, 0), (0.6, 1)], [(0, 0.5), (0.6, 0.5)]],
    "J": [[(0.6, 0), (0.6, 0.75), *_arc(0.3, 0.75, 0.3, 0.25, 0, 180)]],
    "K": [[(0, 0), (0, 1)], [(0.6, 0), (0, 0.6)], [(0.2, 0.42), (0.6, 1)]],
    "L": [[(0, 0), (0, 1), (0.55, 1)]],
    "M": [[(0, 1), (0, 0), (0.4, 0.6), (0.8, 0), (0.8, 1)]],
    "N": [[(0, 1), (0, 0), (0.6, 1), (0.6, 0)]],
    "P": [[(0, 1), (0, 0), (0.3, 0), *_arc(0.3, 0.25, 0.28, 0.25, -90, 90), (0, 0.5)]],
    "R": [
        [(0, 1), (0, 0), (0.3, 0), *_arc(0.3, 0.25, 0.28, 0.25, -90, 90), (0, 0.5)],
        [(0.25, 0.5), (0.6, 1)],
    ],
    "T": [[(0, 0), (0.7, 0)], [(0.35, 0), (0.35, 1)]],
    "U": [[(0, 0), (0, 0.65), *_arc(0.3, 0.65, 0.3, 0.35, 180, 0), (0.6, 0)]],
    "V": [[(0, 0), (0.35, 1), (0.7, 0)]],
    "W": [[(0, 0), (0.22, 1), (0.45, 0.3), (0.68, 1), (0.9, 0)]],
    "X": [[(0, 0), (0.6, 1)], [(0.6, 0), (0, 1)]],
    "Y": [[(0, 0), (0.35, 0.5), (0.7, 0)], [(0.35, 0.5), (0.35, 1)]],
    "a": [_BOWL, [(0.5, 0.45), (0.5, 1)]],
    "c": [_arc(0.25, 0.725, 0.25, 0.275, -45, -315)],
    "d": [_BOWL, [(0.5, 0), (0.5, 1)]],
    "e": [[(0.02, 0.72), (0.5, 0.72), *_arc(0.25, 0.725, 0.25, 0.275, 0, -300)]],
    "f": [
        [(0.5, 0.05), (0.35, 0), (0.22, 0.08), (0.2, 0.2), (0.2, 1)],
        [(0.05, 0.45), (0.4, 0.45)],
    ],
    "h": [
        [(0, 0), (0, 1)],
        [(0, 0.62), (0.1, 0.5), (0.25, 0.45), (0.4, 0.5), (0.48, 0.62), (0.48, 1)],
    ],
    "j": [
        [(0.3, 0.45), (0.3, 1.2), (0.22, 1.32), (0.1, 1.33), (0, 1.25)],
        [(0.3, 0.27), (0.3, 0.3)],
    ],
    "k": [[(0, 0), (0, 1)], [(0.4, 0.45), (0, 0.75)], [(0.12, 0.68), (0.42, 1)]],
    "m": [
        [(0, 1), (0, 0.45)],
        [(0, 0.6), (0.08, 0.48), (0.18, 0.45), (0.28, 0.5), (0.3, 0.6), (0.3, 1)],
        [(0.3, 0.6), (0.38, 0.48), (0.48, 0.45), (0.58, 0.5), (0.6, 0.6), (0.6, 1)],
    ],
    "n": [
        [(0, 1), (0, 0.45)],
        [(0, 0.6), (0.1, 0.48), (0.25, 0.45), (0.4, 0.5), (0.45, 0.62), (0.45, 1)],
    ],
    "p": [[(0, 0.45), (0, 1.35)], _arc(0.25, 0.725, 0.25, 0.275, 0, 360)],
    "r": [[(0, 1), (0, 0.45)], [(0, 0.6), (0.12, 0.48), (0.25, 0.45), (0.38, 0.48)]],
    "t": [[(0.15, 0.15), (0.15, 0.9), (0.22, 1), (0.35, 1)], [(0, 0.45), (0.35, 0.45)]],
    "u": [
        [(0, 0.45), (0, 0.8), (0.08, 0.95), (0.2, 1), (0.35, 0.97), (0.45, 0.85)],
        [(0.45, 0.45), (0.45, 1)],
    ],
    "v": [[(0, 0.45), (0.25, 1), (0.5, 0.45)]],
    "w": [[(0, 0.45), (0.15, 1), (0.3, 0.6), (0.45, 1), (0.6, 0.45)]],
    "x": [[(0, 0.45), (0.45, 1)], [(0.45, 0.45), (0, 1)]],
    "y": [[(0, 0.45), (0.25, 1)], [(0.5, 0.45), (0.15, 1.35)]],
}
#: Letters whose printed form differs from the written one of :data:`STROKE_FONT`: a visitor
#: copying a printed letter draws these (the two-storey a, read as a 6; the barred J and the
#: serifed j, read as 7s). Such a letter is drawn in either form, half the time each.
PRINTED_FORMS: dict[str, list[Stroke]] = {
    "J": [[(0.25, 0), (0.8, 0)], [(0.6, 0), (0.6, 0.8), *_arc(0.38, 0.8, 0.22, 0.2, 0, 160)]],
    "a": [
        [*_arc(0.25, 0.6, 0.2, 0.13, 200, 360), (0.45, 1), (0.52, 1)],
        [(0.45, 0.7), *_arc(0.25, 0.84, 0.2, 0.16, 270, 90), (0.45, 0.92)],
    ],
    "j": [
        [(0.12, 0.45), (0.3, 0.45), (0.3, 1.2), (0.22, 1.32), (0.1, 1.33), (0, 1.25)],
        [(0.3, 0.27), (0.3, 0.3)],
    ],
}
#: The look-alikes, drawn only inside strings of letters (a word is no digit whatever it holds).
WORD_ONLY_FONT: dict[str, list[Stroke]] = {
    "o": [_arc(0.25, 0.725, 0.25, 0.275, 0, 360)],
    "i": [[(0.05, 0.45), (0.05, 1)], [(0.05, 0.27), (0.05, 0.3)]],
    "l": [[(0.05, 0), (0.05, 1)]],
    "s": [_arc(0.22, 0.59, 0.2, 0.14, -20, -270) + _arc(0.22, 0.86, 0.2, 0.14, -90, 160)],
    "g": [_BOWL, [(0.5, 0.45), (0.5, 1.2), *_arc(0.28, 1.2, 0.22, 0.15, 0, 150)]],
}
#: The dot of ! and ?, a small loop: drawn with the pen, a blob heavy enough that the pipeline
#: keeps it (a lighter speck is dropped, and the ! is then a 1, the ? a 2).
_DOT = _arc(0.5, 0.93, 0.035, 0.035, 0, 360)
SYMBOL_FONT: dict[str, list[Stroke]] = {
    "+": [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
    "=": [[(0, 0.3), (1, 0.3)], [(0, 0.7), (1, 0.7)]],
    "≠": [[(0, 0.3), (1, 0.3)], [(0, 0.7), (1, 0.7)], [(0.7, 0), (0.3, 1)]],
    "\u00d7": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "÷": [[(0, 0.5), (1, 0.5)], [(0.5, 0.15), (0.5, 0.18)], [(0.5, 0.82), (0.5, 0.85)]],
    "#": [
        [(0.35, 0), (0.25, 1)],
        [(0.75, 0), (0.65, 1)],
        [(0, 0.33), (1, 0.33)],
        [(0, 0.67), (1, 0.67)],
    ],
    "%": [
        _arc(0.2, 0.2, 0.18, 0.18, 0, 360),
        _arc(0.8, 0.8, 0.18, 0.18, 0, 360),
        [(0.9, 0), (0.1, 1)],
    ],
    "*": [[(0.5, 0), (0.5, 1)], [(0.07, 0.25), (0.93, 0.75)], [(0.93, 0.25), (0.07, 0.75)]],
    "<": [[(1, 0), (0, 0.5), (1, 1)]],
    ">": [[(0, 0), (1, 0.5), (0, 1)]],
    "^": [[(0, 0.6), (0.5, 0), (1, 0.6)]],
    "~": [[(0, 0.55), (0.15, 0.4), (0.3, 0.38), (0.5, 0.5), (0.7, 0.62), (0.85, 0.6), (1, 0.45)]],
    "{": [[(0.6, 0), (0.4, 0.05), (0.35, 0.4), (0, 0.5), (0.35, 0.6), (0.4, 0.95), (0.6, 1)]],
    "}": [[(0, 0), (0.2, 0.05), (0.25, 0.4), (0.6, 0.5), (0.25, 0.6), (0.2, 0.95), (0, 1)]],
    "&": [
        [
            (1, 1),
            (0.3, 0.35),
            (0.25, 0.15),
            (0.4, 0),
            (0.55, 0.15),
            (0.5, 0.35),
            (0.1, 0.65),
            *_arc(0.35, 0.75, 0.28, 0.25, 180, 60),
            (0.9, 0.55),
        ]
    ],
    "@": [
        _arc(0.5, 0.5, 0.2, 0.2, 0, 360),
        [(0.7, 0.3), (0.7, 0.65), (0.85, 0.7), *_arc(0.5, 0.5, 0.45, 0.45, 20, -300)],
    ],
    "$": [
        _arc(0.4, 0.3, 0.35, 0.2, -20, -270) + _arc(0.4, 0.7, 0.35, 0.2, -90, 160),
        [(0.4, 0), (0.4, 1)],
    ],
    "→": [[(0, 0.5), (1, 0.5)], [(0.7, 0.25), (1, 0.5), (0.7, 0.75)]],
    "✓": [[(0, 0.6), (0.3, 1), (1, 0)]],
    "♥": [
        _arc(0.27, 0.3, 0.25, 0.25, 150, 360) + _arc(0.73, 0.3, 0.25, 0.25, 180, 390) + [(0.5, 1)]
    ],
    "∞": [_arc(0.25, 0.5, 0.25, 0.25, 0, 360) + _arc(0.75, 0.5, 0.25, 0.25, 180, -180)],
    "!": [[(0.5, 0), (0.5, 0.68)], _DOT],
    "?": [[*_arc(0.5, 0.25, 0.35, 0.25, 180, 400), (0.5, 0.55), (0.5, 0.68)], _DOT],
}


@dataclass(frozen=True)
class References:
    """Non-digit drawings: ``images`` uint8 (n, 28, 28), 0 paper, 255 ink, as the pipeline
    gives them; ``kinds`` (n,) str, keys of :data:`KIND_SHARES`; ``names`` (n,) str, what each
    shows (a letter, a symbol, "star", "scribble", a string of letters)."""

    images: np.ndarray
    kinds: np.ndarray
    names: np.ndarray


def make_references(n: int, seed: int) -> References:
    """``n`` non-digits in the shares of :data:`KIND_SHARES`, the same for the same seed."""
    rng = np.random.default_rng(seed)
    makers: dict[str, Callable[[np.random.Generator], tuple[str, list[np.ndarray]]]] = {
        "letter": _letter,
        "symbol": lambda r: _glyph(str(r.choice(sorted(SYMBOL_FONT))), SYMBOL_FONT, r),
        "shape": _shape,
        "scribble": _scribble,
        "word": _word,
    }
    kinds = rng.choice(list(KIND_SHARES), size=n, p=list(KIND_SHARES.values()))
    images, names = [], []
    for kind in kinds:
        name, strokes = makers[str(kind)](rng)
        images.append(_draw(_distort(strokes, rng), rng))
        names.append(name)
    return References(np.stack(images), kinds.astype(str), np.array(names, dtype=str))


def _glyph(
    name: str, font: dict[str, list[Stroke]], rng: np.random.Generator
) -> tuple[str, list[np.ndarray]]:
    """One glyph of ``font``, each point wobbled by a hand's unsteadiness."""
    return name, [_wobble(np.array(s, dtype=float), rng) for s in font[name]]


def _letter(rng: np.random.Generator) -> tuple[str, list[np.ndarray]]:
    """A letter of :data:`STROKE_FONT`, in its printed form half the time where it has one."""
    name = str(rng.choice(sorted(STROKE_FONT)))
    printed = name in PRINTED_FORMS and rng.random() < 0.5
    return _glyph(name, PRINTED_FORMS if printed else STROKE_FONT, rng)


def _word(rng: np.random.Generator) -> tuple[str, list[np.ndarray]]:
    """Two to four letters side by side on one baseline, each a little apart."""
    letters = sorted(STROKE_FONT) + sorted(WORD_ONLY_FONT)
    text = "".join(rng.choice(letters, size=int(rng.integers(2, 5))))
    strokes, x = [], 0.0
    for letter in text:
        glyph = [np.array(s, dtype=float) for s in {**STROKE_FONT, **WORD_ONLY_FONT}[letter]]
        width = max(float(s[:, 0].max()) for s in glyph)
        strokes += [_wobble(s + np.array([x, 0.0]), rng) for s in glyph]
        x += width + rng.uniform(0.12, 0.3)
    return text, strokes


def _shape(rng: np.random.Generator) -> tuple[str, list[np.ndarray]]:
    """A triangle or quadrilateral, star, spiral, wave, zigzag, hatching, house or cross of
    random proportions (no circle: that is a 0)."""
    name = str(
        rng.choice(["polygon", "star", "spiral", "wave", "zigzag", "hatch", "house", "cross"])
    )
    if name == "polygon":
        sides = int(rng.integers(3, 5))  # more sides come near a circle, a 0
        angles = np.linspace(0, 2 * np.pi, sides + 1) + rng.uniform(0, np.pi)
        strokes = [np.stack([np.cos(angles), np.sin(angles)], axis=1)]
    elif name == "star":
        points = int(rng.integers(5, 9))
        angles = np.linspace(0, 2 * np.pi, 2 * points + 1)
        radii = np.where(np.arange(2 * points + 1) % 2 == 0, 1.0, rng.uniform(0.3, 0.6))
        strokes = [np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)]
    elif name == "spiral":
        t = np.linspace(0, rng.uniform(2.5, 4.5) * 2 * np.pi, 120)
        strokes = [np.stack([t * np.cos(t), t * np.sin(t)], axis=1)]
    elif name == "wave":
        t = np.linspace(0, rng.uniform(1.5, 4) * 2 * np.pi, 80)
        strokes = [np.stack([t, rng.uniform(0.8, 2.5) * np.sin(t)], axis=1)]
    elif name == "zigzag":
        teeth = int(rng.integers(3, 8))
        strokes = [np.stack([np.arange(2 * teeth + 1), np.arange(2 * teeth + 1) % 2 * 2.0], 1)]
    elif name == "hatch":
        lines = int(rng.integers(3, 7))
        strokes = [np.array([[i, 0.0], [i + rng.uniform(-1, 1), lines]]) for i in range(lines)]
    elif name == "house":
        strokes = [np.array([[0, 1], [0, 0.4], [0.5, 0], [1, 0.4], [1, 1], [0, 1], [1, 0.4]])]
    else:
        strokes = [np.array([[0.5, 0], [0.5, 1]]), np.array([[0, 0.5], [1, 0.5]])]
        strokes += [np.array([[0.3, 0], [0.7, 0]]), np.array([[0.3, 1], [0.7, 1]])]
    return name, [_wobble(s, rng) for s in strokes]


def _scribble(rng: np.random.Generator) -> tuple[str, list[np.ndarray]]:
    """A pen that wanders: a line that turns by a random curvature, a loopy line like a row of
    e's, a Lissajous tangle (none of the ratios that make a 0 or an 8), or a scrawl of straight
    strokes, each turning sharply from the last."""
    kind = int(rng.integers(4))
    if kind == 0:
        turns = np.cumsum(rng.normal(0, 0.5, size=int(rng.integers(40, 120))))
        points = np.cumsum(np.stack([np.cos(turns), np.sin(turns)], axis=1), axis=0)
    elif kind == 1:
        t = np.linspace(0, int(rng.integers(3, 7)) * 2 * np.pi, 150)
        radius = rng.uniform(0.6, 1.2)
        points = np.stack([t / np.pi + radius * np.sin(t), radius * np.cos(t)], axis=1)
    elif kind == 2:
        a, b = (int(v) for v in rng.choice([[3, 2], [3, 4], [5, 4], [1, 3], [3, 5]]))
        t = np.linspace(0, 2 * np.pi, 200)
        points = np.stack([np.sin(a * t + rng.uniform(0, np.pi)), np.sin(b * t)], axis=1)
    else:
        points = np.cumsum(rng.normal(0, 1, size=(int(rng.integers(5, 16)), 2)), axis=0)
    return "scribble", [points]


def _wobble(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A stroke with its points moved a little, as no hand draws a straight line."""
    size = max(float(np.ptp(stroke, axis=0).max()), 0.3)
    return stroke + rng.normal(0, 0.02 * size, stroke.shape)


def _distort(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes slanted, rotated and stretched, as one writer differs from the next."""
    slant = rng.uniform(-0.4, 0.4)
    angle = rng.normal(0, 0.15)
    aspect = np.exp(rng.uniform(-0.35, 0.35))
    shear = np.array([[1, slant], [0, 1]])
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotate @ shear @ np.diag([aspect, 1 / aspect])
    return [s @ matrix.T for s in strokes]


def _draw(strokes: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """The strokes drawn with a round pen on a canvas and put through the drawing pipeline."""
    points = np.concatenate(strokes)
    low, extent = points.min(axis=0), max(float(np.ptp(points, axis=0).max()), 1e-6)
    side = float(rng.uniform(120, 280))
    pen = float(rng.uniform(0.03, 0.12)) * side
    margin = pen
    canvas = Image.new("L", (round(side + 2 * margin),) * 2, 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        xy = (stroke - low) / extent * side + margin
        draw.line([tuple(p) for p in xy.tolist()], fill=255, width=round(pen), joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    return mnist_from_ink(canvas)
