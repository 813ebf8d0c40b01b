"""The engine against scikit-learn's brute-force kNN on all of MNIST, raw pixels, in one run.

    python -m benchmarks.knn_vs_sklearn [--k 3] [--n-train 60000] [--n-test 10000] [--data-dir D]

Each engine runs in a child process of its own (fit + predict), so that its wall time and peak
resident memory are its alone. Prints both times, their ratio (target: at most 1.0, aim 0.7), the
share of identical predictions (target: at least 99.9%), both accuracies and the engine's peak
memory (target: under 1.5 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def run_engine(engine: str, k: int, n_train: int, n_test: int, data_dir: str | None, out: Path):
    """Child process: fit and predict with one engine, save the predictions, print the figures."""
    from knn.data import load_mnist

    mnist = load_mnist(data_dir, download=False)
    X_train = mnist.train_images[:n_train].reshape(n_train, -1)
    X_test = mnist.test_images[:n_test].reshape(n_test, -1)
    y_train = mnist.train_labels[:n_train]
    if engine == "ours":
        from knn.engine import KNNClassifier

        classifier = KNNClassifier(n_neighbors=k)
    else:
        from sklearn.neighbors import KNeighborsClassifier

        classifier = KNeighborsClassifier(n_neighbors=k, algorithm="brute", n_jobs=-1)
    start = time.perf_counter()
    predictions = classifier.fit(X_train, y_train).predict(X_test)
    seconds = time.perf_counter() - start
    np.save(out, predictions.astype(np.int64), allow_pickle=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def measure(engine: str, args: argparse.Namespace, out: Path) -> dict:
    command = [sys.executable, "-m", "benchmarks.knn_vs_sklearn", "--child", engine]
    command += ["--k", str(args.k), "--n-train", str(args.n_train), "--n-test", str(args.n_test)]
    command += ["--out", str(out)] + (["--data-dir", args.data_dir] if args.data_dir else [])
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--data-dir")
    parser.add_argument("--child", choices=("ours", "sklearn"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_engine(args.child, args.k, args.n_train, args.n_test, args.data_dir, args.out)
        return

    from knn.data import load_mnist

    truth = load_mnist(args.data_dir, download=False).test_labels[: args.n_test]
    with tempfile.TemporaryDirectory() as tmp:
        figures, predictions = {}, {}
        for engine in ("sklearn", "ours"):
            out = Path(tmp) / f"{engine}.npy"
            figures[engine] = measure(engine, args, out)
            predictions[engine] = np.load(out, allow_pickle=False)
    ours, theirs = figures["ours"], figures["sklearn"]
    print(f"MNIST raw pixels, k={args.k}, {args.n_train} training images, {args.n_test} queries")
    print(
        f"scikit-learn brute, n_jobs=-1: {theirs['seconds']:7.2f} s  "
        f"peak {theirs['peak_mb']:.0f} MB"
    )
    print(f"knn.KNNClassifier:             {ours['seconds']:7.2f} s  peak {ours['peak_mb']:.0f} MB")
    print(f"time ratio (ours / scikit-learn): {ours['seconds'] / theirs['seconds']:.2f}x")
    same = np.mean(predictions["ours"] == predictions["sklearn"])
    print(f"identical predictions: {same:.4%}")
    for engine in ("sklearn", "ours"):
        print(f"accuracy {engine}: {np.mean(predictions[engine] == truth):.2%}")


if __name__ == "__main__":
    main()
