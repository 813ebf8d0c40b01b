"""What the app pays per drawing: preprocessing, search, re-ranking and neighbours, end to end.

    python -m benchmarks.drawing_latency [--repeats 200] [--data-dir D] [--cache-dir C]
        [model options: --k, --shortlist, --virtual, ...]

Times ``model.classify(to_mnist(sketchpad))`` on the sketchpad's 400x400 RGBA canvas as Gradio
hands it over, for the model the options describe (by default the app's: IDM re-ranking) and
with the re-ranking off. Target: at most 50 ms median on this 2-core machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.preprocessing_speed import sketchpad_canvas
from knn.cli import add_model_options, model_params
from knn.model import load_model
from preprocessing import to_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--data-dir")
    parser.add_argument("--cache-dir")
    add_model_options(parser)
    args = parser.parse_args()

    params = model_params(parser, args)
    model = load_model(args.data_dir, args.cache_dir, download=False, params=params)
    canvas = sketchpad_canvas(400, 12, transparent=False)
    sketch = {"background": None, "layers": [], "composite": canvas}
    for name, served in (("model", model), ("no re-ranking", model.with_params(rerank=None))):
        served.classify(to_mnist(sketch))
        stages: dict[str, list[float]] = {"to_mnist": [], "classify": [], "total": []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            digit = to_mnist(sketch)
            middle = time.perf_counter()
            served.classify(digit)
            end = time.perf_counter()
            stages["to_mnist"].append(middle - start)
            stages["classify"].append(end - middle)
            stages["total"].append(end - start)
        print(f"{name}: {served.describe()}")
        for stage, times in stages.items():
            ms = 1000 * np.array(times)
            median, p95 = np.median(ms), np.percentile(ms, 95)
            print(f"  {stage:9s} median {median:6.1f} ms   p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
