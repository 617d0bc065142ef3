"""The ``meent`` command line (DESIGN §6). Exit codes: 0 ok, 1 validation failed, 2 bad input."""

from pathlib import Path
from typing import Annotated

import typer

from service.formatting import format_file, is_canonical

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


def _turtle_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.ttl")))
        else:
            files.append(path)
    return files


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


def main() -> None:
    app()
