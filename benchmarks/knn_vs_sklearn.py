"""The engine against scikit-learn, faiss and the bare matrix product on all of MNIST, in one run.

    python -m benchmarks.knn_vs_sklearn [--k 3] [--rounds 3] [--n-train 60000] [--n-test 10000]

Every contender gets the same float32 arrays (raw pixels; scikit-learn handed uint8 would first
convert them to float64 and take twice as long) and runs in a process of its own, so its time
and peak memory are its alone (in one process, faiss's OpenMP runtime slows scikit-learn's down
twofold). The contenders, each timed from fit to predictions:

- scikit-learn's brute-force ``KNeighborsClassifier`` with ``n_jobs=-1``;
- faiss's exact search ``IndexFlatL2`` (faiss-cpu, all cores), with a majority vote;
- the bare float32 product of the queries against the training rows, in chunks of 1,000 queries:
  no search that computes every distance this way can be faster;
- ours, ``knn.KNNClassifier``. Its search is exact but does less arithmetic than the product:
  a product over 98 numbers per row (96 principal directions, a residual and a norm; see
  ``knn.bound``)
  bounds every distance from below, and only the rows whose bound is under a query's k-th
  distance so far are measured over all 784 pixels. The fraction of (query, training row)
  pairs it measured that way is printed (counted once, outside the timing); the basis is
  fitted in ``fit``, inside the timing.

The contenders run back to back, ``--rounds`` times over, and each figure is the median with the
range over the rounds. Targets: ours no slower than faiss, at least 99.9% of predictions
identical to scikit-learn's, peak memory under 1 GB. faiss is a
benchmark-only dependency: ``pip install -r benchmarks/requirements.txt``.
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

CONTENDERS = ("sklearn", "faiss", "product", "ours")
LABELS = {
    "sklearn": "scikit-learn brute, n_jobs=-1",
    "faiss": "faiss IndexFlatL2",
    "product": "bare matrix product",
    "ours": "knn.KNNClassifier",
}
PRODUCT_CHUNK = 1000  # queries per product, as an exact search in chunks would do it


def predict(contender: str, k: int, X: np.ndarray, y: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Fit on X float32 (n, d), y (n,) and label the queries Q float32 (m, d); for the bare
    product, compute the scores and return no labels (-1)."""
    if contender == "ours":
        from knn.engine import KNNClassifier

        return KNNClassifier(n_neighbors=k).fit(X, y).predict(Q)
    if contender == "sklearn":
        from sklearn.neighbors import KNeighborsClassifier

        return (
            KNeighborsClassifier(n_neighbors=k, algorithm="brute", n_jobs=-1).fit(X, y).predict(Q)
        )
    if contender == "faiss":
        import faiss

        from knn.engine import vote

        index = faiss.IndexFlatL2(X.shape[1])
        index.add(X)
        distances, indices = index.search(Q, k)
        return vote(y[indices], distances, "uniform", 10).argmax(axis=1)
    for start in range(0, len(Q), PRODUCT_CHUNK):
        Q[start : start + PRODUCT_CHUNK] @ X.T
    return np.full(len(Q), -1)


def run_child(contender: str, args: argparse.Namespace) -> None:
    """Child process: time one contender on the float32 arrays, save its predictions, print
    its figures as JSON."""
    from threadpoolctl import threadpool_info

    from knn.data import load_mnist

    mnist = load_mnist(args.data_dir, download=False)
    X = mnist.train_images[: args.n_train].reshape(args.n_train, -1).astype(np.float32)
    Q = mnist.test_images[: args.n_test].reshape(args.n_test, -1).astype(np.float32)
    y = mnist.train_labels[: args.n_train]
    start = time.perf_counter()
    predictions = predict(contender, args.k, X, y, Q)
    seconds = time.perf_counter() - start
    np.save(args.out, np.asarray(predictions, dtype=np.int64), allow_pickle=False)
    blas = [f"{i['internal_api']} {i.get('architecture', '')}" for i in threadpool_info()]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"seconds": seconds, "peak_mb": peak_mb, "blas": blas}
    if contender == "ours" and args.count:
        figures["measured"] = measured_fraction(args.k, X, Q)
    print(json.dumps(figures))


def measured_fraction(k: int, X: np.ndarray, Q: np.ndarray) -> float:
    """The fraction of (query, training row) pairs whose distance our search computes over all
    the features (the rest it rules out by its lower bound)."""
    from knn.search import ExactSearch, SearchCounts

    counts = SearchCounts()
    ExactSearch(X).kneighbors(Q, k, chunk_rows=PRODUCT_CHUNK, counts=counts)
    return counts.measured / counts.pairs


def measure(contender: str, args: argparse.Namespace, out: Path, count: bool) -> dict:
    command = [sys.executable, "-m", "benchmarks.knn_vs_sklearn", "--child", contender]
    command += ["--count"] if count else []
    command += ["--k", str(args.k), "--n-train", str(args.n_train), "--n-test", str(args.n_test)]
    command += ["--out", str(out)] + (["--data-dir", args.data_dir] if args.data_dir else [])
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread(values: list[float], unit: str = "") -> str:
    """Median and range, e.g. ``5.21 s (5.10-5.60)``."""
    return f"{np.median(values):.2f}{unit} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="times each contender runs")
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--data-dir")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args)
        return

    from knn.data import load_mnist
    from knn.search import BOUND_DIMS

    truth = load_mnist(args.data_dir, download=False).test_labels[: args.n_test]
    runs: dict[str, list[dict]] = {c: [] for c in CONTENDERS}
    predictions = {}
    print(
        f"MNIST raw pixels as float32, k={args.k}, {args.n_train} training images, "
        f"{args.n_test} queries, {args.rounds} rounds (median, range)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for contender in CONTENDERS:
                out = Path(tmp) / f"{contender}.npy"
                runs[contender].append(measure(contender, args, out, count=round_ == 0))
                predictions[contender] = np.load(out, allow_pickle=False)
    seconds = {c: [r["seconds"] for r in runs[c]] for c in CONTENDERS}
    for contender in CONTENDERS:
        peak = spread([r["peak_mb"] for r in runs[contender]], " MB")
        print(f"{LABELS[contender]:30s} {spread(seconds[contender], ' s'):24s} peak {peak}")
    for other in ("faiss", "product", "sklearn"):
        ratios = [a / b for a, b in zip(seconds["ours"], seconds[other], strict=True)]
        print(f"ours / {other:8s} {spread(ratios, 'x')}  (round by round)")
    print(
        f"ours measured {runs['ours'][0]['measured']:.3%} of the (query, training row) pairs over "
        f"all features; its lower bound over {BOUND_DIMS + 1} numbers ruled out the rest"
    )
    same = np.mean(predictions["ours"] == predictions["sklearn"])
    print(f"identical predictions, ours and scikit-learn: {same:.4%}")
    print(
        f"identical predictions, faiss and scikit-learn: "
        f"{np.mean(predictions['faiss'] == predictions['sklearn']):.4%}"
    )
    for contender in ("sklearn", "faiss", "ours"):
        print(f"accuracy {contender}: {np.mean(predictions[contender] == truth):.2%}")
    print("BLAS: " + "; ".join(f"{c}: {', '.join(runs[c][0]['blas'])}" for c in CONTENDERS))


if __name__ == "__main__":
    main()
