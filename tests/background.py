"""Waiting for what the service does in the background (service/web/services.py): once there is
a build of the dumps, a request is answered from it while a newer one is built, so a test that
needs the dumps of the current content waits until no build is running."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient

T = TypeVar("T")


def settled_dumps(client: TestClient, timeout: float = 60) -> dict[str, Any]:
    """The dumps' manifest once it is current: a request that found it stale starts a build
    (``Services.background``), so ask until one finds no build running before it and none to
    start."""
    background = client.app.state.services.background  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while True:
        idle = "dumps" not in background.running  # no build ends while this request runs
        manifest = client.get("/dumps/").json()
        if idle and "dumps" not in background.running:
            return manifest
        assert time.monotonic() < deadline, "the dumps were not rebuilt in time"
        time.sleep(0.05)


def eventually(fetch: Callable[[], T], check: Callable[[T], bool], timeout: float = 60) -> T:
    """``fetch()`` until ``check`` holds of its value (and that value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if check(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        time.sleep(0.05)
