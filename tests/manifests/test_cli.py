"""``rollout plan/check --base`` on a git repository holding the sample shop."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import rollout
from tests.manifests.conftest import GitRepo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(sample_copy: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """The sample shop's config and manifests, committed, then inventory v2."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    shutil.copy(REPO / "rollout.yaml", sample_copy / "rollout.yaml")
    shutil.copytree(REPO / "deploy", sample_copy / "deploy")
    repo = GitRepo(sample_copy)
    repo.commit("the shop at v1", "rollout.yaml", "deploy")
    bump(repo, "inventory", "v1", "v2")
    return repo


def bump(repo: GitRepo, service: str, old: str, new: str) -> None:
    manifest = repo.root / "deploy" / f"{service}.yaml"
    image = f"rollout-sample/{service}"
    manifest.write_text(
        manifest.read_text().replace(f"{image}:{old}", f"{image}:{new}")
    )
    repo.commit(f"{service} {new}", "deploy")


def test_plan_shows_the_bumps_found_in_the_manifests(shop: GitRepo) -> None:
    result = rollout("plan", "--base", "HEAD~1", cwd=shop.root)

    assert result.returncode == 0, result.stderr
    assert "image changes in the manifests of HEAD~1..HEAD:" in result.stdout
    assert (
        "inventory: rollout-sample/inventory:v1 -> rollout-sample/inventory:v2 "
        "(Deployment/inventory, container inventory)"
    ) in result.stdout
    assert "bumps: inventory v1 -> v2" in result.stdout
    assert "orders@v1 -> inventory@v2" in result.stdout


def test_a_candidate_on_the_command_line_wins(shop: GitRepo) -> None:
    result = rollout(
        "plan", "--base", "HEAD~1", "--candidate", "inventory=v3", cwd=shop.root
    )

    assert result.returncode == 0, result.stderr
    assert "bumps: inventory v1 -> v3" in result.stdout


@pytest.mark.slow
def test_check_gates_the_bump_and_writes_ci_reports(
    shop: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    markdown, junit = tmp_path / "rollout.md", tmp_path / "rollout.xml"

    reports = ("--report", str(markdown), "--report", str(junit))
    result = rollout("check", "--base", "HEAD~1", *reports, cwd=shop.root)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: allowed" in result.stdout
    assert "bumps read from the Kubernetes manifests of HEAD~1..HEAD" in (
        markdown.read_text()
    )
    assert summary.read_text().startswith("# an earlier step\n")
    assert "## Rollout check: ✅ allowed" in summary.read_text()
    suites = ET.parse(junit).getroot()
    assert "orders@v1->inventory@v2[pact]" in {
        c.get("name") for c in suites.iter("testcase")
    }


def test_no_bump_is_nothing_to_check_with_its_notes(
    shop: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    (shop.root / "deploy" / "notifier.yaml").unlink()
    shop.commit("retire notifier", "deploy")

    result = rollout("check", "--base", "HEAD~1", cwd=shop.root)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "nothing to check: no service changes version between HEAD~1 and HEAD"
    )
    assert "service notifier has no workload at HEAD any more" in lines[1]
    assert "## Rollout check: nothing to check" in summary.read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--base", "no-such-ref"), "--base: revision 'no-such-ref' does not exist"),
        (("--head", "HEAD"), "--head: --head needs --base"),
    ],
    ids=["unknown-revision", "head-without-base"],
)
def test_bad_revisions_exit_2(
    shop: GitRepo, args: tuple[str, ...], expected: str
) -> None:
    result = rollout("check", *args, cwd=shop.root)

    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_manifest_exits_2_naming_file_and_document(shop: GitRepo) -> None:
    manifest = shop.root / "deploy" / "orders.yaml"
    manifest.write_text(
        manifest.read_text().replace("containerPort: 8000", "containerPort: http")
    )
    shop.commit("a named container port", "deploy")

    result = rollout("plan", "--base", "HEAD~1", cwd=shop.root)

    assert result.returncode == 2
    assert (
        "HEAD:deploy/orders.yaml: document 1: "
        "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 'http'"
    ) in result.stderr


def test_the_working_tree_is_left_as_it_was(shop: GitRepo) -> None:
    (shop.root / "deploy" / "orders.yaml").write_text("not: [committed\n")
    before = shop.git("status", "--porcelain")

    result = rollout("plan", "--base", "HEAD~1", cwd=shop.root)

    assert result.returncode == 0, result.stderr
    assert shop.git("status", "--porcelain") == before


def test_pytest_reads_the_same_change_from_git(shop: GitRepo) -> None:
    # Static checks only: this proves where the change comes from, not the checks.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--rollout",
            "--rollout-base",
            "HEAD~1",
            "-k",
            "spec-diff",
            "-v",
            "-p",
            "no:cacheprovider",
        ],
        cwd=shop.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "orders@v1->inventory@v2[spec-diff] PASSED" in result.stdout
    assert "orders@v1->inventory@v1[spec-diff] PASSED" in result.stdout
    assert "bumps: inventory v1 -> v2" in result.stdout
