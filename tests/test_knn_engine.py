"""The from-scratch engine against scikit-learn's brute-force kNN, and its own contracts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier

from knn.engine import KNNClassifier, NotFittedError, vote


@pytest.fixture(scope="module")
def digits(mnist) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """4,000 training and 1,000 test MNIST digits as flat uint8 rows."""
    return (
        mnist.train_images[:4000].reshape(4000, -1),
        mnist.train_labels[:4000],
        mnist.test_images[:1000].reshape(1000, -1),
        mnist.test_labels[:1000],
    )


@pytest.mark.parametrize("k", [1, 3, 5, 10])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_matches_scikit_learn_on_mnist(digits, k: int, weights: str) -> None:
    X, y, X_test, _ = digits
    ours = KNNClassifier(n_neighbors=k, weights=weights).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=k, weights=weights, algorithm="brute").fit(X, y)
    distances, indices = ours.kneighbors(X_test)
    ref_distances, ref_indices = ref.kneighbors(X_test)
    np.testing.assert_allclose(distances, ref_distances, rtol=1e-6)
    # Same neighbours up to ties: where the distances differ from the next, the indices agree.
    same_set = [set(a) == set(b) for a, b in zip(indices, ref_indices, strict=True)]
    assert np.mean(same_set) > 0.99
    assert np.array_equal(ours.predict(X_test), ref.predict(X_test))
    np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test), atol=1e-9)


def test_neighbours_are_sorted_and_ties_go_to_the_lower_index() -> None:
    X = np.array([[0.0], [2.0], [1.0], [1.0], [-1.0]])
    clf = KNNClassifier(n_neighbors=5).fit(X, [0, 1, 2, 3, 4])
    distances, indices = clf.kneighbors([[0.9]])
    assert indices.tolist() == [[2, 3, 0, 1, 4]]
    assert np.all(np.diff(distances) >= 0)
    _, mirrored = clf.kneighbors([[1.0]], n_neighbors=3)
    assert mirrored.tolist() == [[2, 3, 0]]  # 0 and 1 tie at distance 1: index 0 first


def test_an_exact_match_takes_all_the_weight() -> None:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 1.1]])
    clf = KNNClassifier(n_neighbors=3, weights="distance").fit(X, ["a", "b", "b"])
    assert clf.predict_proba([[0.0, 0.0]]).tolist() == [[1.0, 0.0]]
    assert clf.predict([[0.0, 0.0]]).tolist() == ["a"]
    uniform = KNNClassifier(n_neighbors=3).fit(X, ["a", "b", "b"])
    np.testing.assert_allclose(uniform.predict_proba([[0.0, 0.0]]), [[1 / 3, 2 / 3]])


def test_probabilities_follow_classes_and_sum_to_one() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(200, 5)), rng.choice(["cat", "ant", "dog"], 200)
    clf = KNNClassifier(n_neighbors=7, weights="distance").fit(X, y)
    assert clf.classes_.tolist() == ["ant", "cat", "dog"]
    assert clf.n_features_in_ == 5
    queries = rng.normal(size=(50, 5))
    proba = clf.predict_proba(queries)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(queries))


def test_chunking_does_not_change_results(digits) -> None:
    X, y, X_test, _ = digits
    whole = KNNClassifier(n_neighbors=5).fit(X, y)
    tiny = KNNClassifier(n_neighbors=5, max_chunk_bytes=1).fit(X, y)  # one query per chunk
    for a, b in zip(whole.kneighbors(X_test[:50]), tiny.kneighbors(X_test[:50]), strict=True):
        assert np.array_equal(a, b)


def test_score_is_accuracy(digits) -> None:
    X, y, X_test, y_test = digits
    clf = KNNClassifier(n_neighbors=3).fit(X, y)
    assert clf.score(X_test, y_test) == np.mean(clf.predict(X_test) == y_test)
    assert clf.score(X_test, y_test) > 0.85


def test_follows_scikit_learn_conventions() -> None:
    clf = KNNClassifier(n_neighbors=2, weights="distance")
    assert clf.get_params() == {"n_neighbors": 2, "weights": "distance", "max_chunk_bytes": 2**28}
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()
    assert clf.fit([[0], [1]], [0, 1]) is clf
    assert clf.set_params(n_neighbors=1) is clf and clf.n_neighbors == 1
    with pytest.raises(ValueError, match="unknown parameter"):
        clf.set_params(k=3)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: KNNClassifier().predict([[0.0]]), NotFittedError, "not fitted"),
        (lambda: KNNClassifier(0).fit([[0.0]], [0]), ValueError, "positive integer"),
        (lambda: KNNClassifier(weights="far").fit([[0.0]], [0]), ValueError, "weights"),
        (lambda: KNNClassifier().fit([[0.0], [1.0]], [0]), ValueError, "shape"),
        (lambda: KNNClassifier().fit([0.0, 1.0], [0, 1]), ValueError, "2-D"),
        (lambda: KNNClassifier().fit([[np.nan]], [0]), ValueError, "NaN"),
        (lambda: KNNClassifier().fit([["a"]], [0]), TypeError, "numbers"),
        (
            lambda: KNNClassifier(3).fit([[0.0], [1.0]], [0, 1]).predict([[0.0]]),
            ValueError,
            "exceeds",
        ),
        (lambda: KNNClassifier(1).fit([[0.0, 1.0]], [0]).predict([[0.0]]), ValueError, "features"),
    ],
)
def test_bad_input_is_a_clear_error(make, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_vote_guards_rows_without_weight() -> None:
    proba = vote(np.array([[0, 1]]), np.array([[1.0, 4.0]]), "distance", 3)
    np.testing.assert_allclose(proba, [[0.8, 0.2, 0.0]])
    assert vote(np.zeros((1, 0), int), np.zeros((1, 0)), "uniform", 2).tolist() == [[0.0, 0.0]]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 60),
    d=st.integers(1, 8),
    k=st.integers(1, 12),
    weights=st.sampled_from(["uniform", "distance"]),
)
def test_agrees_with_scikit_learn_on_random_data(seed, n, d, k, weights) -> None:
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.integers(0, 4, n)
    queries = rng.normal(size=(10, d))
    k = min(k, n)
    ours = KNNClassifier(n_neighbors=k, weights=weights).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=k, weights=weights, algorithm="brute").fit(X, y)
    assert np.array_equal(
        ours.kneighbors(queries, return_distance=False), ref.kneighbors(queries)[1]
    )
    assert np.array_equal(ours.predict(queries), ref.predict(queries))
