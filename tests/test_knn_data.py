"""Reading, finding and downloading MNIST (downloads are served from a local HTTP server)."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import os
import shutil
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from knn import data
from knn.data import MNISTChecksumError, MNISTFormatError, MNISTNotFoundError

SHARED = Path(os.environ.get("MNIST_DIR", "../shared/mnist"))


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fake_mnist(folder: Path, n_train: int = 5, n_test: int = 3, gz: bool = True) -> None:
    """Four small valid IDX files (random content) in ``folder``."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)),
        "train_labels": rng.integers(0, 10, n_train),
        "test_images": rng.integers(0, 256, (n_test, 28, 28)),
        "test_labels": rng.integers(0, 10, n_test),
    }
    for role, array in arrays.items():
        name = data.FILES[role][0]
        payload = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)


def test_parse_idx_reads_declared_shape() -> None:
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    assert np.array_equal(data.parse_idx(idx_bytes(images)), images)
    labels = np.array([3, 1, 4])
    assert np.array_equal(data.parse_idx(idx_bytes(labels)), labels)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x01\x02\x08\x03", "magic"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4, "data type"),
        (b"\x00\x00\x08\x02" + struct.pack(">2I", 1, 1) + b"\x00", "dimensions"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated header"),
        (idx_bytes(np.zeros((2, 2, 2)))[:-1], "truncated"),
        (idx_bytes(np.zeros((2, 2, 2))) + b"\x00", "has 25 bytes"),
    ],
)
def test_parse_idx_rejects_bad_files(raw: bytes, message: str) -> None:
    with pytest.raises(MNISTFormatError, match=message):
        data.parse_idx(raw, name="some-file")


def test_read_idx_gzip_and_raw_agree(tmp_path: Path) -> None:
    array = np.arange(60).reshape(3, 4, 5)
    (tmp_path / "raw").write_bytes(idx_bytes(array))
    (tmp_path / "zipped").write_bytes(gzip.compress(idx_bytes(array)))
    assert np.array_equal(data.read_idx(tmp_path / "raw"), data.read_idx(tmp_path / "zipped"))


def test_truncated_gzip_is_an_error_naming_the_file(tmp_path: Path) -> None:
    payload = gzip.compress(idx_bytes(np.zeros((100, 28, 28))))
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(MNISTFormatError, match=r"train-images-idx3-ubyte\.gz"):
        data.read_idx(bad)


def test_load_mnist_reads_the_real_files(mnist) -> None:
    assert mnist.train_images.shape == (60_000, 28, 28)
    assert mnist.test_images.shape == (10_000, 28, 28)
    assert mnist.train_images.dtype == np.uint8
    assert np.bincount(mnist.train_labels).tolist()[:2] == [5923, 6742]


def test_load_mnist_reads_raw_files(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path, gz=False)
    assert data.load_mnist(tmp_path, download=False).train_images.shape == (5, 28, 28)


def test_images_and_labels_must_agree(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(4))))
    with pytest.raises(MNISTFormatError, match=r"5 images but .* 4 labels"):
        data.load_mnist(tmp_path, download=False)


def test_labels_must_be_digits(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(3, 12))))
    with pytest.raises(MNISTFormatError, match="digits"):
        data.load_mnist(tmp_path, download=False)


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MNIST_DIR, and an empty per-user cache under tmp_path."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_search_order(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, env, cache = (isolated_env / n for n in ("explicit", "env", "xdg/draw-a-digit/mnist"))
    for folder in (explicit, env, cache):
        write_fake_mnist(folder)
    monkeypatch.setenv("MNIST_DIR", str(env))
    assert data.find_mnist(explicit, download=False) == explicit
    assert data.find_mnist(None, download=False) == env
    monkeypatch.delenv("MNIST_DIR")
    assert data.find_mnist(None, download=False) == cache


def test_a_named_folder_without_the_files_is_an_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MNISTNotFoundError, match=r"data_dir: .*lacks train-images"):
        data.find_mnist(isolated_env / "nowhere")
    monkeypatch.setenv("MNIST_DIR", str(isolated_env / "nowhere"))
    with pytest.raises(MNISTNotFoundError, match="MNIST_DIR"):
        data.find_mnist()


def test_offline_and_nothing_found_names_the_three_ways(isolated_env: Path) -> None:
    with pytest.raises(MNISTNotFoundError) as info:
        data.find_mnist(download=False)
    message = str(info.value)
    assert "--data-dir" in message
    assert "MNIST_DIR" in message
    assert str(isolated_env / "xdg" / "draw-a-digit" / "mnist") in message


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on loopback; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_download_tries_the_next_mirror_and_checks_content(tmp_path: Path) -> None:
    good, corrupt, dest = tmp_path / "good", tmp_path / "corrupt", tmp_path / "dest"
    shutil.copytree(SHARED, good, ignore=shutil.ignore_patterns("*.md"))
    write_fake_mnist(corrupt)  # valid files with the wrong content
    with serve(good) as good_url, serve(corrupt) as corrupt_url:
        missing = good_url + "no-such-folder/"
        assert data.download_mnist(dest, mirrors=(missing, corrupt_url, good_url)) == dest
    downloaded = data.load_mnist(dest, download=False)
    reference = data.load_mnist(SHARED, download=False)
    assert np.array_equal(downloaded.test_images, reference.test_images)
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        f"{n}.gz" for n, _ in data.FILES.values()
    )


def test_download_with_only_bad_content_leaves_nothing(tmp_path: Path) -> None:
    corrupt, dest = tmp_path / "corrupt", tmp_path / "dest"
    write_fake_mnist(corrupt)
    with serve(corrupt) as url, pytest.raises(MNISTChecksumError, match="sha256"):
        data.download_mnist(dest, mirrors=(url,))
    assert not dest.exists() or list(dest.iterdir()) == []


def test_find_mnist_downloads_into_the_user_cache(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = isolated_env / "good"
    shutil.copytree(SHARED, good, ignore=shutil.ignore_patterns("*.md"))
    with serve(good) as url:
        monkeypatch.setattr(data, "MIRRORS", (url,))
        folder = data.find_mnist()
    assert folder == isolated_env / "xdg" / "draw-a-digit" / "mnist"
    assert data.load_mnist(download=False).train_images.shape == (60_000, 28, 28)


def test_unreachable_mirrors_give_the_three_ways(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(isolated_env) as url:
        monkeypatch.setattr(data, "MIRRORS", (url + "missing/",))
        with pytest.raises(MNISTNotFoundError, match=r"download failed.*--data-dir"):
            data.find_mnist()
