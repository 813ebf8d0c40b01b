"""A correction's variants: turned and stretched about the ink's centre of mass."""

from __future__ import annotations

import numpy as np

from knn.variants import DEFORMATIONS, Deformation, deform, variants


def bar(rows: slice, cols: slice) -> np.ndarray:
    image = np.zeros((1, 28, 28), np.float32)
    image[0, rows, cols] = 255
    return image


def centre_and_spread(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink's centre of mass (row, col) and its standard deviation along rows and columns."""
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    centre = np.array([(image * rows).sum(), (image * cols).sum()]) / mass
    spread = np.sqrt(
        [(image * (rows - centre[0]) ** 2).sum(), (image * (cols - centre[1]) ** 2).sum()]
    )
    return centre, spread / np.sqrt(mass)


def test_a_quarter_turn_makes_a_vertical_bar_horizontal_about_its_centre() -> None:
    upright = bar(slice(6, 22), slice(12, 15))
    turned = deform(upright, Deformation(degrees=90))[0]
    (centre, spread), (turned_centre, turned_spread) = (
        centre_and_spread(upright[0]),
        centre_and_spread(turned),
    )
    assert spread[0] > 3 * spread[1] and turned_spread[1] > 3 * turned_spread[0]
    np.testing.assert_allclose(turned_centre, centre, atol=0.5)


def test_a_wider_variant_spreads_the_columns_only() -> None:
    blob = bar(slice(8, 20), slice(9, 19))
    wider = deform(blob, Deformation(width=1.15))[0]
    (centre, spread), (wide_centre, wide_spread) = (
        centre_and_spread(blob[0]),
        centre_and_spread(wider),
    )
    np.testing.assert_allclose(wide_spread / spread, [1.0, 1.15], atol=0.03)
    np.testing.assert_allclose(wide_centre, centre, atol=0.3)


def test_each_image_comes_first_then_its_deformations() -> None:
    images = np.concatenate([bar(slice(6, 22), slice(12, 15)), bar(slice(8, 20), slice(9, 19))])
    made = variants(images.astype(np.uint8))
    assert made.shape == (2, 1 + len(DEFORMATIONS), 28, 28) and made.dtype == np.float32
    np.testing.assert_array_equal(made[:, 0], images)
    assert all(not np.array_equal(made[0, 0], v) for v in made[0, 1:])  # each one differs
    assert made.min() >= 0 and made.max() <= 255.001  # interpolated: within the ink's range


def test_no_images_make_no_variants() -> None:
    assert variants(np.zeros((0, 28, 28), np.uint8)).shape == (0, 1 + len(DEFORMATIONS), 28, 28)
