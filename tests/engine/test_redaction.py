"""Secret values given to instances never reach a report."""

from __future__ import annotations

from pathlib import Path

from harness.core.model import CheckKind, CheckResult, Finding
from harness.core.system import ServiceSpec, System, VersionSpec
from harness.engine.redaction import MASK, Redactor


def system_with_env(env: dict[str, str]) -> System:
    version = VersionSpec(name="v1", env=env)
    service = ServiceSpec(name="api", baseline="v1", versions={"v1": version})
    return System(
        name="s", source=Path("/x/rollout.yaml"), services={"api": service}, edges=()
    )


def test_secret_looking_variables_are_masked_everywhere() -> None:
    redactor = Redactor.from_system(
        system_with_env({"DB_PASSWORD": "hunter22", "LOG_LEVEL": "debug"}),
        environ={"GITHUB_TOKEN": "ghs_abcdef", "HOME": "/root"},
    )
    result = CheckResult.from_error(
        CheckKind.PACT,
        "login failed for hunter22",
        logs="token=ghs_abcdef level=debug home=/root",
    )

    clean = redactor.result(result)

    text = clean.summary + clean.findings[0].message + clean.findings[0].detail
    assert "hunter22" not in text
    assert "ghs_abcdef" not in text
    assert MASK in text
    assert "level=debug home=/root" in text


def test_results_without_secrets_are_unchanged() -> None:
    redactor = Redactor.from_system(system_with_env({}), environ={})
    result = CheckResult.from_findings(CheckKind.PACT, [Finding("field x missing")])

    assert redactor.result(result) == result
