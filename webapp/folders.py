"""The app's own folder for uploads and Gradio's copies of files, deleted when the app stops.

``own_files_folder()`` must run before Gradio is imported: Gradio reads where to put its files
(``GRADIO_TEMP_DIR``) when it is imported and when components and the server are made. The
folder is this process's alone, so shutting down deletes it whole, and no other Gradio app on
the machine shares it. This module does not import Gradio.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

FOLDER_PREFIX = "draw-a-digit-"


def own_files_folder() -> Path:
    """Make this process's folder for uploads and Gradio's copies, point Gradio at it, and
    delete it at exit; folders left by processes that died without cleaning up go too."""
    base = Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(f"{FOLDER_PREFIX}*"):
        pid = stale.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not is_running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=base))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
