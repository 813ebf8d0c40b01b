"""Benchmark: do the probabilities mean what they say, and are non-digits refused?

On MNIST test digits drawn as ``benchmarks.drawn_digits`` draws them (thinned, redrawn with a
round brush on a canvas, through ``to_mnist``) it prints accuracy, the expected calibration error
of the top probability (10 bins) and the log-loss, before (inverse-distance vote, no prior) and
after (the fitted prior). On non-digits made by ``benchmarks.non_digits`` it prints the share
refused (``is_digit`` False), with and without letters written like digits, per kind, and the
share accepted with a top probability of 90% or more; and the share of drawn digits kept.
Nothing here is fitted: the values come from ``python -m knn.calibrate``.

The model's non-digit references (:mod:`knn.nondigits`) are drawn from a stroke font and
generators of its own, the non-digits here from installed fonts and other generators. As a
cross-check, ``--leave-out KIND`` takes every reference of one kind (letter, symbol, shape,
scribble or word) away from the model: that kind is then measured without any reference like it.

    python -m benchmarks.trust [--n 1000] [--seed 0] [--leave-out scribble]
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np

import knn
from benchmarks.drawn_digits import black_on_white, centre_lines, draw_strokes
from benchmarks.non_digits import make_non_digits
from knn.calibrate import expected_calibration_error, log_loss
from knn.model import load_references
from knn.nondigits import KIND_SHARES
from knn.storage import default_cache_dir
from preprocessing import to_mnist


def classify_all(model: knn.DigitModel, digits: np.ndarray) -> list[knn.Classification]:
    return [model.classify(digit) for digit in digits]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--cache-dir")
    parser.add_argument("--n", type=int, default=1000, help="drawn digits and non-digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--leave-out", choices=list(KIND_SHARES), help="take this kind out of the references"
    )
    args = parser.parse_args()
    mnist = knn.load_mnist(args.data_dir, download=False)
    model = knn.load_model(args.data_dir, args.cache_dir, download=False)
    if args.leave_out:
        references = load_references(Path(args.cache_dir or default_cache_dir()))
        kept = references["kinds"] != args.leave_out
        model = model.with_references(references["images"][kept], references["features"][kept])
        print(f"references without any {args.leave_out}: {kept.sum()} of {len(kept)}")
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(mnist.test_labels), size=args.n, replace=False)
    drawn = np.stack(
        [
            to_mnist(black_on_white(draw_strokes(centre_lines(mnist.test_images[i]), rng)))
            for i in pick
        ]
    )
    truth = mnist.test_labels[pick]
    print(
        f"drawn MNIST test digits (n={args.n})  accuracy  ECE (points)  log-loss  answers >= 99.9%"
    )
    for name, m in (("before", model.with_params(prior_distance=math.inf)), ("after", model)):
        proba = np.stack([r.probabilities for r in classify_all(m, drawn)])
        print(
            f"  {name:32s} {np.mean(proba.argmax(1) == truth):8.2%}  "
            f"{100 * expected_calibration_error(proba, truth):12.2f}  {log_loss(proba, truth):8.4f}"
            f"  {np.mean(proba.max(1) >= 0.999):8.1%}"
        )
    kept = np.mean([r.is_digit for r in classify_all(model, drawn)])
    others = make_non_digits(args.n, rng)
    results = classify_all(model, others.digits)
    refused = np.array([not r.is_digit for r in results])
    sure = np.array([r.is_digit and r.probabilities.max() >= 0.9 for r in results])
    distinct = ~others.look_alike()
    print(f"drawn digits kept as digits: {kept:.1%}")
    print(f"non-digits refused: {refused.mean():.1%} (n={args.n}); without letters written like")
    print(f"  digits: {refused[distinct].mean():.1%} (n={distinct.sum()})")
    kinds = np.array(others.kinds)
    for kind in sorted(set(others.kinds)):
        print(f"  {kind:9s} {refused[kinds == kind].mean():6.1%} (n={np.sum(kinds == kind)})")
    print(
        f"non-digits accepted with a top probability >= 90%: {sure.mean():.1%}; without letters"
        f" written like digits: {sure[distinct].mean():.1%}"
    )
    by_distance = np.mean([r.strangeness > 1 for r in results])
    by_share = np.mean([r.non_digit_share > model.params.max_non_digit_share for r in results])
    print(f"refused by distance: {by_distance:.1%}, by the non-digit share: {by_share:.1%}")


if __name__ == "__main__":
    main()
