"""Benchmark: time of `to_mnist` on Sketchpad-like canvases with a typical digit drawn on them.

python -m benchmarks.preprocessing_speed [--repeats 200]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.timing import call_ms
from preprocessing import to_mnist

# A "2" as a polyline in a unit square: (x, y) points, y down.
TWO = [(0.1, 0.25), (0.3, 0.05), (0.7, 0.05), (0.85, 0.3), (0.6, 0.6), (0.1, 0.95), (0.9, 0.95)]


def sketchpad_canvas(side: int, brush: int, transparent: bool) -> np.ndarray:
    """(side, side, 4) uint8 canvas with a "2" drawn over 60% of it, as Gradio hands it over."""
    ink = Image.new("L", (side, side), 0)
    points = [(side * (0.15 + 0.6 * x), side * (0.2 + 0.6 * y)) for x, y in TWO]
    ImageDraw.Draw(ink).line(points, fill=255, width=brush, joint="curve")
    canvas = np.zeros((side, side, 4), dtype=np.uint8)
    canvas[..., 3] = np.asarray(ink)
    if not transparent:
        canvas[..., :3] = 255 - canvas[..., 3:]
        canvas[..., 3] = 255
    return canvas


def time_to_mnist(canvas: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median and 95th percentile of `to_mnist(canvas)` in milliseconds."""
    ms = call_ms(repeats, to_mnist, canvas)
    return float(np.median(ms)), float(np.percentile(ms, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    print(f"{'canvas':34s} {'median':>8s} {'p95':>8s}")
    for side, brush, transparent in [
        (800, 20, False),
        (800, 20, True),
        (800, 3, False),
        (800, 60, True),
        (400, 12, False),
        (280, 8, False),
        (1600, 30, False),
    ]:
        paper = "transparent" if transparent else "white"
        median, p95 = time_to_mnist(sketchpad_canvas(side, brush, transparent), args.repeats)
        label = f"{side}x{side} RGBA, {paper}, {brush} px"
        print(f"{label:34s} {median:6.2f}ms {p95:6.2f}ms")


if __name__ == "__main__":
    main()
