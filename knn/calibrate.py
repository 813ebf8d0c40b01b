"""Fit what makes the model's numbers mean what they say: ``python -m knn.calibrate``.

Two values are fitted on a validation split held out from the TRAINING set (its last
``n_validation`` digits; the model is fitted on the others), never on the test set: the functions
here are given training digits only, and :func:`main` reads nothing else.

- ``prior_distance``: the vote's prior votes like one more neighbour at this distance, its vote
  spread evenly over the ten digits (:func:`knn.engine.vote_weights`). Chosen to minimise the
  log-loss of the held-out digits' probabilities. A drawing far from every training digit gives
  its neighbours little weight against the prior, so its probabilities flatten out.
- ``digit_threshold``: the distance to the nearest training digit that :data:`KEEP` of the
  held-out digits stay within. A drawing farther than that "doesn't look like a digit".

The printed values are what ``knn.params.ModelParams``' defaults say (and, with ``--fallback``,
``knn.fallback.FALLBACK_CALIBRATION``); the figures before and after are printed beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from knn.cli import add_model_options, model_params
from knn.data import MNISTError, load_mnist
from knn.engine import vote
from knn.model import DigitModel
from knn.params import ModelParams

#: Share of held-out training digits the digit threshold keeps.
KEEP = 0.99
#: Held out from scikit-learn's 1,797 digits when calibrating the fallback model.
FALLBACK_VALIDATION = 300


@dataclass(frozen=True)
class HeldOut:
    """The neighbours of held-out training digits: distances float64 (n, k), nearest first;
    their labels (n, k); the held-out digits' own labels (n,)."""

    distances: np.ndarray
    neighbour_labels: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class Calibration:
    """The fitted values (in the units of the model's distance)."""

    prior_distance: float
    digit_threshold: float


def held_out_neighbours(
    images: np.ndarray,
    labels: np.ndarray,
    n_validation: int,
    params: ModelParams,
    batch_size: int = 250,
) -> HeldOut:
    """Fit on all but the last ``n_validation`` training digits and find the ``n_neighbors``
    neighbours (as ``params`` search) of those held out. images uint8 (n, 28, 28), labels (n,)."""
    if not 0 < n_validation < len(labels):
        raise ValueError(f"n_validation must be in 1..{len(labels) - 1}, got {n_validation}")
    fit, held = slice(None, -n_validation), slice(-n_validation, None)
    model = DigitModel.from_images(images[fit], labels[fit], "validation", **params.as_dict())
    queries = images[held]
    batches = [
        model.kneighbors(queries[i : i + batch_size])
        for i in tqdm(range(0, len(queries), batch_size), desc="validating", file=sys.stderr)
    ]
    distances = np.concatenate([d for d, _ in batches])
    indices = np.concatenate([i for _, i in batches])
    return HeldOut(distances, model.labels[indices], np.asarray(labels[held]))


def fit_calibration(held_out: HeldOut) -> Calibration:
    """The prior distance that minimises the held-out log-loss, and the digit threshold."""
    nearest = held_out.distances[:, 0]
    typical = float(np.median(nearest[nearest > 0]))
    # The log-loss is smooth in log(prior_distance): a coarse grid, then a fine one around the best.
    grid = typical * np.geomspace(1, 1e4, 41)
    for _ in range(3):
        losses = [_log_loss_with(held_out, rho) for rho in grid]
        best = int(np.argmin(losses))
        low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        grid = np.geomspace(low, high, 21)
    prior_distance = float(grid[int(np.argmin([_log_loss_with(held_out, r) for r in grid]))])
    return Calibration(float(f"{prior_distance:.4g}"), float(f"{np.quantile(nearest, KEEP):.4g}"))


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 10
) -> float:
    """ECE of the top probability: the gap between confidence and accuracy in ``bins`` equal-width
    bins of confidence, weighted by the share of answers in each. probabilities (n, 10)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [
        abs(correct[which == b].mean() - confidence[which == b].mean()) * np.mean(which == b)
        for b in range(bins)
        if np.any(which == b)
    ]
    return float(np.sum(gaps))


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log probability of the true label (natural log; a 0 counts as 1e-15)."""
    true = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(true, 1e-15, None))))


def _log_loss_with(held_out: HeldOut, prior_distance: float) -> float:
    proba = vote(held_out.neighbour_labels, held_out.distances, "distance", 10, prior_distance)
    return log_loss(proba, held_out.labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knn.calibrate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data-dir", help="folder with the four MNIST files (else MNIST_DIR, ...)")
    parser.add_argument("--n-train", type=int, help="use only the first N training digits")
    parser.add_argument("--n-validation", type=int, help="held out (default 10000; fallback 300)")
    parser.add_argument(
        "--fallback",
        action="store_true",
        help="calibrate the offline model (scikit-learn's digits)",
    )
    add_model_options(parser)
    args = parser.parse_args(argv)
    params = model_params(parser, args)
    if args.fallback:
        from knn.fallback import fallback_digits

        images, labels = fallback_digits()
        n_validation = args.n_validation or FALLBACK_VALIDATION
    else:
        try:
            mnist = load_mnist(args.data_dir)
        except MNISTError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        images, labels = mnist.train_images, mnist.train_labels
        n_validation = args.n_validation or 10_000
    images, labels = images[: args.n_train], labels[: args.n_train]
    held_out = held_out_neighbours(images, labels, n_validation, params)
    fitted = fit_calibration(held_out)
    print(f"calibration on {n_validation} digits held out from {len(labels)} training digits")
    print(f"features: {params.describe()}; k={params.n_neighbors}")
    before = dataclasses.replace(params, weights="distance", prior_distance=float("inf"))
    for name, p in (("before", before), ("after", params), ("fitted", fitted)):
        rho = p.prior_distance
        proba = vote(held_out.neighbour_labels, held_out.distances, "distance", 10, rho)
        accuracy = np.mean(proba.argmax(axis=1) == held_out.labels)
        ece = 100 * expected_calibration_error(proba, held_out.labels)
        print(
            f"{name:>7}: prior_distance={rho:<10.6g} accuracy {accuracy:.2%}  "
            f"ECE {ece:.2f} points  log-loss {log_loss(proba, held_out.labels):.4f}"
        )
    kept = np.mean(held_out.distances[:, 0] <= fitted.digit_threshold)
    print(
        f"digit_threshold={fitted.digit_threshold:.6g} (keeps {kept:.2%} of the held-out digits;"
        f" current default {params.digit_threshold:.6g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
