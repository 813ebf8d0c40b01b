"""Draw the app's example digits as pen strokes with Pillow: ``python assets/make_examples.py``.

Each digit is a few polylines in a unit square, drawn black on white with a round pen on a
400x400 canvas, the way a person draws on the sketchpad. Writes ``assets/digit-<d>.png``.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

SIDE = 400
PEN = 26  # stroke width in pixels
Stroke = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points along an ellipse from angle ``start`` to ``end`` in degrees (0 = right, 90 = down)."""
    steps = max(2, int(abs(end - start) / 6))
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            cy + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    ]


DIGITS: dict[int, list[Stroke]] = {
    0: [arc(0.5, 0.5, 0.22, 0.33, 0, 360)],
    1: [[(0.44, 0.26), (0.54, 0.16), (0.52, 0.84)]],
    2: [[*arc(0.5, 0.34, 0.2, 0.18, 190, 370), (0.3, 0.83), (0.74, 0.83)]],
    3: [arc(0.49, 0.33, 0.19, 0.16, 200, 450), arc(0.49, 0.66, 0.21, 0.18, 270, 520)],
    4: [[(0.62, 0.84), (0.62, 0.16), (0.28, 0.62), (0.76, 0.62)]],
    5: [[(0.7, 0.17), (0.36, 0.17), (0.33, 0.46), *arc(0.5, 0.62, 0.21, 0.2, 230, 500)]],
    6: [[(0.64, 0.16), (0.42, 0.36), *arc(0.5, 0.64, 0.2, 0.2, 200, 560)]],
    7: [[(0.28, 0.18), (0.72, 0.18), (0.44, 0.84)]],
    8: [arc(0.5, 0.32, 0.16, 0.16, 90, 450), arc(0.5, 0.66, 0.2, 0.18, -90, 270)],
    9: [arc(0.5, 0.35, 0.19, 0.18, 0, 360), [(0.69, 0.35), (0.64, 0.84)]],
}


def draw_digit(strokes: list[Stroke]) -> Image.Image:
    """The strokes drawn with a round pen, black on white, as a mode L image SIDE x SIDE."""
    image = Image.new("L", (SIDE, SIDE), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(x * SIDE, y * SIDE) for x, y in stroke]
        draw.line(points, fill=0, width=PEN, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=0)
    return image


def main() -> None:
    folder = Path(__file__).resolve().parent
    for digit, strokes in DIGITS.items():
        draw_digit(strokes).save(folder / f"digit-{digit}.png", optimize=True)


if __name__ == "__main__":
    main()
