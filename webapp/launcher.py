"""Start a server as a subprocess and wait until it serves: for tests and benchmarks alike."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """A running server: its process, its URL, its log file and how long it took to serve."""

    process: subprocess.Popen
    url: str
    log: Path
    start_seconds: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(
    args: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    stdin: int | None = subprocess.DEVNULL,
) -> Iterator[Server]:
    """Run ``python *args --port PORT`` in the project folder until its page answers; stop it
    (SIGTERM, then SIGKILL after 30 s) on leaving. A server that exits or never answers raises
    RuntimeError with its output."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    environment = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    began = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, *args, "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdin=stdin,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        while not answers(url):
            if process.poll() is not None or time.perf_counter() - began > timeout:
                raise RuntimeError(
                    f"{args} did not serve {url}:\n{log.read_text(errors='replace')}"
                )
            time.sleep(0.1)
        yield Server(process, url, log, time.perf_counter() - began)
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, as services and containers stop a process; SIGKILL if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    now, peak = (int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))
    return now, peak
