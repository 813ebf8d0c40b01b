"""A folder of NumPy arrays with a JSON description, published atomically and loaded without pickle.

An entry is one folder ``<root>/<key>/`` holding ``<name>.npy`` files and ``meta.json``. It is
written in a temporary folder beside it and renamed into place in one step, so a reader sees a
complete entry or none, and two processes building the same entry at once cannot corrupt it: the
first rename wins and the other process drops its copy. An entry that fails to load is reported,
moved out of the way and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Arrays = dict[str, np.ndarray]


class CacheWarning(UserWarning):
    """A cache entry was unreadable and is being rebuilt."""


def cache_key(fields: dict[str, Any]) -> str:
    """A short stable name for everything that determines an entry's content."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]


def load_or_build(
    root: Path, fields: dict[str, Any], build: Callable[[], Arrays]
) -> tuple[Arrays, Path]:
    """The arrays of the entry for ``fields`` under ``root``, building and saving them if needed.

    Returns the arrays and the entry's folder.
    """
    folder = root / cache_key(fields)
    if folder.exists():
        try:
            return _load(folder, fields), folder
        except (OSError, ValueError, KeyError, TypeError) as err:
            warnings.warn(
                f"model cache {folder} is unreadable ({err}); rebuilding it",
                CacheWarning,
                stacklevel=2,
            )
            _discard(folder)
    arrays = build()
    _publish(folder, arrays, fields)
    return arrays, folder


def _load(folder: Path, fields: dict[str, Any]) -> Arrays:
    meta = json.loads((folder / "meta.json").read_text())
    if meta["fields"] != fields:
        raise ValueError("its description does not match its key")
    arrays = {}
    for name, spec in meta["arrays"].items():
        array = np.load(folder / f"{name}.npy", allow_pickle=False)
        if list(array.shape) != spec["shape"] or str(array.dtype) != spec["dtype"]:
            raise ValueError(f"{name}.npy has shape {array.shape} {array.dtype}, expected {spec}")
        arrays[name] = array
    return arrays


def _publish(folder: Path, arrays: Arrays, fields: dict[str, Any]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
        meta = {
            "fields": fields,
            "arrays": {
                n: {"shape": list(a.shape), "dtype": str(a.dtype)} for n, a in arrays.items()
            },
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=1))
        for path in staging.iterdir():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        os.rename(staging, folder)
    except OSError:
        if not folder.exists():
            raise
        # Another process published the same entry first; its copy is as good as ours.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _discard(folder: Path) -> None:
    """Move a bad entry aside (atomically, so a concurrent reader never sees half of it), then
    delete it."""
    trash = Path(tempfile.mkdtemp(prefix=f".{folder.name}.bad.", dir=folder.parent))
    with contextlib.suppress(OSError):
        os.rename(folder, trash / folder.name)
    shutil.rmtree(trash, ignore_errors=True)
