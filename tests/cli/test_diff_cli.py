"""``rollout diff`` as a user runs it: exit codes and the text they read."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli.diff import diff

FIXTURES = Path(__file__).parent.parent / "contracts/openapi/fixtures"
V1 = "split/v1/api.yaml"
V2 = "split/v2/api.yaml"


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the fixtures folder, so reports show short relative paths."""
    monkeypatch.chdir(FIXTURES)


def run(*arguments: str) -> Result:
    return CliRunner().invoke(diff, list(arguments), catch_exceptions=False)


def test_breaking_change_fails_with_the_text_report() -> None:
    result = run(V1, V2)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "rollout diff split/v1/api.yaml -> split/v2/api.yaml",
        "backward (clients built against BASE, server at REVISION)",
        "1 operation compared: 1 error, 0 warnings, 0 infos",
        "",
        "error   response-required-property-removed",
        "        GET /items/{id}",
        "        response 200 (application/json): required property `Item.name` was",
        "        removed",
        "        base     schemas/item.yaml#/Item/properties/name",
        "        revision schemas/item.yaml#/Item",
        "",
        "FAIL: 1 finding reaches --fail-on error",
    ]


def test_no_breaking_change_passes() -> None:
    result = run(V2, V1)

    assert result.exit_code == 0
    assert "0 errors, 0 warnings, 0 infos" in result.output
    assert result.output.endswith("OK: no finding reaches --fail-on error\n")


def test_both_directions_label_each_change() -> None:
    result = run("swagger/v1.yaml", "swagger/v2.yaml", "--direction", "both")

    assert result.exit_code == 1
    assert "  [backward]" in result.output
    assert "  [forward]" in result.output
    heading = " ".join(result.output.split("error", 1)[0].split())
    assert "forward (clients built against REVISION, server at BASE)" in heading


def test_fail_on_warning_counts_warnings(tmp_path: Path) -> None:
    base, revision = tmp_path / "a.yaml", tmp_path / "b.yaml"
    text = (FIXTURES / "split/v1/schemas/item.yaml").read_text()
    (tmp_path / "schemas").mkdir()
    base.write_text((FIXTURES / V1).read_text())
    revision.write_text(
        (FIXTURES / V1).read_text().replace("schemas/item", "schemas/other")
    )
    (tmp_path / "schemas/item.yaml").write_text(text.replace("[id, name]", "[id]"))
    (tmp_path / "schemas/other.yaml").write_text(
        text.replace("[id, name]", "[id]").replace("    name: {type: string}\n", "")
    )

    assert run(str(base), str(revision)).exit_code == 0
    failed = run(str(base), str(revision), "--fail-on", "warning")
    assert failed.exit_code == 1
    assert "warning response-optional-property-removed" in failed.output
    assert "FAIL: 1 finding reaches --fail-on warning" in failed.output


def test_ignore_file_accepts_a_change(tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text(
        "- rule: response-required-property-removed\n"
        "  operation: GET /items/{sku}\n"
        "  reason: no consumer reads the name\n"
    )

    result = run(V1, V2, "--ignore", str(ignore))

    assert result.exit_code == 0
    assert "0 errors, 0 warnings, 0 infos, 1 ignored" in result.output


def test_json_report() -> None:
    result = run(V1, V2, "--format", "json")

    document = json.loads(result.output)
    assert result.exit_code == 1
    assert document["failed"] is True
    assert document["summary"] == {
        "operations": 1,
        "error": 1,
        "warning": 0,
        "info": 0,
        "ignored": 0,
    }
    [finding] = document["findings"]
    assert finding == {
        "rule": "response-required-property-removed",
        "level": "error",
        "direction": "backward",
        "operation": "GET /items/{id}",
        "message": "response 200 (application/json): required property `Item.name` "
        "was removed",
        "base": "schemas/item.yaml#/Item/properties/name",
        "revision": "schemas/item.yaml#/Item",
    }


def test_markdown_report() -> None:
    result = run(V1, V2, "--format", "markdown")

    lines = result.output.splitlines()
    assert lines[0] == "## API diff: `split/v1/api.yaml` → `split/v2/api.yaml`"
    assert "❌ 1 finding reaches --fail-on error." in lines
    assert "| Level | Rule | Operation | Change | Base | Revision |" in lines
    assert any(
        line.startswith("| error | `response-required-property-removed` |")
        for line in lines
    )


def test_junit_report_written_to_a_file(tmp_path: Path) -> None:
    output = tmp_path / "diff.xml"

    result = run(
        "swagger/v1.yaml",
        "swagger/v2.yaml",
        "--format",
        "junit",
        "--output",
        str(output),
    )

    assert result.exit_code == 1
    assert result.output == f"wrote junit report to {output}\n"
    suite = ET.parse(output).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "7"
    assert suite.get("failures") == "5"


def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as a subprocess: what a shell user sees."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "diff", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ((V1, "missing.yaml"), "missing.yaml: cannot read the contract"),
        ((V1, V2, "--ignore", "swagger/v1.yaml"), "is not of type 'array'"),
        (
            (V1, "swagger/v1-openapi3.yaml", "--output", "/no/such/dir/x.txt"),
            "cannot write",
        ),
    ],
    ids=["missing-contract", "invalid-ignore-file", "unwritable-output"],
)
def test_bad_input_exits_2_without_traceback(
    arguments: tuple[str, ...], words: str
) -> None:
    result = cli(*arguments)

    assert result.returncode == 2
    assert "error: bad input" in result.stderr
    assert words in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_broken_reference_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "api.yaml"
    broken.write_text((FIXTURES / V1).read_text().replace("#/Item", "#/Gone"))

    result = cli(V1, str(broken))

    assert result.returncode == 2
    assert (
        "#/paths/~1items~1{id}/get/responses/200/content/application~1json/schema/$ref"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_unknown_direction_is_a_usage_error() -> None:
    result = run(V1, V2, "--direction", "sideways")

    assert result.exit_code == 2
    assert "Invalid value for '--direction'" in result.output
