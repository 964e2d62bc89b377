"""Report files: what a reviewer reads in a pull request, a CI test tab, a browser."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.core.model import (
    Bump,
    Cell,
    CellResult,
    CheckKind,
    CheckResult,
    Decision,
    Edge,
    Finding,
    Outcome,
    Pairing,
    Verdict,
)
from harness.engine.events import RunFinished, RunReport
from harness.reporting.formats import (
    ReportFile,
    render_html,
    render_json,
    render_junit,
    render_markdown,
)

EDGE = Edge("orders", "inventory")


def report() -> RunReport:
    broken = CheckResult.from_findings(
        CheckKind.PACT,
        [Finding("$.stock: expected key is missing", location="GET /items/{sku}")],
        summary="0 of 1 interactions verified",
    )
    fine = CheckResult(CheckKind.PACT, Outcome.COMPATIBLE, summary="1 of 1")
    down = CheckResult.from_error(CheckKind.CONFORMANCE, "inventory@v3 did not start")
    return RunReport(
        run_id="rollout-test",
        system="shop",
        backend="process",
        bumps=(Bump("inventory", "v2", "v3"),),
        results=(
            CellResult(Cell(EDGE, "v1", "v2", Pairing.TODAY), (fine,)),
            CellResult(Cell(EDGE, "v1", "v3", Pairing.PROVIDER_AHEAD), (broken, down)),
        ),
        verdict=Verdict(
            Decision.BLOCKED,
            reasons=("orders@v1 -> inventory@v3 is incompatible",),
            stages=(("inventory",),),
        ),
        duration=1.5,
        instances_started=2,
    )


def test_json_has_the_documented_keys() -> None:
    document = json.loads(render_json(report()))

    assert document["format_version"] == 1
    assert document["verdict"]["decision"] == "blocked"
    assert document["verdict"]["rollout_order"] == [["inventory"]]
    cell = document["cells"][1]
    assert cell["id"] == "orders@v1->inventory@v3"
    assert cell["pairing"] == "provider-ahead"
    assert cell["outcome"] == "incompatible"
    assert cell["checks"][0]["findings"][0]["location"] == "GET /items/{sku}"


def test_markdown_shows_verdict_matrix_and_findings() -> None:
    text = render_markdown(report())

    assert text.startswith("## Rollout check: ❌ blocked")
    assert "| `orders@v1 -> inventory@v3` | provider rolled first | ❌ | ⚠️ |" in text
    assert "- orders@v1 -> inventory@v3 is incompatible" in text
    assert "GET /items/{sku}: $.stock: expected key is missing" in text


def test_junit_has_a_case_per_cell_and_check() -> None:
    suites = ET.fromstring(render_junit(report()))

    suite = suites.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "orders -> inventory"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        "3",
        "1",
        "1",
    )
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "orders@v1->inventory@v3[pact]" in names
    failure = suite.find("testcase[@name='orders@v1->inventory@v3[pact]']/failure")
    assert failure is not None
    assert "$.stock: expected key is missing" in (failure.text or "")


def test_html_escapes_and_shows_every_cell() -> None:
    page = render_html(report())

    assert '<h1>Rollout check: <span class="blocked">blocked</span></h1>' in page
    assert "orders@v1 -&gt; inventory@v3" in page
    assert page.count("<tr>") == 3


def test_report_file_writes_on_run_finished(tmp_path: Path) -> None:
    target = tmp_path / "out" / "run.xml"
    writer = ReportFile(target)

    writer(RunFinished(report()))

    assert ET.parse(target).getroot().tag == "testsuites"


def test_unknown_suffix_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot tell the format"):
        ReportFile(tmp_path / "run.pdf")
