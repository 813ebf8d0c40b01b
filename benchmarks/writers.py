"""Benchmark: writers with habits MNIST hardly has, taught by their own corrections.

Each simulated writer has consistent habits of our own making, applied to the centre lines of
digits held out from the training set (the validation split: the model is fitted on the first
50,000 training digits, the writers write from the last 10,000), then redrawn with a round brush
and put through ``to_mnist`` as ``benchmarks.drawn_digits`` does:

- a long flag on every 1, a foot under every 1, a bar across every 7, a slash through every 0,
  a 4 closed at the top, a heavy slant on everything.

Each writer writes their digits in turn. "without" is the base model; a scale pair (say
"0.9/0.3") means every wrong answer is corrected at once and the correction joins that writer's
examples (``DigitModel.with_examples``), for each ``example_distance_scale`` tried (each with each
``example_vote_scale`` tried, or with its vote at the same scale); "page" adds what the page does
with the answers a writer lets stand: each that looks like a digit joins their examples with the
label answered, the latest ``webapp.settings.MAX_ACCEPTED``. ``--corrected 0.5 0`` adds writers
who correct only that share of the wrong answers (the others stand, wrong). Online accuracy is
reported per writer and overall, and for the digits that carry no mark of their writer (a writer
with a flag on 1 and a crossed 7 writes plain 2s: a correction must not spoil them; the slanted
writer's are still slanted). Each seed draws other digits and strokes: the knobs were chosen on
seeds 1 to 4 and are reported on seed 0 and seeds 5 to 8. The test set is never used.

    python -m benchmarks.writers [--n 100] [--seeds 0] [--scales 1 0.8 0.6 0.4] [--vote-scales]
        [--corrected 1] [--cache-dir C]

The model over the first 50,000 training digits is cached as ``knn.load_model(n_train=...)``
caches it (its non-digit references cast no vote, so they change no answer).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

import knn
from benchmarks.drawn_digits import black_on_white, centre_lines, draw_strokes
from preprocessing import to_mnist
from webapp import answers

N_VALIDATION = 10_000
WIDTH = 17  # a column: "0.9/0.3 page 100%"
Habit = Callable[[np.ndarray, int], np.ndarray]


def _with_lines(skeleton: np.ndarray, lines: list[tuple[float, float, float, float]]) -> np.ndarray:
    """The skeleton (bool (S, S)) with 1 px lines (x0, y0, x1, y1), in bounding-box fractions."""
    rows, cols = np.nonzero(skeleton)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    height = max(bottom - top, 1)
    image = Image.fromarray(skeleton)
    pen = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in lines:
        # Fractions of the height on both axes, from the box's centre column and top row: a 1's
        # box is too narrow to measure a flag by.
        centre = (left + right) / 2
        points = [
            (centre + x0 * height, top + y0 * height),
            (centre + x1 * height, top + y1 * height),
        ]
        pen.line(points, fill=1, width=1)
    return np.asarray(image, dtype=bool)


def flag_on_1(skeleton: np.ndarray, label: int) -> np.ndarray:
    return _with_lines(skeleton, [(0, 0, -0.45, 0.4)]) if label == 1 else skeleton


def foot_on_1(skeleton: np.ndarray, label: int) -> np.ndarray:
    return _with_lines(skeleton, [(-0.3, 1, 0.3, 1)]) if label == 1 else skeleton


def crossed_7(skeleton: np.ndarray, label: int) -> np.ndarray:
    return _with_lines(skeleton, [(-0.3, 0.5, 0.35, 0.5)]) if label == 7 else skeleton


def slashed_0(skeleton: np.ndarray, label: int) -> np.ndarray:
    return _with_lines(skeleton, [(0.45, -0.05, -0.45, 1.05)]) if label == 0 else skeleton


def closed_4(skeleton: np.ndarray, label: int) -> np.ndarray:
    return _with_lines(skeleton, [(-0.3, 0.05, 0.15, 0)]) if label == 4 else skeleton


def slant(skeleton: np.ndarray, label: int) -> np.ndarray:
    """Every digit sheared by 0.6: the top leans right."""
    side = skeleton.shape[0]
    image = Image.fromarray(skeleton).transform(
        (side, side), Image.Transform.AFFINE, (1, 0.6, -0.3 * side, 0, 1, 0)
    )
    return np.asarray(image, dtype=bool)


#: The digit each habit but the slant marks.
MARKED: dict[Habit, int] = {flag_on_1: 1, foot_on_1: 1, crossed_7: 7, slashed_0: 0, closed_4: 4}

WRITERS: dict[str, tuple[Habit, ...]] = {
    "flag on 1, crossed 7": (flag_on_1, crossed_7),
    "foot on 1, slashed 0": (foot_on_1, slashed_0),
    "closed 4, flag on 1": (closed_4, flag_on_1),
    "slashed 0, crossed 7, slant": (slashed_0, crossed_7, slant),
}


def write(
    habits: tuple[Habit, ...], images: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The digits as this writer draws them, through ``to_mnist``: uint8 (n, 28, 28)."""
    digits = []
    for image, label in zip(images, labels, strict=True):
        skeleton = centre_lines(image)
        for habit in habits:
            skeleton = habit(skeleton, int(label))
        digits.append(to_mnist(black_on_white(draw_strokes(skeleton, rng))))
    return np.stack(digits)


