"""Serving the page: Gradio's server with this app's limits."""

from __future__ import annotations

import gradio as gr

from webapp.page import ASSETS, CSS
from webapp.settings import MAX_UPLOAD_BYTES, Settings


def serve(demo: gr.Blocks, settings: Settings) -> None:
    """Serve ``demo`` until interrupted."""
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        auth=settings.auth,
        max_file_size=MAX_UPLOAD_BYTES,
        allowed_paths=[str(ASSETS)],
        css=CSS,
    )
