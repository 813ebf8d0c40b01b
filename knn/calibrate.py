"""Fit what makes the model's numbers mean what they say: ``python -m knn.calibrate``.

Three values are fitted on a validation split held out from the TRAINING set (its last
``n_validation`` digits; the model is fitted on the others), never on the test set: the functions
here are given training digits only, and :func:`main` reads nothing else.

- ``prior_distance``: the vote's prior votes like one more neighbour at this distance, its vote
  spread evenly over the ten digits (:func:`knn.engine.vote_weights`). Chosen to minimise the
  log-loss of the held-out digits' probabilities. A drawing far from every training digit gives
  its neighbours little weight against the prior, so its probabilities flatten out.
- ``max_non_digit_share``: the share of non-digit references among a drawing's nearest
  (:mod:`knn.nondigits`) that :data:`SHARE_KEEP` of the held-out digits stay within. MNIST's
  digits almost never have a reference among their nearest; digits drawn on a canvas do more
  often, so this test is set to fail on as few digits as can be measured.
- ``digit_threshold``: the distance to the nearest training digit that, with the share test,
  keeps :data:`KEEP` of the held-out digits, the allowed distance growing with the distance to
  the nearest reference by ``reference_exponent`` (:func:`knn.model.allowed_distances`). A
  drawing farther than allowed from every training digit, or whose nearest drawings are mostly
  references, "doesn't look like a digit".

Non-digits made by the references' recipe with another seed (:data:`HELD_OUT_SEED`), which are
not among the model's references, show how many non-digits the fitted values refuse.

The printed values are what ``knn.params.ModelParams``' defaults say (and, with ``--fallback``,
``knn.fallback.FALLBACK_CALIBRATION``); the figures before and after are printed beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from knn.cli import add_model_options, model_params
from knn.data import MNISTError, load_mnist
from knn.engine import vote
from knn.model import (
    DigitModel,
    allowed_distances,
    counted_reference_distances,
    looks_like_digits,
    nearest_references,
    non_digit_shares,
)
from knn.nondigits import N_REFERENCES, REFERENCE_SEED, make_references
from knn.params import ModelParams

#: Share of held-out training digits the two tests together keep. Not 99%: digits drawn on a
#: canvas (validation digits redrawn as ``benchmarks.drawn_digits`` does) lie farther from the
#: training digits than MNIST's own: with both tests fitted to keep 99%, 2.7% of 600 such
#: redrawn digits were refused.
KEEP = 0.995
#: Share of held-out training digits the non-digit share test alone keeps.
SHARE_KEEP = 0.999
#: Held out from scikit-learn's 1,797 digits when calibrating the fallback model.
FALLBACK_VALIDATION = 300
#: Non-digits made by the references' recipe with another seed, to measure the fit on.
N_HELD_OUT_REFERENCES = 1000
HELD_OUT_SEED = 1


@dataclass(frozen=True)
class HeldOut:
    """The neighbours of held-out training digits: distances float64 (n, k), nearest first;
    their labels (n, k); the held-out digits' own labels (n,)."""

    distances: np.ndarray
    neighbour_labels: np.ndarray
    labels: np.ndarray
    non_digit_shares: np.ndarray | None = None  # (n,), with references (else not judged)
    reference_nearest: np.ndarray | None = None  # (n,), the distance to the nearest reference


@dataclass(frozen=True)
class Judged:
    """Non-digits as the model judges them: the distances to the nearest training digit (n,)
    and to the nearest reference (n,), and the non-digit share (n,)."""

    nearest: np.ndarray
    reference_nearest: np.ndarray
    non_digit_shares: np.ndarray


@dataclass(frozen=True)
class Calibration:
    """The fitted values (in the units of the model's distance)."""

    prior_distance: float
    digit_threshold: float
    max_non_digit_share: float = 1.0
    reference_exponent: float = 0.0  # not fitted: the model's (ModelParams.reference_exponent)


def fold_count(n_digits: int, n_validation: int) -> int:
    """How many disjoint blocks of ``n_validation`` digits ``held_out_neighbours`` can hold out
    in turn from ``n_digits``."""
    return n_digits // n_validation


def held_out_neighbours(
    images: np.ndarray,
    labels: np.ndarray,
    n_validation: int,
    params: ModelParams,
    batch_size: int = 250,
    references: np.ndarray | None = None,
    fold: int = 0,
) -> tuple[HeldOut, DigitModel]:
    """Fit on all but ``n_validation`` training digits (with ``references``, uint8 (m, 28, 28)
    non-digits, if given) and find the ``n_neighbors`` neighbours (as ``params`` search) of those
    held out. images uint8 (n, 28, 28), labels (n,). Returns them and the model.

    Fold 0 holds out the last ``n_validation`` digits, fold 1 the ``n_validation`` before them,
    and so on: each fold is a contiguous block of the training set.
    """
    if not 0 < n_validation < len(labels):
        raise ValueError(f"n_validation must be in 1..{len(labels) - 1}, got {n_validation}")
    n_folds = fold_count(len(labels), n_validation)
    if not 0 <= fold < n_folds:
        raise ValueError(f"fold must be in 0..{n_folds - 1} for {n_validation}, got {fold}")
    end = len(labels) - fold * n_validation
    held = np.arange(end - n_validation, end)
    fit = np.setdiff1d(np.arange(len(labels)), held)
    model = DigitModel.from_images(images[fit], labels[fit], "validation", **params.as_dict())
    if references is not None:
        model = model.with_references(references)
    queries = images[held]
    batches = [
        (model.kneighbors(q), model.reference_neighbours(q)[0])
        for q in _batches(queries, batch_size, "validating")
    ]
    distances = np.concatenate([d for (d, _), _ in batches])
    indices = np.concatenate([i for (_, i), _ in batches])
    shares = reference_nearest = None
    if references is not None:
        reference_distances = np.concatenate([r for _, r in batches])
        shares = non_digit_shares(distances, reference_distances, params.n_neighbors)
        reference_nearest = nearest_references(reference_distances)
    held_out = HeldOut(
        distances, model.labels[indices], np.asarray(labels[held]), shares, reference_nearest
    )
    return held_out, model


