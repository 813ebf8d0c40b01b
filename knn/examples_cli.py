"""List, count, export and delete the stored corrections: ``python -m knn.examples``.

    python -m knn.examples list                        # sessions, their counts and times
    python -m knn.examples count [--session S]
    python -m knn.examples export FOLDER [--format idx|npz] [--session S] [--user U]
    python -m knn.examples delete (--session S | --before 2025-01-31) [...]

``export --format idx`` writes the four MNIST file names (gzip, each written atomically): the
examples as ``train-*``, and empty ``t10k-*``, so the folder reads like MNIST
(``knn.data.read_idx``) and serves as ``load_model(extra_examples=FOLDER)``. ``npz`` writes
``examples.npz`` with ``images``, ``labels`` and ``ids`` (no pickle).
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

from knn.data import FILES, write_idx
from knn.examples import ExampleStore, ExampleStoreError
from knn.storage import atomic_write


def export(
    store: ExampleStore, folder: Path, fmt: str, session: str | None, user: str | None
) -> int:
    """Write the chosen examples into ``folder`` as IDX or npz; return how many."""
    images, labels, ids = store.examples(session=session, user=user)
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=images, labels=labels, ids=ids)
        with atomic_write(folder / "examples.npz") as f:
            f.write(buffer.getvalue())
        return len(labels)
    empty = {"images": np.zeros((0, 28, 28), np.uint8), "labels": np.zeros(0, np.uint8)}
    arrays = {"train_images": images, "train_labels": labels}
    for role, (name, _) in FILES.items():
        write_idx(folder / f"{name}.gz", arrays.get(role, empty[role.split("_")[1]]))
    return len(labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knn.examples", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--store", type=Path, help="the SQLite file (default: the cache folder's)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="sessions with their counts, users and times")
    count = commands.add_parser("count", help="how many examples (of a session, of a user)")
    exporting = commands.add_parser("export", help="write examples as MNIST IDX files or .npz")
    exporting.add_argument("folder", type=Path)
    exporting.add_argument("--format", choices=("idx", "npz"), default="idx")
    deleting = commands.add_parser("delete", help="delete a session's examples or old ones")
    deleting.add_argument("--before", type=datetime.fromisoformat, help="ISO date or time")
    for sub in (count, exporting, deleting):
        sub.add_argument("--session")
    for sub in (count, exporting):
        sub.add_argument("--user")
    args = parser.parse_args(argv)
    try:
        store = ExampleStore(args.store)
        if args.command == "list":
            print(f"{'session':36s} {'count':>5s}  {'first':19s}  {'last':19s}  users")
            for s in store.sessions():
                first, last = (
                    datetime.fromtimestamp(t).isoformat(" ", "seconds") for t in (s.first, s.last)
                )
                print(f"{s.session:36s} {s.count:5d}  {first}  {last}  {s.users}")
            print(f"total: {store.count()}")
        elif args.command == "count":
            print(store.count(session=args.session, user=args.user))
        elif args.command == "export":
            n = export(store, args.folder, args.format, args.session, args.user)
            print(f"exported {n} examples to {args.folder}")
        else:
            if args.session is None and args.before is None:
                parser.error("delete needs --session, --before, or both")
            print(f"deleted {store.delete(session=args.session, before=args.before)} examples")
    except (ExampleStoreError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
