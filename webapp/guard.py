"""A guard in front of Gradio's server for a link that strangers use (ASGI middleware).

Gradio reads any request body in full, takes up to 1,000 files in one upload, lets anyone try
passwords as fast as the network allows, strips spaces from user names, and embeds its API
description in the login page. This middleware, given to Gradio's FastAPI app at launch:

- refuses a body larger than ``max_body`` (413), from its Content-Length or as it streams in;
- refuses an upload of more than ``max_files`` files (413) and, per client, more than
  ``upload_quota`` bytes of uploads a window, and for all clients together ten times that (429),
  so the disk holds at most that much between Gradio's hourly clean-ups;
- on ``POST /login``: refuses a user name that is not exactly a user's (no stripped spaces),
  and after ``max_failures`` failed logins from one client within ``window`` seconds refuses
  that client for the rest of the window (429), and slows every login once all clients
  together have failed that many times over;
- on the page itself, while a login is required: removes the API description from the login
  page, which ``/gradio_api/info`` already refuses without a login.

A client is its address; behind a proxy on this machine (a share tunnel, a reverse proxy) it is
the last address the proxy added to ``X-Forwarded-For``.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOGIN_DELAY = 1.0  # seconds every login waits once failures from all clients are many
API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)
LOOPBACK = ("127.", "::1")


class Refused(Exception):
    """A request this guard answers itself, with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Window:
    """Events per client within a sliding window of ``seconds``."""

    seconds: float
    events: dict[str, deque[tuple[float, int]]] = field(default_factory=lambda: defaultdict(deque))

    def add(self, client: str, amount: int = 1) -> None:
        """Record ``amount`` for ``client`` now."""
        self.events[client].append((time.monotonic(), amount))

    def total(self, client: str) -> int:
        events = self.events.get(client)
        if not events:
            return 0
        cutoff = time.monotonic() - self.seconds
        while events and events[0][0] < cutoff:
            events.popleft()
        if not events:
            del self.events[client]
            return 0
        return sum(amount for _, amount in events)

    def all_total(self) -> int:
        return sum(self.total(client) for client in list(self.events))


class Guard:
    """The ASGI middleware; see the module docstring. ``users`` are the login names, if any."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_files: int,
        upload_quota: int,
        users: tuple[str, ...] = (),
        max_failures: int = 5,
        window: float = 600.0,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_files = max_files
        self.upload_quota = upload_quota
        self.users = users
        self.max_failures = max_failures
        self.uploads = Window(window)
        self.failures = Window(window)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.guard(scope, receive, send)
        except Refused as refusal:
            await respond(send, refusal.status, refusal.message)

    async def guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"].rstrip("/"), scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise Refused(413, f"Request body too large: at most {self.max_body:,} bytes.")
        client = client_of(scope, headers)
        if method == "POST" and path.endswith(("/upload", "/component_server")):
            body = await read_body(receive, self.max_body)
            self.check_upload(client, body, path)
            await self.app(scope, replay(body), send)
        elif method == "POST" and self.users and path.endswith("/login"):
            body = await read_body(receive, self.max_body)
            await self.login(client, body, scope, send)
        elif method == "GET" and self.users and path in ("", "/"):
            await self.app(scope, counted(receive, self.max_body), without_api_info(send))
        else:
            await self.app(scope, counted(receive, self.max_body), send)

    def check_upload(self, client: str, body: bytes, path: str) -> None:
        if body.count(b'; filename="') > self.max_files:  # the parts of a form that are files
            raise Refused(413, f"Too many files: at most {self.max_files} a request.")
        if not path.endswith("/upload"):
            return
        mine = self.uploads.total(client)
        if mine + len(body) > self.upload_quota or (
            self.uploads.all_total() + len(body) > 10 * self.upload_quota
        ):
            raise Refused(429, "Upload limit reached; try again later.")
        self.uploads.add(client, len(body))

    async def login(self, client: str, body: bytes, scope: Scope, send: Send) -> None:
        if self.failures.total(client) >= self.max_failures:
            raise Refused(429, "Too many failed logins; try again later.")
        if self.failures.all_total() >= self.max_failures * 10:
            await asyncio.sleep(LOGIN_DELAY)
        form = urllib.parse.parse_qs(body.decode("latin-1"))
        if form.get("username", [""])[0] not in self.users:  # exactly a user's name
            self.failures.add(client)
            raise Refused(400, "Incorrect credentials.")
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, replay(body), watch)
        if status and status[0] >= 400:
            self.failures.add(client)


def client_of(scope: Scope, headers: dict[str, str]) -> str:
    """The client's address; behind a proxy on this machine, the one the proxy saw."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    forwarded = headers.get("x-forwarded-for")
    if forwarded and peer.startswith(LOOPBACK):
        return forwarded.rsplit(",", 1)[-1].strip()
    return peer


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "The client went away.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"Request body too large: at most {limit:,} bytes.")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    """A ``receive`` that hands over ``body`` once, then waits for the disconnect as usual."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that stays until the response is sent
        return {"type": "http.disconnect"}

    return receive


def counted(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that refuses a streamed body once it passes ``limit`` bytes."""
    size = 0

    async def wrapped() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise Refused(413, f"Request body too large: at most {limit:,} bytes.")
        return message

    return wrapped


def without_api_info(send: Send) -> Send:
    """A ``send`` that drops the API description from a login page (an HTML page whose config
    says a login is required), adjusting its length."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if not headers.get(b"content-type", b"").startswith(b"text/html"):
                start = {}  # not a page: pass through
                await send(message)
            else:
                start = message
            return
        if start == {} or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        if b'"auth_required":true' in body.replace(b" ", b""):
            body = API_INFO.sub(b"window.gradio_api_info = null;</script>", body)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped


async def respond(send: Send, status: int, message: str) -> None:
    """A short JSON error, as Gradio's own errors look."""
    body = ('{"detail": "' + message.replace('"', "'") + '"}').encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
