"""The model's options on a command line, shared by app.py, knn.evaluate and knn.tune."""

from __future__ import annotations

import argparse

from knn.engine import WEIGHTS
from knn.params import MAX_NEIGHBOURS, ModelParams
from knn.rerank import RERANKERS


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--k, --weights, --rerank, --shortlist, --reference-shortlist, --window, --virtual;
    defaults from ModelParams()."""
    default = ModelParams()
    group = parser.add_argument_group("model")
    group.add_argument(
        "--k",
        type=int,
        default=default.n_neighbors,
        help=f"neighbours that vote, 1 to {MAX_NEIGHBOURS} (default: %(default)s)",
    )
    group.add_argument("--weights", choices=WEIGHTS, default=default.weights)
    group.add_argument(
        "--rerank",
        choices=("none", *RERANKERS),
        default=default.rerank or "none",
        help="re-rank the Euclidean shortlist with this distance (default: %(default)s)",
    )
    group.add_argument(
        "--shortlist", type=int, default=default.shortlist, help="candidates to re-rank"
    )
    group.add_argument(
        "--reference-shortlist",
        type=int,
        default=default.reference_shortlist,
        help="candidates to re-rank among the non-digit references",
    )
    group.add_argument(
        "--window", type=int, default=default.window, help="IDM displacement window (odd)"
    )
    group.add_argument(
        "--virtual",
        action=argparse.BooleanOptionalAction,
        default=default.virtual,
        help="also search deformed copies of the training digits (default: %(default)s)",
    )


#: The flag for each ModelParams field, so that errors name what the user typed.
FLAGS = {"n_neighbors": "--k", "weights": "--weights", "rerank": "--rerank"}


def model_params(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ModelParams:
    """The parsed model options as ModelParams; a bad value exits with the parser's usage error."""
    try:
        return ModelParams(
            n_neighbors=args.k,
            weights=args.weights,
            rerank=None if args.rerank == "none" else args.rerank,
            shortlist=args.shortlist,
            reference_shortlist=args.reference_shortlist,
            window=args.window,
            virtual=args.virtual,
        )
    except ValueError as err:  # ModelParams' messages start with the field's name
        field, _, rest = str(err).partition(" ")
        parser.error(f"{FLAGS.get(field, '--' + field)} {rest}")
