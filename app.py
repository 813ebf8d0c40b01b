"""Draw a digit; a from-scratch kNN says what it is, how sure it is and why: ``python app.py``.

Reads the options (``--help``), loads the MNIST model (or the offline fallback), builds the page
and serves it. ``demo`` is defined at import, as Hugging Face Spaces and ``gradio app.py`` expect.
"""

from __future__ import annotations

import logging
import sys

from webapp.allocator import return_freed_arrays
from webapp.folders import own_files_folder
from webapp.settings import parse_args

settings = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
own_files_folder()  # before Gradio is imported: it reads where its files go then
return_freed_arrays()  # before the model loads and frees its working arrays

import knn  # noqa: E402
from knn.evaluate import load_report  # noqa: E402
from knn.examples import ExampleStore, ExampleStoreError  # noqa: E402
from webapp.page import build_demo  # noqa: E402
from webapp.server import serve  # noqa: E402
from webapp.view import OFFLINE_NOTICE  # noqa: E402

logging.basicConfig(level=logging.INFO, format="%(message)s")
log = logging.getLogger("draw-a-digit")
try:
    store = ExampleStore(settings.store)
    model, missing = knn.load_model_or_fallback(
        settings.data_dir,
        settings.cache_dir,
        settings.n_train,
        settings.download,
        settings.params,
        settings.extra_examples,
    )
except (knn.MNISTError, ExampleStoreError) as err:  # a wrong folder, a corrupt file: say which
    raise SystemExit(f"error: {err}") from None
if missing:
    log.warning("%s\n(%s)", OFFLINE_NOTICE.replace("**", ""), missing)
log.info("Model ready: %s, %d training digits", model.dataset, len(model.labels))
log.info("Corrections are kept in %s", store.path)
demo = build_demo(
    model,
    store,
    OFFLINE_NOTICE if missing else None,
    load_report(settings.cache_dir),
    knn.load_judge(model, settings.cache_dir),
)

if __name__ == "__main__":
    serve(demo, settings)
