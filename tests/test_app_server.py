"""``python app.py`` as a subprocess, called the way the README shows, through ``gradio_client``."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageDraw

from webapp.page import ASSETS


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def drawing(path: Path, *strokes: list[tuple[int, int]]) -> str:
    """Black strokes on white paper, 400x400, saved as a PNG; returns its path."""
    image = Image.new("L", (400, 400), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=0, width=22, joint="curve")
    image.save(path)
    return str(path)


def test_the_readme_snippet_classifies_a_drawn_digit(app_url: str, tmp_path: Path) -> None:
    digit = drawing(tmp_path / "digit.png", [(110, 80), (290, 80), (170, 340)])
    label, details = Client(app_url, verbose=False).predict(
        handle_file(digit), api_name="/classify"
    )
    assert label["label"] == "7"
    confidences = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert sorted(confidences) == [str(d) for d in range(10)]
    assert sum(confidences.values()) == pytest.approx(1)
    assert details["label"] == 7 and len(details["neighbours"]) == 4
    for neighbour in details["neighbours"]:
        assert set(neighbour) == {"index", "label", "distance", "weight", "source"}
    shares = sum(n["weight"] for n in details["neighbours"])
    assert shares + details["prior_share"] == pytest.approx(1)
    assert details["is_digit"] is True and 0 < details["strangeness"] <= 1
    assert [n["distance"] for n in details["neighbours"]] == sorted(
        n["distance"] for n in details["neighbours"]
    )


def test_k_weighting_and_images_are_optional_keywords(client: Client, tmp_path: Path) -> None:
    digit = drawing(tmp_path / "one.png", [(200, 60), (205, 340)])
    label, details = client.predict(
        handle_file(digit), k=9, weights="uniform", images=True, api_name="/classify"
    )
    assert label["label"] == "1" and len(details["neighbours"]) == 9
    assert len({round(n["weight"], 9) for n in details["neighbours"]}) == 1  # one vote each
    assert details["preview"].startswith("data:image/png;base64,")
    assert all(n["image"].startswith("data:image/png;base64,") for n in details["neighbours"])


def test_a_blank_page_comes_back_as_the_hint(client: Client, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (400, 400), 255).save(blank)
    label, details = client.predict(handle_file(str(blank)), api_name="/classify")
    assert not label and "Draw a digit" in details["hint"]


def test_a_file_that_is_no_image_is_refused_with_a_clear_message(
    client: Client, tmp_path: Path
) -> None:
    fake = tmp_path / "digit.png"
    fake.write_text("not an image")
    with pytest.raises(AppError) as caught:
        client.predict(handle_file(str(fake)), api_name="/classify")
    assert "isn't an image this app can read" in str(caught.value)
    assert "Traceback" not in str(caught.value) and "/" not in str(caught.value).split("read:")[0]


def test_read_number_returns_the_text_and_each_digit(client: Client, tmp_path: Path) -> None:
    image = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(image)
    for stroke in ([(150, 50), (155, 250)], [(300, 60), (460, 60), (350, 250)]):
        draw.line(stroke, fill=0, width=18, joint="curve")
    image.save(tmp_path / "seventeen.png")
    text, details = client.predict(
        handle_file(str(tmp_path / "seventeen.png")), api_name="/read_number"
    )
    assert text == "17" == details["text"]
    assert [d["label"] for d in details["digits"]] == [1, 7]
    assert all(len(d["probabilities"]) == 10 for d in details["digits"])


def status(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_only_assets_are_served_besides_gradios_files(app_url: str) -> None:
    assert status(f"{app_url}gradio_api/file={ASSETS / 'digit-7.png'}") == 200
    assert status(f"{app_url}gradio_api/file={ASSETS.parent / 'app.py'}") == 403
    assert status(f"{app_url}gradio_api/file=/etc/passwd") == 403


def test_uploads_above_the_size_limit_are_refused(app_url: str) -> None:
    boundary = "digitboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\0" * (6 * 2**20)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    try:
        refused = status(f"{app_url}gradio_api/upload", body, headers)
    except OSError:  # refused before the client finished sending: the connection was closed
        refused = 413
    assert refused == 413
