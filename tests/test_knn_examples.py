"""The example store (SQLite), its command line, and models taught by examples."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import knn
from knn import variants
from knn.data import read_idx
from knn.examples import (
    ExampleStore,
    NotAnExampleStoreError,
    StoreFullError,
    UnknownExampleError,
)
from knn.examples_cli import main as examples_cli


def digit(value: int) -> np.ndarray:
    return np.full((28, 28), value, dtype=np.uint8)


def test_add_list_remove_and_delete(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "e.sqlite")
    a = store.add("s1", digit(1), 7, 1, user="ann")
    b = store.add("s1", digit(2), 4, 9)
    c = store.add("s2", digit(3), 0, None)
    images, labels, ids = store.examples(session="s1")
    assert ids.tolist() == [a, b] and labels.tolist() == [7, 4]
    assert images.dtype == np.uint8 and (images[1] == 2).all()
    assert store.examples(user="ann").ids.tolist() == [a]
    assert store.count() == 3 and store.count(session="s2") == 1
    with pytest.raises(UnknownExampleError):
        store.remove(c, "s1")  # not that session's example
    store.remove(c, "s2")
    assert store.count() == 2
    assert store.delete(before=0.0) == 0
    assert store.delete(session="s1") == 2 and store.count() == 0


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "e.sqlite")
    with pytest.raises(ValueError, match="uint8"):
        store.add("s", np.zeros((28, 28), np.float32), 1, 1)
    with pytest.raises(ValueError, match="label"):
        store.add("s", digit(0), 10, 1)
    with pytest.raises(ValueError, match="session"):
        store.add("", digit(0), 1, 1)
    with pytest.raises(ValueError, match="say which"):
        store.delete()
    assert store.count() == 0


def test_limits_raise_store_full(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "e.sqlite", max_per_session=2, max_rows=3)
    store.add("s1", digit(0), 1, 1)
    store.add("s1", digit(0), 1, 1)
    with pytest.raises(StoreFullError, match="session 's1'"):
        store.add("s1", digit(0), 1, 1)
    store.add("s2", digit(0), 1, 1)
    with pytest.raises(StoreFullError, match="limit"):
        store.add("s3", digit(0), 1, 1)
    assert store.count() == 3


def test_concurrent_threads_lose_nothing(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "e.sqlite")
    errors: list[Exception] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                store.add(f"t{n}", digit(i), i % 10, None)
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _, _, ids = store.examples()
    assert len(ids) == 120 == len(set(ids.tolist()))
    assert all(store.count(session=f"t{n}") == 20 for n in range(6))


def _process_writer(path: str, n: int) -> None:
    store = ExampleStore(path)
    for i in range(15):
        store.add(f"p{n}", digit(i), i % 10, None)


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "e.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_process_writer, args=(path, n)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * 4
    store = ExampleStore(path)
    assert store.count() == 60
    assert sorted(s.count for s in store.sessions()) == [15] * 4


def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(NotAnExampleStoreError, match="not an SQLite database"):
        ExampleStore(path)
    assert path.read_bytes() == b"this is not a database at all" * 100


def test_another_applications_database_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('mine')")
    before = path.read_bytes()
    with pytest.raises(NotAnExampleStoreError, match="another application"):
        ExampleStore(path)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    ExampleStore(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(NotAnExampleStoreError, match="newer version"):
        ExampleStore(path)


def test_cli_exports_idx_that_read_idx_reads_back(tmp_path: Path, capsys) -> None:
    path = tmp_path / "e.sqlite"
    store = ExampleStore(path)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    for image, label in zip(images, [3, 1, 4], strict=True):
        store.add("s", image, label, 0)
    store.add("other", digit(9), 9, 0)
    out = tmp_path / "out"
    assert examples_cli(["--store", str(path), "export", str(out), "--session", "s"]) == 0
    np.testing.assert_array_equal(read_idx(out / "train-images-idx3-ubyte.gz"), images)
    assert read_idx(out / "train-labels-idx1-ubyte.gz").tolist() == [3, 1, 4]
    assert read_idx(out / "t10k-images-idx3-ubyte.gz").shape == (0, 28, 28)
    assert examples_cli(["--store", str(path), "export", str(out), "--format", "npz"]) == 0
    with np.load(out / "examples.npz", allow_pickle=False) as saved:
        assert saved["labels"].tolist() == [3, 1, 4, 9]
    assert examples_cli(["--store", str(path), "list"]) == 0
    assert "total: 4" in capsys.readouterr().out
    assert examples_cli(["--store", str(path), "delete", "--session", "other"]) == 0
    assert store.count() == 3


@pytest.fixture(scope="module")
def small(mnist: knn.MNIST) -> knn.DigitModel:
    return knn.DigitModel.from_images(mnist.train_images[:3000], mnist.train_labels[:3000])


@pytest.mark.parametrize("rerank", ["idm", None])
def test_an_example_changes_the_answer_only_in_its_variant(small, mnist, rerank) -> None:
    base = small.with_params(rerank=rerank)
    query = mnist.test_images[0]  # a 7
    assert base.classify(query).label == 7
    taught = base.with_examples(query[None], np.array([2]))
    other = base.with_examples(mnist.test_images[1:2], np.array([5]))
    result = taught.classify(query)
    assert result.label == 2
    assert result.neighbours[0].source == "yours" and result.neighbours[0].distance == 0
    assert base.classify(query).label == 7 and base.extra is None
    assert other.classify(query).label == 7  # another visitor's example does not leak
    assert all(n.source == "training" for n in other.classify(query).neighbours)
    assert taught.index is base.index and taught.images is base.images  # shared, not copied


def test_a_smaller_distance_scale_brings_a_farther_example_among_the_voters(small, mnist) -> None:
    query, farther = mnist.test_images[0], mnist.test_images[26]  # two 7s; the second taught as 2
    plain = small.with_params(example_distance_scale=1.0).with_examples(farther[None], [2])
    strong = small.with_params(example_distance_scale=0.5).with_examples(farther[None], [2])
    assert all(n.source == "training" for n in plain.classify(query).neighbours)
    assert strong.classify(query).neighbours[0].source == "yours"


def test_a_smaller_vote_scale_lets_a_near_example_outvote_training_digits(small, mnist) -> None:
    query, near = mnist.test_images[0], mnist.test_images[17]  # two 7s; the second taught as 2
    base = small.classify(query)
    plain = small.with_params(example_vote_scale=1.0).with_examples(near[None], [2])
    strong = small.with_params(example_vote_scale=0.25).with_examples(near[None], [2])
    weak_vote, strong_vote = plain.classify(query), strong.classify(query)
    # The same voters, the correction among them, only its vote weighs more.
    assert [(n.source, n.index) for n in strong_vote.neighbours] == [
        (n.source, n.index) for n in weak_vote.neighbours
    ]
    sources = [n.source for n in strong_vote.neighbours]
    assert "yours" in sources and weak_vote.label == 7 and strong_vote.label == 2
    # Against a training neighbour, its vote weighs 1 / 0.25 times what it weighs at scale 1.
    y, t = sources.index("yours"), sources.index("training")
    ratio = [
        vote.neighbours[y].weight / vote.neighbours[t].weight for vote in (weak_vote, strong_vote)
    ]
    assert ratio[1] == pytest.approx(4 * ratio[0])
    again = small.classify(query)  # the base is untouched
    assert small.extra is None and again.label == base.label == 7
    np.testing.assert_array_equal(again.probabilities, base.probabilities)
    for bad in (0, -0.3, True, "0.3"):
        with pytest.raises(ValueError, match="example_vote_scale"):
            small.with_params(example_vote_scale=bad)


def test_a_correction_is_searched_as_its_variants(small, mnist, monkeypatch) -> None:
    query = mnist.test_images[0]  # a 7, taught as a 2
    # Its vote as its distance, and no deformed training copies: the correction's variants decide.
    plain = small.with_params(example_vote_scale=1.0, virtual=False)
    taught = plain.with_examples(query[None], np.array([2]))
    assert len(taught.extra.features) == 1 + len(variants.DEFORMATIONS)
    assert set(taught.extra.owner) == {0} and list(taught.extra.sources) == ["yours"]
    shared = small.with_examples(query[None], np.array([2]), source="shared")
    assert len(shared.extra.features) == 1  # reviewed examples count as themselves
    # The same 7 drawn turned by 8 degrees: near one of the variants, farther from the drawing.
    drawn = np.asarray(Image.fromarray(query).rotate(-8, resample=Image.Resampling.BILINEAR))
    result = taught.classify(drawn)
    nearest = result.neighbours[0]
    assert result.label == 2 and nearest.source == "yours" and nearest.index == 0
    np.testing.assert_array_equal(nearest.image, query)  # the correction itself is shown
    assert sum(n.source == "yours" for n in result.neighbours) == 1  # one voter per correction
    monkeypatch.setattr(variants, "DEFORMATIONS", ())
    alone = plain.with_examples(query[None], np.array([2])).classify(drawn)
    assert alone.label == 7  # without its variants the correction is outvoted
    assert min(n.distance for n in alone.neighbours if n.source == "yours") > nearest.distance
    assert small.extra is None and small.classify(drawn).label == 7  # the base is untouched
    assert small.with_examples(np.zeros((0, 28, 28), np.uint8), np.zeros(0, int)) is small
    other = small.with_examples(mnist.test_images[1:2], np.array([5])).classify(drawn)
    assert other.label == 7 and all(n.source == "training" for n in other.neighbours)


def test_load_model_serves_shared_examples(mnist, tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "e.sqlite")
    store.add("s", mnist.test_images[0], 2, 7)
    assert examples_cli(["--store", str(tmp_path / "e.sqlite"), "export", str(tmp_path / "x")]) == 0
    model = knn.load_model(
        cache_dir=tmp_path / "cache", n_train=2000, extra_examples=tmp_path / "x"
    )
    result = model.classify(mnist.test_images[0])
    assert result.neighbours[0].source == "shared" and result.label == 2
    assert "1 shared" in model.dataset
