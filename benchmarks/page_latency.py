"""Pen up to the page's last update, in headless Chromium: our page beside a do-nothing one.

    MNIST_DIR=../shared/mnist python -m benchmarks.page_latency [--drawings 20]

Serves ``python app.py`` and a do-nothing page with the same sketchpad and the same event
settings, answering a constant label and image. In one browser, the same strokes are drawn with
the mouse on each page in turn (the canvas cleared between drawings). A MutationObserver on the
output elements records the time of their last change; the figure is that time minus the
moment the pen left the canvas (``pointerup``), once the outputs have been quiet for a second.
Target: ours at most 60 ms over the do-nothing page's median.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from webapp import chromium
from webapp.launcher import serving

STROKES = {
    "7": [(0.25, 0.2), (0.72, 0.2), (0.42, 0.85)],
    "1": [(0.5, 0.15), (0.52, 0.85)],
    "4": [(0.6, 0.85), (0.6, 0.15), (0.25, 0.6), (0.75, 0.6)],
}
QUIET_MS = 1000  # the outputs count as settled after this long without a change

WATCH = """
ids => {
  window.marks = {up: 0, last: 0, changes: 0};
  const seen = () => { window.marks.last = performance.now(); window.marks.changes += 1; };
  const observer = new MutationObserver(seen);
  for (const id of ids) {
    observer.observe(document.getElementById(id),
                     {subtree: true, childList: true, attributes: true, characterData: true});
  }
  document.addEventListener("pointerup", () => {
    window.marks.up = performance.now();
    window.marks.changes = 0;
  }, true);
}
"""


def serve_baseline(port: int) -> None:
    """Child process: the same sketchpad and event settings, a constant label and image."""
    import gradio as gr
    from PIL import Image

    from webapp.inputs import pad_options
    from webapp.page import SELECT_BRUSH
    from webapp.settings import CANVAS_SIDE

    label = {str(d): 0.1 for d in range(10)}
    image = Image.new("L", (28, 28))

    def answer(drawing: object) -> tuple[dict[str, float], Image.Image]:
        return label, image

    with gr.Blocks() as demo:
        with gr.Row():
            sketchpad = gr.Sketchpad(elem_id="sketchpad", **pad_options((CANVAS_SIDE, CANVAS_SIDE)))
            with gr.Column():
                outputs = [gr.Label(elem_id="prediction"), gr.Image(elem_id="preview")]
        sketchpad.change(
            answer, sketchpad, outputs, trigger_mode="always_last", show_progress="hidden"
        )
        demo.load(None, js=SELECT_BRUSH)
        sketchpad.clear(None, js=SELECT_BRUSH)
    demo.queue().launch(server_port=port)


def settle(page, timeout: float = 60) -> float:
    """Wait until the outputs changed and then stayed quiet; ms from pen up to their last change."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        marks = page.evaluate(
            "[window.marks.changes, window.marks.up, window.marks.last, performance.now()]"
        )
        changes, up, last, now = marks
        if changes and now - last >= QUIET_MS:
            return last - up
        time.sleep(0.05)
    raise TimeoutError("the page did not update")


def clear(page) -> None:
    page.locator("#sketchpad button[aria-label='Clear canvas']").click()
    time.sleep(QUIET_MS / 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drawings", type=int, default=20, help="drawings on each page")
    parser.add_argument("--cache-dir", help="the app's model cache (default: the user cache)")
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.port)
        return 0

    from playwright.sync_api import sync_playwright

    logs = Path(tempfile.mkdtemp(prefix="page-latency-"))
    ours_args = ["app.py", "--no-download"] + (
        ["--cache-dir", args.cache_dir] if args.cache_dir else []
    )
    baseline_args = ["-m", "benchmarks.page_latency", "--serve-baseline"]
    watched = {
        "ours": ["prediction", "votes", "preview", "neighbours"],
        "baseline": ["prediction", "preview"],
    }
    with (
        serving(ours_args, logs / "app.log") as ours,
        serving(baseline_args, logs / "baseline.log") as baseline,
        sync_playwright() as playwright,
    ):
        browser = chromium.launch(playwright)
        pages = {}
        for name, server in (("baseline", baseline), ("ours", ours)):
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server.url)
            page.locator("#sketchpad canvas").first.wait_for()
            time.sleep(1)
            page.evaluate(WATCH, watched[name])
            pages[name] = page
        times: dict[str, list[float]] = {name: [] for name in pages}
        for i in range(args.drawings + 2):  # the first two of each page warm up
            strokes = list(STROKES.values())[i % len(STROKES)]
            for name, page in pages.items():
                chromium.draw(page, strokes)
                ms = settle(page)
                if i >= 2:
                    times[name].append(ms)
                clear(page)
        browser.close()

    median = {name: float(np.median(t)) for name, t in times.items()}
    for name in ("baseline", "ours"):
        print(
            f"{name:>8}: pen up to last update median {median[name]:.0f} ms, "
            f"p95 {np.percentile(times[name], 95):.0f} ms over {len(times[name])} drawings"
        )
    added = median["ours"] - median["baseline"]
    print(
        f"   added: median {added:+.0f} ms ({'ok' if added <= 60 else 'OVER BUDGET'}: target +60)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
