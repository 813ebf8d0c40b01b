"""From what a person or a program sends to what they get back: the page's and the API's handlers.

Each one makes the drawing a digit with ``preprocessing.to_mnist``, asks the model, and lays the
answer out with :mod:`webapp.view`. A blank drawing is a hint, not an error; anything that
cannot be read is a short :class:`gradio.Error` that names no server path.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gradio as gr
import numpy as np

import knn
import preprocessing
from knn.examples import Examples, ExampleStore, StoreFullError, UnknownExampleError
from webapp import view
from webapp.images import png_data_url
from webapp.inputs import ImageRefused
from webapp.settings import MAX_ACCEPTED

T = TypeVar("T")


def classify(model: knn.DigitModel, drawing: Any, k: float, weights: str) -> view.View:
    """The page's view of a drawing (what ``to_mnist`` takes), with k voters and this weighting."""
    try:
        digit = read(drawing)
    except preprocessing.EmptyDrawingError as err:
        return view.hint(str(err))
    return reclassify(model, digit, k, weights)


def reclassify(
    model: knn.DigitModel, digit: np.ndarray | None, k: float, weights: str
) -> view.View:
    """The page's view of a digit already made (uint8 (28, 28)), e.g. when Advanced changes."""
    if digit is None:
        return view.hint()
    return view.show(ask(model, digit, k, weights), digit)


def classify_for_api(
    model: knn.DigitModel, image: Any, k: float, weights: str, images: bool
) -> tuple[dict[str, float] | None, dict[str, Any]]:
    """The API's answer: the gr.Label value, and the details as JSON (see ``view.answer``),
    with the 28x28 digit the model saw as ``preview`` when ``images``.

    A blank image gives no label and ``{"hint": ...}``.
    """
    try:
        digit = read(image)
    except preprocessing.EmptyDrawingError as err:
        return None, {"hint": str(err)}
    result = ask(model, digit, k, weights)
    details = view.answer(result, images)
    if images:
        details["preview"] = png_data_url(digit)
    return view.probabilities(result), details


def read_number(
    model: knn.DigitModel,
    drawing: Any,
    judge: knn.DigitJudge,
    before: list[np.ndarray] | None = None,
) -> view.NumberView | None:
    """The Number tab's view of a drawn number, each digit read on its own; ``judge`` says
    where touching digits part. None, and nothing read, if its digits are those cut ``before``
    (the page's): the pad may report a stroke twice, and the second report must not undo a
    pick or a teach."""
    try:
        digits = split(drawing, judge)
    except preprocessing.EmptyDrawingError:
        digits = []
    same_count = before is not None and len(digits) == len(before)
    if same_count and all(map(np.array_equal, digits, before)):
        return None
    return reread_number(model, digits) if digits else view.number_hint()


def reread_number(model: knn.DigitModel, digits: list[np.ndarray]) -> view.NumberView:
    """The Number tab's view of a number already cut into ``digits``, each read by ``model``
    (after a correction: the same cuts, read with what the visitor taught)."""
    return view.show_number(digits, model.predict_proba(np.stack(digits)))


def read_number_for_api(
    model: knn.DigitModel, image: Any, judge: knn.DigitJudge
) -> tuple[str, dict[str, Any]]:
    """The API's answer for a number: its text, and the details (see ``view.number_answer``).

    A blank image gives an empty text and ``{"hint": ...}``.
    """
    try:
        digits = split(image, judge)
    except preprocessing.EmptyDrawingError as err:
        return "", {"hint": str(err)}
    details = view.number_answer(model.predict_proba(np.stack(digits)))
    return details["text"], details


def split(drawing: Any, judge: knn.DigitJudge) -> list[np.ndarray]:
    """``split_digits`` of a drawing, with unreadable input as a short ``gr.Error``."""
    return guarded(functools.partial(preprocessing.split_digits, judge=judge), drawing)


NO_EXAMPLES = Examples(
    np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), np.zeros(0, np.int64)
)


@dataclass(frozen=True)
class Taught:
    """What a visitor taught, and the model with it among its neighbours (None: nothing yet, the
    shared model answers).

    ``examples`` are their corrections, kept in the store; ``accepted`` the answers they let
    stand (they cleared the canvas without correcting it), taken as right and kept in memory
    only, the latest :data:`~webapp.settings.MAX_ACCEPTED`, numbered from 1 in this session.
    Kept in the visitor's session state and made anew, with its model, whenever either changes,
    so that a request does not rebuild it; no other visitor's session holds it."""

    examples: Examples
    accepted: Examples = NO_EXAMPLES
    model: knn.DigitModel | None = None

    @classmethod
    def build(
        cls, model: knn.DigitModel, examples: Examples, accepted: Examples = NO_EXAMPLES
    ) -> Taught:
        """``examples`` and ``accepted`` with ``model`` taught them."""
        if not len(examples.ids) + len(accepted.ids):
            return cls(examples, accepted)
        images = np.concatenate([examples.images, accepted.images])
        labels = np.concatenate([examples.labels, accepted.labels])
        return cls(examples, accepted, model.with_examples(images, labels))


