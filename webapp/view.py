"""What the page and the API show of a classification; nothing here classifies or counts again.

``knn`` hands over a :class:`~knn.Classification` that carries everything shown: the label, the
ten probabilities and each neighbour with its distance and its share of the vote. This module
only lays that out: as a :class:`View` for the page, or as JSON for programs.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

import knn
from knn.calibrate import KEEP
from knn.examples import Examples
from webapp.images import png_data_url
from webapp.settings import MAX_ACCEPTED, PREVIEW_SCALE, THUMBNAIL_SCALE

START_HINT = "Draw a digit on the canvas: the prediction follows your pen."
BADGES = {"yours": ' · <span class="yours">yours</span>', "shared": " · shared"}
STORE_NOTE = (
    "Your corrections teach this page at once, for you alone: other visitors never see them. "
    "They are kept on this server (with the time and this browser session's id, and your user "
    "name when there is a login), so that the people running it can review them. An answer you "
    "do not correct is taken as right when you clear the canvas: that drawing joins your "
    "examples too, so the page learns your own way of writing, but it is kept in this page only "
    f"(the latest {MAX_ACCEPTED}) and forgotten within an hour of closing it."
)
NUMBER_HINT = "Write a number, digit after digit: it is read as you write."
OFFLINE_NOTICE = (
    "**Offline mode.** MNIST was not found, so this demo runs on scikit-learn's 1,797 bundled "
    "8x8 digits, upscaled to 28x28: expect rougher answers. To use MNIST, start the app once "
    "with internet access (it downloads MNIST), or put the four MNIST files in a folder and pass "
    "`--data-dir FOLDER` or set `MNIST_DIR`."
)


@dataclass(frozen=True)
class View:
    """Everything the page shows for one drawing, one field per output component."""

    label: dict[str, float] | None  # the gr.Label value: each digit's probability
    votes: str  # Markdown: the tally, or a hint when there is nothing to classify
    preview: str  # HTML: the 28x28 digit the model was given, enlarged
    neighbours: str  # HTML: the voters, nearest first, with label, distance and share
    digit: np.ndarray | None  # uint8 (28, 28), kept so that Advanced can ask again
    is_digit: bool = False  # the answer is a digit: one a visitor may let stand


@dataclass(frozen=True)
class NumberView:
    """Everything the Number tab shows for one drawn number."""

    text: str  # Markdown: the number read, large, or a hint
    digits_html: str  # HTML: each digit as the model saw it, its label and its probability
    choices: list[str]  # one entry per digit, to pick the digit whose voters are shown
    digits: list[np.ndarray]  # uint8 (28, 28) each, kept for the pick


def show_number(digits: list[np.ndarray], probabilities: np.ndarray) -> NumberView:
    """The Number tab's view of ``digits``, left to right, with their (n, 10) probabilities."""
    labels = probabilities.argmax(axis=1)
    cards = "".join(
        f'<figure class="number-digit">{picture(digit, THUMBNAIL_SCALE, f"digit {i + 1}")}'
        f"<figcaption><b>{label}</b> · {p[label]:.0%}</figcaption></figure>"
        for i, (digit, label, p) in enumerate(zip(digits, labels, probabilities, strict=True))
    )
    return NumberView(
        text=f"# {''.join(map(str, labels))}",
        digits_html=f'<div class="neighbours">{cards}</div>',
        choices=[f"{i + 1}: {label}" for i, label in enumerate(labels)],
        digits=digits,
    )


def number_hint(message: str = NUMBER_HINT) -> NumberView:
    """Nothing to read: ``message`` where the number goes."""
    return NumberView(text=f"✏️ {message}", digits_html="", choices=[], digits=[])


def number_answer(probabilities: np.ndarray) -> dict[str, Any]:
    """The number as JSON for programs: its text and, per digit, the label and probabilities."""
    labels = probabilities.argmax(axis=1)
    return {
        "text": "".join(map(str, labels)),
        "digits": [
            {"label": int(label), "probabilities": [float(x) for x in p]}
            for label, p in zip(labels, probabilities, strict=True)
        ],
    }


