"""Choose k and the weighting on a validation split: ``python -m knn.tune``.

The last ``--n-validation`` training images are held out; the model is fitted on the others and
every (k, weights) pair is scored from one neighbour search. The test set is never looked at.
The winner is what ``knn.model.DEFAULT_K`` and ``DEFAULT_WEIGHTS`` should say.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from knn.cli import add_rerank_options, rerank_options
from knn.data import MNISTError, load_mnist
from knn.engine import WEIGHTS, vote
from knn.model import DigitModel, describe


def validation_scores(
    images: np.ndarray,
    labels: np.ndarray,
    n_validation: int,
    max_k: int,
    batch_size: int = 250,
    **rerank: Any,
) -> dict[tuple[int, str], float]:
    """Validation accuracy of each (k, weights), k in 1..max_k, from training data only.

    images uint8 (n, 28, 28), labels (n,); ``rerank``, ``shortlist``, ``window`` as for
    :class:`~knn.model.DigitModel`.
    """
    fit, held_out = slice(None, -n_validation), slice(-n_validation, None)
    model = DigitModel.from_images(
        images[fit], labels[fit], n_neighbors=max_k, dataset="validation", **rerank
    )
    queries = images[held_out]
    batches = [
        model.kneighbors(queries[i : i + batch_size])
        for i in tqdm(range(0, len(queries), batch_size), desc="validating", file=sys.stderr)
    ]
    distances = np.concatenate([d for d, _ in batches])
    neighbour_labels = model.labels[np.concatenate([i for _, i in batches])]
    return {
        (k, weights): float(
            np.mean(
                vote(neighbour_labels[:, :k], distances[:, :k], weights, 10).argmax(axis=1)
                == labels[held_out]
            )
        )
        for k in range(1, max_k + 1)
        for weights in WEIGHTS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knn.tune", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder with the four MNIST files (else MNIST_DIR, ...)")
    parser.add_argument("--n-validation", type=int, default=10_000)
    parser.add_argument("--max-k", type=int, default=15)
    add_rerank_options(parser)
    args = parser.parse_args(argv)
    try:
        mnist = load_mnist(args.data_dir)
    except MNISTError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rerank = rerank_options(args)
    scores = validation_scores(
        mnist.train_images, mnist.train_labels, args.n_validation, args.max_k, **rerank
    )
    print(f"validation accuracy ({args.n_validation} held-out training images)")
    print(f"features: {describe(**rerank)}")
    print("  k   " + "  ".join(f"{w:>8}" for w in WEIGHTS))
    for k in range(1, args.max_k + 1):
        print(f"{k:>3}   " + "  ".join(f"{scores[k, w]:>8.2%}" for w in WEIGHTS))
    (best_k, best_weights), best = max(scores.items(), key=lambda item: (item[1], -item[0][0]))
    print(f"best: k={best_k}, weights={best_weights} ({best:.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
