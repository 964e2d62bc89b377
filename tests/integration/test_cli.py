"""``rollout`` as a user runs it: exit codes, messages, and nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import labelled_processes, rollout, sample_config

pytestmark = pytest.mark.slow


def add_inventory_version(command: str, timeout: float = 20) -> Any:
    def edit(document: dict[str, Any]) -> None:
        versions = document["services"]["inventory"]["versions"]
        versions["v9"] = {
            **versions["v2"],
            "command": command,
            "startup_timeout": timeout,
        }

    return edit


def test_plan_starts_nothing_and_lists_cells(repo: Path) -> None:
    result = rollout("plan", "--candidate", "orders=v2", cwd=repo)

    assert result.returncode == 0, result.stderr
    assert "orders@v2 -> inventory@v1" in result.stdout
    assert "orders@v2[inventory@v1]" in result.stdout


def test_allowed_change_exits_0_and_writes_reports(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    markdown = tmp_path / "run.md"

    result = rollout(
        "check",
        "--candidate",
        "inventory=v2",
        "--report",
        str(report),
        "--report",
        str(markdown),
        cwd=repo,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: allowed" in result.stdout
    document = json.loads(report.read_text())
    assert document["format_version"] == 1
    assert document["verdict"]["decision"] == "allowed"
    assert {c["id"] for c in document["cells"]} == {
        "orders@v1->inventory@v1",
        "orders@v1->inventory@v2",
    }
    assert "## Rollout check: ✅ allowed" in markdown.read_text()


def test_blocked_change_exits_1_and_names_the_field(repo: Path) -> None:
    result = rollout(
        "check", "--baseline", "inventory=v2", "--candidate", "inventory=v3", cwd=repo
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "verdict: blocked" in result.stdout
    assert "orders@v1 -> inventory@v3: incompatible" in result.stdout
    assert "stock" in result.stdout


def test_provider_that_crashes_on_start_is_an_error_never_compatible(
    repo: Path, sample_copy: Path, tmp_path: Path
) -> None:
    crash = "{python} -c \"print('inventory v9: DATABASE_URL is not set'); exit(1)\""
    sample_config(sample_copy, add_inventory_version(crash))
    report = tmp_path / "run.json"

    result = rollout(
        "check", "--candidate", "inventory=v9", "--report", str(report), cwd=sample_copy
    )

    assert result.returncode == 3, result.stdout + result.stderr
    cells = {c["id"]: c for c in json.loads(report.read_text())["cells"]}
    crashed = cells["orders@v1->inventory@v9"]
    assert crashed["outcome"] == "error"
    assert all(
        check["outcome"] != "compatible"
        for check in crashed["checks"]
        if check["kind"] != "spec-diff"
    )
    assert "DATABASE_URL is not set" in json.dumps(crashed)
    assert "exited with code 1" in result.stdout


@pytest.mark.parametrize(
    ("edit", "args", "expected"),
    [
        pytest.param(
            lambda d: d["edges"].append({"consumer": "orders", "provider": "billing"}),
            ["plan", "--candidate", "orders=v2"],
            "edges[3].provider: unknown service 'billing'",
            id="unknown-service-in-edge",
        ),
        pytest.param(
            lambda d: d["services"]["orders"]["versions"]["v2"]["consumes"][
                "inventory"
            ].update(pact="contracts/pacts/missing.json"),
            ["check", "--candidate", "orders=v2"],
            "consumes.inventory.pact: contract file not found",
            id="missing-contract-file",
        ),
        pytest.param(
            lambda d: d["services"]["orders"].update(baseline="v0"),
            ["plan", "--candidate", "orders=v2"],
            "services.orders.baseline: 'v0' is not one of its versions",
            id="bad-baseline",
        ),
        pytest.param(
            None,
            ["check", "--candidate", "orders=v7"],
            "service 'orders' has no version 'v7'",
            id="unknown-candidate-version",
        ),
        pytest.param(
            None,
            ["check", "--candidate", "orders=v2", "--report", "out.pdf"],
            "cannot tell the format of out.pdf",
            id="bad-report-suffix",
        ),
    ],
)
def test_bad_input_exits_2_with_where_and_how(
    repo: Path, sample_copy: Path, edit: Any, args: list[str], expected: str
) -> None:
    sample_config(sample_copy, edit)

    result = rollout(*args, cwd=sample_copy)

    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert expected in message
    assert "Traceback" not in result.stderr


def test_broken_yaml_exits_2(sample_copy: Path) -> None:
    (sample_copy / "rollout.yaml").write_text("services:\n  inventory: [oops\n")

    result = rollout("plan", "--candidate", "inventory=v2", cwd=sample_copy)

    assert result.returncode == 2
    assert "invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def start_hanging_run(repo: Path, sample_copy: Path) -> subprocess.Popen[str]:
    """A run whose candidate never becomes healthy, so it is mid-run for a while."""
    hang = '{python} -c "import time; time.sleep(120)"'
    sample_config(sample_copy, add_inventory_version(hang, timeout=120))
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "check", "--candidate", "inventory=v9"],
        cwd=sample_copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(run_processes(process.pid)) < 2:
        assert time.monotonic() < deadline, "the run never started its instances"
        time.sleep(0.2)
    return process


def run_processes(owner: int) -> list[int]:
    found = []
    for pid in labelled_processes():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if f"ROLLOUT_HARNESS_OWNER_PID={owner}\0".encode() in environ:
            found.append(pid)
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_mid_run_leaves_nothing_behind(
    repo: Path, sample_copy: Path, signum: int
) -> None:
    process = start_hanging_run(repo, sample_copy)

    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)

    assert process.returncode != 0, output
    assert "Traceback" not in output
    assert run_processes(process.pid) == []


def test_sigkill_then_clean_removes_only_dead_runs(
    repo: Path, sample_copy: Path
) -> None:
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={
            **os.environ,
            "ROLLOUT_HARNESS_RUN_ID": "rollout-live",
            "ROLLOUT_HARNESS_OWNER_PID": str(os.getpid()),
        },
    )
    try:
        process = start_hanging_run(repo, sample_copy)
        process.kill()
        process.wait()
        assert run_processes(process.pid), "SIGKILL should leave instances behind"

        result = rollout("clean", "--backend", "process", cwd=sample_copy)

        assert result.returncode == 0, result.stderr
        assert "leftovers removed" in result.stdout
        deadline = time.monotonic() + 10
        while run_processes(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert run_processes(process.pid) == []
        assert bystander.poll() is None, "a live run's process was stopped"
    finally:
        bystander.kill()
        bystander.wait()
