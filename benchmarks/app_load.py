"""The API as programs meet it, beside a do-nothing Gradio app, in one run.

    MNIST_DIR=../shared/mnist python -m benchmarks.app_load [--calls 100] [--rounds 3]

Starts ``python app.py`` and a do-nothing app whose ``/classify`` takes the same inputs and
returns only a ``gr.Label`` (a constant), both as subprocesses, and calls them through
``gradio_client`` with its defaults (it uploads the image and downloads any output file):

1. one client, one drawing at a time, calls alternating between the two apps: median and p95
   of each, and what ours adds (target: at most +20 ms median, +40 ms p95);
2. ``--rounds`` loads of 20 concurrent clients sending 10 drawings each, the do-nothing app's
   and ours alternating: every answer right, and ours in at most 1.5x the do-nothing app's time;
3. our app's resident memory after warm-up and after each load (target: at most 600 MB, and no
   growth across the loads beyond 5%);
4. how long our app takes to serve its page with a warm model cache.

The drawings are the project's own examples in ``assets/``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from webapp.launcher import ROOT, rss_mb, serving

DRAWINGS = {digit: ROOT / "assets" / f"digit-{digit}.png" for digit in range(10)}
CLIENTS, DRAWINGS_PER_CLIENT = 20, 10
MEDIAN_BUDGET_MS, P95_BUDGET_MS, LOAD_RATIO_BUDGET = 20, 40, 1.5
RSS_BUDGET_MB, RSS_GROWTH_BUDGET = 600, 0.05


def serve_baseline(port: int) -> None:
    """Child process: a do-nothing app with the same API inputs, answering a constant Label."""
    import gradio as gr

    answer = {str(d): 0.1 for d in range(10)}

    def classify(image: str, k: float, weights: str, images: bool) -> dict[str, float]:
        return answer

    with gr.Blocks() as demo:
        inputs = [
            gr.Image(type="filepath", visible=False),
            gr.Slider(1, 15, value=4, step=1),
            gr.Radio(["uniform", "distance"], value="distance"),
            gr.Checkbox(False),
        ]
        inputs[0].upload(classify, inputs, gr.Label(), api_name="classify")
    demo.queue(max_size=64, default_concurrency_limit=4).launch(server_port=port)


def label_of(answer: Any) -> str:
    """The top label of either app's answer: ours returns (Label, details), the baseline a Label."""
    return answer[0]["label"] if isinstance(answer, (list, tuple)) else answer["label"]


def call(client: Any, digit: int) -> str:
    from gradio_client import handle_file

    return label_of(client.predict(handle_file(str(DRAWINGS[digit])), api_name="/classify"))


def sequential(urls: dict[str, str], calls: int) -> dict[str, list[float]]:
    """Latency in ms of ``calls`` one-at-a-time calls to each app, alternating between them."""
    from gradio_client import Client

    clients = {name: Client(url, verbose=False) for name, url in urls.items()}
    times: dict[str, list[float]] = {name: [] for name in clients}
    for i in range(5 + calls):  # the first five calls of each warm up
        for name, client in clients.items():
            began = time.perf_counter()
            call(client, i % 10)
            if i >= 5:
                times[name].append(1000 * (time.perf_counter() - began))
    return times


