"""Benchmark: how long ``DigitModel.with_examples`` takes to build a taught variant, and what
its examples cost a drawing.

The MNIST model (60,000 digits, from the cache) gets 1, 10 and 100 examples; each build is timed
``--repeat`` times; median and p95 are printed. The training arrays are shared, not copied.
Then one drawing is classified by models holding as many of a visitor's examples as the page
lets them have: none, the answers let stand (``MAX_ACCEPTED``) and ten corrections, and those
with every correction a session may store (``MAX_PER_SESSION``).

    python -m benchmarks.examples_speed [--repeat 50]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import knn
from benchmarks.timing import call_ms
from knn.examples import MAX_PER_SESSION
from webapp.settings import MAX_ACCEPTED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--cache-dir")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    mnist = knn.load_mnist(args.data_dir, download=False)
    model = knn.load_model(args.data_dir, args.cache_dir, download=False)
    print(f"with_examples over {len(model.labels)} training digits ({args.repeat} builds each)")
    for n in (1, 10, 100):
        images, labels = mnist.test_images[:n], mnist.test_labels[:n]
        ms = call_ms(args.repeat, model.with_examples, images, labels)
        assert model.with_examples(images, labels).images is model.images
        print(_line(n, ms))
    query = mnist.test_images[-1]
    print(f"classify one drawing, with a visitor's examples ({args.repeat} calls each)")
    for n in (0, MAX_ACCEPTED + 10, MAX_ACCEPTED + MAX_PER_SESSION):
        taught = model.with_examples(mnist.test_images[:n], mnist.test_labels[:n]) if n else model
        print(_line(n, call_ms(args.repeat, taught.classify, query)))


def _line(n: int, ms: np.ndarray) -> str:
    return f"  {n:>3} examples: median {np.median(ms):6.2f} ms  p95 {np.percentile(ms, 95):6.2f} ms"


if __name__ == "__main__":
    main()
