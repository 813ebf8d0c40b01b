"""Tests of `preprocessing.split_digits`: a drawn row of digits in, an MNIST digit per digit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import knn
from benchmarks.drawn_digits import centre_lines, draw_skeleton
from knn.judge import DigitJudge
from preprocessing import (
    MAX_DIGITS,
    EmptyDrawingError,
    Judge,
    TooManyDigitsError,
    split_digits,
    to_mnist,
)
from preprocessing.numbers import DIGIT_PRIOR, PEEL_COST, Row, cheapest_paths, reading_order
from preprocessing.straight import straight_strokes

CANVAS = (900, 300)  # width, height: the Number tab's canvas

# Digits as polylines in the unit square, (x, y) with y down; a digit is a list of strokes.
ONE = [[(0.5, 0.0), (0.5, 1.0)]]
ZERO = [
    [
        (0.5, 0),
        (0.9, 0.2),
        (1, 0.5),
        (0.9, 0.8),
        (0.5, 1),
        (0.1, 0.8),
        (0, 0.5),
        (0.1, 0.2),
        (0.5, 0),
    ]
]
THREE = [
    [
        (0.1, 0.1),
        (0.5, 0),
        (0.9, 0.15),
        (0.85, 0.4),
        (0.45, 0.5),
        (0.9, 0.6),
        (0.95, 0.85),
        (0.5, 1),
        (0.05, 0.9),
    ]
]
SEVEN = [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]]
FOUR = [[(0.6, 0.0), (0.0, 0.65), (1.0, 0.65)], [(0.7, 0.3), (0.7, 1.0)]]
FOUR_IN_TWO = [[(0.45, 0.0), (0.0, 0.65), (1.0, 0.65)], [(0.75, 0.25), (0.75, 1.0)]]
SEVEN_CROSSED = [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)], [(0.3, 0.5), (0.85, 0.5)]]
FIVE_FLAGGED = [
    [(0.2, 0.05), (0.1, 0.45), (0.5, 0.4), (0.85, 0.6), (0.8, 0.9), (0.45, 1.0), (0.05, 0.9)],
    [(0.3, 0.0), (0.95, 0.0)],
]


def draw(
    strokes: list[list[tuple[float, float]]], box: tuple[float, float, float, float], width: int = 8
) -> np.ndarray:
    """Ink coverage (300, 900) uint8 of polylines drawn with a round brush into `box`
    (left, top, box width, box height, in pixels)."""
    left, top, box_width, box_height = box
    ink = Image.new("L", CANVAS, 0)
    pen = ImageDraw.Draw(ink)
    for stroke in strokes:
        points = [(left + box_width * x, top + box_height * y) for x, y in stroke]
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in points:
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(ink)


def on_paper(*layers: np.ndarray) -> np.ndarray:
    """Black ink on white paper, the layers drawn over each other."""
    return 255 - np.maximum.reduce(layers)


def alone(layer: np.ndarray) -> np.ndarray:
    """What `to_mnist` makes of one digit's ink alone on the canvas."""
    return to_mnist(on_paper(layer))