def judge_all(model: DigitModel, images: np.ndarray, batch_size: int = 250) -> Judged:
    """The model's judgement of images uint8 (n, 28, 28)."""
    judged = [model.judge(q) for q in _batches(images, batch_size, "judging")]
    return Judged(*(np.concatenate(parts) for parts in zip(*judged, strict=True)))


def _batches(images: np.ndarray, size: int, desc: str) -> Iterator[np.ndarray]:
    for start in tqdm(range(0, len(images), size), desc=desc, file=sys.stderr):
        yield images[start : start + size]


def fit_calibration(held_out: HeldOut, reference_exponent: float = 0.0) -> Calibration:
    """The prior distance that minimises the held-out log-loss, the non-digit share that keeps
    :data:`SHARE_KEEP` of the held-out digits (1 without shares) and the digit threshold that
    with it keeps :data:`KEEP` (the allowed distance growing with the distance to the nearest
    reference by ``reference_exponent``, as :func:`knn.model.allowed_distances` says)."""
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
    shares = held_out.non_digit_shares
    share = 1.0 if shares is None else _round_up(np.quantile(shares, SHARE_KEEP))
    within = _threshold_needed(nearest, held_out.reference_nearest, reference_exponent)
    within = within if shares is None else within[shares <= share]
    # The digits kept by the share test, nearest first: the threshold keeps KEEP of all.
    n_keep = min(int(np.ceil(KEEP * len(nearest))), len(within))
    threshold = _round_up(np.sort(within)[n_keep - 1])
    return Calibration(float(f"{prior_distance:.4g}"), threshold, share, reference_exponent)


def _threshold_needed(
    nearest: np.ndarray, reference_nearest: np.ndarray | None, exponent: float
) -> np.ndarray:
    """The least ``digit_threshold`` (n,) that lets each digit's nearest training digit
    ``nearest`` be near enough, its nearest reference ``reference_nearest`` away: ``t ** (1 -
    e) * r ** e >= d`` where ``t >= (d / r ** e) ** (1 / (1 - e))``; ``d`` without references."""
    if reference_nearest is None:
        return nearest
    r = counted_reference_distances(reference_nearest)
    return np.where(np.isinf(r), nearest, (nearest / r**exponent) ** (1 / (1 - exponent)))


def _round_up(value: float) -> float:
    """``value`` to 4 significant digits, rounded up so that what it keeps stays kept."""
    scale = 10.0 ** (np.floor(np.log10(value)) - 3) if value > 0 else 1.0
    return float(f"{np.ceil(value / scale) * scale:.4g}")


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
    # The offline model holds no references: its drawings are judged by distance alone.
    references = None if args.fallback else make_references(N_REFERENCES, REFERENCE_SEED)
    held_out, model = held_out_neighbours(
        images, labels, n_validation, params, references=references and references.images
    )
    non_digits = None
    if references is not None:
        others = make_references(N_HELD_OUT_REFERENCES, HELD_OUT_SEED)
        non_digits = judge_all(model, others.images)
    fitted = fit_calibration(held_out, params.reference_exponent)
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
    nearest = held_out.distances[:, 0]
    reference_nearest = held_out.reference_nearest
    if reference_nearest is None:
        reference_nearest = np.full(len(nearest), np.inf)
    by_distance = nearest <= allowed_distances(reference_nearest, fitted)
    kept = by_distance
    if held_out.non_digit_shares is not None:
        kept = looks_like_digits(nearest, reference_nearest, held_out.non_digit_shares, fitted)
    print(
        f"digit_threshold={fitted.digit_threshold:.6g} with reference_exponent="
        f"{fitted.reference_exponent:g} (alone keeps {by_distance.mean():.2%} of "
        f"the held-out digits; current default {params.digit_threshold:.6g})"
    )
    print(
        f"max_non_digit_share={fitted.max_non_digit_share:.6g} (with the threshold keeps "
        f"{kept.mean():.2%} of the held-out digits; current default "
        f"{params.max_non_digit_share:.6g})"
    )
    if non_digits is not None:
        for name, p in (("current", params), ("fitted", fitted)):
            accepted = looks_like_digits(
                non_digits.nearest, non_digits.reference_nearest, non_digits.non_digit_shares, p
            )
            print(
                f"{name:>7}: refuses {1 - accepted.mean():.1%} of {len(accepted)} held-out "
                f"non-digits (references' recipe, seed {HELD_OUT_SEED})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
