"""Shared fixtures. MNIST is read from MNIST_DIR (CI: ../shared/mnist); tests never download."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import knn
from webapp.launcher import Server, serving

APP_START_TIMEOUT = 300  # seconds; the first start builds the model cache on a shared machine


def mnist_dir() -> str:
    if not os.environ.get("MNIST_DIR"):
        raise RuntimeError("set MNIST_DIR to the folder with the four MNIST files to run the tests")
    return os.environ["MNIST_DIR"]


@pytest.fixture(scope="session")
def mnist() -> knn.MNIST:
    """The MNIST dataset from MNIST_DIR."""
    return knn.load_mnist(mnist_dir(), download=False)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python app.py`` serving the MNIST model on a free port, its cache in a temporary folder.

    The first start builds the model cache (seconds to a minute on a slow machine).
    """
    mnist_dir()
    folder = tmp_path_factory.mktemp("app")
    env = {"XDG_CACHE_HOME": str(folder), "APP_AUTH": ""}
    args = ["app.py", "--cache-dir", str(folder / "cache")]
    with serving(args, folder / "app.log", env, APP_START_TIMEOUT) as server:
        yield server


@pytest.fixture(scope="session")
def app_url(app_server: Server) -> str:
    return app_server.url
