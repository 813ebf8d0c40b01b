"""Measure the digit model on the MNIST test set: ``python -m knn.evaluate``.

Prints the accuracy, per-class precision and recall, the confusion matrix and timings; ``--json``
prints one JSON object instead. Every run also saves its report as ``evaluation.json`` in the cache
folder, where the app's About panel reads it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from knn.cli import add_model_options, model_params
from knn.data import MNISTError, load_mnist
from knn.model import load_model
from knn.params import ModelParams
from knn.storage import atomic_write, default_cache_dir

REPORT_NAME = "evaluation.json"


def evaluate(
    params: ModelParams | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    batch_size: int = 250,
) -> dict[str, Any]:
    """Fit (or load) the model, classify the test set in batches, and return the report."""
    start = time.perf_counter()
    model = load_model(data_dir, cache_dir, n_train=n_train, params=params)
    build_seconds = time.perf_counter() - start
    mnist = load_mnist(data_dir)
    images, labels = mnist.test_images[:n_test], mnist.test_labels[:n_test]

    start = time.perf_counter()
    predictions = np.empty(len(images), dtype=np.int64)
    with tqdm(total=len(images), desc="classifying", unit="digit", file=sys.stderr) as bar:
        for i in range(0, len(images), batch_size):
            predictions[i : i + batch_size] = model.predict(images[i : i + batch_size])
            bar.update(len(images[i : i + batch_size]))
    seconds = time.perf_counter() - start

    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    correct = np.diag(confusion)
    return {
        "dataset": model.dataset,
        "feature": model.describe(),
        "k": model.params.n_neighbors,
        **model.params.as_dict(),
        "n_train": len(model.labels),
        "n_test": len(images),
        "accuracy": float(correct.sum() / max(len(images), 1)),
        "precision": _ratio(correct, confusion.sum(axis=0)),
        "recall": _ratio(correct, confusion.sum(axis=1)),
        "confusion_matrix": confusion.tolist(),
        "build_seconds": build_seconds,
        "seconds": seconds,
        "queries_per_second": len(images) / seconds,
        "ms_per_query": 1000 * seconds / max(len(images), 1),
    }


def save_report(report: dict[str, Any], cache_dir: str | Path | None = None) -> Path:
    """Write the report atomically as ``evaluation.json`` in the cache folder; return its path."""
    path = Path(cache_dir or default_cache_dir()) / REPORT_NAME
    with atomic_write(path) as f:
        f.write(json.dumps(report, indent=1).encode())
    return path


def load_report(cache_dir: str | Path | None = None) -> dict[str, Any] | None:
    """The last saved report, or None if there is none or it is unreadable."""
    path = Path(cache_dir or default_cache_dir()) / REPORT_NAME
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def format_report(report: dict[str, Any]) -> str:
    """The report as a person reads it."""
    lines = [
        f"{report['dataset']}, {report['n_train']} training images: k={report['k']}, "
        f"weights={report['weights']}",
        f"features: {report['feature']}",
        f"accuracy: {report['accuracy']:.2%} on {report['n_test']} test images",
        "",
        "digit  precision  recall",
    ]
    lines += [
        f"{d:>5}  {p:>9.2%}  {r:>6.2%}"
        for d, (p, r) in enumerate(zip(report["precision"], report["recall"], strict=True))
    ]
    lines += ["", "confusion matrix (rows: true digit, columns: predicted)"]
    lines.append("     " + "".join(f"{d:>6}" for d in range(10)))
    lines += [
        f"{d:>5}" + "".join(f"{n:>6}" for n in row)
        for d, row in enumerate(report["confusion_matrix"])
    ]
    lines += [
        "",
        f"model build or load: {report['build_seconds']:.2f} s",
        f"classification: {report['seconds']:.2f} s, {report['queries_per_second']:.0f} queries/s, "
        f"{report['ms_per_query']:.2f} ms per query",
    ]
    return "\n".join(lines)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> list[float]:
    return (numerator / np.maximum(denominator, 1)).tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knn.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n-train", type=int, help="use the first N training images")
    parser.add_argument("--n-test", type=int, help="classify the first N test images")
    parser.add_argument("--data-dir", help="folder with the four MNIST files (else MNIST_DIR, ...)")
    parser.add_argument("--cache-dir", help="model cache and report folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_model_options(parser)
    args = parser.parse_args(argv)
    params = model_params(parser, args)
    for name in ("n_train", "n_test"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")

    try:
        report = evaluate(params, args.n_train, args.n_test, args.data_dir, args.cache_dir)
    except (MNISTError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    save_report(report, args.cache_dir)
    print(json.dumps(report) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
