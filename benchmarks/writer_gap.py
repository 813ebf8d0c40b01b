"""Benchmark: how far scikit-learn's 8x8 writers are from MNIST's, with no drawing in between.

The drawn-digit benchmark's "sklearn 8x8 upscaled" kind trails its control, MNIST digits made
the same way. This script asks how much of that lies in the writers themselves rather than in
our pipeline. A raw-pixel kNN (the project's engine) is fitted on every MNIST training digit
encoded as scikit-learn's were (`benchmarks.drawn_digits.as_8x8`, NIST's normalisation) and
tested on MNIST test digits encoded alike and on scikit-learn's 8x8 digits, with no upscaling
and no `to_mnist`. For scale, the last line fits and tests on scikit-learn's digits themselves
(5-fold, stratified).

    python -m benchmarks.writer_gap [--k 3] [--data-dir ../shared/mnist]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold

import knn
from benchmarks.drawn_digits import as_8x8


def encode(images: np.ndarray) -> np.ndarray:
    """MNIST digits as scikit-learn's 8x8 digits, flattened: (n, 64), 0..16."""
    return np.stack([as_8x8(image) for image in images]).reshape(len(images), 64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    mnist = knn.load_mnist(args.data_dir, download=False)
    small = load_digits()
    mnist_knn = knn.KNNClassifier(args.k).fit(encode(mnist.train_images), mnist.train_labels)
    same_writers = mnist_knn.score(encode(mnist.test_images), mnist.test_labels)
    other_writers = mnist_knn.score(small.data, small.target)
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(small.data, small.target)
    own = np.mean(
        [
            knn.KNNClassifier(args.k)
            .fit(small.data[fit], small.target[fit])
            .score(small.data[held], small.target[held])
            for fit, held in folds
        ]
    )
    print(f"raw 8x8 pixels, k={args.k}")
    print(f"{'fitted on':18s} {'tested on':30s} accuracy")
    print(f"{'MNIST at 8x8':18s} {'MNIST test digits at 8x8':30s} {same_writers:8.1%}")
    print(f"{'MNIST at 8x8':18s} {'scikit-learn 8x8 digits':30s} {other_writers:8.1%}")
    print(f"{'scikit-learn 8x8':18s} {'scikit-learn 8x8 (held out)':30s} {own:8.1%}")


if __name__ == "__main__":
    main()
