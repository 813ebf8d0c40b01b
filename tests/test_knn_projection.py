"""Principal components: the directions of largest variance, distances kept in full dimension."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from knn import projection
from knn.projection import PrincipalComponents


def test_the_first_component_follows_the_spread() -> None:
    rng = np.random.default_rng(0)
    t = rng.normal(size=500)
    X = np.stack([3 * t, 4 * t, 0.01 * rng.normal(size=500)], axis=1) + np.array([1, 2, 3])
    pca = PrincipalComponents(1).fit(X)
    assert abs(pca.components_[:, 0] @ [0.6, 0.8, 0.0]) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(pca.mean_, X.mean(axis=0), atol=1e-4)
    assert pca.transform(X).shape == (500, 1)


def test_all_components_keep_distances() -> None:
    X = np.random.default_rng(1).normal(size=(50, 6))
    Z = PrincipalComponents(6).fit(X).transform(X)
    before = np.linalg.norm(X[:, None] - X[None], axis=-1)
    after = np.linalg.norm(Z[:, None] - Z[None], axis=-1)
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4)


def test_arrays_round_trip_and_bad_sizes() -> None:
    X = np.random.default_rng(2).normal(size=(30, 4))
    fitted = PrincipalComponents(2).fit(X)
    again = PrincipalComponents.from_arrays(fitted.mean_, fitted.components_)
    assert np.array_equal(again.transform(X), fitted.transform(X))
    with pytest.raises(ValueError, match="n_components"):
        PrincipalComponents(5).fit(X)


def test_transform_in_chunks_of_a_strided_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows projected a chunk at a time, from a view with a spare column as the search holds
    the training digits, give (X - mean) @ C for every row, the last partial chunk included."""
    monkeypatch.setattr(projection, "TRANSFORM_ROWS", 7)
    padded = np.random.default_rng(3).normal(size=(30, 13)).astype(np.float32)
    X = padded[:, :12]
    pca = PrincipalComponents(4).fit(X)
    expected = (X.astype(np.float64) - pca.mean_) @ pca.components_
    np.testing.assert_allclose(pca.transform(X), expected, rtol=1e-4, atol=1e-4)


def test_float16_rows_are_converted_a_chunk_at_a_time() -> None:
    """The training digits are held as float16; their projection must not make a float32 copy
    of them all at once (188 MB for MNIST, the app's peak at start), and gives what the float32
    rows give."""
    X = np.random.default_rng(4).uniform(0, 255, size=(40_000, 784)).astype(np.float16)
    pca = PrincipalComponents(8).fit(X[:2_000])
    tracemalloc.start()
    try:
        got = pca.transform(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    whole_copy = X.size * 4  # 125 MB; two chunks of TRANSFORM_ROWS rows take 26 MB
    assert peak < whole_copy / 3, peak
    np.testing.assert_array_equal(got, pca.transform(X.astype(np.float32)))
