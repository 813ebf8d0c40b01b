"""Command-line options shared by ``python -m knn.evaluate`` and ``python -m knn.tune``."""

from __future__ import annotations

import argparse
from typing import Any

from knn.model import DEFAULT_RERANK, DEFAULT_SHORTLIST, DEFAULT_WINDOW
from knn.rerank import RERANKERS


def add_rerank_options(parser: argparse.ArgumentParser) -> None:
    """--rerank, --shortlist and --window."""
    parser.add_argument(
        "--rerank",
        choices=("none", *RERANKERS),
        default=DEFAULT_RERANK or "none",
        help="re-rank the Euclidean shortlist with this distance (default: %(default)s)",
    )
    parser.add_argument(
        "--shortlist", type=int, default=DEFAULT_SHORTLIST, help="candidates to re-rank"
    )
    parser.add_argument(
        "--window", type=int, default=DEFAULT_WINDOW, help="IDM displacement window (odd)"
    )


def rerank_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed re-ranking options as keyword arguments of the model."""
    rerank = None if args.rerank == "none" else args.rerank
    return {"rerank": rerank, "shortlist": args.shortlist, "window": args.window}