def show(result: knn.Classification, digit: np.ndarray) -> View:
    """The page's view of ``result``, the answer for ``digit``."""
    return View(
        label=probabilities(result),
        votes=tally(result),
        preview=picture(digit, PREVIEW_SCALE, "What the model sees"),
        neighbours=gallery(result),
        digit=digit,
        is_digit=bool(result.is_digit),
    )


def hint(message: str = START_HINT) -> View:
    """Nothing to classify: empty outputs and ``message`` where the tally goes."""
    return View(label=None, votes=f"✏️ {message}", preview="", neighbours="", digit=None)


def probabilities(result: knn.Classification) -> dict[str, float]:
    """Each digit's probability, keyed "0".."9", as gr.Label takes them."""
    return {str(d): float(p) for d, p in enumerate(result.probabilities)}


def tally(result: knn.Classification) -> str:
    """The neighbours' votes, most probable digit first, as Markdown; each neighbour's own share
    is under its picture. Says so first when the drawing does not look like a digit, and why."""
    voters = [n for n in result.neighbours if n.source != "non-digit"]
    counts: dict[int, int] = {}
    for neighbour in voters:
        counts[neighbour.label] = counts.get(neighbour.label, 0) + 1
    order = sorted(counts, key=lambda label: -result.probabilities[label])
    n = len(voters)
    votes = ", ".join(
        f"**{label}**: {counts[label]} of {n} ({result.probabilities[label]:.0%})"
        for label in order
    )
    line = f"Votes of the {n} nearest training digits: {votes}"
    if result.prior_share >= 0.005:
        line += f"; {result.prior_share:.0%} spread over all ten, as the neighbours are far"
    if result.is_digit:
        return line
    return f"⚠️ **That doesn't look like a digit.** {_why(result)}\n\n{line}"


def _why(result: knn.Classification) -> str:
    """Why a drawing does not look like a digit, in a sentence."""
    if result.strangeness > 1:
        return (
            f"The nearest training digit is {result.strangeness:.1f} times as far as "
            f"{KEEP:.1%} of real digits are from theirs, for a drawing as near to the "
            f"non-digit drawings the model knows (see the distances below)."
        )
    return (
        f"Non-digit drawings the model knows (letters, symbols, shapes) hold "
        f"{result.non_digit_share:.0%} of the nearest (marked “not a digit” below)."
    )


def picture(digit: np.ndarray, scale: int, alt: str) -> str:
    """An <img> of a 28x28 digit, enlarged ``scale`` times by the browser with square pixels."""
    side = 28 * scale
    return (
        f'<img src="{png_data_url(digit)}" width="{side}" height="{side}" '
        f'alt="{html.escape(alt)}" class="digit">'
    )


def gallery(result: knn.Classification) -> str:
    """The nearest drawings as a row of figures: image, label (or "not a digit" for a non-digit
    reference), distance and share of the vote."""
    figures = "".join(
        f'<figure class="neighbour{" reference" if n.source == "non-digit" else ""}">'
        f"{picture(n.image, THUMBNAIL_SCALE, _alt(n))}<figcaption>{_caption(n)}</figcaption>"
        "</figure>"
        for n in result.neighbours
    )
    return f'<div class="neighbours">{figures}</div>'


def _alt(n: knn.Neighbour) -> str:
    if n.source == "non-digit":
        return f"non-digit reference {n.index}"
    return f"training digit {n.index}, a {n.label}"


def _caption(n: knn.Neighbour) -> str:
    if n.source == "non-digit":
        return f"<b>not a digit</b> · distance {n.distance:.0f} · no vote"
    return (
        f"<b>{n.label}</b> · distance {n.distance:.0f} · vote {n.weight:.0%}"
        f"{BADGES.get(n.source, '')}"
    )


