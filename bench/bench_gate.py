"""The gate against the naive approach, on the all-four-services change.

Naive: for every cell, bring every needed instance up, check that one cell, tear
everything down, and go on to the next cell, one at a time. The harness starts each
instance once and checks cells in parallel. Both run here, in the same process, on
the same backend, and the ratio is printed (never asserted: machines are noisy),
with the floor of DESIGN.md: the slowest instance start plus the time of all checks
divided by the cores.

    python3 bench/bench_gate.py [--backend process|docker] [--config rollout.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

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


Approach = Callable[[System, Plan, str, Counter], float]


def measure(
    approach: Approach, system: System, plan: Plan, backend: str
) -> tuple[str, float, Counter]:
    counter = Counter()
    with MemoryPeak() as memory:
        seconds = approach(system, plan, backend, counter)
    line = (
        f"{seconds:6.1f} s, {counter.started:3d} instances started, "
        f"peak memory +{memory.peak:.0f} MiB"
    )
    return line, seconds, counter


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

    print(f"backend: {args.backend}")
    harness_line, harness_time, tally = measure(gate, system, plan, args.backend)
    print(f"harness: {harness_line}")
    naive_line, naive_time, _ = measure(naive, system, plan, args.backend)
    print(f"naive:   {naive_line}")
    floor = tally.floor()
    print(
        f"floor:   {floor:6.1f} s (slowest start {tally.slowest_start:.1f} s + "
        f"{tally.check_seconds:.1f} s of checks / {os.cpu_count()} cores)"
    )
    print(f"ratio (naive / harness): {naive_time / harness_time:.1f}x")
    print(f"ratio (harness / floor): {harness_time / floor:.1f}x")


if __name__ == "__main__":
    main()
