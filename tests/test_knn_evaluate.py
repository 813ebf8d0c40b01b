"""The evaluation and tuning commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knn import evaluate, tune
from knn.calibrate import held_out_neighbours
from knn.params import ModelParams


def test_evaluate_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--n-train", "2000", "--n-test", "300", "--k", "3", "--weights", "uniform"]
    assert evaluate.main([*argv, "--json", "--cache-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["n_train"] == 2000 and report["n_test"] == 300
    assert (report["k"], report["weights"]) == (3, "uniform")
    assert 0.85 < report["accuracy"] <= 1.0
    assert report["seconds"] > 0 and report["ms_per_query"] > 0
    confusion = np.array(report["confusion_matrix"])
    assert confusion.sum() == 300
    assert np.trace(confusion) / 300 == pytest.approx(report["accuracy"])
    assert "classifying" in captured.err  # the progress bar goes to stderr
    assert evaluate.load_report(tmp_path) == report


def test_evaluate_text_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main(["--n-train", "1000", "--n-test", "50", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "accuracy:" in out and "on 50 test images" in out
    assert "confusion matrix" in out and "precision" in out and "ms per query" in out


def test_evaluate_without_data_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nowhere")
    assert evaluate.main(["--data-dir", missing, "--cache-dir", str(tmp_path)]) == 2
    assert "lacks train-images" in capsys.readouterr().err


def test_evaluate_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        evaluate.main(["--k", "0"])
    assert "--k must be an integer in 1..15" in capsys.readouterr().err


def test_load_report_tolerates_garbage(tmp_path: Path) -> None:
    assert evaluate.load_report(tmp_path) is None
    (tmp_path / evaluate.REPORT_NAME).write_text("{not json")
    assert evaluate.load_report(tmp_path) is None


def test_tune_scores_every_pair_on_held_out_training_data(mnist) -> None:
    scores = tune.validation_scores(
        mnist.train_images[:2500], mnist.train_labels[:2500], n_validation=500, max_k=3
    )
    assert set(scores) == {(k, w) for k in (1, 2, 3) for w in ("uniform", "distance")}
    assert all(0.85 < s <= 1 for s in scores.values())
    assert scores[1, "uniform"] == scores[1, "distance"]  # one neighbour: weighting is moot


def test_folds_hold_out_blocks_in_turn_and_pool_them(mnist) -> None:
    images, labels = mnist.train_images[:1500], mnist.train_labels[:1500]
    params = ModelParams(n_neighbors=1, rerank=None)
    held, model = held_out_neighbours(images, labels, 500, params, fold=1)
    # Fold 1 is the block before the last: the model is fitted on the other two blocks.
    np.testing.assert_array_equal(held.labels, labels[500:1000])
    np.testing.assert_array_equal(model.images, np.concatenate([images[:500], images[1000:]]))
    with pytest.raises(ValueError, match=r"fold must be in 0\.\.2"):
        held_out_neighbours(images, labels, 500, params, fold=3)
    pooled = tune.validation_scores(images, labels, 500, max_k=1, params=params, folds=3)
    alone = [
        np.mean(h.neighbour_labels[:, 0] == h.labels)
        for h in (held_out_neighbours(images, labels, 500, params, fold=f)[0] for f in range(3))
    ]
    assert pooled[1, "uniform"] == pytest.approx(np.mean(alone))
