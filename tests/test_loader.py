"""Syncing ontology/, shapes/ and data/ into named graphs: idempotent, atomic, both stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.store import DataError, Solutions, Store
from service.store.loader import (
    Action,
    LoaderError,
    SyncEvent,
    load_files,
    project_sources,
    sync_project,
)

pytestmark = pytest.mark.anyio

BASE = "https://w3id.org/meent/"
FIXTURE = Path(__file__).parent / "fixtures" / "loader" / "project"
ONTOLOGY = BASE + "graph/ontology"
SHAPES = BASE + "graph/shapes"
ALPHA = BASE + "graph/data/alpha"
BETA = BASE + "graph/data/beta"
GAMMA = BASE + "graph/data/gamma"
CONTRIBUTION = BASE + "graph/contribution/42"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the fixture project that a test may edit."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


async def labels(store: Store) -> list[str]:
    result = await store.query(f"SELECT ?l WHERE {{ ?s <{LABEL}> ?l }}")
    assert isinstance(result, Solutions)
    return sorted(row["l"].value for row in result)


async def test_first_sync_loads_every_graph(store: Store, project: Path) -> None:
    events: list[SyncEvent] = []
    summary = await sync_project(store, project, BASE, progress=events.append)
    assert sorted(summary.loaded) == sorted([ONTOLOGY, SHAPES, ALPHA, BETA])
    assert summary.skipped == summary.dropped == []
    assert await store.graph_iris() == {ONTOLOGY, SHAPES, ALPHA, BETA}
    assert await labels(store) == ["Alpha", "Beta", "Other", "Thing"]
    assert [e.action for e in events] == [Action.LOADED] * 4
    assert [(e.done, e.total) for e in events] == [(1, 4), (2, 4), (3, 4), (4, 4)]


async def test_all_ontology_files_share_one_graph(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    # 2 × (type, label, seeAlso) + 2 comments: the two files' "_:note" stay two nodes.
    assert await store.triple_count(ONTOLOGY) == 8


async def test_relative_iris_resolve_against_the_base(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    ask = f'ASK {{ GRAPH <{ALPHA}> {{ <{BASE}id/thing/alpha> <{LABEL}> "Alpha" }} }}'
    assert await store.query(ask) is True


async def test_second_sync_skips_everything(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    summary = await sync_project(store, project, BASE)
    assert summary.loaded == summary.dropped == []
    assert sorted(summary.skipped) == sorted([ONTOLOGY, SHAPES, ALPHA, BETA])
    assert not summary.changed


async def test_editing_a_file_replaces_only_its_graph(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    alpha = project / "data" / "alpha.ttl"
    alpha.write_text(alpha.read_text().replace('"Alpha"', '"Alpha, renamed"'))
    summary = await sync_project(store, project, BASE)
    assert summary.loaded == [ALPHA]
    assert await labels(store) == ["Alpha, renamed", "Beta", "Other", "Thing"]


async def test_editing_one_ontology_file_reloads_the_ontology(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    (project / "ontology" / "extra.ttl").unlink()
    summary = await sync_project(store, project, BASE)
    assert summary.loaded == [ONTOLOGY]
    assert await store.triple_count(ONTOLOGY) == 4


async def test_removed_and_added_data_files(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    (project / "data" / "beta.ttl").unlink()
    (project / "data" / "gamma.ttl").write_text(f'<{BASE}id/x/g> <{LABEL}> "Gamma" .\n')
    summary = await sync_project(store, project, BASE)
    assert summary.dropped == [BETA]
    assert summary.loaded == [GAMMA]
    assert await store.graph_iris() == {ONTOLOGY, SHAPES, ALPHA, GAMMA}
    assert await sync_project(store, project, BASE) == type(summary)(
        skipped=[ONTOLOGY, SHAPES, ALPHA, GAMMA]
    )


async def test_contribution_graphs_are_never_touched(store: Store, project: Path) -> None:
    contribution = f'<{BASE}id/x/c> <{LABEL}> "Contributed" .'
    await store.replace_graph(CONTRIBUTION, contribution)
    await sync_project(store, project, BASE)
    shutil.rmtree(project / "data")
    summary = await sync_project(store, project, BASE)
    assert sorted(summary.dropped) == [ALPHA, BETA]
    assert await store.graph_iris() == {ONTOLOGY, SHAPES, CONTRIBUTION}
    assert "Contributed" in await labels(store)


async def test_a_graph_lost_behind_our_back_is_loaded_again(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    await store.drop_graph(BETA)  # e.g. someone dropped it on the SPARQL server
    summary = await sync_project(store, project, BASE)
    assert summary.loaded == [BETA]


async def test_a_broken_file_keeps_the_old_graph(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    (project / "data" / "alpha.ttl").write_text('<a> <b> "unterminated .\n')
    with pytest.raises(LoaderError, match=r"alpha\.ttl"):
        await sync_project(store, project, BASE)
    assert "Alpha" in await labels(store)
    # Fixed again: the recorded hash is still the old one, so the file is compared afresh.
    shutil.copy(FIXTURE / "data" / "alpha.ttl", project / "data" / "alpha.ttl")
    summary = await sync_project(store, project, BASE)
    assert ALPHA in summary.skipped


async def test_a_changed_base_iri_reloads(store: Store, project: Path) -> None:
    await sync_project(store, project, BASE)
    summary = await sync_project(store, project, "https://example.org/meent/")
    # Other graph IRIs: all new, and the old ones dropped.
    assert len(summary.loaded) == 4
    assert sorted(summary.dropped) == sorted([ONTOLOGY, SHAPES, ALPHA, BETA])


def test_a_folder_that_is_not_a_project_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="ontology"):
        project_sources(tmp_path, BASE)


def test_two_files_for_one_graph_are_refused(project: Path) -> None:
    (project / "data" / "alpha.nt").write_text("")
    with pytest.raises(LoaderError, match="share one graph"):
        project_sources(project, BASE)


async def test_load_files_bulk_loads_and_a_sync_then_skips(store: Store, project: Path) -> None:
    big = project / "data" / "big.nt"
    big.write_text("".join(f'<{BASE}id/n/{i}> <{LABEL}> "n{i}" .\n' for i in range(3000)))
    seen: list[tuple[Path, int, int]] = []
    written = await load_files(store, [big], BASE, progress=lambda *a: seen.append(a))
    assert written == [BASE + "graph/data/big"]
    assert await store.triple_count(BASE + "graph/data/big") == 3000
    assert seen[-1] == (big, big.stat().st_size, big.stat().st_size)
    summary = await sync_project(store, project, BASE)
    assert BASE + "graph/data/big" in summary.skipped


async def test_load_files_outside_data_survive_a_sync(
    store: Store, project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "dump.nt"
    elsewhere.write_text(f'<{BASE}id/n/1> <{LABEL}> "elsewhere" .\n')
    await load_files(store, [elsewhere], BASE)
    summary = await sync_project(store, project, BASE)
    assert BASE + "graph/data/dump" not in summary.dropped
    assert "elsewhere" in await labels(store)


async def test_load_files_reports_bad_data(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text("<no> <end>\n")
    with pytest.raises(DataError):
        await load_files(store, [bad], BASE)
