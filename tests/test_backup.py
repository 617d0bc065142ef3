"""``meent backup`` and ``meent restore``: a backup holds everything public and private, restores
to the same dataset (RDFC-1.0 hash) and the same state (tokens still work), and a corrupt,
incomplete or refused restore leaves the target as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from servers import MEENT, OxigraphServer
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings
from service.contrib.tokens import Role, TokenStore
from service.rdf.canonical import canonical_hash
from service.store.backup import DATASET, MANIFEST, STATE
from service.store.state import connect
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
TTL = {"Content-Type": "text/turtle"}


def koppel(slug: str) -> bytes:
    return KOPPEL.replace(b"2024-test-contribution", slug.encode())


def state_of(store: Path) -> Path:
    return store.with_name(store.name + ".state.sqlite3")


def dataset_hash(store: Path) -> tuple[int, str]:
    """Quads and canonical hash of an on-disk store (read-only: a server may hold it)."""
    snapshot = ox.Store.read_only(str(store))
    try:
        quads = list(snapshot.quads_for_pattern(None, None, None, None))
    finally:
        del snapshot
    return len(quads), canonical_hash(quads)


def state_rows(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the private state, table by table."""
    db = sqlite3.connect(str(state_of(store)))
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in sorted(tables)
            if t != "sqlite_sequence"
        }
    finally:
        db.close()


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, [*args])


@dataclass
class Curated:
    store: Path
    contributor: str
    curator: str
    revoked: str
    published: str
    retracted: str
    pending: str


def serve(store: Path, **settings: Any) -> TestClient:
    return TestClient(
        create_app(
            Settings(
                store=str(store),
                project_root=ROOT,
                dumps_dir=store.parent / "dumps",
                query_workers=1,
                **settings,
            )
        ),
        raise_server_exceptions=False,
    )


def build_curated(store: Path) -> Curated:
    """The curated graph on disk, with a published, a retracted and a pending contribution,
    and a contributor, a curator and a revoked token."""
    tokens = TokenStore(connect(state_of(store)))
    _, contributor = tokens.create("Koppel Test", Role.contributor)
    _, curator = tokens.create("Curator", Role.curator)
    revoked_token, revoked = tokens.create("Gone", Role.contributor)
    tokens.revoke(revoked_token.id)
    auth = {**TTL, "Authorization": f"Bearer {contributor}"}
    with serve(store) as client:
        published = client.post("/contributions", content=koppel("backup-1"), headers=auth)
        assert published.status_code == 201, published.text
        retracted = client.post("/contributions", content=koppel("backup-2"), headers=auth)
        assert retracted.status_code == 201, retracted.text
        assert client.delete(retracted.headers["location"], headers=auth).status_code == 200
    with serve(store, review_mode=True) as client:
        pending = client.post("/contributions", content=koppel("backup-3"), headers=auth)
        assert pending.json()["status"] == "pending", pending.text
    return Curated(
        store,
        contributor,
        curator,
        revoked,
        published.json()["id"],
        retracted.json()["id"],
        pending.json()["id"],
    )


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Curated:
    return build_curated(tmp_path_factory.mktemp("curated") / "store")


