"""The cached digit model: build once, load fast, rebuild when stale or corrupt, never pickle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import knn
from knn import model as model_module
from knn.cache import CacheWarning
from knn.features import sample_bilinear

N_TRAIN = 3000
VIRTUAL = knn.ModelParams(virtual=True)  # the model with every cached array


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def small_model(cache_dir: Path) -> knn.DigitModel:
    return knn.load_model(cache_dir=cache_dir, n_train=N_TRAIN, params=VIRTUAL)


def entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "models").iterdir())


def test_the_cache_holds_arrays_and_json_only(small_model, cache_dir: Path) -> None:
    (entry,) = entries(cache_dir)
    assert sorted(p.name for p in entry.iterdir()) == [
        "deformed.npy",
        "features.npy",
        "images.npy",
        "labels.npy",
        "meta.json",
        "projection_components.npy",
        "projection_mean.npy",
    ]
    for path in entry.glob("*.npy"):
        assert np.load(path, allow_pickle=False).dtype != object
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["fields"]["n_train"] == N_TRAIN
    assert set(meta["fields"]["data"]) == {
        "train_images",
        "train_labels",
        "test_images",
        "test_labels",
    }


def test_a_second_load_uses_the_cache(small_model, cache_dir: Path, monkeypatch) -> None:
    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    # The non-digit references' few copies are made at each load; the digits' come cached.
    references = model_module.load_references(cache_dir)["features"]
    project = model_module.project_deformed

    def only_the_references(features, projection):
        assert np.array_equal(features, references), "the cache should have been used"
        return project(features, projection)

    monkeypatch.setattr(model_module, "extract_features", no_rebuild)
    monkeypatch.setattr(model_module, "load_mnist", no_rebuild)
    monkeypatch.setattr(model_module, "project_deformed", only_the_references)
    again = knn.load_model(cache_dir=cache_dir, n_train=N_TRAIN, params=VIRTUAL)
    assert np.array_equal(again.images, small_model.images)
    np.testing.assert_array_equal(again.index.deformed.fit_X_, small_model.index.deformed.fit_X_)


def test_a_load_holds_each_cached_array_once(small_model) -> None:
    index = small_model.index
    features = index.features.copy()
    cached = {
        "features": features,
        "projection_mean": index.projection.mean_,
        "projection_components": index.projection.components_,
        "deformed": index.deformed.fit_X_.copy(),
    }
    copied = weakref.ref(cached["deformed"])
    again = model_module.TrainingIndex.build(small_model.images, small_model.labels, cached)
    assert cached == {}
    assert copied() is None  # only the search's copy is left
    assert again.features is features  # float16 as cached: held as it is, not copied
    assert again.features.dtype == np.float16
    np.testing.assert_array_equal(again.deformed.fit_X_, index.deformed.fit_X_)


def test_the_euclidean_search_is_made_only_when_asked_for(small_model) -> None:
    index = model_module.TrainingIndex.build(small_model.images, small_model.labels)
    model = model_module.DigitModel(index, "MNIST", knn.ModelParams(virtual=False))
    model.kneighbors(small_model.images[:3])  # the default re-ranks: no Euclidean search
    assert index._euclidean is None
    distances, indices = model.with_params(rerank=None).kneighbors(small_model.images[:3])
    search = index.euclidean
    assert search is index.euclidean  # made once, then shared
    np.testing.assert_array_equal(search.fit_X_, index.features.astype(np.float32))
    # Queries are rounded as the training digits are held: each digit is its own nearest.
    np.testing.assert_array_equal(indices[:, 0], np.arange(3))
    np.testing.assert_array_equal(distances[:, 0], 0.0)


def test_parameters_apply_without_rebuilding(small_model, cache_dir: Path) -> None:
    params = knn.ModelParams(n_neighbors=7, weights="uniform", virtual=True)
    other = knn.load_model(cache_dir=cache_dir, n_train=N_TRAIN, params=params)
    assert other.params == params
    assert len(entries(cache_dir)) == 1


def test_a_model_without_virtual_makes_no_deformed_copies(tmp_path: Path) -> None:
    params = knn.ModelParams(virtual=False)
    model = knn.load_model(cache_dir=tmp_path, n_train=500, params=params)
    assert model.index.deformed is None
    (entry,) = entries(tmp_path)
    assert not (entry / "deformed.npy").exists()
    with pytest.raises(ValueError, match="deformed copies"):
        model.with_params(virtual=True)


def test_a_new_feature_version_rebuilds(tmp_path: Path, monkeypatch) -> None:
    knn.load_model(cache_dir=tmp_path, n_train=500)
    monkeypatch.setattr(model_module, "FEATURE_VERSION", model_module.FEATURE_VERSION + 1)
    knn.load_model(cache_dir=tmp_path, n_train=500)
    assert len(entries(tmp_path)) == 2


def test_other_deformations_rebuild(tmp_path: Path, monkeypatch) -> None:
    knn.load_model(cache_dir=tmp_path, n_train=500, params=VIRTUAL)
    monkeypatch.setattr(model_module, "DEFORMATIONS", ("thin",))
    knn.load_model(cache_dir=tmp_path, n_train=500, params=VIRTUAL)
    assert len(entries(tmp_path)) == 2


def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    first = knn.load_model(cache_dir=tmp_path, n_train=500)
    (entry,) = entries(tmp_path)
    features = entry / "features.npy"
    features.write_bytes(features.read_bytes()[:1000])
    with pytest.warns(CacheWarning, match="unreadable"):
        rebuilt = knn.load_model(cache_dir=tmp_path, n_train=500)
    assert np.array_equal(rebuilt.predict(first.images[:20]), first.predict(first.images[:20]))
    assert [p.name for p in entries(tmp_path)] == [entry.name]
    assert np.load(features, allow_pickle=False).shape == (500, 784)


def test_three_processes_publishing_at_once_do_not_corrupt_it(tmp_path: Path) -> None:
    """Each child builds its entry, then waits until all three have built before publishing, so
    the three renames race for certain."""
    script = """
