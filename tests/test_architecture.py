"""docs/architecture.md is the project's own reference: code points there, it names every module.

The project explains itself: a comment, a docstring, a shape's message or a data note that
cites a design document outside the project would send a reader somewhere the checkout does
not have. Every reference to a section of docs/architecture.md must name a section it has, and
its layer table must account for every module of service/, so it cannot fall behind the code.
"""

from __future__ import annotations

import ast
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
    modules |= {p.parent.name for p in (ROOT / "service").glob("*/__init__.py")}
    assert not modules - named, f"modules no layer names: {sorted(modules - named)}"


@pytest.mark.parametrize("bad", ["see DESIGN §2", "../shared/DESIGN.md", "STYLE.md"])
def test_the_outside_check_bites(bad: str) -> None:
    assert OUTSIDE.search(bad)


# ---------------------------------------------------------------- the import graph of service/


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every ``from service… import …`` and ``import service…`` in a file,
    at any depth (imports inside functions count: they are dependencies too)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("service"):
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("service")]
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SERVICE_FILES = sorted((ROOT / "service").rglob("*.py"))


def test_no_private_name_is_imported_from_another_module() -> None:
    crossing = [
        f"{module_name(p)} imports {name} from {module}"
        for p in SERVICE_FILES
        for module, names in imports_of(p)
        for name in names
        if name.startswith("_") and not name.endswith("__") and module != module_name(p)
    ]
    assert not crossing, crossing


#: What the store package may import from the rest of the service: the settings, its private
#: state and the query-worker pool — never the web layer, contributions or harvesting.
STORE_MAY_IMPORT = {"service.config", "service.state", "service.query_workers", "service.store"}


def test_the_store_imports_nothing_above_it() -> None:
    above = [
        f"{module_name(p)} imports {module}"
        for p in sorted((ROOT / "service" / "store").glob("*.py"))
        for module, _ in imports_of(p)
        if not any(module == m or module.startswith(m + ".") for m in STORE_MAY_IMPORT)
    ]
    assert not above, above


def test_the_store_package_has_no_import_cycle() -> None:
    """The implementations import ``base`` and ``common``, never the package that opens them."""
    back = [
        f"{module_name(p)} imports service.store"
        for p in sorted((ROOT / "service" / "store").glob("*.py"))
        if p.name != "__init__.py"
        for module, _ in imports_of(p)
        if module == "service.store"
    ]
    assert not back, back
