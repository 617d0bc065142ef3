"""The ``meent`` command line (docs/architecture.md, "The command line and the settings").

Exit codes: 0 ok, 1 validation failed, 2 bad input, 3 the store cannot be opened or reached.
"""

import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer
from rdflib import Graph

from service.config import Settings, get_settings
from service.contrib.reports import Source, locate, render_text
from service.contrib.validation import Validator
from service.rdf.conneg import GRAPH_FORMATS, RESULT_FORMATS, by_name
from service.rdf.formatting import format_file, is_canonical
from service.rdf.parsing import RdfSyntaxError, parse_rdf
from service.rdf.sourcemap import turtle_source_map

EXIT_INVALID = 1
EXIT_BAD_INPUT = 2
#: The store could not be opened or reached; the codes are listed in
#: docs/architecture.md, "The command line and the settings".
EXIT_UNAVAILABLE = 3
T = TypeVar("T")

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help='Embedded store directory, or "memory".', show_default=False),
]
RemoteOption = Annotated[
    str | None,
    typer.Option("--remote", help="Base URL of a SPARQL 1.1 server to use instead."),
]

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Lang(StrEnum):
    nl = "nl"
    en = "en"


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(f"meent: {message}", err=True)
    return typer.Exit(code)


def _turtle_files(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their ``*.ttl``; a missing path is bad input."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            # Files only: a folder named x.ttl or a broken link is not a Turtle file.
            files.extend(sorted(p for p in path.rglob("*.ttl") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise _fail(f"{path}: no such file or folder")
    if not files:
        raise _fail("no Turtle (*.ttl) files in " + ", ".join(map(str, paths)))
    return files


def _project_root() -> Path:
    return get_settings().project_root


def _settings(store: str | None, remote: str | None, **more: Any) -> Settings:
    overrides = {k: v for k, v in {"store": store, "remote": remote, **more}.items() if v}
    try:
        return Settings(**overrides)
    except ValueError as error:
        raise _fail(str(error)) from None


def _with_store(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Open the configured store, run ``work(store)``, close it. A bad query or RDF file
    exits 2; a store that cannot be opened or reached exits 3."""
    from service.store import DataError, QueryError, StoreError, StoreUnavailable, open_store

    async def run() -> T:
        store = open_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return anyio.run(run)
    except QueryError as error:
        raise _fail(f"the query could not be evaluated: {error}") from None
    except DataError as error:
        raise _fail(str(error)) from None
    except StoreUnavailable as error:
        raise _fail(error.details, EXIT_UNAVAILABLE) from None
    except StoreError as error:
        raise _fail(str(error), EXIT_UNAVAILABLE) from None


def _check_store_opens(settings: Settings) -> None:
    """Open and close the store before serving, so that one that cannot be opened (another
    process holds it, a read-only or full disk) or a remote server that cannot be reached
    when the service must sync ends the command with its reason and exit status 3, rather
    than a traceback from inside the server's startup."""

    async def probe(opened: Any) -> None:
        if settings.remote is not None and settings.sync_on_start:
            await opened.query("ASK { }")

    _with_store(settings, probe)


@app.command("format")
def format_command(
    paths: Annotated[list[Path], typer.Argument(help="Turtle files or folders.")],
    check: Annotated[bool, typer.Option(help="Only report files that are not canonical.")] = False,
) -> None:
    """Rewrite Turtle files in Meent's canonical layout (or --check that they are)."""
    drifted = []
    for path in _turtle_files(paths):
        try:  # pyoxigraph says where a syntax error is; rdflib, which formats, would not
            parse_rdf(path.read_bytes(), base_iri=path.resolve().as_uri(), source=str(path))
        except RdfSyntaxError as error:
            raise _fail(str(error)) from None
        if check:
            if not is_canonical(path):
                drifted.append(path)
        elif format_file(path):
            typer.echo(f"formatted {path}")
    for path in drifted:
        typer.echo(f"not canonical: {path}", err=True)
    if drifted:
        raise typer.Exit(1)


@app.command()
def diagram(
    out: Annotated[Path, typer.Option(help="Where to write the SVG.")] = Path(
        "ontology/diagram.svg"
    ),
) -> None:
    """Draw the ontology's class diagram as SVG with Graphviz (ontology/diagram.svg)."""
    from service.views.ontology_diagram import GraphvizMissing, write_diagram

    try:
        write_diagram(_project_root() / "ontology", out)
    except GraphvizMissing as error:
        raise _fail(str(error), EXIT_UNAVAILABLE) from None
    except OSError as error:
        raise _fail(f"cannot write {out}: {error.strerror}") from None
    typer.echo(f"wrote {out}")


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Turtle files or folders to validate.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = OutputFormat.text,
    lang: Annotated[Lang, typer.Option(help="Language of the messages.")] = Lang.en,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Base URL of a running Meent: check each file against its data and shapes.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate Turtle files against Meent's shapes and ontology, offline.

    The files are validated together (they may refer to each other). Exit status: 0 when they
    conform (warnings never fail), 1 on violations, 2 when a file cannot be read or parsed.
    With --against URL each file is checked by that instance (POST /contributions/validate),
    together with the published data it touches; 3 when it cannot be reached.
    """
    files = _turtle_files(paths)
    if against is not None:
        raise typer.Exit(_validate_against(files, against, output, lang))
    data = Graph()
    sources: list[Source] = []
    errors: list[RdfSyntaxError] = []
    for path in files:
        raw = path.read_bytes()
        try:
            graph = parse_rdf(raw, base_iri=path.resolve().as_uri(), source=str(path))
        except RdfSyntaxError as error:
            errors.append(error)
            continue
        data += graph
        sources.append(Source(str(path), turtle_source_map(raw.decode("utf-8"))))
    if errors:
        if output is OutputFormat.json:
            problems = [
                {"file": e.source, "line": e.line, "column": e.column, "message": e.message}
                for e in errors
            ]
            typer.echo(json.dumps({"conforms": False, "syntaxErrors": problems}, indent=2))
        else:
            for error in errors:
                typer.echo(f"{error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)

    report = Validator.from_project(_project_root()).validate(data)
    located = locate(report, sources)
    violations, warnings = len(report.violations), len(report.warnings)
    if output is OutputFormat.json:
        document = {
            "conforms": report.conforms,
            "files": [str(f) for f in files],
            "triples": len(data),
            "violations": violations,
            "warnings": warnings,
            "results": [item.as_dict(lang) for item in located],
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        if located:
            typer.echo(render_text(located, lang))
        verdict = "conforms" if report.conforms else "does not conform"
        typer.echo(
            f"{verdict}: {len(files)} file(s), {len(data)} triples, "
            f"{violations} violation(s), {warnings} warning(s)"
        )
    if not report.conforms:
        raise typer.Exit(EXIT_INVALID)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise _fail(f"{path}: {error.strerror or error}") from None


def _validate_against(files: list[Path], base: str, output: OutputFormat, lang: Lang) -> int:
    """Each file checked by the instance at ``base``; the worst exit status of them."""
    from service.contrib.remote_check import Unreachable, render, send

    answers = {}
    for path in files:
        try:
            answers[str(path)] = send(
                base, "/contributions/validate", path, _read(path), lang=lang.value
            )
        except Unreachable as error:
            raise _fail(f"cannot reach {error}", EXIT_UNAVAILABLE) from None
    if output is OutputFormat.json:
        document = {
            "conforms": all(a.exit_code == 0 for a in answers.values()),
            "against": base,
            "files": {name: {**a.body, "httpStatus": a.status} for name, a in answers.items()},
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for name, answer in answers.items():
            typer.echo("\n".join(render(answer, name)))
    return max(a.exit_code for a in answers.values())


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="The contribution: Turtle, N-Triples or JSON-LD.")],
    to: Annotated[str, typer.Option("--to", help="Base URL of the Meent instance.")],
    token: Annotated[str, typer.Option(help="Your bearer token (meent token create).")],
    lang: Annotated[Lang, typer.Option(help="Language of the messages.")] = Lang.en,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = OutputFormat.text,
) -> None:
    """Submit a contribution to a running Meent (POST /contributions) and print the report.

    Exit status: 0 accepted (201), 1 refused with violations (422), 2 the file or request is at
    fault (unreadable, 400, 401, 403, 413, 415), 3 the server cannot be reached or failed.
    """
    from service.contrib.remote_check import Unreachable, render, send

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    try:
        answer = send(to, "/contributions", file, _read(file), lang=lang.value, token=token)
    except Unreachable as error:
        raise _fail(f"cannot reach {error}", EXIT_UNAVAILABLE) from None
    if output is OutputFormat.json:
        document = {**answer.body, "httpStatus": answer.status, "location": answer.location}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(render(answer, str(file))))
        if answer.status == 201:
            typer.echo(f"accepted: {answer.location}")
    raise typer.Exit(answer.exit_code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Load ontology/, shapes/ and data/ into the store (unchanged files are skipped) and serve."""
    import uvicorn

    from service.process.memory import limit_malloc_arenas
    from service.web.app import create_app

    limit_malloc_arenas()
    settings = _settings(store, remote, host=host, port=port)
    _check_store_opens(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
    )


@app.command()
def load(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Large RDF files to bulk-load (default: sync).")
    ] = None,
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Sync the project's ontology, shapes and data into the store, or bulk-load FILES.

    Without FILES: changed files replace their graph, unchanged ones are skipped, removed ones
    are dropped. With FILES (Turtle, N-Triples, N-Quads, TriG): each is bulk-loaded fast into
    ``graph/data/{stem}`` (or its own graphs, for quads).
    """
    from rich.progress import Progress

    from service.store.loader import LoaderError, load_files, sync_project

    settings = _settings(store, remote)
    for path in files or []:
        if not path.is_file():
            raise _fail(f"{path}: no such file")

    shown = sys.stderr.isatty()

    async def work(opened: Any) -> str:
        with Progress(transient=True, disable=not shown) as progress:
            if files:
                task = progress.add_task("loading", total=None)

                def on_bytes(path: Path, done: int, total: int) -> None:
                    progress.update(task, description=path.name, completed=done, total=total)

                # Counting bytes means reading the file through Python, one block at a time;
                # without a terminal to show it on, the store's loader reads the file itself,
                # in parallel (at 10M triples, ~15 s of 92 s).
                graphs = await load_files(
                    opened, files, settings.base_iri, on_bytes if shown else None
                )
                return f"loaded {len(graphs)} graph(s): " + ", ".join(graphs)
            task = progress.add_task("syncing", total=None)

            def on_event(event: Any) -> None:
                progress.update(task, completed=event.done, total=event.total)

            summary = await sync_project(opened, settings.project_root, settings.base_iri, on_event)
            return (
                f"synced: {len(summary.loaded)} loaded, {len(summary.skipped)} unchanged, "
                f"{len(summary.dropped)} dropped, {summary.triples} triples written"
            )

    try:
        typer.echo(_with_store(settings, work))
    except LoaderError as error:
        raise _fail(str(error)) from None


@app.command()
def query(
    text: Annotated[str | None, typer.Argument(help="The SPARQL query.")] = None,
    file: Annotated[
        Path | None, typer.Option("-f", "--file", help="Read the query from a file.")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="json, xml, csv, tsv (SELECT/ASK; default tsv); "
            "ttl, nt, jsonld, rdf, nq, trig (CONSTRUCT/DESCRIBE; default ttl).",
        ),
    ] = None,
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Run a SPARQL query against the configured store and write the result to stdout."""
    if (text is None) == (file is None):
        raise _fail("give the query as an argument or with -f FILE (one of them)")
    if file is not None:
        if not file.is_file():
            raise _fail(f"{file}: no such file")
        text = file.read_text(encoding="utf-8")
    assert text is not None
    results = by_name(output or "tsv", RESULT_FORMATS)
    graphs = by_name(output or "ttl", GRAPH_FORMATS)
    if output and results is None and graphs is None:
        raise _fail(f"unknown format {output!r}")
    settings = _settings(store, remote)
    out = sys.stdout.buffer

    async def work(opened: Any) -> None:
        stream = await opened.query_stream(
            text,
            results_format=(results or RESULT_FORMATS[3]).results,
            graph_format=(graphs or GRAPH_FORMATS[0]).rdf,
        )
        async for chunk in stream.chunks:
            out.write(chunk)
        out.flush()

    _with_store(settings, work)


@app.command()
def dump(
    directory: Annotated[Path, typer.Argument(help="Folder to write the dumps into.")],
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Write full dumps of the published graph (Turtle, N-Triples gz, N-Quads gz, JSON-LD)
    and manifest.json (sizes, SHA-256, canonical hash) into DIRECTORY: the files /dumps serves."""
    from service.harvest.dumps import dump_to

    settings = _settings(store, remote)
    try:
        manifest = _with_store(settings, lambda opened: dump_to(opened, directory))
    except OSError as error:
        from service.web.errors import DISK_TROUBLE, os_errno

        code = EXIT_UNAVAILABLE if os_errno(error) in DISK_TROUBLE else EXIT_BAD_INPUT
        where = error.filename or directory
        raise _fail(f"cannot write the dumps to {where}: {error.strerror or error}", code) from None
    for entry in manifest.files:
        typer.echo(f"{entry.name}\t{entry.bytes}\tsha256:{entry.sha256}")
    typer.echo(f"canonical hash {manifest.canonical_hash} ({manifest.quads} quads)")


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(help="New (or empty) folder to write the backup to.")],
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Back up the store and its private state (tokens, pending contributions, change log,
    sync records) into DEST, with a manifest of SHA-256 checksums. Works while the server
    runs. Exit status 3 when the store cannot be opened or reached."""
    from service.store.backup import BackupError, backup

    settings = _settings(store, remote)
    try:
        manifest = anyio.run(backup, settings, dest)
    except BackupError as error:
        raise _fail(str(error), error.exit_code) from None
    typer.echo(f"backed up {_summary(manifest)} to {dest}")
    typer.echo(f"canonical hash {manifest.canonical_hash}")


@app.command("restore")
def restore_command(
    src: Annotated[Path, typer.Argument(help="A folder written by meent backup.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that is not empty.")
    ] = False,
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Restore a backup into the store (stop the server first). Checks the whole backup
    before touching anything; refuses a store that is not empty unless --force, and then
    keeps the replaced store beside it. Exit status 2 for a corrupt, incomplete or refused
    backup, 3 when the store cannot be opened or reached."""
    from service.store.backup import BackupError, restore

    settings = _settings(store, remote)
    try:
        restored = anyio.run(lambda: restore(settings, src, force=force))
    except BackupError as error:
        raise _fail(str(error), error.exit_code) from None
    for path in restored.replaced:
        typer.echo(f"kept the replaced {path}", err=True)
    typer.echo(f"restored {_summary(restored.manifest)} into {restored.target}")
    typer.echo(f"canonical hash {restored.manifest.canonical_hash}")


def _summary(manifest: Any) -> str:
    from service.store.state import TABLES

    parts = [f"{manifest.quads} quads in {manifest.graphs} graphs"]
    for table, count in (manifest.state or {}).items():
        parts.append(f"{count} {TABLES.get(table, table)}")
    return ", ".join(parts)


def main() -> None:
    app()


token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens for contributors and curators.")
app.add_typer(token_app, name="token")


def _tokens(store: str | None, remote: str | None) -> Any:
    from service.contrib.tokens import TokenStore
    from service.store.state import connect

    settings = _settings(store, remote)
    if settings.state_path is None:
        raise _fail("tokens need a persistent store (--store DIR or --remote URL), not memory")
    return TokenStore(connect(settings.state_path))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who the token is for (shown as contributor).")],
    role: Annotated[str, typer.Option(help="contributor or curator.")] = "contributor",
    expires: Annotated[
        str | None, typer.Option(help="Last moment it is valid (ISO date or date-time, UTC).")
    ] = None,
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from service.contrib.tokens import Role

    if role not in {r.value for r in Role}:
        raise _fail("--role must be contributor or curator")
    try:
        token, secret = _tokens(store, remote).create(name, Role(role), expires=expires)
    except ValueError as error:
        raise _fail(str(error)) from None
    typer.echo(
        f"token {token.id} for {token.name!r} ({token.role.value}); keep it secret:", err=True
    )
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (printed when created).")],
    store: StoreOption = None,
    remote: RemoteOption = None,
) -> None:
    """Revoke a token by its id; it stops working at once."""
    if not _tokens(store, remote).revoke(token_id):
        raise _fail(f"no live token with id {token_id!r}")
    typer.echo(f"revoked {token_id}")
