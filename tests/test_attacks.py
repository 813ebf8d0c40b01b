"""What a stranger with the link might try, replayed at a safe scale against ``python app.py``.

Each test is one attack, on loopback, with bounded sizes and counts; it asserts that the attack
is refused or harmless. The app runs as a subprocess with a small model (2,000 training digits),
its standard input a pipe that the test holds open, as under a service manager.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from webapp.inputs import NOT_AN_IMAGE, TOO_LARGE
from webapp.launcher import ROOT, Server, rss_mb, serving
from webapp.settings import MAX_BODY_BYTES

ASSET = ROOT / "assets" / "digit-7.png"


@pytest.fixture(scope="module")
def temp_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the apps here make their own folders (GRADIO_TEMP_DIR's base)."""
    return tmp_path_factory.mktemp("gradio-tmp")


def start(tmp: Path, temp_base: Path, *extra: str, env: dict[str, str] | None = None):
    args = ["app.py", "--n-train", "2000", "--cache-dir", str(tmp / "cache"), *extra]
    environment = {"GRADIO_TEMP_DIR": str(temp_base), "APP_AUTH": "", **(env or {})}
    return serving(args, tmp / "app.log", environment, timeout=300, stdin=subprocess.PIPE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, temp_base: Path) -> Iterator[Server]:
    with start(tmp_path_factory.mktemp("attacked"), temp_base) as running:
        yield running


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, temp_base: Path) -> Iterator[Server]:
    env = {"APP_AUTH": "alice:correct horse"}
    with start(tmp_path_factory.mktemp("locked"), temp_base, env=env) as running:
        yield running


def request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def call_classify(url: str, image: dict) -> str:
    """POST /gradio_api/call/classify with a raw file payload, as a hand-made client would;
    returns the stream of the result (its ``event:`` and ``data:`` lines)."""
    body = json.dumps({"data": [image, 4, "distance", False]}).encode()
    status, answer = request(
        f"{url}gradio_api/call/classify", body, {"Content-Type": "application/json"}
    )
    assert status == 200, answer
    event_id = json.loads(answer)["event_id"]
    return request(f"{url}gradio_api/call/classify/{event_id}")[1].decode()


def file_payload(path: str | None, orig_name: str = "digit.png", tagged: bool = False) -> dict:
    """A file as the API takes it. Gradio checks the path itself only when the payload is tagged
    as its FileData; an untagged one reaches the app's input as it is, as in the attacks."""
    payload = {"path": path, "orig_name": orig_name}
    return {**payload, "meta": {"_type": "gradio.FileData"}} if tagged else payload


def upload(url: str, name: str, data: bytes, files: int = 1) -> tuple[int, bytes]:
    boundary = "attackboundary"
    part = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )
    body = part * files + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return request(f"{url}gradio_api/upload", body, headers)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    return buffer.getvalue()


@pytest.mark.parametrize("tagged", [False, True], ids=["untagged", "tagged"])
def test_reading_a_server_image_by_its_path_is_refused(server: Server, tagged: bool) -> None:
    stream = call_classify(server.url, file_payload(str(ASSET), tagged=tagged))
    assert "event: error" in stream and '"label"' not in stream
    assert str(ROOT) not in stream


@pytest.mark.parametrize("tagged", [False, True], ids=["untagged", "tagged"])
def test_a_secret_file_and_a_missing_one_answer_the_same(server: Server, tagged: bool) -> None:
    existing = call_classify(server.url, file_payload("/etc/shadow", "x.svg", tagged))
    missing = call_classify(server.url, file_payload("/no/such/file.png", "x.svg", tagged))
    assert existing == missing and "event: error" in existing
    assert "/etc" not in existing and "/no/such" not in existing
    if not tagged:
        assert NOT_AN_IMAGE in existing


def test_a_fifo_path_does_not_stall_other_visitors(server: Server) -> None:
    stalls = [
        threading.Thread(target=call_classify, args=(server.url, file_payload("/dev/stdin")))
        for _ in range(4)
    ]
    for thread in stalls:
        thread.start()
    began = time.monotonic()
    label, _ = Client(server.url, verbose=False).predict(
        handle_file(str(ASSET)), api_name="/classify"
    )
    assert label["label"] == "7" and time.monotonic() - began < 20
    for thread in stalls:
        thread.join(timeout=20)
        assert not thread.is_alive()


def test_a_data_url_is_not_decoded(server: Server) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(ASSET.read_bytes()).decode()
    stream = call_classify(
        server.url, {"url": data_url, "path": None, "meta": {"_type": "gradio.FileData"}}
    )
    assert "event: error" in stream and '"label"' not in stream


