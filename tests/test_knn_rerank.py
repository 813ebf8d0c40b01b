"""The IDM re-ranking on hand-made images whose answers are known, and inside the model."""

from __future__ import annotations

import numpy as np
import pytest

import knn
from knn.rerank import Shortlist, gradients, idm_distances, rerank_idm, rerank_shortlists
from knn.virtual import DEFORMATIONS, VirtualDigits, deform, rotate


def stroke(shift_rows: int = 0, shift_cols: int = 0) -> np.ndarray:
    """An L-shaped stroke well inside a 28x28 field, optionally shifted."""
    image = np.zeros((28, 28), dtype=np.float32)
    image[8:20, 10:13] = 255
    image[17:20, 10:18] = 255
    return np.roll(image, (shift_rows, shift_cols), axis=(0, 1))


def idm(a: np.ndarray, b: np.ndarray, window: int) -> float:
    return float(idm_distances(gradients(a[None])[0], gradients(b[None]), window)[0])


def test_a_one_pixel_shift_costs_idm_nothing_and_euclid_a_lot() -> None:
    a, b = stroke(), stroke(1, -1)
    assert idm(a, b, window=3) == 0.0
    assert idm(a, b, window=1) > 0.0
    assert np.sum((a - b) ** 2) > 255**2 * 20


def test_the_window_bounds_the_displacement() -> None:
    a, b = stroke(), stroke(0, 2)
    assert idm(a, b, window=3) > 0.0
    assert idm(a, b, window=5) == 0.0
    assert idm(a, b, window=1) > idm(a, b, window=3)


def test_a_different_shape_stays_far() -> None:
    other = np.zeros((28, 28), dtype=np.float32)
    other[8:20, 14:17] = 255  # a bar without the foot of the L
    assert idm(stroke(), other, window=5) > idm(stroke(), stroke(1, 1), window=5) + 1e5


def test_gradients_of_flat_images_are_zero_and_shapes_hold() -> None:
    g = gradients(np.full((3, 28, 28), 7.0))
    assert g.shape == (3, 2, 28, 28)
    assert np.all(g[:, :, 1:-1, 1:-1] == 0)


def idm_by_definition(query: np.ndarray, reference: np.ndarray, window: int) -> float:
    """The IDM sum written as its definition, pixel by pixel: each query pixel's 3x3 gradient
    context against the reference's context at the best displacement in the window (outside
    either image is no gradient)."""
    _, h, w = query.shape
    r = window // 2
    q = np.pad(query.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
    p = np.pad(reference.astype(np.float64), ((0, 0), (r + 1, r + 1), (r + 1, r + 1)))
    inside = np.pad(np.ones((h, w)), 1)  # the context counts only pixels of the query's image
    total = 0.0
    for y in range(h):
        for x in range(w):
            context = q[:, y : y + 3, x : x + 3] * inside[y : y + 3, x : x + 3]
            total += min(
                float(
                    np.sum(
                        (p[:, y + dy : y + dy + 3, x + dx : x + dx + 3] - context) ** 2
                        * inside[y : y + 3, x : x + 3]
                    )
                )
                for dy in range(window)
                for dx in range(window)
            )
    return total


@pytest.mark.parametrize("window", [1, 3, 5])
def test_idm_is_its_definition_on_random_images(window: int) -> None:
    rng = np.random.default_rng(window)
    images = rng.integers(0, 256, size=(4, 9, 11)).astype(np.float32)
    g = gradients(images)
    fast = idm_distances(g[0], g[1:], window)
    slow = [idm_by_definition(g[0], g[i], window) for i in range(1, 4)]
    np.testing.assert_allclose(fast, slow, rtol=1e-5)


@pytest.mark.parametrize("window", [1, 3, 5])
@pytest.mark.parametrize(
    "ink", [(slice(3, 5), slice(4, 6)), (slice(0, 2), slice(9, 11)), (slice(7, 9), slice(0, 1))]
)
def test_idm_is_its_definition_where_the_query_is_blank_around_its_ink(
    window: int, ink: tuple[slice, slice]
) -> None:
    # A query whose ink covers a patch (inside, on the top edge, in the bottom-left corner):
    # its blank paper is scored without the loop over displacements, on every edge of the image.
    rng = np.random.default_rng(window)
    images = rng.integers(0, 256, size=(4, 9, 11)).astype(np.float32)
    images[0] = 0
    images[0][ink] = 255
    images[1, :4] = 0  # a reference blank in part, so that some blank terms are zero
    g = gradients(images)
    fast = idm_distances(g[0], g[1:], window)
    slow = [idm_by_definition(g[0], g[i], window) for i in range(1, 4)]
    np.testing.assert_allclose(fast, slow, rtol=1e-5)


def test_a_blank_query_pays_for_each_references_gradients_it_cannot_avoid() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 6, 7)).astype(np.float32)
    images[0] = 0
    g = gradients(images)
    slow = [idm_by_definition(g[0], g[i], 3) for i in range(1, 3)]
    np.testing.assert_allclose(idm_distances(g[0], g[1:], 3), slow, rtol=1e-5)
    assert min(slow) > 0


