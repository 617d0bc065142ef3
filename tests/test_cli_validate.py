"""``meent validate``: output a person can act on, JSON for machines, exit codes 0/1/2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "cli"
VALID = FIXTURES / "valid.ttl"
INVALID = FIXTURES / "koppel-without-cohort.ttl"
BROKEN = FIXTURES / "unparseable.ttl"
KOPPEL = "https://w3id.org/meent/id/koppel/2024-test"


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["validate", *args])

    return invoke


def test_valid_file_conforms(run) -> None:
    result = run(str(VALID))
    assert result.exit_code == 0, result.output
    assert "conforms: 1 file(s)" in result.output
    assert "0 violation(s)" in result.output


def test_violation_names_file_line_focus_path_and_message(run) -> None:
    result = run(str(INVALID), "--lang", "en")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if ": violation: " in line]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"{INVALID}:6: violation: <{KOPPEL}> meent:inCohort")
    assert "cohort" in lines[0].lower()
    assert "does not conform" in result.output


def test_messages_follow_the_language(run) -> None:
    english = run(str(INVALID), "--lang", "en").output
    dutch = run(str(INVALID), "--lang", "nl").output
    english_line = next(line for line in english.splitlines() if ": violation: " in line)
    dutch_line = next(line for line in dutch.splitlines() if ": violation: " in line)
    assert english_line != dutch_line
    assert "cohort" in dutch_line.lower()


def test_json_output_for_machines(run) -> None:
    result = run(str(INVALID), "--format", "json", "--lang", "en")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["conforms"] is False
    assert document["violations"] == 1
    violation = next(r for r in document["results"] if r["severity"] == "Violation")
    assert violation["file"] == str(INVALID)
    assert violation["line"] == 6
    assert violation["focusNode"] == KOPPEL
    assert violation["path"] == "https://w3id.org/meent/def#inCohort"
    assert violation["sourceShape"].startswith("https://w3id.org/meent/shapes#")


def test_unparseable_file_exits_2_with_line_and_column(run) -> None:
    result = run(str(BROKEN))
    assert result.exit_code == 2
    assert f"{BROKEN}:7:5: " in result.output


def test_unparseable_file_as_json(run) -> None:
    result = run(str(BROKEN), "--format", "json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["syntaxErrors"][0]
    assert (error["file"], error["line"], error["column"]) == (str(BROKEN), 7, 5)


def test_missing_path_is_bad_input(run, tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.ttl"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_folder_without_turtle_is_bad_input(run, tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "no Turtle" in result.output


def test_folder_is_validated_as_one_graph(run, tmp_path: Path) -> None:
    # The cohort in one file points at the programme in another: valid only together.
    shutil.copy(VALID, tmp_path / "valid.ttl")
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output


def test_warnings_never_fail(run, tmp_path: Path) -> None:
    # Without its (recommended) description the programme is still valid.
    original = VALID.read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(line for line in original if "Een programma om de CLI" not in line)
    assert len(text) < len("".join(original))
    path = tmp_path / "warn.ttl"
    path.write_text(text, encoding="utf-8")
    result = run(str(path), "--format", "json")
    document = json.loads(result.stdout)
    assert document["warnings"] >= 1, document
    assert document["violations"] == 0
    assert result.exit_code == 0


def test_curated_data_validates_from_another_directory(tmp_path: Path) -> None:
    """The installed console script finds the project's shapes from any working directory."""
    meent = Path(sys.executable).parent / "meent"
    completed = subprocess.run(
        [str(meent), "validate", str(ROOT / "data")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "conforms:" in completed.stdout


def test_format_check_reports_drift_and_syntax_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    drifted = tmp_path / "drift.ttl"
    drifted.write_text("<https://example.org/a> <https://example.org/p> 1 .\n", encoding="utf-8")
    result = runner.invoke(app, ["format", "--check", str(drifted)])
    assert result.exit_code == 1
    assert f"not canonical: {drifted}" in result.output
    assert runner.invoke(app, ["format", str(drifted)]).exit_code == 0
    assert runner.invoke(app, ["format", "--check", str(drifted)]).exit_code == 0
    broken = runner.invoke(app, ["format", str(BROKEN)])
    assert broken.exit_code == 2
    assert f"{BROKEN}:7:5: " in broken.output
