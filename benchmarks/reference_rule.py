"""Benchmark: how the non-digit references are searched and weighed, chosen on validation data.

Two knobs of :class:`knn.params.ModelParams` are chosen here: ``reference_shortlist`` (how many
references the IDM re-ranks: most of what they cost a drawing) and ``reference_exponent`` (how
much the distance to the nearest reference moves the distance a digit may be from its nearest
training digit, :func:`knn.model.allowed_distances`). For each pair the thresholds are fitted as
``python -m knn.calibrate`` fits them (the model fitted on all but the last 10,000 training
digits, which are held out), then measured on data that is neither the test set nor the
benchmark's (``benchmarks.trust`` draws MNIST test digits and non-digits with seed 0):

- held-out training digits redrawn as strokes (``benchmarks.drawn_digits``): the share kept;
- non-digits made as ``benchmarks.non_digits`` makes them with another seed
  (:data:`VALIDATION_SEED`): the share refused, and the share accepted with a top probability
  of 90% or more, over all and without letters written like digits.

It also prints what ``classify`` pays per drawing for each shortlist (loaded machine: compare
the rows with each other, not with other runs).

    python -m benchmarks.reference_rule [--shortlists 8 16 32 64] [--exponents 0 0.5 0.6 0.7]
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np

import knn
from benchmarks.drawn_digits import black_on_white, centre_lines, draw_strokes
from benchmarks.non_digits import make_non_digits
from benchmarks.timing import call_ms
from knn.calibrate import HeldOut, fit_calibration, held_out_neighbours, judge_all
from knn.model import DigitModel, looks_like_digits, nearest_references, non_digit_shares
from knn.nondigits import N_REFERENCES, REFERENCE_SEED, make_references
from preprocessing import to_mnist

N_VALIDATION = 10_000  # as knn.calibrate holds out
#: Seeds of the validation drawings: the benchmark's non-digits use 0.
VALIDATION_SEED = 101
DRAWN_SEED = 12


def with_references(held_out: HeldOut, model: DigitModel, digits: np.ndarray) -> HeldOut:
    """``held_out`` (of the held-out ``digits``) with the shares and nearest references as
    ``model`` (its reference shortlist) finds them."""
    found = [model.reference_neighbours(digits[i : i + 250])[0] for i in range(0, len(digits), 250)]
    references = np.concatenate(found)
    shares = non_digit_shares(held_out.distances, references, model.params.n_neighbors)
    return dataclasses.replace(
        held_out, non_digit_shares=shares, reference_nearest=nearest_references(references)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--n", type=int, default=1500, help="drawn digits and non-digits")
    parser.add_argument("--shortlists", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--exponents", type=float, nargs="+", default=[0, 0.5, 0.6, 0.7, 0.8])
    args = parser.parse_args()
    mnist = knn.load_mnist(args.data_dir, download=False)
    images, labels = mnist.train_images, mnist.train_labels
    references = make_references(N_REFERENCES, REFERENCE_SEED).images
    held_out, model = held_out_neighbours(
        images, labels, N_VALIDATION, knn.ModelParams(), references=references
    )
    held = images[-N_VALIDATION:]
    rng = np.random.default_rng(DRAWN_SEED)
    pick = rng.choice(N_VALIDATION, size=args.n, replace=False)
    drawn = np.stack(
        [to_mnist(black_on_white(draw_strokes(centre_lines(held[i]), rng))) for i in pick]
    )
    others = make_non_digits(args.n, np.random.default_rng(VALIDATION_SEED))
    distinct = ~others.look_alike()
    sure = model.predict_proba(others.digits).max(axis=1) >= 0.9
    print(
        f"{N_VALIDATION} held-out training digits; {args.n} of them drawn as strokes; {args.n} "
        f"non-digits (benchmarks.non_digits, seed {VALIDATION_SEED}; {distinct.sum()} without "
        "letters written like digits)"
    )
    print(
        "shortlist exponent  threshold  share  drawn kept  refused (distinct)  "
        "accepted >= 90% (distinct)  classify"
    )
    for shortlist in args.shortlists:
        searched = model.with_params(reference_shortlist=shortlist)
        fitted_on = with_references(held_out, searched, held)
        judged = {
            name: judge_all(searched, x)
            for name, x in (("drawn", drawn), ("others", others.digits))
        }
        ms = float(np.median(call_ms(100, searched.classify, drawn[0])))
        for exponent in args.exponents:
            fitted = fit_calibration(fitted_on, exponent)
            kept = {
                name: looks_like_digits(j.nearest, j.reference_nearest, j.non_digit_shares, fitted)
                for name, j in judged.items()
            }
            accepted = kept["others"]
            confident = accepted & sure
            print(
                f"{shortlist:9d} {exponent:8.2f} {fitted.digit_threshold:10.6g} "
                f"{fitted.max_non_digit_share:6.3f} {kept['drawn'].mean():10.1%}  "
                f"{1 - accepted.mean():7.1%} ({1 - accepted[distinct].mean():6.1%})  "
                f"{confident.mean():14.1%} ({confident[distinct].mean():5.1%})  {ms:6.1f} ms"
            )


if __name__ == "__main__":
    main()
