"""Choose k and the weighting on a validation split: ``python -m knn.tune``.

The last ``--n-validation`` training images are held out; the model is fitted on the others and
every (k, weights) pair is scored from one neighbour search. The test set is never looked at.
The winner is what ``knn.params.ModelParams``' defaults should say.

``--folds 6`` cross-validates: each block of 10,000 training digits is held out in turn and the
scores are pooled over all 60,000. Two single splits differ by about 20 digits in 10,000, more
than most changes worth trying gain; six folds tell such a change from noise.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from knn.calibrate import fold_count, held_out_neighbours
from knn.cli import add_model_options, model_params
from knn.data import MNISTError, load_mnist
from knn.engine import WEIGHTS, vote
from knn.params import MAX_NEIGHBOURS, ModelParams


def validation_scores(
    images: np.ndarray,
    labels: np.ndarray,
    n_validation: int,
    max_k: int,
    params: ModelParams | None = None,
    batch_size: int = 250,
    folds: int = 1,
) -> dict[tuple[int, str], float]:
    """Validation accuracy of each (k, weights), k in 1..max_k, from training data only, pooled
    over ``folds`` held-out blocks of ``n_validation`` (``held_out_neighbours``' folds).

    images uint8 (n, 28, 28), labels (n,); the search is that of ``params`` (its k and weights
    are the ones being chosen, so they are ignored).
    """
    search = ModelParams(**{**(params or ModelParams()).as_dict(), "n_neighbors": max_k})
    held = [
        held_out_neighbours(images, labels, n_validation, search, batch_size, fold=fold)[0]
        for fold in range(folds)
    ]
    distances = np.concatenate([h.distances for h in held])
    neighbour_labels = np.concatenate([h.neighbour_labels for h in held])
    truth = np.concatenate([h.labels for h in held])
    return {
        (k, weights): float(
            np.mean(
                vote(neighbour_labels[:, :k], distances[:, :k], weights, 10).argmax(axis=1) == truth
            )
        )
        for k in range(1, max_k + 1)
        for weights in WEIGHTS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knn.tune", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder with the four MNIST files (else MNIST_DIR, ...)")
    parser.add_argument("--n-validation", type=int, default=10_000)
    parser.add_argument("--max-k", type=int, default=MAX_NEIGHBOURS)
    parser.add_argument(
        "--folds", type=int, default=1, help="held-out blocks to pool, each fitted without it"
    )
    add_model_options(parser)
    args = parser.parse_args(argv)
    params = model_params(parser, args)
    try:
        mnist = load_mnist(args.data_dir)
    except MNISTError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    n_folds = fold_count(len(mnist.train_labels), args.n_validation)
    if not 1 <= args.folds <= n_folds:
        parser.error(f"--folds must be in 1..{n_folds}")
    scores = validation_scores(
        mnist.train_images,
        mnist.train_labels,
        args.n_validation,
        args.max_k,
        params,
        folds=args.folds,
    )
    n_held = args.folds * args.n_validation
    print(
        f"validation accuracy ({n_held} held-out training images"
        + (f", {args.folds} folds of {args.n_validation})" if args.folds > 1 else ")")
    )
    print(f"features: {params.describe()}")
    print("  k   " + "  ".join(f"{w:>8}" for w in WEIGHTS))
    for k in range(1, args.max_k + 1):
        print(f"{k:>3}   " + "  ".join(f"{scores[k, w]:>8.2%}" for w in WEIGHTS))
    (best_k, best_weights), best = max(scores.items(), key=lambda item: (item[1], -item[0][0]))
    print(
        f"best: k={best_k}, weights={best_weights} ({best:.2%}, {round(best * n_held)} of {n_held})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
