"""Shared fixtures. MNIST is read from MNIST_DIR (CI: ../shared/mnist); tests never download."""

from __future__ import annotations

import os

import pytest

import knn


@pytest.fixture(scope="session")
def mnist() -> knn.MNIST:
    """The MNIST dataset from MNIST_DIR."""
    if not os.environ.get("MNIST_DIR"):
        raise RuntimeError("set MNIST_DIR to the folder with the four MNIST files to run the tests")
    return knn.load_mnist(os.environ["MNIST_DIR"], download=False)
