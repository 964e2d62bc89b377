"""The GitHub Actions job summary."""

from __future__ import annotations

from pathlib import Path

from harness.core.model import Bump, Decision, Verdict
from harness.engine.events import RunFinished, RunReport, RunStarted
from harness.reporting.ci import StepSummary

REPORT = RunReport(
    run_id="rollout-test",
    system="acme",
    backend="process",
    bumps=(Bump("api", "v1", "v2"),),
    results=(),
    verdict=Verdict(Decision.ALLOWED, stages=(("api",),), advice=("today's note",)),
    duration=1.0,
    instances_started=2,
)


def test_the_summary_is_appended_to_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# an earlier step\n")
    summary = StepSummary.from_environment({"GITHUB_STEP_SUMMARY": str(path)})
    assert summary is not None

    summary(RunStarted("rollout-test", "process", (), ()))
    summary(RunFinished(REPORT))
    summary(RunFinished(REPORT))

    text = path.read_text()
    assert text.startswith("# an earlier step\n")
    assert text.count("## Rollout check: ✅ allowed") == 2


def test_no_summary_outside_github_actions() -> None:
    assert StepSummary.from_environment({}) is None
    assert StepSummary.from_environment({"GITHUB_STEP_SUMMARY": ""}) is None
