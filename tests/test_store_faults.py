"""A disk that cannot be written under the embedded store, for real: a full filesystem (a small
tmpfs) and one that turns read-only while the server has it open (ext4 on a loop device with
``errors=remount-ro``, which the kernel switches to read-only on an error, as on a failing
disk). Writes get 503 problem+json with ``Retry-After``; reads go on; nothing half-written is
left; once the disk has room again, writes work without a restart. And a store that cannot be
opened at start ends ``meent serve`` with exit status 3 and its reason.

Mounting needs root (CAP_SYS_ADMIN); as root, ``chmod`` stops nothing, so permissions cannot
stand in for a read-only disk. Without the privilege these tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from servers import MEENT, free_port

from service.config import Settings
from service.contrib.tokens import Role
from service.store import oxigraph as store_oxigraph
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
CONTRIBUTION_GRAPHS = (
    "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
    'FILTER(STRSTARTS(STR(?g), "https://w3id.org/meent/graph/contribution/")) } GROUP BY ?g'
)


def koppel(slug: str) -> bytes:
    return KOPPEL.replace(b"2024-test-contribution", slug.encode())


def _sh(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _unmount(path: Path) -> None:
    if _sh("umount", str(path)).returncode != 0:
        _sh("umount", "-l", str(path))


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path``; skips the test when mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = _sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        _unmount(path)


@contextlib.contextmanager
def ext4(path: Path, image: Path) -> Iterator[Path]:
    """ext4 in ``image`` (made if missing) on a loop device, mounted ``errors=remount-ro``;
    skips when that is impossible here."""
    for tool in ("mkfs.ext4", "fallocate"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    path.mkdir(parents=True, exist_ok=True)
    if not image.exists():
        made = _sh("fallocate", "-l", "96M", str(image))
        if made.returncode != 0 or _sh("mkfs.ext4", "-q", "-F", str(image)).returncode != 0:
            pytest.skip("cannot make an ext4 image here")
    mounted = _sh("mount", "-o", "loop,errors=remount-ro", str(image), str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount an ext4 image here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        _unmount(path)


def _sysfs_of(mountpoint: Path) -> Path:
    """/sys/fs/ext4/<device> of the filesystem mounted at ``mountpoint``."""
    for line in Path("/proc/mounts").read_text().splitlines():
        device, where, kind, *_ = line.split()
        if where == str(mountpoint) and kind == "ext4":
            return Path("/sys/fs/ext4") / Path(device).name
    raise AssertionError(f"no ext4 mounted at {mountpoint}")


def serve(store: Path) -> TestClient:
    settings = Settings(
        store=str(store),
        project_root=ROOT,
        dumps_dir=store.parent / "dumps",  # on the same disk, as var/ holds both
        query_workers=1,
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _auth(client: TestClient) -> dict[str, str]:
    client.get("/contributions")  # makes the intake
    _, secret = client.app.state.services.intake.tokens.create("k", Role.contributor)  # type: ignore[attr-defined]
    return {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}


def _count(client: TestClient) -> int:
    answer = client.get("/sparql", params={"query": COUNT}, headers={"Accept": "text/csv"})
    assert answer.status_code == 200, answer.text
    return int(answer.text.splitlines()[1])


def _contribution_graphs(store: Path) -> set[str]:
    opened = ox.Store(str(store))
    try:
        rows = opened.query(CONTRIBUTION_GRAPHS)
        return {row["g"].value.rsplit("/", 1)[-1] for row in rows}
    finally:
        del rows, opened


def _assert_unavailable(response: Any, why: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert why in response.json()["detail"]
    assert "/" not in response.json()["detail"].replace("full or read-only", "")  # no paths


def _writes(client: TestClient, auth: dict[str, str], published: str, slug: str) -> list[Any]:
    """A submission, a replacement and a retraction."""
    return [
        client.post("/contributions", content=koppel(slug), headers=auth),
        client.put(
            f"/contributions/{published}",
            content=koppel("fault-0").replace(b"Testkoppel", b"Anders"),
            headers=auth,
        ),
        client.delete(f"/contributions/{published}", headers=auth),
    ]


def _reads_go_on(client: TestClient, count: int, listed: int) -> None:
    assert _count(client) == count
    assert client.get("/doc/commons/noordoogst", headers={"Accept": "text/html"}).status_code == 200
    assert client.get("/doc/commons/noordoogst.ttl").status_code == 200
    assert len(client.get("/contributions").json()["items"]) == listed
    assert client.get("/ldes").status_code == 200


@pytest.fixture
def reopen_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store tries to reopen at the next write, not 5 s later."""
    monkeypatch.setattr(store_oxigraph, "REOPEN_INTERVAL", 0.0)


def fill(disk: Path) -> None:
    """Take every free byte of ``disk`` (RocksDB frees some as it deletes old files, so this
    is done again before each write)."""
    name = disk / f"filler-{len(list(disk.glob('filler-*')))}"
    with name.open("wb", buffering=0) as file:
        for chunk in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    file.write(b"\0" * chunk)


