"""How unlike a digit a drawing is, for ``preprocessing.split_digits`` to choose where to cut.

A candidate cut of a written number is judged by the pieces it makes: a piece holding two
digits, or part of one, lies far from every training digit. The score is the distance to the
nearest training digit beyond part of the typical nearest distance of that digit's class (1s lie
nearer their neighbours than 8s do), in typical distances, squared with its sign: 0 near a
typical digit, 1 about one typical distance beyond, growing fast for what is no digit.

Some such pieces still lie near a digit (two 1s touching look like a 4, the left half of a 0
like a 6). Given misfits (:mod:`knn.misfits`: training digits put together in pairs or cut in
parts) the judge holds them as references and adds ``MISFIT_COST`` per unit by which a piece's
nearest digit is farther than ``MISFIT_RATIO`` of its nearest misfit. The constants were chosen
on numbers made of training digits (``python -m benchmarks.numbers --split train``), never on
the test set.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from knn.cache import load_or_build
from knn.features import FEATURE_VERSION, extract_features
from knn.misfits import MISFIT_VERSION, make_misfits
from knn.model import DigitModel, nearest_references
from knn.storage import default_cache_dir
from preprocessing.pipeline import PIPELINE_VERSION

JUDGE_SHORTLIST = 16  # IDM re-ranks this many: the nearest distance barely moves from a
# shortlist of 64's, at a third of the time
TYPICAL_SAMPLE = 50  # training digits per class whose nearest other digit sets its typical distance
EXCUSED_SHARE = 0.5  # a candidate's nearest distance counts beyond this share of its class's
# typical one (0 and 1 did worse on --split train)
N_MISFITS = 20_000  # half pairs, half parts; 80 MB with their features
MISFIT_SEED = 2026
MISFIT_RATIO = 0.9  # 99% of held-out digits read alone lie nearer a digit than this share of
# their nearest misfit; of adjacent digits read as one piece, 0.4% do
MISFIT_COST = 3.0  # per unit past the ratio (2 did worse on --split train)


class DigitJudge:
    """A ``split_digits`` judge: ``judge(digits)`` takes uint8 (n, 28, 28) candidates (0 paper,
    255 ink) and returns float (n,), lower for more digit-like.

    ``misfits`` (uint8 (m, 28, 28), :func:`knn.misfits.make_misfits`; their deskewed images as
    ``misfit_features`` if cached) are held as references: see the module's docstring;
    :func:`load_judge` makes and caches them. The typical distances are measured on the model's
    own training digits at the first call (1 to 3 seconds), so building a judge costs nothing
    until a number is read.
    """

    def __init__(
        self,
        model: DigitModel,
        misfits: np.ndarray | None = None,
        misfit_features: np.ndarray | None = None,
    ) -> None:
        # Without the deformed copies: the constants above were chosen on the training digits
        # alone, and a number's many candidate pieces cost about 0.65 as much (37 to 49 ms
        # against 60 to 71 ms per 20 pieces, twice each in alternation).
        self.model = model.with_params(shortlist=JUDGE_SHORTLIST, virtual=False)
        if misfits is not None:
            self.model = self.model.with_references(misfits, misfit_features)
        self.misfits = misfits is not None
        self._typical: np.ndarray | None = None
        self._lock = threading.Lock()

    def __call__(self, digits: np.ndarray) -> np.ndarray:
        typical = self.typical()
        if self.misfits:
            (distances, indices), (misfits, _) = self.model.neighbours_and_references(digits)
        else:
            distances, indices = self.model.kneighbors(digits)
        nearest = distances[:, 0] - EXCUSED_SHARE * typical[self.model.labels[indices[:, 0]]]
        unlike = nearest * np.abs(nearest) / float(np.median(typical)) ** 2
        if not self.misfits:
            return unlike
        # Floored at 1 (distances between distinct digits are in the thousands): a candidate
        # that is a misfit costs much, not infinitely, and one that is also a digit costs 0.
        misfit = np.maximum(nearest_references(misfits), 1.0)
        return unlike + MISFIT_COST * np.maximum(0.0, distances[:, 0] / misfit - MISFIT_RATIO)

    def typical(self) -> np.ndarray:
        """For each class 0..9, the median distance from ``TYPICAL_SAMPLE`` of its training
        digits to the nearest other training digit: float (10,)."""
        with self._lock:
            if self._typical is None:
                model, labels = self.model, self.model.labels
                chosen = np.concatenate(
                    [np.flatnonzero(labels == label)[:TYPICAL_SAMPLE] for label in range(10)]
                )
                distances, _ = model.with_params(n_neighbors=2).kneighbors(model.images[chosen])
                self._typical = np.array(
                    [np.median(distances[labels[chosen] == label, 1]) for label in range(10)]
                )
            return self._typical


def load_judge(model: DigitModel, cache_dir: str | os.PathLike[str] | None = None) -> DigitJudge:
    """A judge for ``model`` holding ``N_MISFITS`` misfits made from its training digits,
    cached under ``cache_dir`` (default: the per-user cache) at the first call (about half a
    minute). Keyed by the recipe's version, count and seed, the versions of the drawing pipeline
    and of the features, and a checksum of the training digits and labels they are made from."""
    digest = hashlib.sha256(model.images.tobytes())
    digest.update(model.labels.tobytes())
    fields = {
        "misfits": MISFIT_VERSION,
        "pipeline_version": PIPELINE_VERSION,
        "feature_version": FEATURE_VERSION,
        "n": N_MISFITS,
        "seed": MISFIT_SEED,
        "training_digits": digest.hexdigest(),
    }

    def build() -> dict[str, np.ndarray]:
        images = make_misfits(model.images, N_MISFITS, MISFIT_SEED)
        return {"images": images, "features": extract_features(images)}

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    arrays, _ = load_or_build(root / "misfits", fields, build)
    return DigitJudge(model, arrays["images"], arrays["features"])
