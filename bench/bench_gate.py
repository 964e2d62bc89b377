"""The gate against the naive approach, on the all-four-services change.

Naive: for every cell, bring every needed instance up, check that one cell, tear
everything down, and go on to the next cell, one at a time. The harness starts each
instance once and checks cells in parallel. Both run here, in the same process, on
the same backend, and the ratio is printed (never asserted: machines are noisy),
with the floor of DESIGN.md: the slowest instance start plus the time of all checks
divided by the cores.

    python3 bench/bench_gate.py [--backend process|docker|kubernetes] [--config FILE]
        [--kubeconfig FILE] [--context NAME]

On kubernetes each instance is a pod, built from the repository's manifests as
`rollout check` builds it, and the cluster's own bring-up times are printed too:
cluster/build.sh and cluster/up.sh record them in the cluster folder's timings
file when they run, with the date; this benchmark only reads them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.backends import create_backend
from harness.core.config import load_system
from harness.core.system import System
from harness.engine import (
    CheckFinished,
    Event,
    InstanceStarted,
    new_run_id,
    run_plan,
)
from harness.planning import Plan, plan_change

EVERYTHING = {"inventory": "v2", "orders": "v2", "notifier": "v2", "storefront": "v2"}
CLUSTER_DIR = Path(
    os.environ.get("ROLLOUT_CLUSTER_DIR", "/var/lib/rollout-harness/cluster")
)
# The steps cluster/build.sh and cluster/up.sh time, in the order a new machine
# runs them.
CLUSTER_STEPS = {
    "build-cold": "build of the components, cold",
    "build-cached": "build, binaries cached",
    "up-cold": "bring-up, cold (new certificates, images imported)",
    "up-warm": "bring-up, warm (after down.sh)",
    "up-running": "bring-up, already running",
}


class Counter:
    """Instances started, the slowest start, and the time spent in checks."""

    def __init__(self) -> None:
        self.started = 0
        self.slowest_start = 0.0
        self.check_seconds = 0.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, InstanceStarted):
            self.started += 1
            self.slowest_start = max(self.slowest_start, event.seconds)
        elif isinstance(event, CheckFinished):
            self.check_seconds += event.result.duration

    def floor(self) -> float:
        """DESIGN.md's floor: the slowest start plus the checks spread over cores."""
        return self.slowest_start + self.check_seconds / (os.cpu_count() or 1)


class MemoryPeak:
    """Peak of the machine's used memory above where it started, sampled.

    Containers are not children of the harness, so their memory only shows in
    the machine's total; on a shared machine this is an upper bound.
    """

    def __init__(self) -> None:
        self.start = _used_mib()
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _used_mib() - self.start)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _used_mib() -> float:
    fields = dict(
        line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()
    )
    total = int(fields["MemTotal"].split()[0])
    available = int(fields["MemAvailable"].split()[0])
    return (total - available) / 1024


@dataclasses.dataclass(frozen=True)
class Backend:
    """The backend both approaches start instances on, and its options."""

    name: str
    options: dict[str, Any]

    def create(self, system: System) -> Any:
        return create_backend(self.name, new_run_id(), system.root, **self.options)


Approach = Callable[[System, Plan, Backend, Counter], float]


def measure(
    approach: Approach, system: System, plan: Plan, backend: Backend
) -> tuple[str, float, Counter]:
    counter = Counter()
    with MemoryPeak() as memory:
        seconds = approach(system, plan, backend, counter)
    started = "instances (pods)" if backend.name == "kubernetes" else "instances"
    line = (
        f"{seconds:6.1f} s, {counter.started:3d} {started} started, "
        f"peak memory +{memory.peak:.0f} MiB"
    )
    return line, seconds, counter


def gate(system: System, plan: Plan, backend: Backend, counter: Counter) -> float:
    began = time.perf_counter()
    with backend.create(system) as started:
        run_plan(plan, started, [counter])
    return time.perf_counter() - began


def naive(system: System, plan: Plan, backend: Backend, counter: Counter) -> float:
    began = time.perf_counter()
    for planned in plan.cells:
        one = dataclasses.replace(plan, cells=(planned,))
        with backend.create(system) as started:
            run_plan(one, started, [counter], jobs=1)
    return time.perf_counter() - began


def kubernetes_options(system: System, args: argparse.Namespace) -> dict[str, Any]:
    """The cluster and the manifests' pod templates, as `rollout check` passes them.

    The cluster: --kubeconfig, else $KUBECONFIG, else the local cluster's
    least-privilege user when cluster/up.sh made one.
    """
    from harness.manifests.templates import workload_templates

    local = CLUSTER_DIR / "harness.kubeconfig"
    kubeconfig = args.kubeconfig or os.environ.get("KUBECONFIG")
    if kubeconfig is None and local.exists():
        kubeconfig = str(local)
    options = {"kubeconfig": kubeconfig, "context": args.context}
    chosen: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    return {**chosen, "templates": workload_templates(system)}


def print_cluster_timings() -> None:
    """The latest recorded duration of each cluster step, with when it ran."""
    path = CLUSTER_DIR / "timings"
    latest: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            step, *fields = line.split("\t")
            latest[step] = fields
    print(f"cluster steps (latest of each, recorded by cluster/*.sh in {path}):")
    for step, label in CLUSTER_STEPS.items():
        if step not in latest:
            print(f"  {label}: not recorded on this machine")
            continue
        seconds, when, *detail = latest[step]
        note = f" ({detail[0]})" if detail and detail[0] else ""
        print(f"  {label}: {float(seconds):.1f} s, measured {when}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="process")
    parser.add_argument("--config", default="rollout.yaml")
    parser.add_argument("--kubeconfig", default=None, help="kubernetes backend")
    parser.add_argument("--context", default=None, help="kubernetes backend")
    args = parser.parse_args()

    system = load_system(Path(args.config))
    plan = plan_change(system, EVERYTHING)
    print(f"change: {', '.join(str(b) for b in plan.bumps)}")
    print(f"cells: {len(plan.cells)}, distinct instances: {len(plan.instances)}")

    options = kubernetes_options(system, args) if args.backend == "kubernetes" else {}
    backend = Backend(args.backend, options)
    print(f"backend: {args.backend}")
    harness_line, harness_time, tally = measure(gate, system, plan, backend)
    print(f"harness: {harness_line}")
    naive_line, naive_time, _ = measure(naive, system, plan, backend)
    print(f"naive:   {naive_line}")
    floor = tally.floor()
    print(
        f"floor:   {floor:6.1f} s (slowest start {tally.slowest_start:.1f} s + "
        f"{tally.check_seconds:.1f} s of checks / {os.cpu_count()} cores)"
    )
    print(f"ratio (naive / harness): {naive_time / harness_time:.1f}x")
    print(f"ratio (harness / floor): {harness_time / floor:.1f}x")
    if args.backend == "kubernetes":
        print_cluster_timings()


if __name__ == "__main__":
    main()