@pytest.mark.parametrize("n_queries", [1, 3])  # one query splits its candidates among threads
def test_shortlists_reranked_together_are_each_reranked_alone(n_queries: int) -> None:
    rng = np.random.default_rng(n_queries)
    queries = np.stack([stroke(int(s), int(s) - 1) for s in range(n_queries)])
    digits = np.stack([stroke(*rng.integers(-3, 4, size=2)) for _ in range(150)])
    others = rng.integers(0, 256, size=(12, 28, 28)).astype(np.float32)
    digit_rows = np.stack([rng.permutation(150) for _ in range(n_queries)])
    other_rows = np.stack([rng.permutation(12)[:9] for _ in range(n_queries)])
    owners = digit_rows % 40  # some digits have several rows: each counts once
    together = rerank_shortlists(
        queries, [Shortlist(digits, digit_rows, 4, owners), Shortlist(others, other_rows, 3)], 5
    )
    alone = [
        rerank_idm(queries, digits, digit_rows, 4, 5, owners=owners),
        rerank_idm(queries, others, other_rows, 3, 5),
    ]
    for (d, i), (d_alone, i_alone) in zip(together, alone, strict=True):
        assert d.shape == (n_queries, i.shape[1]) and np.array_equal(i, i_alone)
        assert np.array_equal(d, d_alone)
    direct = [idm(queries[0], digits[r], 5) for r in digit_rows[0]]
    assert together[0][0][0, 0] ** 2 == pytest.approx(min(direct), rel=1e-6)


@pytest.mark.parametrize("window", [0, 2, -3])
def test_the_window_must_be_odd_and_positive(window: int) -> None:
    g = gradients(stroke()[None])
    with pytest.raises(ValueError, match="odd"):
        idm_distances(g[0], g, window)


def test_rerank_orders_by_idm_then_index_and_keeps_k() -> None:
    references = np.stack([stroke(3, 3), stroke(), stroke(0, 1), stroke(), np.zeros((28, 28))])
    queries = stroke(1, 0)[None]
    candidates = np.array([[4, 3, 2, 1, 0]])
    distances, indices = rerank_idm(queries, references, candidates, k=3, window=3)
    assert indices.tolist() == [[1, 2, 3]]  # 1 and 3 tie (same image): the lower index first
    assert distances[0, 0] == distances[0, 2] == 0.0
    again = rerank_idm(queries, references, candidates, k=3, window=3)
    assert np.array_equal(again[1], indices) and np.array_equal(again[0], distances)


