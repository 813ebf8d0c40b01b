"""Benchmark: how long ``DigitModel.with_examples`` takes to build a taught variant.

The MNIST model (60,000 digits, from the cache) gets 1, 10 and 100 examples; each build is timed
``--repeat`` times; median and p95 are printed. The training arrays are shared, not copied.

    python -m benchmarks.examples_speed [--repeat 50]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import knn
from benchmarks.timing import call_ms


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
        print(
            f"  {n:>3} examples: median {np.median(ms):6.2f} ms"
            f"  p95 {np.percentile(ms, 95):6.2f} ms"
        )


if __name__ == "__main__":
    main()
