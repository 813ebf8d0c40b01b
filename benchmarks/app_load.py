"""The app under load, beside a do-nothing app with the same API, in one run.

    MNIST_DIR=../shared/mnist python -m benchmarks.app_load [--calls 100] [--cache-dir DIR]

Starts ``python app.py`` and a baseline app (same inputs and outputs, constant answers, no
preprocessing, no kNN) as subprocesses, then measures through ``gradio_client``:

1. one client, one drawing at a time, calls alternating between the two apps: median and p95
   latency of each (target: ours adds at most 20 ms to the median and 40 ms to the p95). The
   clients do not download the output images: that costs both apps the same and adds noise;
2. 20 concurrent clients sending 10 drawings each to our app: all answers correct, none lost;
3. the resident memory of our app after warm-up and after the load (target: at most 500 MB);
4. how long our app takes to serve its page with a warm model cache (target: 5 s).

The drawings are the project's own examples in ``assets/``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DRAWINGS = {digit: ROOT / "assets" / f"digit-{digit}.png" for digit in range(10)}
CLIENTS, DRAWINGS_PER_CLIENT = 20, 10
MEDIAN_BUDGET_MS, P95_BUDGET_MS, RSS_BUDGET_MB, START_BUDGET_S = 20, 40, 500, 5


def serve_baseline(port: int) -> None:
    """Child process: a do-nothing app with the classify API of ``app.py``, constant answers."""
    import gradio as gr
    from PIL import Image

    probabilities = {str(d): 0.1 for d in range(10)}
    preview = Image.new("L", (280, 280))
    gallery = [(Image.new("L", (112, 112)), f"{d} · distance 0") for d in range(4)]

    def classify(image: str, k: float, weights: str) -> tuple[Any, ...]:
        return probabilities, preview, gallery, "votes", None

    with gr.Blocks() as demo:
        image = gr.Image(type="filepath", image_mode=None, visible=False)
        k = gr.Slider(1, 15, value=4, step=1)
        weights = gr.Radio(["uniform", "distance"], value="distance")
        outputs = [gr.Label(), gr.Image(format="png"), gr.Gallery(format="png"), gr.Markdown()]
        image.upload(classify, [image, k, weights], [*outputs, gr.State()], api_name="classify")
    demo.queue(max_size=64, default_concurrency_limit=4).launch(server_port=port)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(
    command: list[str], log: Path, timeout: float = 600
) -> tuple[subprocess.Popen, str, float]:
    """Start a server whose command line ends with its port; return it, its URL, its start time."""
    url = f"http://127.0.0.1:{command[-1]}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    began = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    while time.perf_counter() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return process, url, time.perf_counter() - began
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command} did not serve {url} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))


def classify(client: Any, digit: int) -> str:
    from gradio_client import handle_file

    return client.predict(handle_file(str(DRAWINGS[digit])), api_name="/classify")[0]["label"]


def sequential(ours: str, baseline: str, calls: int) -> dict[str, list[float]]:
    """Latency in ms of ``calls`` one-at-a-time calls to each app, alternating between them."""
    from gradio_client import Client

    clients = {
        name: Client(url, verbose=False, download_files=False)
        for name, url in (("ours", ours), ("baseline", baseline))
    }
    times: dict[str, list[float]] = {name: [] for name in clients}
    for i in range(5 + calls):  # the first five calls of each warm up
        for name, client in clients.items():
            began = time.perf_counter()
            classify(client, i % 10)
            if i >= 5:
                times[name].append(1000 * (time.perf_counter() - began))
    return times


def concurrent(url: str) -> tuple[int, list[str], float]:
    """CLIENTS clients at once, each sending DRAWINGS_PER_CLIENT drawings in turn, downloading
    the answers' images as the README's snippet does.

    Returns the number of correct answers, the errors of lost requests, and the wall seconds.
    """
    from gradio_client import Client

    def one_client(offset: int) -> tuple[int, list[str]]:
        client = Client(url, verbose=False)
        correct, errors = 0, []
        for i in range(DRAWINGS_PER_CLIENT):
            digit = (offset + i) % 10
            try:
                correct += classify(client, digit) == str(digit)
            except Exception as err:  # a lost request is what is counted here, whatever the cause
                errors.append(f"{type(err).__name__}: {err}")
        return correct, errors

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one_client, range(CLIENTS)))
    errors = [error for _, client_errors in results for error in client_errors]
    return sum(c for c, _ in results), errors, time.perf_counter() - began


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="sequential calls to each app")
    parser.add_argument("--cache-dir", help="the app's model cache (default: the user cache)")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0

    logs = Path(tempfile.mkdtemp(prefix="app-load-"))
    ours_command = [sys.executable, "app.py", "--no-download"]
    if args.cache_dir:
        ours_command += ["--cache-dir", args.cache_dir]
    warm_up, _, first_start = start([*ours_command, "--port", str(free_port())], logs / "first.log")
    stop(warm_up)  # the first start builds the model cache if it is cold
    ours, ours_url, warm_start = start(
        [*ours_command, "--port", str(free_port())], logs / "app.log"
    )
    baseline_command = [sys.executable, "-m", "benchmarks.app_load", "--serve-baseline"]
    baseline, baseline_url, _ = start([*baseline_command, str(free_port())], logs / "baseline.log")
    try:
        times = sequential(ours_url, baseline_url, args.calls)
        rss_warm, _ = rss_mb(ours.pid)
        correct, errors, seconds = concurrent(ours_url)
        rss_after, rss_peak = rss_mb(ours.pid)
    finally:
        stop(ours)
        stop(baseline)

    median = {name: float(np.median(t)) for name, t in times.items()}
    p95 = {name: float(np.percentile(t, 95)) for name, t in times.items()}
    added_median = median["ours"] - median["baseline"]
    added_p95 = p95["ours"] - p95["baseline"]
    total = CLIENTS * DRAWINGS_PER_CLIENT
    print(
        f"start: {warm_start:.1f} s to serve the page with a warm cache (first start "
        f"{first_start:.1f} s); {verdict(warm_start <= START_BUDGET_S)}"
    )
    for name in ("baseline", "ours"):
        print(
            f"{name:>8}: median {median[name]:.1f} ms, p95 {p95[name]:.1f} ms, "
            f"mean {statistics.fmean(times[name]):.1f} ms over {args.calls} sequential calls"
        )
    print(
        f"   added: median {added_median:+.1f} ms ({verdict(added_median <= MEDIAN_BUDGET_MS)}), "
        f"p95 {added_p95:+.1f} ms ({verdict(added_p95 <= P95_BUDGET_MS)})"
    )
    print(
        f"concurrent: {CLIENTS} clients x {DRAWINGS_PER_CLIENT} drawings: {correct}/{total} "
        f"correct, {len(errors)} lost, {seconds:.1f} s, {total / seconds:.1f} drawings/s; "
        f"{verdict(correct == total and not errors)}"
    )
    for error in sorted(set(errors)):
        print(f"  lost: {errors.count(error)} x {error}")
    print(
        f"memory: {rss_warm:.0f} MB resident after warm-up, {rss_after:.0f} MB after the load, "
        f"peak {rss_peak:.0f} MB; {verdict(max(rss_warm, rss_after) <= RSS_BUDGET_MB)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