def load(url: str, expect_labels: bool) -> tuple[int, list[str], float]:
    """CLIENTS clients at once, each sending DRAWINGS_PER_CLIENT drawings in turn.

    Returns the number of right answers (every answer, for the do-nothing app), the errors of
    lost requests, and the wall seconds.
    """
    from gradio_client import Client

    def one_client(offset: int) -> tuple[int, list[str]]:
        client = Client(url, verbose=False)
        right, errors = 0, []
        for i in range(DRAWINGS_PER_CLIENT):
            digit = (offset + i) % 10
            try:
                label = call(client, digit)
                right += label == str(digit) or not expect_labels
            except Exception as err:  # a lost request is what is counted here, whatever the cause
                errors.append(f"{type(err).__name__}: {err}")
        return right, errors

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one_client, range(CLIENTS)))
    errors = [error for _, client_errors in results for error in client_errors]
    return sum(r for r, _ in results), errors, time.perf_counter() - began


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="sequential calls to each app")
    parser.add_argument("--rounds", type=int, default=3, help="concurrent loads on each app")
    parser.add_argument("--cache-dir", help="the app's model cache (default: the user cache)")
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.port)
        return 0

    logs = Path(tempfile.mkdtemp(prefix="app-load-"))
    ours_args = ["app.py", "--no-download"]
    if args.cache_dir:
        ours_args += ["--cache-dir", args.cache_dir]
    with serving(ours_args, logs / "first.log") as first:  # builds the model cache if cold
        first_start = first.start_seconds
    baseline_args = ["-m", "benchmarks.app_load", "--serve-baseline"]
    with (
        serving(ours_args, logs / "app.log") as ours,
        serving(baseline_args, logs / "baseline.log") as baseline,
    ):
        urls = {"baseline": baseline.url, "ours": ours.url}
        times = sequential(urls, args.calls)
        rss = [rss_mb(ours.process.pid)[0]]
        loads: dict[str, list[tuple[int, list[str], float]]] = {"baseline": [], "ours": []}
        for _ in range(args.rounds):
            loads["baseline"].append(load(baseline.url, expect_labels=False))
            loads["ours"].append(load(ours.url, expect_labels=True))
            rss.append(rss_mb(ours.process.pid)[0])
        peak = rss_mb(ours.process.pid)[1]

    print(
        f"start: {ours.start_seconds:.1f} s to serve the page with a warm cache "
        f"(first start {first_start:.1f} s)"
    )
    median = {name: float(np.median(t)) for name, t in times.items()}
    p95 = {name: float(np.percentile(t, 95)) for name, t in times.items()}
    for name in ("baseline", "ours"):
        print(
            f"{name:>8}: median {median[name]:.1f} ms, p95 {p95[name]:.1f} ms, "
            f"mean {statistics.fmean(times[name]):.1f} ms over {args.calls} sequential calls "
            "(gradio_client defaults)"
        )
    added_median, added_p95 = median["ours"] - median["baseline"], p95["ours"] - p95["baseline"]
    print(
        f"   added: median {added_median:+.1f} ms ({verdict(added_median <= MEDIAN_BUDGET_MS)}), "
        f"p95 {added_p95:+.1f} ms ({verdict(added_p95 <= P95_BUDGET_MS)})"
    )
    total = CLIENTS * DRAWINGS_PER_CLIENT
    for round_, (theirs, mine) in enumerate(zip(loads["baseline"], loads["ours"], strict=True)):
        print(
            f"load {round_ + 1}: {CLIENTS} clients x {DRAWINGS_PER_CLIENT} drawings: "
            f"do-nothing {theirs[2]:.1f} s ({len(theirs[1])} lost), ours {mine[2]:.1f} s, "
            f"{mine[0]}/{total} right, {len(mine[1])} lost; ratio {mine[2] / theirs[2]:.2f}x"
        )
        for error in sorted(set(mine[1] + theirs[1])):
            print(f"  lost: {error}")
    ratio = float(
        np.median([m[2] for m in loads["ours"]]) / np.median([t[2] for t in loads["baseline"]])
    )
    all_right = all(m[0] == total and not m[1] for m in loads["ours"])
    print(
        f"load: median ratio {ratio:.2f}x the do-nothing app "
        f"({verdict(ratio <= LOAD_RATIO_BUDGET and all_right)})"
    )
    growth = max(rss[1:]) / rss[1] - 1
    print(
        "memory: "
        + ", ".join(
            f"{mb:.0f} MB after {'warm-up' if i == 0 else f'load {i}'}" for i, mb in enumerate(rss)
        )
        + f"; peak {peak:.0f} MB; growth after the first load {growth:+.1%} "
        f"({verdict(max(rss) <= RSS_BUDGET_MB and growth <= RSS_GROWTH_BUDGET)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
