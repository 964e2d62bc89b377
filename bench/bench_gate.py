"""The gate against the naive approach, on the all-four-services change.

Naive: for every cell, bring every needed instance up, check that one cell, tear
everything down, and go on to the next cell, one at a time. The harness starts each
instance once and checks cells in parallel. Both run here, in the same process, on
the same backend, and the ratio is printed (never asserted: machines are noisy).

    python3 bench/bench_gate.py [--backend process|docker] [--config rollout.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from pathlib import Path

from harness.backends import create_backend
from harness.core.config import load_system
from harness.core.system import System
from harness.engine import Event, InstanceStarted, new_run_id, run_plan
from harness.planning import Plan, plan_change

EVERYTHING = {"inventory": "v2", "orders": "v2", "notifier": "v2", "storefront": "v2"}


class Counter:
    def __init__(self) -> None:
        self.started = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, InstanceStarted):
            self.started += 1


def gate(system: System, plan: Plan, backend: str, counter: Counter) -> float:
    began = time.perf_counter()
    with create_backend(backend, new_run_id(), system.root) as started:
        run_plan(plan, started, [counter])
    return time.perf_counter() - began


def naive(system: System, plan: Plan, backend: str, counter: Counter) -> float:
    began = time.perf_counter()
    for planned in plan.cells:
        one = dataclasses.replace(plan, cells=(planned,))
        with create_backend(backend, new_run_id(), system.root) as started:
            run_plan(one, started, [counter], jobs=1)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="process")
    parser.add_argument("--config", default="rollout.yaml")
    args = parser.parse_args()

    system = load_system(Path(args.config))
    plan = plan_change(system, EVERYTHING)
    print(f"change: {', '.join(str(b) for b in plan.bumps)}")
    print(f"cells: {len(plan.cells)}, distinct instances: {len(plan.instances)}")

    harness_count, naive_count = Counter(), Counter()
    harness_time = gate(system, plan, args.backend, harness_count)
    naive_time = naive(system, plan, args.backend, naive_count)

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"backend: {args.backend}")
    print(f"harness: {harness_time:6.1f} s, {harness_count.started} instances started")
    print(f"naive:   {naive_time:6.1f} s, {naive_count.started} instances started")
    print(f"ratio (naive / harness): {naive_time / harness_time:.1f}x")
    print(
        f"peak memory: harness process {own:.0f} MiB, largest child {children:.0f} MiB"
    )


if __name__ == "__main__":
    main()
