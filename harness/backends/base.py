"""The protocol every backend implements, and what it hands back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from harness.core.instances import InstanceKey, InstanceSpec

__all__ = ["OWNER_LABEL", "RUN_LABEL", "Backend", "Instance"]

# Names under which instances, networks and namespaces carry their run's
# identity, so that `rollout clean` can find what a killed run left behind.
RUN_LABEL = "rollout-harness.run-id"
OWNER_LABEL = "rollout-harness.owner"


@dataclass(frozen=True, slots=True)
class Instance:
    """One running copy of one service version.

    ``url`` is reachable from the harness; ``peer_url`` from other instances of
    the same run (they differ on container backends).
    """

    key: InstanceKey
    url: str
    peer_url: str
    handle: Any = None

    @property
    def name(self) -> str:
        return self.key.name


class Backend(Protocol):
    """Starts instances for one run and removes everything it started.

    Implementations are context managers: leaving the block stops every instance
    of the run, whatever happened inside it.
    """

    name: ClassVar[str]
    run_id: str

    def start(self, spec: InstanceSpec, env: Mapping[str, str]) -> Instance:
        """Start an instance and wait until it is healthy.

        Raises ``InstanceStartError`` with the last log lines when it does not
        become healthy, ``BackendUnavailable`` when the engine cannot be reached.
        """
        ...

    def logs(self, instance: Instance, lines: int = 40) -> str:
        """The instance's last log lines."""
        ...

    def stop(self, instance: Instance) -> None:
        """Stop one instance; stopping twice is harmless."""
        ...

    def close(self) -> None:
        """Stop every instance of the run and release run-wide resources."""
        ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc_info: object) -> None: ...
