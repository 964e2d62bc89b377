"""Backends start instances: local processes, Docker containers, a cluster.

Engine-specific modules are imported only when their backend is chosen, so that
the default path needs neither Docker nor Kubernetes client libraries.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from harness.backends.base import Backend, Instance
from harness.core.errors import ConfigError, Problem

__all__ = ["BACKENDS", "Backend", "Instance", "clean_backend", "create_backend"]

# name -> (module, class, clean function)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "process": ("harness.backends.process", "ProcessBackend", "clean_processes"),
    "docker": ("harness.backends.docker", "DockerBackend", "clean_containers"),
    "kubernetes": (
        "harness.backends.kubernetes",
        "KubernetesBackend",
        "clean_namespaces",
    ),
}


def create_backend(name: str, run_id: str, workdir: Path, **options: Any) -> Backend:
    """Create the backend called ``name`` for one run."""
    module, cls, _ = _lookup(name)
    backend: Backend = getattr(importlib.import_module(module), cls)(
        run_id, workdir, **options
    )
    return backend


def clean_backend(name: str, run_id: str | None = None, **options: Any) -> list[str]:
    """Remove what killed runs left on one backend; returns what was removed.

    ``options`` choose the engine where the backend takes a choice, e.g. the
    kubernetes backend's ``kubeconfig`` and ``context``.
    """
    module, _, function = _lookup(name)
    clean = getattr(importlib.import_module(module), function)
    removed: list[str] = clean(run_id, **options)
    return removed


def _lookup(name: str) -> tuple[str, str, str]:
    if name not in BACKENDS:
        raise ConfigError(
            [
                Problem(
                    "command line",
                    "--backend",
                    f"unknown backend {name!r}",
                    hint="choose one of: " + ", ".join(BACKENDS),
                )
            ]
        )
    return BACKENDS[name]
