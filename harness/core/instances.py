"""Instances as the plan names them, before any backend starts them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from harness.core.model import Protocol
from harness.core.system import VersionSpec

__all__ = ["InstanceKey", "InstanceSpec", "Wire"]


@dataclass(frozen=True, slots=True, order=True)
class InstanceKey:
    """Identifies one (service, version, wiring); each is started once per run.

    ``wiring`` lists, per dependency, the key of the provider instance it is wired to.
    """

    service: str
    version: str
    wiring: tuple[tuple[str, InstanceKey], ...] = ()

    @property
    def name(self) -> str:
        """Readable name, e.g. ``orders@v2[inventory@v2]``."""
        if not self.wiring:
            return f"{self.service}@{self.version}"
        wires = ",".join(key.name for _, key in self.wiring)
        return f"{self.service}@{self.version}[{wires}]"

    @property
    def slug(self) -> str:
        """A DNS-1123 label naming the instance, whatever the names contain.

        Service and version names may hold characters (``.``, ``_``, ``:``, upper
        case, digests) that Docker aliases and Kubernetes names refuse, so the
        readable part is cleaned and a digest of the full name keeps it unique.
        """
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:8]
        readable = re.sub(r"[^a-z0-9]+", "-", f"{self.service}-{self.version}".lower())
        readable = readable.strip("-")[:50].strip("-") or "instance"
        return f"{readable}-{digest}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Wire:
    """How an instance is told where one of its providers runs."""

    env: str
    protocol: Protocol
    provider: InstanceKey


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """What a backend needs to start one instance."""

    key: InstanceKey
    version: VersionSpec
    wires: tuple[Wire, ...] = ()

    @property
    def name(self) -> str:
        return self.key.name