import sys, time
from pathlib import Path
import knn, knn.cache
cache, ready, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
publish = knn.cache._publish
def publish_together(*args):
    (ready / me).touch()
    deadline = time.monotonic() + 120
    while len(list(ready.iterdir())) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    publish(*args)
knn.cache._publish = publish_together
m = knn.load_model(cache_dir=cache, n_train=2000)
print(int(m.predict(m.images[:1])[0]))
"""
    ready = tmp_path / "ready"
    ready.mkdir()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "cache"), str(ready), str(me)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        for me in range(3)
    ]
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert len(list(ready.iterdir())) == 3  # all three built before any published
    assert len({out for out, _ in outputs}) == 1
    models = tmp_path / "cache" / "models"
    assert len(list(models.iterdir())) == 1  # one entry, no staging folder left behind
    assert knn.load_model(cache_dir=tmp_path / "cache", n_train=2000).images.shape == (
        2000,
        28,
        28,
    )


def test_classify_returns_label_probabilities_and_neighbours(small_model, mnist) -> None:
    image = mnist.test_images[0]
    result = small_model.classify(image)
    assert result.label == mnist.test_labels[0] == 7
    assert result.probabilities.shape == (10,)
    assert result.probabilities.sum() == pytest.approx(1.0)
    assert result.label == result.probabilities.argmax()
    assert len(result.neighbours) == small_model.params.n_neighbors
    assert sum(n.weight for n in result.neighbours) + result.prior_share == pytest.approx(1.0)
    for digit in range(10):  # the neighbours' shares added up, and the prior's spread evenly
        shares = sum(n.weight for n in result.neighbours if n.label == digit)
        assert result.probabilities[digit] == pytest.approx(shares + result.prior_share / 10)
    distances = [n.distance for n in result.neighbours]
    assert distances == sorted(distances)
    for neighbour in result.neighbours:
        assert neighbour.image.shape == (28, 28) and neighbour.image.dtype == np.uint8
        assert np.array_equal(neighbour.image, mnist.train_images[neighbour.index])
        assert neighbour.label == mnist.train_labels[neighbour.index]


def test_a_training_image_finds_itself(small_model, mnist) -> None:
    result = small_model.classify(mnist.train_images[42])
    assert result.neighbours[0].index == 42
    assert result.neighbours[0].distance == 0.0
    assert result.probabilities[mnist.train_labels[42]] == 1.0  # distance weighting: exact match


def test_batches_and_accuracy(small_model, mnist) -> None:
    proba = small_model.predict_proba(mnist.test_images[:300])
    assert proba.shape == (300, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predictions = small_model.predict(mnist.test_images[:300])
    assert np.array_equal(predictions, proba.argmax(axis=1))
    assert np.mean(predictions == mnist.test_labels[:300]) > 0.9


def test_a_batch_split_among_threads_finds_what_one_query_at_a_time_finds(
    small_model, mnist
) -> None:
    images = mnist.test_images[:7]  # more queries than cores, unevenly split
    distances, indices = small_model.kneighbors(images)
    for i, image in enumerate(images):
        one_distances, one_indices = small_model.kneighbors(image[None])
        assert np.array_equal(indices[i], one_indices[0])
        assert np.array_equal(distances[i], one_distances[0])


def test_drawings_classified_at_once_from_many_threads_get_their_own_answers(
    small_model, mnist
) -> None:
    images = mnist.test_images[:16]
    alone = [small_model.classify(image) for image in images]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(small_model.classify, images))
    for a, b in zip(alone, together, strict=True):
        assert np.array_equal(a.probabilities, b.probabilities)
        assert [n.index for n in a.neighbours] == [n.index for n in b.neighbours]
        assert a.non_digit_share == b.non_digit_share and a.is_digit == b.is_digit


def test_with_params_leaves_the_model_alone(small_model, mnist) -> None:
    one = small_model.with_params(n_neighbors=1, weights="uniform")
    assert len(one.classify(mnist.test_images[1]).neighbours) == 1
    assert small_model.params == VIRTUAL
    assert one.images is small_model.images


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((28, 27), np.uint8), ValueError),
        (np.zeros((1, 28, 28), np.uint8), ValueError),
        (np.full((28, 28), np.nan), ValueError),
        (np.full((28, 28), 300.0), ValueError),
        (np.full((28, 28), "x"), TypeError),
    ],
)
def test_classify_rejects_bad_images(small_model, image, error) -> None:
    with pytest.raises(error):
        small_model.classify(image)


def test_deskew_straightens_a_slanted_stroke() -> None:
    slanted = np.zeros((28, 28))
    for row in range(4, 24):
        slanted[row, 8 + (row - 4) // 2 : 10 + (row - 4) // 2] = 255  # leans right going down
    upright = knn.extract_features(slanted).reshape(28, 28)
    columns = [np.average(np.arange(28), weights=r) for r in upright if r.sum() > 100]
    assert np.ptp(columns) < 1.5  # the slanted stroke spans 10 columns; deskewed, about one
    assert np.average(np.arange(28), weights=upright.sum(axis=0)) == pytest.approx(13.5, abs=0.3)


def test_bilinear_sampling_matches_its_definition_inside_and_out() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (3, 5, 6)).astype(np.float32)
    src_r = rng.uniform(-3, 8, (3, 4, 4)).astype(np.float32)
    src_c = rng.uniform(-3, 9, (3, 4, 4)).astype(np.float32)

    def pixel(i: int, r: int, c: int) -> float:
        return float(images[i, r, c]) if 0 <= r < 5 and 0 <= c < 6 else 0.0  # outside: paper

    expected = np.zeros(src_r.shape)
    for (i, y, x), r in np.ndenumerate(src_r):
        c = src_c[i, y, x]
        r0, c0 = int(np.floor(r)), int(np.floor(c))
        fr, fc = r - r0, c - c0
        expected[i, y, x] = (
            pixel(i, r0, c0) * (1 - fr) * (1 - fc)
            + pixel(i, r0, c0 + 1) * (1 - fr) * fc
            + pixel(i, r0 + 1, c0) * fr * (1 - fc)
            + pixel(i, r0 + 1, c0 + 1) * fr * fc
        )
    np.testing.assert_allclose(
        sample_bilinear(images, src_r, src_c), expected, rtol=1e-5, atol=1e-3
    )
    assert sample_bilinear(images[:0], src_r[:0], src_c[:0]).shape == (0, 4, 4)