def test_full_disk_refuses_writes_keeps_reads_and_recovers(
    tmp_path: Path, reopen_at_once: None
) -> None:
    with tmpfs(tmp_path / "disk", "48m") as disk:
        store = disk / "store"
        with serve(store) as client:
            auth = _auth(client)
            first = client.post("/contributions", content=koppel("fault-0"), headers=auth)
            assert first.status_code == 201, first.text
            published = first.json()["id"]
            accepted = [published]

            # Until one is refused, a write may still find room (RocksDB preallocates its
            # log); each one answered 201 must then be there for good.
            for attempt in range(1, 6):
                fill(disk)
                answer = client.post(
                    "/contributions", content=koppel(f"fault-{attempt}"), headers=auth
                )
                if answer.status_code != 201:
                    _assert_unavailable(answer, "its disk is full")
                    break
                accepted.append(answer.json()["id"])
            else:
                pytest.fail("no write was refused on a full disk")
            count = _count(client)
            for slug in ("fault-8", "fault-9"):
                fill(disk)
                for answer in _writes(client, auth, published, slug):
                    _assert_unavailable(answer, "its disk is full")
                _reads_go_on(client, count, len(accepted))
            fill(disk)
            dumps = client.get("/dumps/")  # built now, on the full disk: 503, not 500
            _assert_unavailable(dumps, "cannot write to its disk")

            for filler in disk.glob("filler-*"):  # the operator makes room; no restart
                filler.unlink()
            again = client.post("/contributions", content=koppel("fault-10"), headers=auth)
            assert again.status_code == 201, again.text
            accepted.append(again.json()["id"])
            replaced = client.put(
                f"/contributions/{published}",
                content=koppel("fault-0").replace(b"Testkoppel", b"Anders"),
                headers=auth,
            )
            assert replaced.status_code == 200, replaced.text
            assert _count(client) > count
            assert client.get("/dumps/").status_code == 200
        # Reopened from disk: exactly the contributions that were answered 201.
        assert _contribution_graphs(store) == set(accepted)
        with serve(store) as client:
            listed = {item["id"] for item in client.get("/contributions").json()["items"]}
            assert listed == set(accepted)


def test_disk_turning_read_only_refuses_writes_and_keeps_reads(
    tmp_path: Path, reopen_at_once: None
) -> None:
    image = tmp_path / "disk.img"
    with ext4(tmp_path / "disk", image) as disk:
        trigger = _sysfs_of(disk) / "trigger_fs_error"
        if not trigger.exists():
            pytest.skip("this kernel cannot simulate an ext4 error (no trigger_fs_error)")
        store = disk / "store"
        with serve(store) as client:
            auth = _auth(client)
            first = client.post("/contributions", content=koppel("fault-0"), headers=auth)
            assert first.status_code == 201, first.text
            published = first.json()["id"]

            # At once, before any read could flush the store: the 201 must be on disk.
            trigger.write_text("meent test\n")  # the kernel remounts it read-only
            with pytest.raises(OSError, match="Read-only file system"):
                (disk / "probe").write_text("x")
            count = _count(client)
            for slug in ("fault-1", "fault-2"):  # the second also tries to reopen the store
                for answer in _writes(client, auth, published, slug):
                    _assert_unavailable(answer, "its disk is read-only")
                _reads_go_on(client, count, 1)
    # After a check of the filesystem, the store holds what was accepted before the error.
    assert _sh("e2fsck", "-fy", str(image)).returncode in (0, 1)  # 1: errors corrected
    with ext4(tmp_path / "disk", image) as disk:
        assert _contribution_graphs(disk / "store") == {published}


# --- a store that cannot be opened at start ------------------------------------------------------


def _serve_exits(store: Path) -> subprocess.CompletedProcess[str]:
    """``meent serve`` on ``store``; it must exit (not serve) within the timeout."""
    return subprocess.run(
        [MEENT, "serve", "--store", str(store), "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_exits_3_when_another_process_holds_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
            "print('open', flush=True); time.sleep(120)",
            str(store),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        done = _serve_exits(store)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 3
    assert "Is another Meent process (meent serve) using it?" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_exits_3_on_a_read_only_disk(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "16m") as disk:
        existing = ox.Store(str(disk / "store"))
        existing.flush()
        del existing
        assert _sh("mount", "-o", "remount,ro", str(disk)).returncode == 0
        for store, reason in (
            (disk / "store", "cannot open the service's private state"),
            (disk / "new", "cannot create the store directory"),
        ):
            done = _serve_exits(store)
            assert done.returncode == 3, done.stderr
            assert reason in done.stderr and "Read-only file system" in done.stderr
            assert "Traceback" not in done.stderr
            assert "another Meent process" not in done.stderr
