"""Shared fixtures. MNIST is read from MNIST_DIR (CI: ../shared/mnist); tests never download."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import knn

ROOT = Path(__file__).resolve().parent.parent
APP_START_TIMEOUT = 300  # seconds; the first start builds the model cache on a shared machine


@pytest.fixture(scope="session")
def mnist() -> knn.MNIST:
    """The MNIST dataset from MNIST_DIR."""
    if not os.environ.get("MNIST_DIR"):
        raise RuntimeError("set MNIST_DIR to the folder with the four MNIST files to run the tests")
    return knn.load_mnist(os.environ["MNIST_DIR"], download=False)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python app.py`` serving the MNIST model on a free port, its cache in a temporary folder.

    The first start builds the model cache (seconds to a minute on a slow machine); the fixture
    polls the page until it answers and fails with the app's output if it exits or never does.
    """
    if not os.environ.get("MNIST_DIR"):
        raise RuntimeError("set MNIST_DIR to the folder with the four MNIST files to run the tests")
    folder = tmp_path_factory.mktemp("app")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "XDG_CACHE_HOME": str(folder)}
    env.pop("APP_AUTH", None)
    command = [sys.executable, "app.py", "--port", str(port), "--cache-dir", str(folder / "cache")]
    with open(folder / "app.log", "wb") as log:
        app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + APP_START_TIMEOUT
            while not _answers(url):
                if app.poll() is not None or time.monotonic() > deadline:
                    output = (folder / "app.log").read_text(errors="replace")
                    raise RuntimeError(f"app.py did not start serving {url}:\n{output}")
                time.sleep(0.5)
            yield url
        finally:
            app.terminate()
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
