"""Real git repositories in temporary folders, and manifests to put in them."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

# Isolated from the machine's git configuration, so that a signing key or a
# hook of the user's cannot change what the tests see.
_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


class GitRepo:
    """A git repository the test writes files into and commits."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**os.environ, **_GIT_ENV},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def remove(self, path: str) -> None:
        (self.root / path).unlink()

    def commit(self, message: str, *paths: str) -> str:
        """Commit ``paths`` (default: everything) and return the commit id."""
        self.git("add", "--", *(paths or (".",)))
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def workload(
    name: str,
    containers: Mapping[str, str],
    kind: str = "Deployment",
    init: Mapping[str, str] | None = None,
) -> str:
    """A valid workload document of ``kind`` running ``containers`` (name: image)."""
    pod: dict[str, Any] = {
        "containers": [{"name": n, "image": i} for n, i in containers.items()],
        "initContainers": [{"name": n, "image": i} for n, i in (init or {}).items()],
    }
    labels = {"app": name}
    template = {"metadata": {"labels": labels}, "spec": pod}
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template}
    if kind in ("Job", "CronJob", "Pod"):
        pod["restartPolicy"] = "Never"
        spec = {"template": template}
    if kind == "CronJob":
        spec = {"schedule": "@daily", "jobTemplate": {"spec": spec}}
    if kind == "StatefulSet":
        spec["serviceName"] = name

    document = {
        "apiVersion": _API_VERSIONS.get(kind, "apps/v1"),
        "kind": kind,
        "metadata": {"name": name},
        "spec": pod if kind == "Pod" else spec,
    }
    return yaml.safe_dump(document, sort_keys=False)


_API_VERSIONS = {"Job": "batch/v1", "CronJob": "batch/v1", "Pod": "v1"}


WEB_BLUE = "ghcr.io/acme/web@sha256:" + "a" * 64
WEB_GREEN = "ghcr.io/acme/web@sha256:" + "b" * 64

ACME_CONFIG = f"""
format: 1
system: acme
manifests: [k8s]
services:
  api:
    baseline: v1
    versions:
      v1:
        image: registry.example:5000/acme/api:1.0.0
      v2:
        image: registry.example:5000/acme/api:1.1.0
  worker:
    baseline: v1
    kubernetes:
      workload: StatefulSet/queue
      container: worker
    versions:
      v1: {{}}
      v2: {{}}
  web:
    baseline: blue
    kubernetes:
      image: ghcr.io/acme/web
    versions:
      blue:
        image: "{WEB_BLUE}"
      green:
        image: "{WEB_GREEN}"
"""


@pytest.fixture
def acme(tmp_path: Path) -> GitRepo:
    """A repository with a three-service system and its manifests, committed.

    ``api`` maps by workload name and matches versions by image, ``worker`` by
    kind, workload and container and matches versions by tag, ``web`` by image
    repository and matches versions by digest.
    """
    repo = GitRepo(tmp_path / "acme")
    repo.write("rollout.yaml", ACME_CONFIG)
    repo.write(
        "k8s/api.yaml", workload("api", {"api": "registry.example:5000/acme/api:1.0.0"})
    )
    repo.write(
        "k8s/queue.yaml",
        workload(
            "queue",
            {
                "metrics": "prom/statsd-exporter:v0.26.0",
                "worker": "ghcr.io/acme/worker:v1",
            },
            kind="StatefulSet",
        ),
    )
    repo.write(
        "k8s/web.yaml", workload("web", {"web": WEB_BLUE}, init={"migrate": WEB_BLUE})
    )
    repo.write("k8s/cache.yaml", workload("cache", {"redis": "redis:7.0"}))
    repo.commit("base")
    return repo