def answer(result: knn.Classification, images: bool = False) -> dict[str, Any]:
    """The classification as JSON for programs: label, probabilities, whether it looks like a
    digit, how strange it is and the non-digit references' share of the nearest, the share spread
    evenly, and the nearest (index in their source, label, distance, share of the vote, source;
    a "non-digit" reference has label -1 and no vote); with ``images``, the pictures as PNG data
    URLs."""
    neighbours = []
    for n in result.neighbours:
        entry: dict[str, Any] = {
            "index": n.index,
            "label": n.label,
            "distance": n.distance,
            "weight": n.weight,
            "source": n.source,
        }
        if images:
            entry["image"] = png_data_url(n.image)
        neighbours.append(entry)
    return {
        "label": result.label,
        "probabilities": [float(p) for p in result.probabilities],
        "is_digit": bool(result.is_digit),
        "strangeness": float(result.strangeness),
        "non_digit_share": float(result.non_digit_share),
        "prior_share": float(result.prior_share),
        "neighbours": neighbours,
    }


#: How ``examples_view`` names a visitor's examples in its choices: "correction 12" (the store's
#: id) or "answer 3" (an answer they let stand, numbered in their session).
CORRECTION, ACCEPTED = "correction", "answer"


def examples_view(corrections: Examples, accepted: Examples) -> tuple[str, list[tuple[str, str]]]:
    """A visitor's examples, their corrections then the answers they let stand: HTML of each
    with its label, and (caption, choice) pairs to remove one."""
    if not len(corrections.ids) + len(accepted.ids):
        return (
            "<p>None yet. When an answer is wrong, say which digit it is; when it is right, "
            "clear the canvas and draw the next.</p>",
            [],
        )
    html, choices = "", []
    for kind, prefix, examples, heading in (
        (CORRECTION, "#", corrections, "Your corrections, kept on this server"),
        (ACCEPTED, "answer ", accepted, "Answers you let stand, kept in this page only"),
    ):
        if not len(examples.ids):
            continue
        names = [f"{prefix}{i}" for i in examples.ids]
        figures = "".join(
            f'<figure class="neighbour">{picture(image, THUMBNAIL_SCALE, f"your {label}")}'
            f"<figcaption><b>{label}</b> · {name}</figcaption></figure>"
            for image, label, name in zip(examples.images, examples.labels, names, strict=True)
        )
        html += f'<p>{heading}:</p><div class="neighbours">{figures}</div>'
        choices += [
            (f"{name}: a {label}", f"{kind} {i}")
            for name, label, i in zip(names, examples.labels, examples.ids, strict=True)
        ]
    return html, choices


def chosen_example(choice: Any) -> tuple[str, int] | None:
    """(kind, id) of a choice ``examples_view`` made, or None for anything else (the browser
    sends it back, and a stranger can send anything)."""
    kind, _, number = str(choice).partition(" ")
    if kind not in (CORRECTION, ACCEPTED) or not number.isdigit():
        return None
    return kind, int(number)


def about(model: knn.DigitModel, report: dict[str, Any] | None) -> str:
    """The About panel: the model served, and the figures of the last evaluation if any."""
    lines = [
        f"**Serving:** {model.dataset}, {len(model.labels):,} training digits, "
        f"k = {model.params.n_neighbors}, {model.params.weights} weighting "
        "(change them under Advanced).",
        "",
        f"**Features and distance:** {model.describe()}.",
        "",
    ]
    if report is None:
        lines.append(
            "**Accuracy and speed:** not measured yet. Run `python -m knn.evaluate` (with the "
            "same `--cache-dir` as the app, if you give one) and restart the app to see them here."
        )
    else:
        lines += [
            f"**Last evaluation** (`python -m knn.evaluate`): {report['dataset']}, "
            f"{report['n_train']:,} training digits, k = {report['k']}, "
            f"{report['weights']} weighting, features: {report['feature']}.",
            "",
            f"**Test accuracy:** {report['accuracy']:.2%} on {report['n_test']:,} test digits. "
            f"**Speed:** {report['ms_per_query']:.2f} ms per digit in batches "
            f"({report['queries_per_second']:,.0f} digits per second).",
        ]
    return "\n".join(lines)
