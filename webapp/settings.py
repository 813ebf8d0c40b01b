"""What the app is set to: the command line, and the page's sizes and the server's limits.

Importing this module does not import Gradio, so ``app.py`` can prepare the app's own folders
before Gradio reads where they are.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from knn.cli import add_model_options, model_params
from knn.examples import FILE_NAME
from knn.params import MAX_NEIGHBOURS, ModelParams

AUTH_ENV = "APP_AUTH"  # USER:PASSWORD from the environment keeps the password out of `ps`

# The page
CANVAS_SIDE = 400  # pixels, the sketchpad's canvas and its size on the page
BRUSH_SIZE = 12  # pixels; strokes about as thick, relative to the digit, as MNIST's
NUMBER_CANVAS = (900, 300)  # pixels: room for about eight digits written side by side
PREVIEW_SCALE = 10  # the 28x28 model input is shown 280x280, pixels kept square by CSS
THUMBNAIL_SCALE = 4  # neighbours are shown 112x112
#: Answers a visitor lets stand (they clear the canvas without correcting them) join their
#: examples, in memory only: the latest this many. On the writers benchmark's tuning seeds
#: (``python -m benchmarks.writers``) 25 gave errors x0.368, 50 and 100 x0.349.
MAX_ACCEPTED = 50

# The server: what one request and one visitor may cost it
CONCURRENCY = 4  # classify requests served at once; the model is read-only
QUEUE_SIZE = 64  # requests waiting beyond those; more are refused rather than kept waiting
MAX_UPLOAD_BYTES = 5 * 2**20  # one uploaded image; a phone photo of a digit fits
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 2**16  # any request body: one upload and its form fields
MAX_FILES_PER_UPLOAD = 1  # the page and the API send one image at a time
UPLOAD_QUOTA_BYTES = 50 * 2**20  # uploads per client in 10 minutes (ten photos); all clients
# together may send ten times that, so the uploads folder stays under about 0.5 GB an hour
MAX_PIXELS = 16_000_000  # an image's pixels, checked before decoding (a 16 MP phone photo)
FILE_LIFETIME = 3600  # seconds uploads and Gradio's copies of files are kept


@dataclass(frozen=True)
class Settings:
    """The command line, parsed and checked."""

    host: str
    port: int
    share: bool
    auth: tuple[str, str] | None
    data_dir: str | None
    cache_dir: str | None
    n_train: int | None
    download: bool
    params: ModelParams
    store: str | None  # the corrections database; None: examples.sqlite in the cache folder
    extra_examples: str | None  # reviewed examples served to everyone


def parse_args(argv: list[str] | None = None) -> Settings:
    """Settings from the command line (``argv``, default ``sys.argv[1:]``) and the environment."""
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Draw a digit; a from-scratch kNN says what it is, how sure it is and why.",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on; 0.0.0.0 for the local network (default: $GRADIO_SERVER_NAME "
        "or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )
    parser.add_argument("--share", action="store_true", help="also serve a public gradio.live link")
    parser.add_argument(
        "--auth",
        default=os.environ.get(AUTH_ENV),
        metavar="USER:PASSWORD",
        help=f"ask visitors for this login (default: ${AUTH_ENV}, which keeps it out of `ps`)",
    )
    parser.add_argument(
        "--n-train",
        type=int,
        help="use only the first N MNIST training digits: faster answers, less memory, a little "
        "less accurate",
    )
    parser.add_argument(
        "--data-dir", help="folder with the four MNIST files (else $MNIST_DIR, ...)"
    )
    parser.add_argument("--cache-dir", help="model cache and evaluation report folder")
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="do not try to download MNIST: if it is not found, serve the offline fallback at once",
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="SQLite file keeping visitors' corrections (default: examples.sqlite in the cache "
        "folder)",
    )
    parser.add_argument(
        "--extra-examples",
        metavar="FOLDER",
        help="reviewed examples served to everyone, as `python -m knn.examples export` writes them",
    )
    add_model_options(parser)
    args = parser.parse_args(argv)
    auth = None
    if args.auth:
        user, colon, password = args.auth.partition(":")
        if not (colon and user and password):
            parser.error("--auth takes USER:PASSWORD, both non-empty")
        auth = (user, password)
    if args.n_train is not None and args.n_train < MAX_NEIGHBOURS:
        parser.error(f"--n-train must be at least {MAX_NEIGHBOURS}, the most voters k can ask for")
    return Settings(
        host=args.host,
        port=args.port,
        share=args.share,
        auth=auth,
        data_dir=args.data_dir,
        cache_dir=args.cache_dir,
        n_train=args.n_train,
        download=not args.no_download,
        params=model_params(parser, args),
        store=args.store or (str(Path(args.cache_dir) / FILE_NAME) if args.cache_dir else None),
        extra_examples=args.extra_examples,
    )
