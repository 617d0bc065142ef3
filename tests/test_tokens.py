"""Bearer tokens: shown once, stored hashed, revocable, expiring; the CLI that makes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.contrib.tokens import Role, TokenStore
from service.store.state import connect

ROOT = Path(__file__).resolve().parents[1]


def test_secret_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    db = connect(tmp_path / "state.sqlite3")
    tokens = TokenStore(db)
    token, secret = tokens.create("Koppel A", Role.contributor)
    assert tokens.check(secret) == token
    assert tokens.check(secret + "x") is None
    stored = db.execute("SELECT * FROM tokens").fetchall()
    assert secret not in repr(stored)
    assert token.slug == "koppel-a"


def test_revoked_and_expired_tokens_stop_working(tmp_path: Path) -> None:
    tokens = TokenStore(connect(None))
    token, secret = tokens.create("a", Role.curator)
    assert tokens.revoke(token.id) and tokens.check(secret) is None
    assert not tokens.revoke(token.id)
    _, old = tokens.create("b", Role.contributor, expires="2000-01-01")
    assert tokens.check(old) is None


def test_names_that_would_share_a_contributor_iri_are_refused() -> None:
    tokens = TokenStore(connect(None))
    tokens.create("Koppel A", Role.contributor)
    tokens.create("Koppel A", Role.contributor)  # the same contributor, e.g. a new token
    with pytest.raises(ValueError, match="too close"):
        tokens.create("koppel-a", Role.contributor)


def test_cli_prints_the_token_once_and_revokes(tmp_path: Path) -> None:
    meent = [sys.executable, "-m", "service"]
    store = ["--store", str(tmp_path / "store")]
    made = subprocess.run(
        [*meent, "token", "create", "--name", "K", "--role", "curator", *store],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    secret = made.stdout.strip()
    assert secret.startswith("meent_") and len(secret) > 40
    token_id = made.stderr.split()[1]
    tokens = TokenStore(connect(tmp_path / "store.state.sqlite3"))
    assert tokens.check(secret) is not None and tokens.check(secret).role is Role.curator
    bad = subprocess.run(
        [*meent, "token", "create", "--name", "K", "--role", "admin", *store],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2
    subprocess.run(
        [*meent, "token", "revoke", token_id, *store], cwd=ROOT, check=True, capture_output=True
    )
    assert tokens.check(secret) is None