def online_answers(
    model: knn.DigitModel,
    digits: np.ndarray,
    labels: np.ndarray,
    corrected: float = 0.0,
    let_stand: bool = False,
) -> np.ndarray:
    """bool (n,): each digit answered right as the writer writes in turn.

    A share ``corrected`` of the wrong answers (the same ones for every call) is corrected: that
    digit joins the writer's examples with its label before the next one. With ``let_stand``,
    every other answer that looks like a digit stands, as the page takes it when the canvas is
    cleared: the digit joins them with the label answered (the page's own rule,
    ``webapp.answers.accept``).
    """
    taught, right = answers.NOBODY, []
    chance = np.random.default_rng(0)
    for number, (digit, label) in enumerate(zip(digits, labels, strict=True)):
        answer = answers.for_visitor(model, taught).classify(digit)
        right.append(answer.label == label)
        if not right[-1] and chance.random() < corrected:
            taught = answers.correct(model, digit, int(label), number, taught)
        elif let_stand and answer.is_digit:
            taught = answers.accept(model, digit, answer.label, taught)
    return np.array(right)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--cache-dir", help="model cache (default: the user cache)")
    parser.add_argument("--n", type=int, default=100, help="digits each writer writes per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.8, 0.6, 0.4])
    parser.add_argument(
        "--vote-scales", type=float, nargs="*", default=[], help="default: each scale's own"
    )
    parser.add_argument(
        "--corrected",
        type=float,
        nargs="+",
        default=[1.0],
        help="shares of wrong answers corrected, with the other answers standing as the page has",
    )
    args = parser.parse_args()
    pairs = [(scale, vote) for scale in args.scales for vote in (args.vote_scales or [scale])]
    # (scale, vote, share corrected, let stand): corrections alone, then as the page has them.
    configs = [(*pair, 1.0, False) for pair in pairs]
    configs += [(*pair, share, True) for pair in pairs for share in args.corrected]
    mnist = knn.load_mnist(args.data_dir, download=False)
    n_fit = len(mnist.train_labels) - N_VALIDATION
    model = knn.load_model(args.data_dir, args.cache_dir, n_train=n_fit, download=False)
    pool_images = mnist.train_images[-N_VALIDATION:]
    pool_labels = mnist.train_labels[-N_VALIDATION:]
    rngs = [np.random.default_rng(seed) for seed in args.seeds]
    names = [
        f"{scale:g}/{vote:g}" + (f" page {share:.0%}" if stand else "")
        for scale, vote, share, stand in configs
    ]
    header = "".join(f"  {name:>{WIDTH}s}" for name in names)
    seeds = " ".join(map(str, args.seeds))
    print(
        f"{'writer':30s} without{header}   ({args.n} digits each, seeds {seeds}, online accuracy;"
        " columns: distance scale/vote scale, page: with the answers let stand and the share of"
        " wrong ones corrected)"
    )
    scored, unmarked = [], []
    for name, habits in WRITERS.items():
        rows = []
        for rng in rngs:
            pick = rng.choice(N_VALIDATION, size=args.n, replace=False)
            labels = pool_labels[pick]
            digits = write(habits, pool_images[pick], labels, rng)
            scores = [online_answers(model, digits, labels)]
            for scale, vote, share, stand in configs:
                taught = model.with_params(example_distance_scale=scale, example_vote_scale=vote)
                scores.append(online_answers(taught, digits, labels, share, stand))
            rows.append(scores)
            marked = [MARKED[habit] for habit in habits if habit in MARKED]
            unmarked.append([right[~np.isin(labels, marked)] for right in scores])
        right = np.concatenate(rows, axis=1)  # (1 + scales, digits of all seeds)
        scored.append(right)
        print(f"{name:30s} {_row(right.mean(axis=1))}")
    totals = np.concatenate(scored, axis=1).mean(axis=1)
    print(f"{'overall':30s} {_row(totals)}")
    plain = [np.concatenate(column).mean() for column in zip(*unmarked, strict=True)]
    print(f"{'digits without their mark':30s} {_row(np.array(plain))}")
    errors = 1 - totals
    print(
        "errors relative to without: "
        + ", ".join(
            f"{name}: {e / errors[0]:.3f}" for name, e in zip(names, errors[1:], strict=True)
        )
    )


def _row(accuracies: np.ndarray) -> str:
    """Without, then each configuration, as percentages in the header's columns."""
    return f"{accuracies[0]:7.1%}" + "".join(f"  {a:{WIDTH}.1%}" for a in accuracies[1:])


if __name__ == "__main__":
    main()
