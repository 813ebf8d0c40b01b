"""Debian's Chromium driven by Playwright, as the browser tests and the browser benchmark use it.

Playwright cannot download a browser here, so it drives ``/usr/bin/chromium`` (Debian's
package), as root without a sandbox and without a GPU, with its background connections off.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEPS = 6  # pointer moves per straight segment; each redraws the canvas, slow without a GPU

Point = tuple[float, float]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def paper(page: Any, pad: str, aspect: float = 1.0, widest: float = 400) -> tuple[float, ...]:
    """(left, top, width, height) on screen of the paper of the pad ``#pad``: the largest box of
    this aspect (width / height), at most ``widest`` wide, centred in its canvas."""
    box = page.locator(f"#{pad} canvas").first.bounding_box()
    assert box is not None, f"#{pad} has no canvas"
    width = min(box["width"], aspect * box["height"], widest)
    height = width / aspect
    return (
        box["x"] + (box["width"] - width) / 2,
        box["y"] + (box["height"] - height) / 2,
        width,
        height,
    )


def path(points: list[Point]) -> list[Point]:
    """The stroke through ``points`` in STEPS small moves per segment, as a hand moves."""
    moves = [points[0]]
    for (x0, y0), (x1, y1) in pairwise(points):
        moves += [
            (x0 + (x1 - x0) * step / STEPS, y0 + (y1 - y0) * step / STEPS)
            for step in range(1, STEPS + 1)
        ]
    return moves


def draw(page: Any, points: list[Point], pad: str = "sketchpad", **area: float) -> None:
    """One mouse stroke through ``points`` (fractions of the paper of ``#pad``)."""
    left, top, width, height = paper(page, pad, **area)
    moves = [(left + x * width, top + y * height) for x, y in path(points)]
    page.mouse.move(*moves[0])
    page.mouse.down()
    for x, y in moves[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def touch(page: Any, points: list[Point], pad: str = "sketchpad", **area: float) -> None:
    """One finger stroke through ``points``, sent as a phone sends touch events."""
    left, top, width, height = paper(page, pad, **area)
    moves = [{"x": left + x * width, "y": top + y * height} for x, y in path(points)]
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": moves[:1]})
    for move in moves[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [move]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


SETTLE_JS = """([selector, quiet]) => {
    const html = document.querySelector(selector)?.innerHTML ?? "";
    const seen = (window.__settle ??= {});
    if (seen[selector]?.html !== html) seen[selector] = {html, since: performance.now()};
    return performance.now() - seen[selector].since >= quiet;
}"""


def settle(page: Any, selector: str, quiet_ms: float = 5000) -> None:
    """Wait until ``selector``'s content has not changed for ``quiet_ms``: a pad may report a
    stroke twice, the first time before its last moves are drawn, and the second report is
    sent when the first is answered, so seeing the first answer is not seeing the last."""
    page.wait_for_function(SETTLE_JS, arg=[selector, quiet_ms], polling=100)
