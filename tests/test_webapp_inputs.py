"""The page's inputs refuse what they should before anything is decoded, in-process."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from gradio.components.image_editor import AcceptBlobs, EditorData
from gradio.data_classes import FileData
from PIL import Image, ImageFile

from webapp import folders, inputs
from webapp.settings import MAX_PIXELS, MAX_UPLOAD_BYTES


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder Gradio puts uploads in, as the app sets it."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def png(size: tuple[int, int] = (40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format="png")
    return buffer.getvalue()


def refusal(path: str | None) -> str:
    with pytest.raises(inputs.ImageRefused) as caught:
        inputs.read_upload(path)
    return caught.value.message


def test_an_upload_in_the_apps_folder_is_read(uploads: Path) -> None:
    (uploads / "digit.png").write_bytes(png())
    assert inputs.read_upload(str(uploads / "digit.png")) == png()


def test_paths_outside_the_uploads_read_the_same_whether_they_exist_or_not(
    uploads: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(png())
    messages = {
        refusal(str(outside)),
        refusal(str(tmp_path / "missing.png")),
        refusal(str(uploads / "missing.png")),
        refusal(str(uploads / ".." / "secret.png")),
        refusal("/etc/shadow"),
        refusal(None),
    }
    assert messages == {inputs.NOT_AN_IMAGE}
    assert str(tmp_path) not in inputs.NOT_AN_IMAGE


def test_links_out_devices_fifos_and_folders_are_refused(uploads: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    (uploads / "link.png").symlink_to(secret)
    os.mkfifo(uploads / "pipe.png")  # opening it for reading would block without O_NONBLOCK
    (uploads / "folder.png").mkdir()
    for name in ("link.png", "pipe.png", "folder.png"):
        assert refusal(str(uploads / name)) == inputs.NOT_AN_IMAGE
    assert refusal("/dev/stdin") == inputs.NOT_AN_IMAGE


def test_an_oversized_file_is_refused_before_it_is_read(uploads: Path) -> None:
    big = uploads / "big.png"
    big.write_bytes(b"\0" * (MAX_UPLOAD_BYTES + 1))
    assert refusal(str(big)) == inputs.TOO_LARGE


def test_too_many_pixels_are_refused_from_the_header() -> None:
    side = int(MAX_PIXELS**0.5) + 100
    data = png((side, side))  # compresses to a few kB: a decompression bomb
    assert len(data) < 200_000
    with pytest.raises(inputs.ImageRefused) as caught:
        inputs.open_image(data)
    assert caught.value.message == inputs.TOO_LARGE


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image", png()[:30], b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"],
    ids=["empty", "text", "truncated", "eps"],
)
def test_what_is_not_an_accepted_image_gets_the_same_clear_message(data: bytes) -> None:
    with pytest.raises(inputs.ImageRefused) as caught:
        inputs.open_image(data)
        raise AssertionError("opened")
    assert caught.value.message == inputs.NOT_AN_IMAGE
    assert "PNG, JPEG, WebP, GIF, BMP or TIFF" in caught.value.message


def test_an_image_is_opened_but_not_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("decoded")

    data = png((30, 20))
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    image = inputs.open_image(data)
    assert image.size == (30, 20) and image.format == "PNG"


def test_data_urls_are_refused(uploads: Path) -> None:
    payload = FileData(path="ignored", url="data:image/png;base64,AAAA")
    with pytest.raises(inputs.ImageRefused):
        inputs.open_payload(payload)


def blob(kind: str, key: str, data: bytes) -> AcceptBlobs:
    fields = {"type": kind, "index": None, "id": key, "file": b""}
    return AcceptBlobs(data=fields, files=[("blob", data)])


def test_the_sketchpad_keeps_only_composites_and_a_bounded_number() -> None:
    pad = inputs.drawing_pad()
    pad.accept_blobs(blob("background", "a", png()))
    pad.accept_blobs(blob("layer", "a", png()))
    assert len(pad.pending) == 0
    for n in range(inputs.MAX_PENDING_DRAWINGS + 10):
        pad.accept_blobs(blob("composite", str(n), png()))
    assert len(pad.pending) == inputs.MAX_PENDING_DRAWINGS
    assert pad.preprocess(EditorData(id="0")) is None  # the oldest were dropped
    newest = str(inputs.MAX_PENDING_DRAWINGS + 9)
    assert pad.preprocess(EditorData(id=newest)).size == (40, 40)
    assert pad.preprocess(EditorData(id=newest)) is None  # taken once
    with pytest.raises(inputs.ImageRefused):
        pad.accept_blobs(blob("composite", "big", b"\0" * (MAX_UPLOAD_BYTES + 1)))


def test_the_apps_folder_is_its_own_and_dead_processes_folders_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    dead = tmp_path / "draw-a-digit-999999999-old"  # no process has this id
    alive = tmp_path / f"draw-a-digit-{os.getppid()}-other"  # another app still running
    other = tmp_path / "gradio"  # not ours
    for folder in (dead, alive, other):
        folder.mkdir()
    mine = folders.own_files_folder()
    assert os.environ["GRADIO_TEMP_DIR"] == str(mine) and mine.parent == tmp_path
    assert mine.name.startswith(f"draw-a-digit-{os.getpid()}-")
    assert not dead.exists() and alive.exists() and other.exists()