def test_rerank_counts_each_owner_once_at_its_nearest_copy() -> None:
    references = np.stack([stroke(3, 3), stroke(), stroke(0, 1), stroke(4, -4), np.zeros((28, 28))])
    queries = stroke(1, 0)[None]
    candidates = np.array([[0, 1, 2, 3, 4]])
    owners = np.array([[7, 5, 7, 5, 9]])  # 7 owns rows 0 and 2, 5 owns 1 and 3
    distances, indices = rerank_idm(queries, references, candidates, k=3, window=3, owners=owners)
    direct = [idm(queries[0], r, 3) for r in references]
    assert indices.tolist() == [[5, 7, 9]]  # 5's row 1 and 7's row 2 both cost 0: by owner
    np.testing.assert_allclose(
        distances[0] ** 2, [min(direct[1], direct[3]), min(direct[0], direct[2]), direct[4]]
    )


def test_deformations_thicken_thin_and_rotate_strokes() -> None:
    image = stroke()[None]
    ink = float(image.sum())
    assert deform(image, "thicken").sum() > 1.2 * ink
    assert deform(image, "thin").sum() < 0.8 * ink
    assert deform(np.zeros((1, 28, 28)), "thicken").max() == 0
    bar = np.zeros((1, 28, 28), dtype=np.float32)
    bar[0, 4:24, 13:15] = 255
    for name, sign in (("rotate_left", 1), ("rotate_right", -1)):
        turned = deform(bar, name)[0]
        rows, cols = np.nonzero(turned > 127)
        slope = np.polyfit(rows, cols, 1)[0]  # columns per row: the bar's lean
        assert np.degrees(np.arctan(slope)) == pytest.approx(-sign * 7.0, abs=1.5)
    np.testing.assert_allclose(rotate(bar, 0.0), bar, atol=1e-3)
    with pytest.raises(ValueError, match="deformation"):
        deform(image, "shear")


def test_virtual_rows_are_deformed_copies_made_on_demand() -> None:
    features = np.stack([stroke(), stroke(2, 2), stroke(-3, 1)]).reshape(3, -1)
    virtual = VirtualDigits(features, DEFORMATIONS)
    assert len(virtual) == 3 * (1 + len(DEFORMATIONS))
    rows = np.array([1, 3 + 2, 3 * len(DEFORMATIONS) + 0])
    images = virtual[rows]
    np.testing.assert_array_equal(images[0], features[1].reshape(28, 28))
    np.testing.assert_allclose(images[1], deform(stroke(-3, 1)[None], DEFORMATIONS[0])[0])
    np.testing.assert_allclose(images[2], deform(stroke()[None], DEFORMATIONS[-1])[0])
    assert virtual.owners(rows).tolist() == [1, 2, 0]
    np.testing.assert_allclose(
        virtual.copies("thin")[2], deform(stroke(-3, 1)[None], "thin")[0].ravel()
    )


@pytest.fixture(scope="module")
def model(mnist) -> knn.DigitModel:
    return knn.DigitModel.from_images(
        mnist.train_images[:3000],
        mnist.train_labels[:3000],
        rerank="idm",
        shortlist=16,
        window=5,
        virtual=True,
    )


def test_the_model_reranks_within_its_shortlist(model, mnist) -> None:
    model = model.with_params(virtual=False)
    queries = mnist.test_images[:20]
    projected = model.index.projection.transform(knn.extract_features(queries))
    shortlist = model.index.shortlister.kneighbors(projected, 16, return_distance=False)
    distances, indices = model.kneighbors(queries)
    assert indices.shape == (20, model.params.n_neighbors)
    for row, allowed in zip(indices, shortlist, strict=True):
        assert set(row) <= set(allowed)
    assert np.all(np.diff(distances, axis=1) >= 0)
    wider = model.with_params(shortlist=64).kneighbors(queries)[1]
    assert not np.array_equal(wider, indices)  # a larger shortlist finds other neighbours


