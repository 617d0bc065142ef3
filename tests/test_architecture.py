"""docs/architecture.md is the project's own reference: code points there, it names every module.

The project explains itself: a comment, a docstring, a shape's message or a data note that
cites a design document outside the project would send a reader somewhere the checkout does
not have. Every reference to a section of docs/architecture.md must name a section it has, and
its layer table must account for every module of service/, so it cannot fall behind the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
FOLDERS = ("service", "tests", "bench", "queries", "shapes", "ontology", "data", "docs")
SUFFIXES = {".py", ".ttl", ".rq", ".md", ".html", ".js"}
#: A citation of a document outside the checkout: the first design and style pages were in the
#: workspace beside it, not in the project.
OUTSIDE = re.compile(r"DESIGN(\.md| §)|STYLE\.md|\.\./shared/(DESIGN|STYLE)")
#: The page's path, a comma and a section title in double quotes, also escaped in Turtle.
SECTION_REFERENCE = re.compile(r'docs/architecture\.md, \\?"([^"\\]+)\\?"')


def project_files() -> list[Path]:
    """Text the project writes itself: not vendored libraries, not the hostile-input corpus."""
    found = [
        p
        for folder in FOLDERS
        for p in (ROOT / folder).rglob("*")
        if p.suffix in SUFFIXES and p.is_file() and not {"static", "corpus"} & set(p.parts)
    ]
    return [*sorted(found), ROOT / "README.md"]


def headings() -> set[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return {re.sub(r"^\d+\.\s*", "", h) for h in re.findall(r"^#+\s+(.+)$", text, re.MULTILINE)}


def test_nothing_cites_a_design_document_outside_the_project() -> None:
    me = Path(__file__).resolve()
    cited = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in project_files()
        if p.resolve() != me
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not cited, cited


def test_every_reference_names_a_section_the_architecture_page_has() -> None:
    known = headings()
    wrong = [
        f"{p.relative_to(ROOT)}: {title!r}"
        for p in project_files()
        for title in SECTION_REFERENCE.findall(p.read_text(encoding="utf-8"))
        if title not in known
    ]
    assert not wrong, f"sections that do not exist: {wrong}; known: {sorted(known)}"


def test_the_layers_account_for_every_module() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    layers = text.split("## 5. The code, by layer", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"[a-z0-9_]+", layers))
    modules = {p.stem for p in (ROOT / "service").glob("*.py")} - {"__init__"}
    assert not modules - named, f"modules no layer names: {sorted(modules - named)}"


@pytest.mark.parametrize("bad", ["see DESIGN §2", "../shared/DESIGN.md", "STYLE.md"])
def test_the_outside_check_bites(bad: str) -> None:
    assert OUTSIDE.search(bad)
