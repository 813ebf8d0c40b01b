"""MNIST: find the four IDX files, download them if need be, read them with their headers checked.

Where the files come from, first match wins:

1. an explicit ``data_dir`` argument (``--data-dir`` on every command);
2. the ``MNIST_DIR`` environment variable;
3. the per-user cache, ``$XDG_CACHE_HOME/draw-a-digit/mnist`` (``~/.cache/...`` by default);
4. a download into that cache from one of the public mirrors, checked against the sha256 of each
   file's decompressed content.

A folder named by 1 or 2 must hold all four files: a wrong path is an error, not a fallback.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from knn.storage import atomic_write, default_cache_dir, sha256_of_file

#: The four files by role, with the sha256 of their decompressed content (the canonical release).
FILES: dict[str, tuple[str, str]] = {
    "train_images": (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}

#: Public mirrors serving the gzip files under their canonical names, tried in order.
MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

_IDX_DTYPES = {0x08: np.dtype(np.uint8)}


class MNISTError(Exception):
    """Base class of the errors raised while finding, fetching or reading MNIST."""


class MNISTNotFoundError(MNISTError, FileNotFoundError):
    """The MNIST files are nowhere to be found and could not be downloaded."""


class MNISTFolderError(MNISTNotFoundError):
    """A folder the user named (``data_dir`` or ``MNIST_DIR``) lacks the files: a mistake to
    report, never a reason to fall back to other data."""


class MNISTFormatError(MNISTError, ValueError):
    """A file is not a valid IDX file of the kind expected (bad header, truncated, corrupt)."""


class MNISTChecksumError(MNISTError, ValueError):
    """A downloaded file's content differs from the canonical MNIST release."""


@dataclass(frozen=True)
class MNIST:
    """The dataset: images uint8 (n, 28, 28), 0 paper and 255 ink; labels uint8 (n,) in 0..9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    paths: dict[str, Path]


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzip or raw) into an array of the shape its header declares.

    Raises :class:`MNISTFormatError`, naming the file, if the header or the length is wrong.
    """
    path = Path(path)
    try:
        raw = _read_bytes(path)
    except (OSError, EOFError, zlib.error) as err:
        raise MNISTFormatError(f"{path}: cannot be read as gzip or raw IDX ({err})") from err
    return parse_idx(raw, name=str(path))


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file: a 4-byte magic (0, 0, dtype, ndim), ndim sizes, the data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise MNISTFormatError(f"{name}: not an IDX file (bad magic number)")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in _IDX_DTYPES:
        raise MNISTFormatError(f"{name}: unsupported IDX data type 0x{dtype_code:02x}")
    if ndim not in (1, 3):
        raise MNISTFormatError(f"{name}: expected 1 (labels) or 3 (images) dimensions, got {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MNISTFormatError(f"{name}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise MNISTFormatError(
            f"{name}: header declares {shape} ({expected} bytes) but the file has {len(raw)} bytes"
            + (" (truncated)" if len(raw) < expected else "")
        )
    return np.frombuffer(raw, dtype=_IDX_DTYPES[dtype_code], offset=header).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array of 1 (labels) or 3 (images) dimensions."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError(
            f"IDX files hold uint8 arrays of 1 or 3 dimensions, got {array.dtype} {array.shape}"
        )
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as a gzip IDX file, atomically (readable back by :func:`read_idx`)."""
    with atomic_write(path) as f:
        f.write(gzip.compress(idx_bytes(array), mtime=0))


def find_mnist(data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """The folder holding all four MNIST files, searched in the order this module describes."""
    for source, folder in (("data_dir", data_dir), ("MNIST_DIR", os.environ.get("MNIST_DIR"))):
        if folder:
            try:
                mnist_files(folder)
            except MNISTNotFoundError as err:
                raise MNISTFolderError(f"{source}: {err}") from None
            return Path(folder)
    cached = default_cache_dir() / "mnist"
    if all(_file_in(cached, name) is not None for name, _ in FILES.values()):
        return cached
    if download:
        try:
            return download_mnist(cached)
        except (urllib.error.URLError, OSError) as err:
            reason = f"the download failed ({err})"
    else:
        reason = "downloading is turned off"
    raise MNISTNotFoundError(
        f"MNIST was not found and {reason}. Provide the four IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte, gzip or raw) in one of three ways: pass --data-dir DIR "
        "(data_dir=DIR), set the MNIST_DIR environment variable, or put them in "
        f"{cached} (where a download with network access puts them)."
    )


def load_mnist(data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> MNIST:
    """Find and read MNIST, checking that images and labels agree in count."""
    paths = mnist_files(find_mnist(data_dir, download=download))
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1:
            raise MNISTFormatError(
                f"{paths[f'{split}_images']} must hold images and {paths[f'{split}_labels']} labels"
            )
        if len(images) != len(labels):
            raise MNISTFormatError(
                f"{paths[f'{split}_images']} has {len(images)} images but "
                f"{paths[f'{split}_labels']} has {len(labels)} labels"
            )
        if labels.size and labels.max() > 9:
            raise MNISTFormatError(f"{paths[f'{split}_labels']}: labels must be digits 0..9")
    return MNIST(**arrays, paths=paths)


def mnist_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The path of each of the four files in ``folder`` by role (gzip or raw)."""
    paths = {role: _file_in(Path(folder), name) for role, (name, _) in FILES.items()}
    missing = [FILES[role][0] for role, path in paths.items() if path is None]
    if missing:
        raise MNISTNotFoundError(f"{folder} lacks {', '.join(missing)} (or .gz)")
    return paths  # type: ignore[return-value]


