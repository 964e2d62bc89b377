"""Instances of one run: each started once, on demand, and shared."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future

from harness.backends.base import Backend, Instance
from harness.core.errors import EnvironmentFailure, InstanceStartError
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.model import Protocol
from harness.engine.events import (
    InstanceFailed,
    InstanceStarted,
    InstanceStarting,
    Listener,
)

__all__ = ["InstancePool"]

logger = logging.getLogger(__name__)


class InstancePool:
    """Starts instances through a backend, providers before their consumers.

    ``get`` blocks until the instance is healthy and returns the same instance
    to every caller; a failed start is remembered and raised to every caller,
    so a broken provider is started once, not once per cell.
    """

    def __init__(
        self,
        backend: Backend,
        specs: Iterable[InstanceSpec],
        listener: Listener,
    ) -> None:
        self.backend = backend
        self._specs = {spec.key: spec for spec in specs}
        self._emit = listener
        self._lock = threading.Lock()
        self._futures: dict[InstanceKey, Future[Instance]] = {}
        self._closed = False

    @property
    def started(self) -> int:
        """How many instances became healthy."""
        return sum(1 for f in self._futures.values() if f.done() and not f.exception())

    def get(self, key: InstanceKey) -> Instance:
        """The running instance for ``key``, starting it (and its providers)."""
        with self._lock:
            if self._closed:
                raise EnvironmentFailure("the run is stopping; no new instances")
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()

        if owner:
            self._start(key, future)
        return future.result()

    def _start(self, key: InstanceKey, future: Future[Instance]) -> None:
        spec = self._specs[key]
        try:
            env = self._provider_env(spec)
            self._emit(InstanceStarting(key))
            began = time.monotonic()
            instance = self.backend.start(spec, env)
        except InstanceStartError as exc:
            self._emit(InstanceFailed(key, exc.reason, exc.logs))
            future.set_exception(exc)
            return
        except BaseException as exc:
            self._emit(InstanceFailed(key, str(exc), ""))
            future.set_exception(exc)
            raise
        self._emit(InstanceStarted(key, instance.url, time.monotonic() - began))
        future.set_result(instance)

    def _provider_env(self, spec: InstanceSpec) -> dict[str, str]:
        env = {}
        for wire in spec.wires:
            try:
                provider = self.get(wire.provider)
            except EnvironmentFailure as exc:
                raise InstanceStartError(
                    spec.name, f"its provider {wire.provider} did not start ({exc})"
                ) from None
            url = provider.peer_url
            if wire.protocol is Protocol.WEBSOCKET:
                url = "ws" + url.removeprefix("http")
            env[wire.env] = url
        return env

    def close(self) -> None:
        """Refuse new starts, then stop everything the backend started."""
        with self._lock:
            self._closed = True
        self.backend.close()
