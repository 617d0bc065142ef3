"""What the service keeps between requests (service/web/services.py): opened by the lifespan,
typed, bounded, and nothing added to the application while it serves."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.web.app import create_app
from service.web.services import FirstSeen, Recent, Services

ROOT = Path(__file__).resolve().parent.parent
#: One request of every kind that used to leave something behind on the application.
PATHS = [
    "/catalog",
    "/.well-known/void",
    "/dumps/",
    "/def",
    "/shapes",
    "/contribute",
    "/contributions/templates/",
    "/doc/commons/noordoogst",
    "/sitemap.xml",
    "/ldes/1",
]


def test_serving_adds_nothing_to_the_application(tmp_path: Path) -> None:
    settings = Settings(store="memory", project_root=ROOT, dumps_dir=tmp_path / "dumps")
    app = create_app(settings)
    with TestClient(app) as client:
        before = set(vars(app.state)["_state"])
        for path in PATHS:
            assert client.get(path).status_code == 200, path
        # A failed authentication, counted by the services' limit on failures.
        assert (
            client.post(
                "/contributions", content=b"", headers={"Authorization": "Bearer x"}
            ).status_code
            == 401
        )
        assert set(vars(app.state)["_state"]) == before == {"services"}
        services = app.state.services
        assert isinstance(services, Services)
        assert services.intake.store is services.store
        assert services.vocabularies, "the /def index is kept on the services"


def test_first_seen_is_stable_and_bounded() -> None:
    seen = FirstSeen(remembered=3)
    first = seen("v1")
    assert seen("v1") == first and first.microsecond == 0
    for version in ("v2", "v3", "v4"):
        seen(version)
    assert len(seen._seen) == 3 and "v1" not in seen._seen


@pytest.mark.anyio
async def test_recent_computes_once_per_version_within_the_interval() -> None:
    recent: Recent[int] = Recent()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.01)
        return calls

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(recent.get, "v1", 0.0, compute)
    assert calls == 1, "who waited used the one result"
    assert await recent.get("v1", 0.0, compute) == 1
    assert await recent.get("v2", 60.0, compute) == 1, "an older version may serve meanwhile"
    assert await recent.get("v2", 0.0, compute) == 2
