"""`rollout check` and `rollout clean` told which cluster to use, as users type it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import rollout

# The context cluster/up.sh writes into harness.kubeconfig.
CONTEXT = "rollout-harness-harness"


@pytest.mark.kubernetes
def test_check_runs_on_the_cluster_and_context_it_is_given(
    kubeconfig: Path, repo: Path
) -> None:
    result = rollout(
        "check",
        "--backend=kubernetes",
        f"--kubeconfig={kubeconfig}",
        f"--context={CONTEXT}",
        "--candidate=inventory=v2",
        cwd=repo,
        # Whatever KUBECONFIG says, the options decide.
        env={"KUBECONFIG": str(repo / "absent.kubeconfig")},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: allowed" in result.stdout


@pytest.mark.kubernetes
def test_a_context_the_kubeconfig_lacks_is_an_environment_failure(
    kubeconfig: Path, repo: Path
) -> None:
    result = rollout(
        "check",
        "--backend=kubernetes",
        f"--kubeconfig={kubeconfig}",
        "--context=production",
        "--candidate=inventory=v2",
        cwd=repo,
    )

    assert result.returncode == 3, result.stdout
    assert "Traceback" not in result.stderr
    assert "production" in result.stderr
    assert str(kubeconfig) in " ".join(result.stderr.split())


@pytest.mark.kubernetes
def test_a_run_namespace_that_exists_is_refused(kubeconfig: Path, repo: Path) -> None:
    result = rollout(
        "check",
        "--backend=kubernetes",
        f"--kubeconfig={kubeconfig}",
        "--run-namespace=default",
        "--candidate=inventory=v2",
        cwd=repo,
    )

    assert result.returncode == 2, result.stdout
    assert "'default' exists already" in " ".join(result.stderr.split())


@pytest.mark.kubernetes
def test_clean_uses_the_cluster_it_is_given(kubeconfig: Path, repo: Path) -> None:
    result = rollout(
        "clean",
        "--backend=kubernetes",
        f"--kubeconfig={kubeconfig}",
        f"--context={CONTEXT}",
        "--run-id=never-ran",
        cwd=repo,
        env={"KUBECONFIG": str(repo / "absent.kubeconfig")},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 leftovers removed"


def test_a_run_namespace_needs_the_kubernetes_backend(repo: Path) -> None:
    result = rollout(
        "check", "--run-namespace=ci-42", "--candidate=inventory=v2", cwd=repo
    )

    assert result.returncode == 2
    assert "the process backend makes no namespace" in result.stderr


def test_clean_of_an_unreachable_cluster_says_so(tmp_path: Path, repo: Path) -> None:
    result = rollout(
        "clean",
        "--backend=kubernetes",
        f"--kubeconfig={tmp_path / 'absent.kubeconfig'}",
        cwd=repo,
    )

    assert result.returncode == 3
    assert "absent.kubeconfig" in result.stderr
