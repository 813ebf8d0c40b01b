"""Accuracy and speed of each configuration on the MNIST test set, as a Markdown table.

    python -m benchmarks.rerank_table [--n-test 10000] [--shortlists 16 32 64 100]
        [--virtual-shortlists 128 192] [--data-dir D]

Rows: raw pixels with Euclidean distance (k=3, the classic baseline), deskewed pixels (the
default k and weights), deskewed pixels re-ranked by IDM for a few shortlist sizes, and the same
with the deformed copies of the training digits (:mod:`knn.virtual`) in the shortlist. Columns:
test accuracy, the median time to classify one digit on its own (what the app pays per drawing,
without the drawing's preprocessing), and the time to classify the whole test set in batches.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from knn.data import load_mnist
from knn.engine import KNNClassifier
from knn.model import load_model
from knn.params import ModelParams

Predict = Callable[[np.ndarray], np.ndarray]


def measure(predict: Predict, images: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """(accuracy, median ms for one image alone, seconds for all in batches of 250)."""
    singles = []
    for image in images[:200]:
        start = time.perf_counter()
        predict(image[None])
        singles.append(time.perf_counter() - start)
    start = time.perf_counter()
    predictions = np.concatenate([predict(images[i : i + 250]) for i in range(0, len(images), 250)])
    seconds = time.perf_counter() - start
    return float(np.mean(predictions == labels)), 1000 * float(np.median(singles)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--shortlists", type=int, nargs="+", default=[16, 32, 64, 100])
    parser.add_argument(
        "--virtual-shortlists",
        type=int,
        nargs="*",
        default=[128, 192],
        help="shortlists to re-rank with the deformed copies of the training digits too",
    )
    parser.add_argument("--window", type=int, default=ModelParams().window)
    parser.add_argument("--data-dir")
    parser.add_argument("--cache-dir")
    args = parser.parse_args()

    mnist = load_mnist(args.data_dir, download=False)
    images, labels = mnist.test_images[: args.n_test], mnist.test_labels[: args.n_test]
    raw = KNNClassifier(n_neighbors=3).fit(
        mnist.train_images.reshape(60_000, -1), mnist.train_labels
    )
    virtual = ModelParams(virtual=bool(args.virtual_shortlists))  # deformed copies made if asked
    model = load_model(args.data_dir, args.cache_dir, download=False, params=virtual)
    rows: list[tuple[str, str, Predict]] = [
        ("raw pixels, Euclidean", "k=3, uniform", lambda x: raw.predict(x.reshape(len(x), -1))),
    ]
    deskewed = model.with_params(rerank=None)
    vote = f"k={model.params.n_neighbors}, {model.params.weights}"
    rows.append((deskewed.describe(), vote, deskewed.predict))
    for virtual, shortlists in ((False, args.shortlists), (True, args.virtual_shortlists)):
        for shortlist in shortlists:
            reranked = model.with_params(
                rerank="idm", shortlist=shortlist, window=args.window, virtual=virtual
            )
            rows.append((reranked.describe(), vote, reranked.predict))

    print(f"MNIST test set, {len(images)} digits, 60000 training images")
    print()
    print("| configuration | vote | accuracy | ms per digit | full test |")
    print("| --- | --- | --- | --- | --- |")
    for name, voters, predict in rows:
        accuracy, ms, seconds = measure(predict, images, labels)
        print(f"| {name} | {voters} | {accuracy:.2%} | {ms:.1f} | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
