"""No drawing may kill the process: random and degenerate inputs only ever return or raise.

Pillow 12.3 dies with SIGFPE (not a Python error) on rank filters of size 1, so the inputs
run in a child process, which must exit normally having seen every one of them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

N_INPUTS = 3000

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from PIL import Image
    from preprocessing import to_mnist

    rng = np.random.default_rng(int(sys.argv[1]))

    def shape():
        kind = rng.integers(6)
        if kind == 0:
            return (1, 1)
        if kind == 1:
            return (1, int(rng.integers(1, 20_000)))
        if kind == 2:
            return (int(rng.integers(1, 20_000)), int(rng.integers(1, 3)))
        return tuple(int(side) for side in rng.integers(1, 400, size=2))

    def content(size):
        kind = rng.integers(7)
        if kind == 0:
            return rng.integers(0, 256, size, dtype=np.uint8)  # noise
        if kind == 1:
            values = np.full(size, rng.integers(256), np.uint8)
            index = tuple(rng.integers(0, side) for side in size)
            values[index] = rng.integers(256)  # one pixel
            return values
        if kind == 2:
            values = np.full(size, 255, np.uint8)  # a line, any thickness, any place
            axis = rng.integers(2)
            start = rng.integers(0, size[axis])
            stop = start + rng.integers(1, size[axis] - start + 1)
            values[(slice(start, stop), slice(None))[:: 1 if axis == 0 else -1]] = 0
            return values
        if kind == 3:
            return (rng.random(size) < rng.random() * 0.05).astype(np.uint8) * 255  # specks
        if kind == 4:
            return np.full(size, rng.integers(256), np.uint8)  # blank
        if kind == 5:
            return ((np.indices(size).sum(axis=0) % 2) * 255).astype(np.uint8)  # checkers
        return (rng.integers(0, 2, size) * rng.integers(1, 256)).astype(np.uint8)

    def drawing():
        gray = content(shape())
        kind = rng.integers(8)
        if kind == 0:
            return gray
        if kind == 1:
            return gray >= 128
        if kind == 2:
            return gray.astype(np.float32) / 255
        if kind == 3:
            return np.repeat(gray[..., None], 3, axis=2)
        if kind == 4:
            alpha = content(gray.shape)
            return np.dstack([gray, gray, gray, alpha])
        if kind == 5:
            return Image.fromarray(gray).convert(str(rng.choice(["1", "P", "LA", "I", "F"])))
        if kind == 6:
            layer = np.dstack([gray, gray, gray, content(gray.shape)])
            background = None if rng.random() < 0.5 else np.full_like(layer, 255)
            return {"background": background, "layers": [layer], "composite": None}
        return gray[..., None]

    returned = raised = 0
    for _ in range(int(sys.argv[2])):
        value = drawing()
        try:
            digit = to_mnist(value)
        except (ValueError, TypeError):
            raised += 1
        else:
            assert digit.shape == (28, 28) and digit.dtype == np.uint8
            returned += 1
    print(returned, raised)
    """
)


def test_random_and_degenerate_inputs_never_kill_the_process():
    root = Path(__file__).resolve().parent.parent
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "0", str(N_INPUTS)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, f"child exited with {child.returncode}: {child.stderr[-2000:]}"
    returned, raised = map(int, child.stdout.split())
    assert returned + raised == N_INPUTS
    assert returned > N_INPUTS // 4
