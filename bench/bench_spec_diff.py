"""Benchmark of ``rollout diff`` on real documents: Stripe's OpenAPI, a year apart.

Diffs two pairs of Stripe's published OpenAPI document (about 4 MB each, 261
paths, 561 heavily cross-referenced component schemas) in both directions, the
question a rolling update asks, and prints wall time and peak memory per pair.

The peer is the naive approach: parse both documents and compare them as plain
trees, key by key, without following a single ``$ref`` and without knowing what
any change means. It is the least work any structural diff can do, so the ratio
says what resolving references and judging compatibility cost on top of it.
(For scale: Optic 1.0.9 ran about three minutes on either pair on this kind of
machine and then failed.)

Every measurement runs in a fresh interpreter, so that caches and the peak
resident memory of one do not leak into another; each runs ``--repeat`` times
and the fastest counts, because other work on the machine only ever slows a run.

Usage::

    python bench/bench_spec_diff.py [--data DIR] [--repeat N]

``DIR`` (or ``ROLLOUT_BENCH_DATA``) holds ``stripe/spec3-*.json``; the default is
``../shared/bench-data`` next to the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "bench-data"

PAIRS = {
    "year apart": ("spec3-2021-04-12.json", "spec3-2022-04-12.json"),
    "five days apart": ("spec3-2022-04-07.json", "spec3-2022-04-12.json"),
}
TARGET_SECONDS = 5.0
TARGET_BYTES = 1 << 30


def naive_diff(base: Path, revision: Path) -> int:
    """Parse both documents and count the keys and values that differ."""
    old = json.loads(base.read_bytes())
    new = json.loads(revision.read_bytes())
    differences = 0
    stack: list[tuple[Any, Any]] = [(old, new)]
    while stack:
        left, right = stack.pop()
        if isinstance(left, dict) and isinstance(right, dict):
            differences += len(left.keys() ^ right.keys())
            stack += [(left[k], right[k]) for k in left.keys() & right.keys()]
        elif isinstance(left, list) and isinstance(right, list):
            differences += abs(len(left) - len(right))
            stack += list(zip(left, right, strict=False))
        elif left != right:
            differences += 1
    return differences


def rollout_diff(base: Path, revision: Path) -> int:
    sys.path.insert(0, str(REPO))
    from harness.contracts.openapi import Direction, diff_files

    return len(diff_files(base, revision, Direction.BOTH).changes)


def measure(tool: str, base: Path, revision: Path) -> None:
    """In the child: run one tool once, print what it cost as JSON."""
    run = rollout_diff if tool == "rollout" else naive_diff
    began = time.perf_counter()
    found = run(base, revision)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak": peak, "found": found}))


def child(tool: str, base: Path, revision: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", tool, str(base), str(revision)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def best(tool: str, base: Path, revision: Path, repeat: int) -> dict[str, Any]:
    """The fastest of ``repeat`` runs, with the highest peak memory seen."""
    runs = [child(tool, base, revision) for _ in range(repeat)]
    fastest = min(runs, key=lambda run: run["seconds"])
    return fastest | {"peak": max(run["peak"] for run in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("ROLLOUT_BENCH_DATA", DEFAULT_DATA)),
        help="folder holding stripe/spec3-*.json",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        tool, base, revision = arguments.measure
        measure(tool, Path(base), Path(revision))
        return

    folder = arguments.data / "stripe"
    if not folder.is_dir():
        sys.exit(
            f"no benchmark data in {folder}; pass --data or set ROLLOUT_BENCH_DATA"
        )

    print(f"rollout diff --direction both on Stripe's OpenAPI ({folder})")
    print(f"best of {arguments.repeat} runs each, every run in a fresh interpreter")
    print(f"{'pair':<16} {'tool':<13} {'wall s':>7} {'peak MiB':>9} {'found':>8}")
    for name, (base_name, revision_name) in PAIRS.items():
        base, revision = folder / base_name, folder / revision_name
        ours = best("rollout", base, revision, arguments.repeat)
        peer = best("naive", base, revision, arguments.repeat)
        for tool, numbers in (("rollout diff", ours), ("naive compare", peer)):
            print(
                f"{name:<16} {tool:<13} {numbers['seconds']:>7.2f} "
                f"{numbers['peak'] / 2**20:>9.0f} {numbers['found']:>8}"
            )
        print(
            f"{name:<16} ratio rollout/naive: {ours['seconds'] / peer['seconds']:.1f}x "
            f"time, {ours['peak'] / peer['peak']:.1f}x peak memory"
        )
        if name == "year apart":
            met = ours["seconds"] < TARGET_SECONDS and ours["peak"] < TARGET_BYTES
            verdict = "met" if met else "MISSED"
            print(f"{name:<16} target < {TARGET_SECONDS:.0f} s and < 1 GiB: {verdict}")


if __name__ == "__main__":
    main()
