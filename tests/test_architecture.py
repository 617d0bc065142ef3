"""docs/architecture.md is the project's own reference: code points there, it names every module.

The project explains itself: a comment, a docstring, a shape's message or a data note that
cites a design document outside the project would send a reader somewhere the checkout does
not have. Every reference to a section of docs/architecture.md must name a section it has, and
its layer table must account for every module of service/, so it cannot fall behind the code.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
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
        if p.suffix in SUFFIXES
        and p.is_file()
        and not {"static", "corpus", "node_modules"} & set(p.parts)
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
    """Section 5 names every module and folder of service/, at any depth."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    layers = text.split("## 5. The code, by layer", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"[a-z0-9_]+", layers))
    service = ROOT / "service"
    modules = {p.stem for p in service.rglob("*.py") if "static" not in p.parts} - {"__init__"}
    modules |= {p.parent.name for p in service.rglob("*/__init__.py")}
    assert not modules - named, f"modules no layer names: {sorted(modules - named)}"


def test_only_entry_points_and_basics_stay_at_the_top() -> None:
    top = {p.name for p in (ROOT / "service").glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "cli.py", "config.py", "vocab.py"}, top


def test_every_folder_says_what_lives_there_and_what_it_may_import() -> None:
    quiet = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "service").rglob("__init__.py"))
        if p.parent != ROOT / "service"
        and not (
            (doc := ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))))
            and ("import" in doc or "layer" in doc)
        )
    ]
    assert not quiet, f"folders whose docstring does not say what they may import: {quiet}"


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


# ---------------------------------------------------------------- the import contracts


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's ``lint-imports`` over the package in ``root``, with the contracts of
    pyproject.toml (layers, no route imports from the CLI, no cycles)."""
    command = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(command), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("edits", "broken"),
    [
        # The store reaching up into the web layer.
        ({"store/loader.py": "from service.web import errors"}, "Lower layers"),
        # Two folders side by side importing each other.
        ({"views/labels.py": "from service.contrib import tokens"}, "Lower layers"),
        # The CLI importing a route module.
        ({"cli.py": "from service.web.routes import sparql"}, "route modules"),
        # Two modules of one folder importing each other.
        (
            {
                "rdf/conneg.py": "from service.rdf import canonical",
                "rdf/canonical.py": "from service.rdf import conneg",
            },
            "cycles",
        ),
    ],
)
def test_the_contracts_catch_a_broken_rule(
    tmp_path: Path, edits: dict[str, str], broken: str
) -> None:
    copy = tmp_path / "service"
    shutil.copytree(ROOT / "service", copy, ignore=shutil.ignore_patterns("static", "templates"))
    for module, line in edits.items():
        target = copy / module
        target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout
    assert any(broken in row and "BROKEN" in row for row in done.stdout.splitlines()), done.stdout