def alike(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two digits' pixels: 1 for the same picture."""
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.fixture(scope="module")
def mnist_layers(mnist) -> tuple[list[np.ndarray], str]:
    """Five MNIST training digits (3 1 4 0 9) redrawn side by side, a brush 10 px wide, with
    heights from 120 to 160 px on a sloping row: each digit's ink alone, and the labels."""
    labels = "31409"
    chosen = [int(np.flatnonzero(mnist.train_labels == int(label))[7]) for label in labels]
    layers = []
    for place, index in enumerate(chosen):
        skeleton = centre_lines(mnist.train_images[index])
        rows, cols = np.nonzero(skeleton)
        height = 160 - 10 * place
        scale = (height - 10) / max(np.ptp(rows), np.ptp(cols))
        corner = (
            np.array([60 + 12 * place, 40 + 170 * place])
            - np.array([rows.min(), cols.min()]) * scale
        )
        layers.append(draw_skeleton(skeleton, CANVAS, scale, corner + 5, 10.0))
    return layers, labels


def test_digits_come_back_in_order_each_as_to_mnist_makes_it_alone(mnist_layers):
    layers, labels = mnist_layers
    digits = split_digits(on_paper(*layers))
    assert len(digits) == len(labels)
    for digit, layer in zip(digits, layers, strict=True):
        assert digit.shape == (28, 28) and digit.dtype == np.uint8
        assert np.array_equal(digit, alone(layer))


def test_every_input_kind_splits_alike(mnist_layers):
    layers, _ = mnist_layers
    ink = np.maximum.reduce(layers)
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = ink
    expected = split_digits(on_paper(*layers))
    for drawing in (
        Image.fromarray(ink),
        {"background": None, "layers": [rgba], "composite": None},
    ):
        found = split_digits(drawing)
        assert len(found) == len(expected)
        assert all(
            np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(found, expected, strict=True)
        )


def test_one_digit_gives_a_list_of_one_equal_to_to_mnist():
    drawing = on_paper(draw(SEVEN_CROSSED, (380, 60, 130, 180)))
    digits = split_digits(drawing)
    assert len(digits) == 1
    assert np.array_equal(digits[0], to_mnist(drawing))


def test_digits_of_several_strokes_stay_whole():
    layers = [
        draw(FOUR_IN_TWO, (80, 60, 130, 180)),
        draw(SEVEN_CROSSED, (300, 70, 120, 170)),
        draw(FIVE_FLAGGED, (510, 60, 120, 180)),
    ]
    digits = split_digits(on_paper(*layers))
    assert len(digits) == 3
    for digit, layer in zip(digits, layers, strict=True):
        assert np.array_equal(digit, alone(layer))


@pytest.mark.parametrize("judged", [False, True], ids=["geometry", "judged"])
def test_a_sevens_bar_over_the_next_digit_does_not_join_them(judged, request):
    seven = draw([[(0.0, 0.0), (1.4, 0.0)], [(1.0, 0.0), (0.35, 1.0)]], (100, 60, 120, 180))
    one = draw(ONE, (240, 90, 40, 150))
    digits = split_digits(
        on_paper(seven, one), request.getfixturevalue("judge") if judged else None
    )
    assert len(digits) == 2
    assert alike(digits[0], alone(seven)) > 0.95
    assert np.array_equal(digits[1], alone(one))


def test_touching_digits_are_split_where_they_join():
    left, right = draw(ZERO, (150, 60, 150, 180)), draw(ZERO, (305, 70, 150, 170))
    assert (left & right).any()
    digits = split_digits(on_paper(left, right))
    assert len(digits) == 2
    # Where two strokes cross, a few pixels of one digit may go with the other.
    assert alike(digits[0], alone(left)) > 0.7
    assert alike(digits[1], alone(right)) > 0.7


def test_thin_one_beside_a_wide_zero():
    one, zero = draw(ONE, (200, 60, 20, 180)), draw(ZERO, (260, 60, 190, 180))
    digits = split_digits(on_paper(one, zero))
    assert len(digits) == 2
    assert np.array_equal(digits[0], alone(one))
    assert np.array_equal(digits[1], alone(zero))


@pytest.mark.parametrize(
    ("mark", "box"),
    [
        ([[(0.5, 0.5)]], (600, 250, 0, 0)),  # a speck, below the digits
        ([[(0.0, 0.0)], [(0.0, 1.0)]], (600, 100, 0, 80)),  # a colon half a digit tall
    ],
    ids=["speck", "colon"],
)
def test_a_speck_is_dropped(mark, box):
    one, zero = draw(ONE, (200, 60, 20, 180)), draw(ZERO, (300, 60, 150, 180))
    with_mark = split_digits(on_paper(one, zero, draw(mark, box, width=10)))
    without = split_digits(on_paper(one, zero))
    assert len(with_mark) == len(without) == 2
    assert all(np.array_equal(a, b) for a, b in zip(with_mark, without, strict=True))


# A 5 whose flag, and a 7 whose bar's left end, were drawn apart: short strokes sharing too
# few columns with the rest of their digit to be grouped with it by overlap.
FIVE_FLAG_APART = [FIVE_FLAGGED[0], [(0.4, 0.0), (1.3, 0.0)]]
SEVEN_BAR_BROKEN = [[(0.0, 0.0), (0.5, 0.0)], [(0.65, 0.0), (1.0, 0.0), (0.35, 1.0)]]


@pytest.mark.parametrize("strokes", [FIVE_FLAG_APART, SEVEN_BAR_BROKEN], ids=["5", "7"])
def test_a_piece_too_small_for_a_digit_joins_the_digit_beside_it(strokes):
    digit = draw(strokes, (150, 60, 120, 180))
    one = draw(ONE, (500, 60, 20, 180))
    digits = split_digits(on_paper(digit, one))
    assert len(digits) == 2
    assert np.array_equal(digits[0], alone(digit))
    assert np.array_equal(digits[1], alone(one))


@pytest.mark.parametrize("blank", [np.full((300, 900), 255, np.uint8), None])
def test_a_blank_drawing_raises(blank):
    with pytest.raises(EmptyDrawingError):
        split_digits(blank)


def test_more_than_max_digits_raise_an_error_saying_so():
    ones = [draw(ONE, (30 + 60 * place, 60, 20, 180)) for place in range(MAX_DIGITS + 2)]
    assert len(split_digits(on_paper(*ones[:MAX_DIGITS]))) == MAX_DIGITS
    with pytest.raises(TooManyDigitsError, match=f"{MAX_DIGITS + 2} digits.*{MAX_DIGITS}"):
        split_digits(on_paper(*ones))
    assert issubclass(TooManyDigitsError, ValueError)


# With a judge: a real model, fitted on MNIST training digits.
JUDGE_TRAINING_DIGITS = 3000


@pytest.fixture(scope="module")
def model(mnist) -> knn.DigitModel:
    images = mnist.train_images[:JUDGE_TRAINING_DIGITS]
    return knn.DigitModel.from_images(images, mnist.train_labels[:JUDGE_TRAINING_DIGITS])


@pytest.fixture(scope="module")
def judge(model) -> Judge:
    return DigitJudge(model)


def test_with_a_judge_digits_come_back_in_order_each_as_to_mnist_makes_it_alone(
    mnist_layers, judge
):
    layers, _ = mnist_layers
    digits = split_digits(on_paper(*layers), judge)
    assert len(digits) == len(layers)
    for digit, layer in zip(digits, layers, strict=True):
        assert np.array_equal(digit, alone(layer))


def test_the_judge_reads_overlapping_threes_that_geometry_cuts_wrongly(model, judge):
    left, right = draw(THREE, (150, 60, 120, 180)), draw(THREE, (250, 65, 120, 175))
    assert (left & right).any()
    drawing = on_paper(left, right)
    assert model.predict(np.stack(split_digits(drawing))).tolist() != [3, 3]
    digits = split_digits(drawing, judge)
    assert model.predict(np.stack(digits)).tolist() == [3, 3]
    assert alike(digits[0], alone(left)) > 0.8
    assert alike(digits[1], alone(right)) > 0.8


@pytest.mark.parametrize(
    ("strokes", "width"), [(ZERO, 260), (SEVEN, 250), (FOUR, 200)], ids=["0", "7", "4"]
)
def test_a_wide_single_digit_stays_whole_with_the_judge(strokes, width, judge):
    layer = draw(strokes, (200, 60, width, 180))
    digits = split_digits(on_paper(layer), judge)
    assert len(digits) == 1
    assert np.array_equal(digits[0], alone(layer))


def test_a_touching_pair_inside_a_number_is_read_in_place(model, judge):
    layers = [
        draw(ONE, (100, 60, 20, 180)),
        draw(THREE, (200, 60, 120, 180)),
        draw(THREE, (300, 65, 120, 175)),
        draw(SEVEN, (520, 60, 130, 180)),
    ]
    digits = split_digits(on_paper(*layers), judge)
    assert model.predict(np.stack(digits)).tolist() == [1, 3, 3, 7]
    assert np.array_equal(digits[0], alone(layers[0]))
    assert np.array_equal(digits[-1], alone(layers[-1]))


def test_the_judge_is_asked_once_for_all_candidates_of_a_drawing(judge):
    calls = []

    def counting(digits: np.ndarray) -> np.ndarray:
        assert digits.ndim == 3 and digits.shape[1:] == (28, 28) and digits.dtype == np.uint8
        calls.append(len(digits))
        return judge(digits)

    wide = [draw(ZERO, (100, 60, 260, 180)), draw(SEVEN, (450, 60, 250, 180))]
    assert len(split_digits(on_paper(*wide), counting)) == 2
    assert len(calls) == 1 and calls[0] > 2
    calls.clear()
    assert len(split_digits(on_paper(draw(ONE, (200, 60, 20, 180))), counting)) == 1
    assert calls == []


def test_with_a_judge_a_flag_drawn_apart_stays_with_its_five(model, judge):
    five, one = draw(FIVE_FLAG_APART, (150, 60, 120, 180)), draw(ONE, (500, 60, 20, 180))
    digits = split_digits(on_paper(five, one), judge)
    assert model.predict(np.stack(digits)).tolist() == [5, 1]
    assert np.array_equal(digits[0], alone(five))


def test_with_a_judge_a_zero_closed_by_a_second_tall_stroke_is_one_digit(model, judge):
    # The closing stroke lies within the first stroke's columns and is a digit's height by
    # itself, so geometry keeps the two apart, as it keeps a 1 under a 7's bar.
    zero = draw(
        [
            [(0.9, 0.05), (0.5, 0), (0.1, 0.2), (0, 0.5), (0.1, 0.8), (0.5, 1), (0.9, 0.95)],
            [(0.78, 0.12), (0.97, 0.5), (0.78, 0.88)],
        ],
        (300, 60, 150, 180),
    )
    assert len(split_digits(on_paper(zero))) == 2
    digits = split_digits(on_paper(zero), judge)
    assert len(digits) == 1
    assert np.array_equal(digits[0], alone(zero))
    assert model.predict(np.stack(digits)).tolist() == [0]


@pytest.mark.parametrize("one_first", [True, False], ids=["10", "01"])
def test_with_a_judge_a_one_touching_a_zero_along_its_side_is_split_from_it(
    model, judge, one_first
):
    if one_first:
        layers = [draw(ONE, (200, 60, 20, 180)), draw(ZERO, (215, 60, 150, 180))]
    else:
        layers = [draw(ZERO, (200, 60, 150, 180)), draw(ONE, (345, 60, 20, 180))]
    assert (layers[0] & layers[1]).any()
    digits = split_digits(on_paper(*layers), judge)
    assert model.predict(np.stack(digits)).tolist() == ([1, 0] if one_first else [0, 1])
    for digit, layer in zip(digits, layers, strict=True):
        assert alike(digit, alone(layer)) > 0.8


def test_a_cut_runs_along_a_row_under_an_overhanging_bar():
    ink = np.zeros((10, 10), dtype=bool)
    ink[0, :6] = True  # a bar, over ...
    ink[1:, 2] = True  # ... its own stem ...
    ink[2:, 4] = True  # ... and the next digit's stroke
    _, straight = cheapest_paths(ink, per_cell=0.0, per_step=1.0)
    paths, costs = cheapest_paths(ink, per_cell=0.0, per_step=1.0, per_run=0.1)
    assert straight[3] >= 1  # without runs, a cut must cross the bar or a stroke
    assert costs[3] == pytest.approx(0.3)  # in at column 6 above, along row 1 to column 3
    assert paths[0, 3] >= 6 and (paths[2:, 3] == 3).all()


@pytest.mark.parametrize("one_height", [200, 180], ids=["taller", "as tall"])
def test_with_a_judge_a_one_drawn_through_a_fours_bar_comes_back_as_two_digits(
    model, judge, one_height
):
    layers = [draw(FOUR, (200, 60, 150, 180)), draw(ONE, (330, 240 - one_height, 20, one_height))]
    assert (layers[0] & layers[1]).any()  # the bar runs on past the 1: no cut parts them
    digits = split_digits(on_paper(*layers), judge)
    assert model.predict(np.stack(digits)).tolist() == [4, 1]
    own = [alike(digit, alone(layer)) for digit, layer in zip(digits, layers, strict=True)]
    assert min(own) > 0.55  # each keeps most of its ink; the bar's end goes to one of them
    assert (
        alike(digits[0], alone(layers[1])) < own[0] and alike(digits[1], alone(layers[0])) < own[1]
    )


@pytest.mark.parametrize("margin", [-0.05, 0.05], ids=["kept whole", "peeled"])
def test_a_one_is_peeled_only_where_it_and_its_rest_beat_the_whole_by_a_digit_and_a_peel(margin):
    # A 4 with its stem drawn the full height, too narrow for a cut but wide enough for a peel.
    # The scripted judge costs the stem and the rest `part_cost` each, and the whole so much
    # that the two beat it by `margin` beyond the prior of one more digit and the peel's cost.
    four = [[(0.6, 0.0), (0.0, 0.65), (1.0, 0.65)], [(0.8, 0.0), (0.8, 1.0)]]
    drawing = on_paper(draw(four, (300, 50, 90, 200)))
    whole = to_mnist(drawing)
    part_cost = 0.1
    whole_cost = 2 * part_cost + DIGIT_PRIOR + PEEL_COST + margin

    def scripted(digits: np.ndarray) -> np.ndarray:
        return np.array([whole_cost if np.array_equal(d, whole) else part_cost for d in digits])

    digits = split_digits(drawing, scripted)
    if margin < 0:
        assert len(digits) == 1 and np.array_equal(digits[0], whole)
    else:
        assert len(digits) == 2


def test_the_straight_strokes_of_a_part_are_its_long_straight_runs_of_ink():
    part = np.zeros((40, 40), dtype=bool)
    part[2:38, 5:8] = True  # a straight stroke at the left ...
    part[20:23, 5:35] = True  # ... a bar from it ...
    part[2:38, 32:35] = True  # ... to one at the right ...
    part[25:38, 19:22] = True  # ... over a short one between
    left, right = straight_strokes(part, 2.5, 30)
    assert left[2:38, 5:8].all() and not left[:, 10:].any()
    assert right[2:38, 32:35].all() and not right[:, :30].any()
    assert straight_strokes(part, 2.5, 37) == []  # none is straight so long


def test_digits_drawn_into_each_other_are_read_in_the_order_of_their_ink():
    one = np.zeros((40, 60), dtype=bool)
    one[2:38, 14:17] = True  # a 1 ...
    six = np.zeros_like(one)
    six[2:38, 30:33] = True  # ... drawn into a 6, whose loop ...
    six[26:38, 10:40] = True  # ... reaches further left than the 1
    assert reading_order([six, one], Row(36.0, 3.0)) == [1, 0]