def test_a_huge_image_is_refused_before_decoding_and_memory_stays_bounded(server: Server) -> None:
    bomb = png(Image.new("L", (12000, 12000), 255))  # 144 megapixels in a small file
    assert len(bomb) < 1_000_000
    before, _ = rss_mb(server.process.pid)
    status, answer = upload(server.url, "bomb.png", bomb)
    assert status == 200
    (path,) = json.loads(answer)
    for _ in range(4):
        stream = call_classify(server.url, file_payload(path))
        assert TOO_LARGE in stream
    after, _ = rss_mb(server.process.pid)
    assert after - before < 100  # decoding once would take 144 MB, four at once 576 MB


def test_sketchpad_blobs_are_bounded_whatever_a_client_sends(server: Server) -> None:
    config = json.loads(request(f"{server.url}config")[1])
    pad = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "sketchpad")
    before, _ = rss_mb(server.process.pid)
    blob = os.urandom(400_000)
    for n in range(120):
        boundary = "blobboundary"
        fields = {"type": "composite", "index": "100000000" if n % 2 else "null", "id": f"b{n}"}
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in {
                **fields,
                "session_hash": "attacker",
                "component_id": str(pad["id"]),
                "fn_name": "accept_blobs",
            }.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + blob
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        assert request(f"{server.url}gradio_api/component_server", body, headers)[0] == 200
    after, _ = rss_mb(server.process.pid)
    assert after - before < 64  # 120 blobs of 400 kB is 48 MB; at most 64 are kept, 26 MB


def test_an_oversize_body_is_refused(server: Server) -> None:
    before, _ = rss_mb(server.process.pid)
    body = b'{"data": ["' + b"x" * (4 * MAX_BODY_BYTES) + b'"]}'
    try:
        status, _ = request(
            f"{server.url}gradio_api/queue/join", body, {"Content-Type": "application/json"}
        )
    except OSError:  # refused before the client finished sending: the connection was closed
        status = 413
    assert status == 413
    assert rss_mb(server.process.pid)[0] - before < 50
    assert request(server.url)[0] == 200  # and the server goes on serving


def test_many_files_in_one_upload_are_refused(server: Server) -> None:
    status, _ = upload(server.url, "digit.png", ASSET.read_bytes(), files=20)
    assert status == 413


@pytest.mark.parametrize(
    "content",
    [b"", b"just some text", ASSET.read_bytes()[:60], b"%!PS-Adobe-3.0 EPSF-3.0\n"],
    ids=["empty", "text named .png", "truncated png", "eps"],
)
def test_a_bad_file_gets_a_clear_message(server: Server, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "digit.png"
    bad.write_bytes(content)
    with pytest.raises(AppError) as caught:
        Client(server.url, verbose=False).predict(handle_file(str(bad)), api_name="/classify")
    assert NOT_AN_IMAGE in str(caught.value) and str(tmp_path) not in str(caught.value)


def login(server: Server, user: str, password: str) -> int:
    form = f"username={urllib.parse.quote(user)}&password={urllib.parse.quote(password)}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return request(f"{server.url}login", form.encode(), headers)[0]


def test_password_guessing_is_locked_out(locked: Server) -> None:
    statuses = [login(locked, "alice", f"guess {n}") for n in range(8)]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429] * 3
    assert login(locked, "alice", "correct horse") == 429  # even the right one, for a while


def test_near_miss_names_are_refused(locked: Server) -> None:
    # A client of its own (a forwarded address): the lockout above is for another client.
    form = "username=alice%20&password=correct%20horse"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "10.9.9.9"}
    assert request(f"{locked.url}login", form.encode(), headers)[0] == 400


def test_the_login_page_shows_nothing_the_api_refuses(locked: Server) -> None:
    status, page = request(locked.url)
    assert status == 200 and b"auth_required" in page.replace(b" ", b"")
    assert b"window.gradio_api_info = null;" in page and b"/classify" not in page
    assert request(f"{locked.url}gradio_api/info")[0] in (401, 403)


def test_sigterm_leaves_no_files_behind(tmp_path: Path, temp_base: Path) -> None:
    base = tmp_path / "temp"
    base.mkdir()
    with start(tmp_path, base) as running:
        folders = list(base.glob("draw-a-digit-*"))
        assert len(folders) == 1
        assert upload(running.url, "digit.png", ASSET.read_bytes())[0] == 200
        assert any(path.is_file() for path in folders[0].rglob("*"))
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=30)
    assert not list(base.iterdir())