def file_checksums(paths: dict[str, Path]) -> dict[str, str]:
    """sha256 of each file as it lies on disk: cheap to compute, changes whenever a file does."""
    return {role: sha256_of_file(path) for role, path in paths.items()}


def download_mnist(dest: str | os.PathLike[str], mirrors: tuple[str, ...] | None = None) -> Path:
    """Download the four gzip files into ``dest``, trying each mirror (default ``MIRRORS``) in turn.

    Each file is checked against the sha256 of its decompressed content before it is renamed into
    place; a file that fails on every mirror raises and leaves nothing behind.
    """
    dest = Path(dest)
    for name, sha256 in FILES.values():
        if _file_in(dest, name) is not None:
            continue
        errors: list[Exception] = []
        for mirror in mirrors or MIRRORS:
            try:
                payload = _fetch(mirror + name + ".gz")
                _check_content(payload, sha256, name)
            except (OSError, MNISTChecksumError) as err:
                errors.append(err)
                continue
            with atomic_write(dest / f"{name}.gz") as f:
                f.write(payload)
            break
        else:
            detail = f"could not download {name}.gz: " + "; ".join(map(str, errors))
            if any(isinstance(err, MNISTChecksumError) for err in errors):
                raise MNISTChecksumError(detail)
            raise OSError(detail)
    return dest


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        buffer = io.BytesIO()
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                buffer.write(block)
                bar.update(len(block))
    return buffer.getvalue()


def _check_content(payload: bytes, sha256: str, name: str) -> None:
    try:
        actual = hashlib.sha256(gzip.decompress(payload)).hexdigest()
    except (OSError, EOFError, zlib.error) as err:
        raise MNISTChecksumError(f"{name}: not a valid gzip file ({err})") from err
    if actual != sha256:
        raise MNISTChecksumError(f"{name}: sha256 {actual} of the content, expected {sha256}")


def _file_in(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=f) as unzipped:
                return unzipped.read()
        return f.read()


__all__ = [
    "FILES",
    "MIRRORS",
    "MNIST",
    "MNISTChecksumError",
    "MNISTError",
    "MNISTFolderError",
    "MNISTFormatError",
    "MNISTNotFoundError",
    "download_mnist",
    "file_checksums",
    "find_mnist",
    "idx_bytes",
    "load_mnist",
    "mnist_files",
    "parse_idx",
    "read_idx",
    "write_idx",
]
