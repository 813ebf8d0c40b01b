"""A visitor's correction made into a few variants, so that their next drawing of the same habit,
which differs a little, still finds it: turned a few degrees, a little larger or smaller, a
little wider or narrower. An example is as near as its nearest variant (:mod:`knn.extra`).

Left out because the pipeline or the features undo them: shifts (the features centre every digit
by its mass, :mod:`knn.features`), slants (they are deskewed) and the stroke's width
(``to_mnist`` brings every stroke to MNIST's pen width; thicker and thinner variants added to
these changed no figure of ``python -m benchmarks.writers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knn.features import sample_bilinear


@dataclass(frozen=True)
class Deformation:
    """One variant: turned by ``degrees`` (clockwise on screen), its width and height multiplied
    by ``width`` and ``height``, about its centre of mass."""

    degrees: float = 0.0
    width: float = 1.0
    height: float = 1.0


#: Chosen with ``python -m benchmarks.writers --seeds 1 2 3 4`` (other digits and strokes than the
#: reported seeds): errors x0.486 against x0.509 for the drawing alone (x0.495 with the turns and
#: sizes only; turns of 15 degrees alone did worse, x0.54).
DEFORMATIONS: tuple[Deformation, ...] = (
    Deformation(degrees=8.0),
    Deformation(degrees=-8.0),
    Deformation(width=0.9, height=0.9),
    Deformation(width=1.1, height=1.1),
    Deformation(width=0.85),
    Deformation(width=1.15),
)


def variants(images: np.ndarray) -> np.ndarray:
    """Each image followed by its :data:`DEFORMATIONS`: float32 (m, 1 + len(DEFORMATIONS), h, w).

    images : (m, h, w), 0 paper, 255 ink; the variants are interpolated (bilinear), not rounded.
    """
    images = np.asarray(images, dtype=np.float32)
    return np.stack([images] + [deform(images, d) for d in DEFORMATIONS], axis=1)


def deform(images: np.ndarray, deformation: Deformation) -> np.ndarray:
    """The images (m, h, w) under one deformation, float32 (m, h, w); outside is paper."""
    images = np.asarray(images, dtype=np.float32)
    m, h, w = images.shape
    rows = np.arange(h, dtype=np.float32)[None, :, None]
    cols = np.arange(w, dtype=np.float32)[None, None, :]
    mass = images.sum(axis=(1, 2))
    mass[mass == 0] = 1.0
    mr = ((images * rows).sum(axis=(1, 2)) / mass)[:, None, None]
    mc = ((images * cols).sum(axis=(1, 2)) / mass)[:, None, None]
    # Output pixel p samples the input at  centre + R(-angle) S^-1 (p - centre).
    angle = np.deg2rad(deformation.degrees)
    cos, sin = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    dr = (rows - mr) / np.float32(deformation.height)
    dc = (cols - mc) / np.float32(deformation.width)
    src_r = np.broadcast_to(mr + cos * dr - sin * dc, (m, h, w)).astype(np.float32)
    src_c = np.broadcast_to(mc + sin * dr + cos * dc, (m, h, w)).astype(np.float32)
    return sample_bilinear(images, src_r, src_c)