def test_virtual_neighbours_are_the_nearest_copies_by_a_direct_computation(mnist) -> None:
    """With a shortlist of every row, the voters are the digits whose nearest copy (the digit
    or a deformation of it) is nearest by IDM, computed here copy by copy."""
    n = 150
    small = knn.DigitModel.from_images(
        mnist.train_images[:n],
        mnist.train_labels[:n],
        shortlist=n * (1 + len(DEFORMATIONS)),
        virtual=True,
    )
    features = small.index.features.reshape(n, 28, 28)
    copies = [features] + [deform(features, name) for name in DEFORMATIONS]
    for query in mnist.test_images[:3]:
        q = gradients(knn.extract_features(query[None]).reshape(1, 28, 28))[0]
        direct = np.min([idm_distances(q, gradients(c), 5) for c in copies], axis=0)
        best = np.lexsort((np.arange(n), direct))[: small.params.n_neighbors]
        distances, indices = small.kneighbors(query[None])
        assert indices[0].tolist() == best.tolist()
        np.testing.assert_allclose(distances[0], np.sqrt(direct[best]), rtol=1e-6)


def test_a_thickened_training_digit_is_nearer_with_its_virtual_copies(model, mnist) -> None:
    image = mnist.train_images[11].astype(np.float32)
    padded = np.pad(image, 1)
    dilated = np.max([padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1]], axis=0)
    thick = np.clip(0.5 * image + 0.5 * dilated, 0, 255).astype(np.uint8)[None]
    plain = model.with_params(virtual=False, shortlist=64).kneighbors(thick)
    virtual = model.with_params(shortlist=64).kneighbors(thick)
    assert plain[1][0, 0] == virtual[1][0, 0] == 11
    assert virtual[0][0, 0] < 0.9 * plain[0][0, 0]


def test_the_shown_neighbours_are_the_reranked_ones(model, mnist) -> None:
    result = model.classify(mnist.test_images[3])
    distances, indices = model.kneighbors(mnist.test_images[3:4])
    assert [n.index for n in result.neighbours] == indices[0].tolist()
    assert [n.distance for n in result.neighbours] == distances[0].tolist()


def test_the_neighbours_are_the_idm_nearest_of_the_shortlist(model, mnist) -> None:
    """Against a direct computation: IDM from the query to every shortlisted training digit."""
    model = model.with_params(virtual=False)
    query = mnist.test_images[7]
    features = knn.extract_features(query[None])
    projected = model.index.projection.transform(features)
    shortlist = model.index.shortlister.kneighbors(projected, 16, return_distance=False)[0]
    references = model.index.features[shortlist].reshape(-1, 28, 28)
    direct = idm_distances(gradients(features.reshape(1, 28, 28))[0], gradients(references), 5)
    best = np.argsort(direct, kind="stable")[: model.params.n_neighbors]
    distances, indices = model.kneighbors(query[None])
    assert indices[0].tolist() == shortlist[best].tolist()
    np.testing.assert_allclose(distances[0], np.sqrt(direct[best]))


def test_reranking_beats_euclid_and_can_be_turned_off(model, mnist) -> None:
    images, labels = mnist.test_images[:500], mnist.test_labels[:500]
    plain = model.with_params(rerank=None)
    assert np.mean(model.predict(images) == labels) > np.mean(plain.predict(images) == labels)
    assert plain.describe() == "deskewed 28x28 pixels, Euclidean distance"
    assert "IDM (5x5 window); with 4 deformed copies" in model.describe()
    assert "deformed" not in model.with_params(virtual=False).describe()
    with pytest.raises(ValueError, match="rerank"):
        model.with_params(rerank="tangent")
    with pytest.raises(ValueError, match="window"):
        model.with_params(window=4)
    with pytest.raises(ValueError, match="virtual"):
        model.with_params(virtual=1)
    without_copies = knn.DigitModel.from_images(
        mnist.train_images[:100], mnist.train_labels[:100], virtual=False
    )
    assert without_copies.index.deformed is None
    with pytest.raises(ValueError, match="deformed copies"):
        without_copies.with_params(virtual=True)
    with pytest.raises(TypeError, match="k"):
        model.with_params(k=3)
