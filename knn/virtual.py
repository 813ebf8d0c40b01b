"""Virtual training digits: deformed copies of the deskewed training digits, searched as more rows.

A query whose writer draws thicker, thinner or a little rotated than the nearest training digit
is nearer to a deformed copy of it ("virtual samples", Decoste and Schoelkopf 2002). Each copy
costs memory only for its principal components (324 bytes a row in the shortlist search); its
image is made again from (training digit, deformation) whenever it reaches a shortlist, which
costs a few dozen small warps per query.

Row ``j`` of :class:`VirtualDigits` is copy ``j // n`` of training digit ``j % n``: copy 0 is the
digit itself, copy ``i`` is deformed by ``DEFORMATIONS[i - 1]``.
"""

from __future__ import annotations

import numpy as np

from knn.features import IMAGE_SHAPE, sample_bilinear

#: Stroke blend of thickening and thinning: half way to a 4-neighbour dilation (erosion), about
#: half a pixel of stroke width; a full pixel makes 3s into 8s.
STROKE_BLEND = 0.5
#: Rotation of the rotated copies, in degrees: about the spread of slants deskewing leaves.
ROTATION = 7.0

#: The deformations, in the order of the copies. Chosen on the validation split (see
#: ``ModelParams.virtual``): thick/thin and rotations helped, 10% scalings did not.
DEFORMATIONS = ("thicken", "thin", "rotate_left", "rotate_right")


def deform(images: np.ndarray, deformation: str) -> np.ndarray:
    """One deformation (a name in :data:`DEFORMATIONS`) of images float (n, 28, 28), 0 paper:
    float32 (n, 28, 28)."""
    images = np.asarray(images, dtype=np.float32)
    if deformation == "thicken":
        return (1 - STROKE_BLEND) * images + STROKE_BLEND * _cross(images, np.maximum)
    if deformation == "thin":
        return (1 - STROKE_BLEND) * images + STROKE_BLEND * _cross(images, np.minimum)
    if deformation == "rotate_left":
        return rotate(images, ROTATION)
    if deformation == "rotate_right":
        return rotate(images, -ROTATION)
    raise ValueError(f"deformation must be one of {DEFORMATIONS}, got {deformation!r}")


def rotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """Images (n, h, w) rotated anticlockwise about their centre, bilinear: float32 (n, h, w)."""
    _, h, w = images.shape
    cr, cc = (h - 1) / 2, (w - 1) / 2
    rows = np.arange(h, dtype=np.float32)[:, None] - cr
    cols = np.arange(w, dtype=np.float32)[None, :] - cc
    cos, sin = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    # Output pixel (r, c) samples the input at the point the rotation carries onto it, the same
    # point for every image.
    src_r = (cr + cos * rows - sin * cols).astype(np.float32)[None]
    src_c = (cc + sin * rows + cos * cols).astype(np.float32)[None]
    return sample_bilinear(images, src_r, src_c)


def _cross(images: np.ndarray, pick: np.ufunc) -> np.ndarray:
    """The max (dilation) or min (erosion) of each pixel and its 4 neighbours; outside is paper."""
    p = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return pick.reduce(
        [p[:, 1:-1, 1:-1], p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]]
    )


class VirtualDigits:
    """The training digits and their deformed copies as one set of rows, made on demand.

    features : float (n, 784), the deskewed training digits (float16 as a ``TrainingIndex``
    holds them); deformations : names from
    :data:`DEFORMATIONS`. ``virtual[rows]`` gives float32 (len(rows), 28, 28) images, as
    :func:`knn.rerank.rerank_idm` takes references.
    """

    def __init__(self, features: np.ndarray, deformations: tuple[str, ...]) -> None:
        self.features = features
        self.deformations = deformations
        self.n_digits = len(features)

    def __len__(self) -> int:
        return self.n_digits * (1 + len(self.deformations))

    def owners(self, rows: np.ndarray) -> np.ndarray:
        """The training digit each row is a copy of."""
        return np.asarray(rows) % self.n_digits

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        copies, digits = np.divmod(rows, self.n_digits)
        out = self.features[digits].reshape(-1, *IMAGE_SHAPE).astype(np.float32)
        for i, deformation in enumerate(self.deformations, start=1):
            mine = copies == i
            if mine.any():
                out[mine] = deform(out[mine], deformation)
        return out

    def copies(self, deformation: str, batch: int = 4096) -> np.ndarray:
        """All training digits deformed by ``deformation``: float32 (n, 784), in batches."""
        out = np.empty(self.features.shape, dtype=np.float32)
        for start in range(0, self.n_digits, batch):
            chunk = self.features[start : start + batch].reshape(-1, *IMAGE_SHAPE)
            out[start : start + batch] = deform(chunk, deformation).reshape(len(chunk), -1)
        return out