NOBODY = Taught(NO_EXAMPLES)


def for_visitor(model: knn.DigitModel, taught: Taught) -> knn.DigitModel:
    """The model with this visitor's examples among its neighbours (their own alone)."""
    return model if taught.model is None else taught.model


DIGITS = tuple(str(d) for d in range(10))  # the keys of a gr.Label value of ours


def shown_label(label: Any) -> int | None:
    """The digit a gr.Label value (each digit's probability) shows on top; None if empty or not
    such a value (the browser sends it back, and a stranger can send anything)."""
    try:
        top = max(label, key=lambda digit: float(label[digit])) if label else None
        return int(top) if top is not None and str(top) in DIGITS else None
    except (TypeError, ValueError, LookupError):
        return None


def teach(
    store: ExampleStore,
    model: knn.DigitModel,
    digit: np.ndarray,
    label: int,
    predicted: int | None,
    taught: Taught,
    session: str,
    user: str | None,
) -> Taught:
    """Keep ``digit`` as one of this visitor's examples of ``label``; return all of theirs.

    ``predicted`` is the answer the page showed for it (None if unknown): the store records it
    for whoever reviews the corrections, without asking the model again.
    """
    try:
        example_id = store.add(session, digit, label, predicted, user)
    except StoreFullError as err:
        raise gr.Error(str(err), print_exception=False) from None
    return correct(model, digit, label, example_id, taught)


def correct(
    model: knn.DigitModel, digit: np.ndarray, label: int, example_id: int, taught: Taught
) -> Taught:
    """``digit``, corrected to ``label`` and stored as ``example_id``, joins the visitor's
    examples."""
    examples = _appended(taught.examples, digit, label, example_id)
    return Taught.build(model, examples, taught.accepted)


def accept(model: knn.DigitModel, digit: np.ndarray, label: int, taught: Taught) -> Taught:
    """The visitor let the answer ``label`` for ``digit`` stand: it joins their examples, in
    memory only, and the oldest such one goes when there are more than ``MAX_ACCEPTED``."""
    mine = taught.accepted
    number = int(mine.ids.max()) + 1 if len(mine.ids) else 1
    accepted = Examples(*(a[-MAX_ACCEPTED:] for a in _appended(mine, digit, label, number)))
    return Taught.build(model, taught.examples, accepted)


def forget(
    store: ExampleStore,
    model: knn.DigitModel,
    taught: Taught,
    choice: str,
    session: str,
    user: str | None,
) -> Taught:
    """Remove one of this visitor's examples, as ``view.examples_view`` names it in its
    choices: a correction from the store and from their model, an accepted answer from the
    model. A choice that names neither changes nothing."""
    named = view.chosen_example(choice)
    if named is None:
        return taught
    kind, example_id = named
    if kind == view.CORRECTION:
        with contextlib.suppress(UnknownExampleError):  # removed already, in another tab
            store.remove(example_id, session, user)
        if example_id in taught.examples.ids:
            return Taught.build(model, _without(taught.examples, example_id), taught.accepted)
    if kind == view.ACCEPTED and example_id in taught.accepted.ids:
        return Taught.build(model, taught.examples, _without(taught.accepted, example_id))
    return taught


def _appended(examples: Examples, digit: np.ndarray, label: int, example_id: int) -> Examples:
    return Examples(
        np.concatenate([examples.images, digit[None]]),
        np.append(examples.labels, np.uint8(label)),
        np.append(examples.ids, example_id),
    )


def _without(examples: Examples, example_id: int) -> Examples:
    keep = examples.ids != example_id
    return Examples(examples.images[keep], examples.labels[keep], examples.ids[keep])


def read(drawing: Any) -> np.ndarray:
    """``to_mnist`` of a drawing, with unreadable input as a short ``gr.Error``."""
    return guarded(preprocessing.to_mnist, drawing)


def guarded(make: Callable[[Any], T], drawing: Any) -> T:
    """``make(drawing)``; input it cannot read becomes a short ``gr.Error`` naming no path.

    A blank drawing raises ``preprocessing.EmptyDrawingError`` for the caller to turn into a hint.
    """
    try:
        return make(drawing)
    except preprocessing.EmptyDrawingError:
        raise
    except (ValueError, TypeError) as err:
        raise gr.Error(str(err), print_exception=False) from None
    except OSError:  # Pillow could read the header but not the pixels: a truncated file
        raise ImageRefused() from None


def ask(model: knn.DigitModel, digit: np.ndarray, k: float, weights: str) -> knn.Classification:
    """The model's answer for a uint8 (28, 28) digit with k voters and this weighting."""
    return model.with_params(n_neighbors=int(k), weights=weights).classify(digit)
