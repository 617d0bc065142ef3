"""Helpers for tests that start real servers on 127.0.0.1."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ROOT = Path(__file__).resolve().parents[1]
MEENT = str(ROOT / ".venv/bin/meent")


class MeentServer:
    """A real ``meent serve`` on ``store`` (its own session, so a signal reaches only it),
    its output appended to ``log``."""

    def __init__(self, store: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [MEENT, "serve", "--store", str(store), "--port", str(self.port)],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
