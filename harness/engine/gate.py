"""The whole gate for library users: plan, start, check, decide, clean up."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from harness.backends import create_backend
from harness.core.system import System
from harness.engine.events import Listener, RunReport
from harness.engine.runner import new_run_id, preflight, run_plan
from harness.engine.signals import terminate_gracefully
from harness.planning import Plan

__all__ = ["backend_options", "run_gate"]

logger = logging.getLogger(__name__)


def run_gate(
    system: System,
    plan: Plan,
    backend: str = "process",
    listeners: Iterable[Listener] = (),
    jobs: int | None = None,
    backend_options: Mapping[str, Any] | None = None,
) -> RunReport:
    """Run every cell of ``plan`` on a fresh backend and return the report.

    Documents are read before anything starts; everything started is stopped on
    return, on error, on Ctrl-C and on SIGTERM.
    """
    preflight(plan)
    run_id = new_run_id()
    logger.info("run %s on %s backend", run_id, backend)
    with (
        terminate_gracefully(),
        create_backend(
            backend, run_id, system.root, **(backend_options or {})
        ) as started,
    ):
        return run_plan(plan, started, listeners, jobs)


def backend_options(
    system: System, backend: str, cluster: Mapping[str, Any]
) -> dict[str, Any]:
    """The options a backend is created with for ``system``.

    For kubernetes: ``cluster`` (kubeconfig, context, namespace; unset ones are
    left out) and, when the config names manifests, the pod templates of the
    mapped workloads, so instances run the way the repository deploys them.
    Other backends take none of these.
    """
    if backend != "kubernetes":
        return {}
    from harness.manifests.templates import workload_templates

    options = {key: value for key, value in cluster.items() if value is not None}
    if system.manifests:
        options["templates"] = workload_templates(system)
    return options
