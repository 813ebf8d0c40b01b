"""A correction's variants: deskewed as a drawing would be, turned and resized as asked."""

from __future__ import annotations

import numpy as np

import knn
from knn.features import FEATURE_DTYPE, ink_moments
from knn.variants import DEFORMATIONS, Deformation, deskewed, variant_features


def bar(rows: slice, cols: slice) -> np.ndarray:
    image = np.zeros((1, 28, 28), np.float32)
    image[0, rows, cols] = 255
    return image


def spread(features: np.ndarray) -> np.ndarray:
    """Standard deviations (rows, columns) of the ink of flattened 28x28 images."""
    _, _, var_r, _, var_c = ink_moments(features.reshape(-1, 28, 28))
    return np.sqrt(np.stack([var_r, var_c], axis=1))


def test_the_first_variant_is_the_drawing_and_the_others_are_deskewed_and_centred(mnist) -> None:
    digits = mnist.test_images[:20]
    made = variant_features(digits)
    assert made.shape == (20, 1 + len(DEFORMATIONS), 784) and made.dtype == FEATURE_DTYPE
    np.testing.assert_array_equal(made[:, 0], knn.extract_features(digits))
    for i in range(1, made.shape[1]):
        mr, mc, var_r, cov, _ = ink_moments(made[:, i].reshape(-1, 28, 28))
        np.testing.assert_allclose(cov / var_r, 0, atol=0.03)  # upright, as queries are
        np.testing.assert_allclose(np.stack([mr, mc]), 13.5, atol=0.3)  # centred by mass


def test_widths_and_heights_scale_the_ink_spread(mnist) -> None:
    digits = mnist.test_images[:20]
    plain = spread(knn.extract_features(digits))
    for deformation in (Deformation(width=1.15), Deformation(width=0.9, height=0.9)):
        ratio = spread(deskewed(digits, deformation)) / plain
        expected = [deformation.height, deformation.width]
        np.testing.assert_allclose(ratio.mean(axis=0), expected, atol=0.02)


def test_a_quarter_turn_lays_a_bar_down() -> None:
    upright = bar(slice(6, 22), slice(12, 15))
    rows, cols = spread(deskewed(upright, Deformation(degrees=90)))[0]
    assert cols > 3 * rows


def test_no_images_make_no_variants() -> None:
    assert variant_features(np.zeros((0, 28, 28), np.uint8)).shape == (
        0,
        1 + len(DEFORMATIONS),
        784,
    )
