"""Benchmark: accuracy of `to_mnist` + classifier on digits drawn the way browsers draw them.

Each MNIST test digit is thinned to its centre lines and redrawn with a round brush 2 to 60 px
wide, at a random size and place on a 280 to 800 px canvas, in three kinds: black on white
(RGB array), white on black (PIL image) and ink on transparent paper (Sketchpad dict, RGBA).
A fourth kind is scikit-learn's 8x8 digits, upscaled onto canvases; a fifth, the control for it,
is MNIST test digits encoded the way those were made (`as_8x8`) and upscaled alike, which
shows what the encoding alone costs. Accuracy is reported per kind for `to_mnist` and for the
naive baseline (the canvas resized to 28x28).

    python -m benchmarks.drawn_digits --data-dir ../shared/mnist --n 500 --seed 0
    python -m benchmarks.drawn_digits --classifier sklearn   # raw-pixel kNN stand-in

MNIST is read with `knn.load_mnist` (from --data-dir, else MNIST_DIR, never downloaded).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw

import knn
from preprocessing import to_mnist
from preprocessing.morphology import dilate, erode

BRUSH_WIDTHS = (2, 60)
CANVAS_SIDES = (280, 800)
MAX_BRUSH_SHARE = 0.2  # nobody draws a digit less than five brush widths tall
SUPERSAMPLE = 2  # strokes are drawn this much larger and shrunk, for anti-aliased edges
NEIGHBOUR_STEPS = ((0, 1), (1, -1), (1, 0), (1, 1))
NIST_BOX = (20, 32)  # width, height NIST stretched the ink of each 8x8 digit to, in 32x32


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a bool mask to 1 px wide centre lines, vectorised."""
    image = np.pad(mask, 1).astype(np.uint8)
    changed = True
    while changed:
        changed = False
        for first_pass in (True, False):
            north, north_east = image[:-2, 1:-1], image[:-2, 2:]
            east, south_east = image[1:-1, 2:], image[2:, 2:]
            south, south_west = image[2:, 1:-1], image[2:, :-2]
            west, north_west = image[1:-1, :-2], image[:-2, :-2]
            ring = [north, north_east, east, south_east, south, south_west, west, north_west]
            count = np.sum(ring, axis=0)
            rises = np.sum(
                [(a == 0) & (b == 1) for a, b in zip(ring, ring[1:] + ring[:1], strict=True)], 0
            )
            if first_pass:
                clear = (north * east * south == 0) & (east * south * west == 0)
            else:
                clear = (north * east * west == 0) & (north * south * west == 0)
            remove = (image[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (rises == 1) & clear
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
    return image[1:-1, 1:-1].astype(bool)


def centre_lines(digit: np.ndarray) -> np.ndarray:
    """Skeleton of an MNIST digit upscaled 4x: bool (112, 112)."""
    large = Image.fromarray(digit).resize((112, 112), Image.Resampling.BILINEAR)
    return thin(np.asarray(large) >= 128)


def segments(skeleton: np.ndarray) -> np.ndarray:
    """Pairs of 8-neighbouring skeleton pixels as (n, 2, 2) (row, column) pairs."""
    rows, cols = np.nonzero(skeleton)
    padded = np.pad(skeleton, 1)
    pairs = []
    for dy, dx in NEIGHBOUR_STEPS:
        linked = padded[rows + 1 + dy, cols + 1 + dx]
        start = np.stack([rows[linked], cols[linked]], axis=1)
        pairs.append(np.stack([start, start + np.array([dy, dx])], axis=1))
    return np.concatenate(pairs).astype(np.float64)


def draw_strokes(skeleton: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Redraw the skeleton with a round brush on a random canvas: ink coverage (S, S) uint8."""
    side = int(rng.integers(CANVAS_SIDES[0], CANVAS_SIDES[1] + 1))
    brush = float(np.exp(rng.uniform(*np.log(BRUSH_WIDTHS))))
    brush = min(brush, MAX_BRUSH_SHARE * 0.9 * side)
    height = rng.uniform(min(max(0.3 * side, brush / MAX_BRUSH_SHARE), 0.9 * side), 0.9 * side)
    rows, cols = np.nonzero(skeleton)
    scale = (height - brush) / max(np.ptp(rows), np.ptp(cols), 1)
    extent = np.array([np.ptp(rows), np.ptp(cols)]) * scale + brush
    corner = rng.uniform(0, side - extent) + brush / 2 - np.array([rows.min(), cols.min()]) * scale
    return draw_skeleton(skeleton, (side, side), scale, corner, brush)


def draw_skeleton(
    skeleton: np.ndarray, size: tuple[int, int], scale: float, corner: np.ndarray, brush: float
) -> np.ndarray:
    """Ink coverage (height, width) uint8 of the skeleton drawn with a round brush `brush` px
    wide on a canvas of `size` (width, height): skeleton pixel (r, c) lands on
    (r, c) * scale + corner (row, column)."""
    rows, cols = np.nonzero(skeleton)
    canvas = Image.new("L", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), 0)
    pen = ImageDraw.Draw(canvas)
    width = brush * SUPERSAMPLE
    for (y0, x0), (y1, x1) in (segments(skeleton) * scale + corner) * SUPERSAMPLE:
        pen.line((x0, y0, x1, y1), fill=255, width=max(1, round(width)))
    for y, x in (np.stack([rows, cols], axis=1) * scale + corner) * SUPERSAMPLE:
        pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(canvas.reduce(SUPERSAMPLE))


def black_on_white(ink: np.ndarray) -> np.ndarray:
    """An opaque RGB canvas, black ink on white paper."""
    return np.repeat((255 - ink)[..., None], 3, axis=2)


def white_on_black(ink: np.ndarray) -> Image.Image:
    """A PIL L image, white ink on black paper."""
    return Image.fromarray(ink)


def transparent_paper(ink: np.ndarray) -> dict:
    """A Gradio Sketchpad value: black ink held only in alpha on transparent paper."""
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = ink
    return {"background": None, "layers": [rgba], "composite": None}


def upscaled_8x8(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of scikit-learn's 8x8 digits (0..16) enlarged onto a white canvas, black ink."""
    side = int(rng.integers(CANVAS_SIDES[0], CANVAS_SIDES[1] + 1))
    size = int(rng.uniform(0.3, 0.9) * side)
    small = Image.fromarray(np.round(digit * 255 / 16).astype(np.uint8))
    large = np.asarray(small.resize((size, size), Image.Resampling.BICUBIC))
    canvas = np.zeros((side, side), dtype=np.uint8)
    top, left = rng.integers(0, side - size + 1, size=2)
    canvas[top : top + size, left : left + size] = large
    return 255 - canvas


def as_8x8(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit made the way scikit-learn's 8x8 digits were: 0..16 per pixel.

    NIST's normaliser (NISTIR 5469), which made them, does not keep the aspect ratio: it
    stretches each digit's ink to fill a 20x32 box centred in a 32x32 bitmap, then grows or
    thins the strokes by up to two steps towards 256 to 412 ink pixels. The ink pixels of each
    4x4 block are then counted. (NIST also shears the bitmap upright; that is left out, as the
    classifier deskews anyway.)
    """
    rows = np.flatnonzero(digit.max(axis=1) >= 128)
    cols = np.flatnonzero(digit.max(axis=0) >= 128)
    crop = Image.fromarray(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    width, height = NIST_BOX
    bitmap = np.zeros((32, 32), dtype=bool)
    top, left = (32 - height) // 2, (32 - width) // 2
    bitmap[top : top + height, left : left + width] = (
        np.asarray(crop.resize(NIST_BOX, Image.Resampling.BILINEAR)) >= 128
    )
    steps = nist_stroke_steps(int(bitmap.sum()))
    bitmap = dilate(bitmap, steps) if steps > 0 else erode(bitmap, -steps)
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float64)


def nist_stroke_steps(ink_pixels: int) -> int:
    """Steps NIST's normaliser grows (> 0) or thins (< 0) a 32x32 bitmap with this much ink."""
    if ink_pixels < 256:
        return 2 if ink_pixels < 108 else 1
    if ink_pixels > 412:
        return -2 if ink_pixels > 560 else -1
    return 0


def drawn_kinds(
    images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator
) -> Iterator[tuple[str, list, np.ndarray]]:
    """Yield (kind, drawings, labels) for each kind of drawing, `n` of each."""
    chosen = rng.choice(len(images), size=n, replace=False)
    inks = [draw_strokes(centre_lines(images[i]), rng) for i in chosen]
    for kind, render in [
        ("black on white", black_on_white),
        ("white on black", white_on_black),
        ("transparent paper", transparent_paper),
    ]:
        yield kind, [render(ink) for ink in inks], labels[chosen]
    from sklearn.datasets import load_digits

    small = load_digits()
    picked = rng.choice(len(small.images), size=min(n, len(small.images)), replace=False)
    yield (
        "sklearn 8x8 upscaled",
        [upscaled_8x8(small.images[i], rng) for i in picked],
        small.target[picked],
    )
    yield (
        "MNIST at 8x8 upscaled",
        [upscaled_8x8(as_8x8(images[i]), rng) for i in chosen],
        labels[chosen],
    )


def naive(drawing) -> np.ndarray:
    """What most sketchpad demos do: flatten onto white, resize to 28x28, invert."""
    if isinstance(drawing, dict):
        drawing = drawing["composite"] or drawing["layers"][0]
    image = drawing if isinstance(drawing, Image.Image) else Image.fromarray(drawing)
    if image.mode == "RGBA":
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    small = image.convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return 255 - np.asarray(small)


def load_classifier(
    name: str, mnist: knn.MNIST, data_dir: str
) -> Callable[[np.ndarray], np.ndarray]:
    """`predict` of the project's kNN model, or of scikit-learn's kNN on raw MNIST pixels."""
    if name == "knn":
        return knn.load_model(data_dir=data_dir, download=False).predict
    from sklearn.neighbors import KNeighborsClassifier

    images = mnist.train_images.reshape(len(mnist.train_images), -1)
    model = KNeighborsClassifier(n_neighbors=3, algorithm="brute").fit(images, mnist.train_labels)
    return lambda digits: model.predict(digits.reshape(len(digits), -1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--n", type=int, default=500, help="drawings per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier", choices=["knn", "sklearn"], default="knn")
    args = parser.parse_args()
    mnist = knn.load_mnist(args.data_dir, download=False)
    predict = load_classifier(args.classifier, mnist, args.data_dir)
    rng = np.random.default_rng(args.seed)
    print(f"{'kind':24s} {'to_mnist':>9s} {'naive':>7s}   ({args.classifier}, n={args.n})")
    totals = []
    for kind, drawings, truth in drawn_kinds(mnist.test_images, mnist.test_labels, args.n, rng):
        start = time.perf_counter()
        digits = np.stack([to_mnist(drawing) for drawing in drawings])
        seconds = time.perf_counter() - start
        ours = np.mean(predict(digits) == truth)
        baseline = np.mean(predict(np.stack([naive(d) for d in drawings])) == truth)
        totals.append((ours * len(truth), baseline * len(truth), len(truth)))
        print(f"{kind:24s} {ours:9.1%} {baseline:7.1%}   {1000 * seconds / len(truth):.1f} ms each")
    ours, baseline, count = np.sum(totals, axis=0)
    print(f"{'overall':24s} {ours / count:9.1%} {baseline / count:7.1%}")


if __name__ == "__main__":
    main()
