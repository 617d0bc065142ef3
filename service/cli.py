"""The ``meent`` command line (DESIGN §6). Exit codes: 0 ok, 1 validation failed, 2 bad input."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rdflib import Graph

from service.formatting import format_file, is_canonical
from service.parsing import RdfSyntaxError, parse_rdf
from service.reports import Source, locate, render_text
from service.sourcemap import turtle_source_map
from service.validation import Validator

EXIT_INVALID = 1
EXIT_BAD_INPUT = 2

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
            files.extend(sorted(path.rglob("*.ttl")))
        elif path.is_file():
            files.append(path)
        else:
            raise _fail(f"{path}: no such file or folder")
    if not files:
        raise _fail("no Turtle (*.ttl) files in " + ", ".join(map(str, paths)))
    return files


def _project_root() -> Path:
    from service.config import get_settings

    return get_settings().project_root


@app.command("format")
def format_command(
    paths: Annotated[list[Path], typer.Argument(help="Turtle files or folders.")],
    check: Annotated[bool, typer.Option(help="Only report files that are not canonical.")] = False,
) -> None:
    """Rewrite Turtle files in Meent's canonical layout (or --check that they are)."""
    drifted = []
    for path in _turtle_files(paths):
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
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Turtle files or folders to validate.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = OutputFormat.text,
    lang: Annotated[Lang, typer.Option(help="Language of the messages.")] = Lang.en,
) -> None:
    """Validate Turtle files against Meent's shapes and ontology, offline.

    The files are validated together (they may refer to each other). Exit status: 0 when they
    conform (warnings never fail), 1 on violations, 2 when a file cannot be read or parsed.
    """
    files = _turtle_files(paths)
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


def main() -> None:
    app()
