"""Helpers for tests that start real servers on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def uvicorn_thread(app: ASGIApp, log_level: str = "warning") -> Iterator[str]:
    """A real uvicorn serving ``app`` on 127.0.0.1 in a thread of this process (lifespan
    included); its base URL. Stopped on leaving."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


ROOT = Path(__file__).resolve().parents[1]
MEENT = str(ROOT / ".venv/bin/meent")


class MeentServer:
    """A real ``meent serve`` on ``store`` (its own session, so a signal reaches only it),
    its output appended to ``log``, its dumps built beside the store (not in the project's
    ``var/dumps``, where ``make serve`` would find another store's build)."""

    def __init__(self, store: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [MEENT, "serve", "--store", str(store), "--port", str(self.port)],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "MEENT_DUMPS_DIR": str(store.parent / "dumps"), **(env or {})},
        )

    def wait_ready(self, until: float) -> None:
        """Wait until it answers (by ``time.monotonic()`` deadline ``until``)."""
        while time.monotonic() < until:
            assert self.process.poll() is None, "the server exited while starting"
            try:
                if httpx.get(self.url + "/contributions", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not start in time")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def create_token(store: Path, name: str, role: str = "contributor") -> str:
    """``meent token create`` on ``store``: the secret it prints once."""
    done = subprocess.run(
        [MEENT, "token", "create", "--store", str(store), "--name", name, "--role", role],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) >= 20, done.stdout
    return lines[0]


def oxigraph_binary() -> str | None:
    """The ``oxigraph`` CLI (PyPI package ``oxigraph``, a test extra), if installed."""
    import shutil
    import sys

    beside_python = Path(sys.executable).parent / "oxigraph"
    return str(beside_python) if beside_python.exists() else shutil.which("oxigraph")


class OxigraphServer:
    """A real ``oxigraph serve --union-default-graph`` on ``location``, which a test may stop
    and start again (same port, same data), its output appended to ``log``."""

    def __init__(self, location: Path, log: Path) -> None:
        binary = oxigraph_binary()
        assert binary is not None, "the oxigraph CLI (PyPI 'oxigraph', a test extra) is missing"
        self.binary = binary
        self.location = location
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "serve", "--location", str(self.location)),
                    *("--bind", f"127.0.0.1:{self.port}", "--union-default-graph"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"oxigraph serve exited; see {self.log}"
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"oxigraph serve did not answer on {self.url}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
