"""Serving the page: Gradio's server with this app's limits, login and clean shutdown."""

from __future__ import annotations

import hashlib
import hmac
import signal
from collections.abc import Callable

import gradio as gr
from PIL import Image
from starlette.middleware import Middleware

from webapp.guard import Guard
from webapp.page import ASSETS, CSS
from webapp.settings import (
    MAX_BODY_BYTES,
    MAX_FILES_PER_UPLOAD,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    UPLOAD_QUOTA_BYTES,
    Settings,
)


def password_check(user: str, password: str) -> Callable[[str, str], bool]:
    """Gradio's auth callable for one login, compared in constant time (digests of equal
    length, both compared whatever the first gives)."""
    expected = (digest(user), digest(password))

    def check(given_user: str, given_password: str) -> bool:
        same_user = hmac.compare_digest(digest(given_user), expected[0])
        same_password = hmac.compare_digest(digest(given_password), expected[1])
        return same_user & same_password

    return check


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def stop_on_sigterm() -> None:
    """SIGTERM (how services and containers stop a process) ends the app as Ctrl+C does, so
    Gradio's shutdown and the clean-up at exit run."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def serve(demo: gr.Blocks, settings: Settings) -> None:
    """Serve ``demo`` until interrupted (Ctrl+C or SIGTERM)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # anything Pillow opens refuses past the app's limit
    stop_on_sigterm()
    guard = Middleware(
        Guard,
        max_body=MAX_BODY_BYTES,
        max_files=MAX_FILES_PER_UPLOAD,
        upload_quota=UPLOAD_QUOTA_BYTES,
        users=(settings.auth[0],) if settings.auth else (),
    )
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        auth=password_check(*settings.auth) if settings.auth else None,
        max_file_size=MAX_UPLOAD_BYTES,
        allowed_paths=[str(ASSETS)],
        css=CSS,
        app_kwargs={"middleware": [guard]},
    )