@pytest.fixture(scope="module")
def backup_dir(curated: Curated, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("backups") / "nightly"
    result = run("backup", str(dest), "--store", str(curated.store))
    assert result.exit_code == 0, result.output
    return dest


@pytest.fixture
def backup_copy(backup_dir: Path, tmp_path: Path) -> Path:
    """A copy of the backup that a test may damage."""
    copy = tmp_path / "copy"
    shutil.copytree(backup_dir, copy)
    return copy


def leftovers(folder: Path) -> list[str]:
    """Traces a restore might leave beside a store."""
    return sorted(
        p.name for p in folder.iterdir() if ".restore-" in p.name or ".replaced-" in p.name
    )


# --- a backup and what it holds ----------------------------------------------------------------


def test_backup_holds_the_dataset_and_the_private_state(curated: Curated, backup_dir: Path) -> None:
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    assert manifest["format"] == "meent-backup" and manifest["version"] == 1
    assert manifest["source"] == "embedded"
    quads, digest = dataset_hash(curated.store)
    assert (manifest["quads"], manifest["canonicalHash"]) == (quads, digest)
    assert manifest["state"] == {
        "tokens": 3,
        "pending_contributions": 1,
        "changes": manifest["state"]["changes"],
        "metadata": manifest["state"]["metadata"],
    }
    assert manifest["state"]["changes"] > 3 and manifest["state"]["metadata"] > 3
    for entry in manifest["files"]:
        data = (backup_dir / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    # Private: only its owner may read it.
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    for name in (DATASET, STATE, MANIFEST):
        assert stat.S_IMODE((backup_dir / name).stat().st_mode) == 0o600
    # One self-contained SQLite file, no write-ahead log beside it.
    assert sorted(p.name for p in backup_dir.iterdir()) == [DATASET, MANIFEST, STATE]
    # Contributions and their PROV-O records are in the dataset, the pending one is not.
    nquads = gzip.decompress((backup_dir / DATASET).read_bytes()).decode()
    assert f"graph/contribution/{curated.published}>" in nquads
    assert "http://www.w3.org/ns/prov#wasAttributedTo" in nquads
    assert f"contribution/{curated.pending}" not in nquads


def test_restore_round_trips_dataset_state_and_tokens(
    curated: Curated, backup_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "restored" / "store"
    started = time.monotonic()
    result = run("restore", str(backup_dir), "--store", str(target))
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    assert dataset_hash(target) == dataset_hash(curated.store)
    assert state_rows(target) == state_rows(curated.store)
    assert leftovers(target.parent) == []

    # The restored server works with the old tokens, as the old one did.
    contributor = {**TTL, "Authorization": f"Bearer {curated.contributor}"}
    curator = {"Authorization": f"Bearer {curated.curator}"}
    with serve(target, review_mode=True) as client:
        listed = {item["id"]: item for item in client.get("/contributions").json()["items"]}
        assert listed[curated.published]["contributor"] == "Koppel Test"
        assert listed[curated.retracted]["status"] == "retracted"
        shown = client.get(f"/contributions/{curated.published}").json()
        assert shown["sha256"] == hashlib.sha256(koppel("backup-1")).hexdigest()
        changed = koppel("backup-1").replace(b"Testkoppel", b"Nog een")
        replaced = client.put(
            f"/contributions/{curated.published}", content=changed, headers=contributor
        )
        assert replaced.status_code == 200, replaced.text
        accepted = client.post(f"/contributions/{curated.pending}/accept", headers=curator)
        assert accepted.status_code == 200, accepted.text
        revoked = {**TTL, "Authorization": f"Bearer {curated.revoked}"}
        refused = client.post("/contributions", content=koppel("x"), headers=revoked)
        assert refused.status_code == 401
        assert client.get("/ldes").status_code == 200


def test_backup_beside_a_running_server_has_its_latest_write(
    curated: Curated, backup_dir: Path, tmp_path: Path
) -> None:
    """The server holds the store (RocksDB lock) and its last write is only in the
    write-ahead log: a backup from another process still has it."""
    store = tmp_path / "live" / "store"
    assert run("restore", str(backup_dir), "--store", str(store)).exit_code == 0
    auth = {**TTL, "Authorization": f"Bearer {curated.contributor}"}
    with serve(store) as client:
        latest = client.post("/contributions", content=koppel("while-running"), headers=auth)
        assert latest.status_code == 201, latest.text
        dest = tmp_path / "hot"
        done = subprocess.run(
            [MEENT, "backup", str(dest), "--store", str(store)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    nquads = gzip.decompress((dest / DATASET).read_bytes()).decode()
    assert f"graph/contribution/{latest.json()['id']}>" in nquads
    manifest = json.loads((dest / MANIFEST).read_text())
    assert manifest["canonicalHash"] == dataset_hash(store)[1]


# --- refusals and damage: the target stays as it was ---------------------------------------------


def _rewrite(backup: Path, name: str, data: bytes, *, fix_manifest: bool) -> None:
    (backup / name).write_bytes(data)
    if fix_manifest:
        manifest = json.loads((backup / MANIFEST).read_text())
        for entry in manifest["files"]:
            if entry["path"] == name:
                entry["bytes"] = len(data)
                entry["sha256"] = hashlib.sha256(data).hexdigest()
        (backup / MANIFEST).write_text(json.dumps(manifest))


def _flip_a_byte(backup: Path) -> None:
    data = bytearray((backup / DATASET).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (backup / DATASET).write_bytes(bytes(data))


def _drop_a_quad(backup: Path) -> None:
    lines = gzip.decompress((backup / DATASET).read_bytes()).splitlines(keepends=True)
    _rewrite(backup, DATASET, gzip.compress(b"".join(lines[1:])), fix_manifest=True)


DAMAGE = {
    "a flipped byte in the dataset": (_flip_a_byte, "SHA-256 of dataset.nq.gz"),
    "a truncated state": (
        lambda b: (b / STATE).write_bytes((b / STATE).read_bytes()[:1000]),
        "state.sqlite3 has 1000 bytes",
    ),
    "no manifest (an unfinished backup)": (
        lambda b: (b / MANIFEST).unlink(),
        "not a Meent backup, or the backup did not finish",
    ),
    "a missing dataset": (lambda b: (b / DATASET).unlink(), "dataset.nq.gz is missing"),
    "a garbled manifest": (lambda b: (b / MANIFEST).write_text("{ nope"), "unreadable"),
    "a manifest of another format": (
        lambda b: (b / MANIFEST).write_text('{"format": "fuseki"}'),
        "not a valid backup manifest",
    ),
    "a quad gone, checksums made to match": (
        _drop_a_quad,
        "does not hold the dataset its manifest names",
    ),
    "a state that is not SQLite, checksums made to match": (
        lambda b: _rewrite(b, STATE, b"not a database" * 100, fix_manifest=True),
        "state.sqlite3 is not a readable SQLite file",
    ),
    "a dataset that is not gzip, checksums made to match": (
        lambda b: _rewrite(b, DATASET, b"<a> <b> <c> .\n", fix_manifest=True),
        "dataset.nq.gz does not read",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_backup_is_refused_and_the_target_untouched(
    damage: str, backup_copy: Path, tmp_path: Path
) -> None:
    harm, message = DAMAGE[damage]
    harm(backup_copy)
    target = tmp_path / "target" / "store"
    build_small_store(target)
    before = dataset_hash(target), state_rows(target)
    result = run("restore", str(backup_copy), "--store", str(target), "--force")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert (dataset_hash(target), state_rows(target)) == before
    assert leftovers(target.parent) == []


def build_small_store(path: Path) -> str:
    """A store that is not empty: one quad and one token (its secret returned)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(path))
    store.add(
        ox.Quad(
            ox.NamedNode("https://example.org/s"),
            ox.NamedNode("https://example.org/p"),
            ox.Literal("old"),
            ox.NamedNode("https://example.org/g"),
        )
    )
    store.flush()
    del store
    db = connect(state_of(path))
    _, secret = TokenStore(db).create("Old", Role.curator)
    db.close()
    return secret


def test_restore_from_a_missing_directory(tmp_path: Path) -> None:
    result = run("restore", str(tmp_path / "nothing"), "--store", str(tmp_path / "store"))
    assert result.exit_code == 2
    assert "no such backup directory" in result.output
    assert not (tmp_path / "store").exists()


def test_backup_of_a_missing_store(tmp_path: Path) -> None:
    result = run("backup", str(tmp_path / "dest"), "--store", str(tmp_path / "nowhere"))
    assert result.exit_code == 3
    assert "there is no store" in result.output
    assert list(tmp_path.iterdir()) == []  # neither the store nor a partial backup


def test_backup_refuses_a_destination_that_is_not_empty(curated: Curated, tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "precious.txt").write_text("keep")
    result = run("backup", str(tmp_path / "dest"), "--store", str(curated.store))
    assert result.exit_code == 2
    assert "not an empty directory" in result.output
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["precious.txt"]


def test_restore_onto_a_store_that_is_not_empty(
    curated: Curated, backup_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "store"
    old_secret = build_small_store(target)
    before = dataset_hash(target), state_rows(target)

    refused = run("restore", str(backup_dir), "--store", str(target))
    assert refused.exit_code == 2
    assert "is not empty (1 quads, 1 tokens)" in refused.output
    assert "--force" in refused.output
    assert (dataset_hash(target), state_rows(target)) == before

    forced = run("restore", str(backup_dir), "--store", str(target), "--force")
    assert forced.exit_code == 0, forced.output
    assert dataset_hash(target) == dataset_hash(curated.store)
    assert TokenStore(connect(state_of(target))).check(curated.contributor) is not None
    assert TokenStore(connect(state_of(target))).check(old_secret) is None
    # The replaced store and its state are kept beside it, whole.
    [kept_store, kept_state] = leftovers(tmp_path)
    assert kept_state == kept_store + ".state.sqlite3"
    assert (dataset_hash(tmp_path / kept_store), state_rows(tmp_path / kept_store)) == before
    assert f"kept the replaced {tmp_path / kept_store}" in forced.output


def test_restore_refuses_a_store_a_server_is_using(backup_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "store"
    build_small_store(target)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
            "print('open', flush=True); time.sleep(60)",
            str(target),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        result = run("restore", str(backup_dir), "--store", str(target), "--force")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3
    assert "is a Meent server using it? Stop it before restoring" in result.output
    assert leftovers(tmp_path) == []


# --- a remote store --------------------------------------------------------------------------


def test_backup_and_restore_through_a_remote_server(
    curated: Curated, backup_dir: Path, own_oxigraph: OxigraphServer, tmp_path: Path
) -> None:
    """Embedded backup → remote server → backup of the remote → embedded store: the same
    dataset at every step, and the state travels with it."""
    project = tmp_path / "project"  # where a remote store's state lives (project var/)
    shutil.copytree(ROOT / "ontology", project / "ontology")
    shutil.copytree(ROOT / "shapes", project / "shapes")
    env = {"MEENT_PROJECT_ROOT": str(project)}
    runner = CliRunner(env=env)

    onto_remote = runner.invoke(cli, ["restore", str(backup_dir), "--remote", own_oxigraph.url])
    assert onto_remote.exit_code == 0, onto_remote.output
    settings = Settings(remote=own_oxigraph.url, project_root=project)
    assert settings.state_path is not None and settings.state_path.is_file()
    assert TokenStore(connect(settings.state_path)).check(curated.contributor) is not None

    again = runner.invoke(cli, ["restore", str(backup_dir), "--remote", own_oxigraph.url])
    assert again.exit_code == 2
    assert "is not empty" in again.output

    from_remote = tmp_path / "from-remote"
    result = runner.invoke(cli, ["backup", str(from_remote), "--remote", own_oxigraph.url])
    assert result.exit_code == 0, result.output
    manifest = json.loads((from_remote / MANIFEST).read_text())
    assert manifest["source"] == "remote"
    assert manifest["canonicalHash"] == dataset_hash(curated.store)[1]

    back = tmp_path / "back" / "store"
    result = runner.invoke(cli, ["restore", str(from_remote), "--store", str(back)])
    assert result.exit_code == 0, result.output
    assert dataset_hash(back) == dataset_hash(curated.store)
    assert state_rows(back) == state_rows(curated.store)


def test_backup_of_a_remote_server_that_is_down(tmp_path: Path) -> None:
    from servers import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    result = CliRunner(env={"MEENT_PROJECT_ROOT": str(ROOT)}).invoke(
        cli, ["backup", str(tmp_path / "dest"), "--remote", url]
    )
    assert result.exit_code == 3
    assert "the SPARQL server failed" in result.output
    assert not (tmp_path / "dest").exists()
