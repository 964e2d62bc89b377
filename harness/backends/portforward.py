"""A socket on 127.0.0.1 that relays each connection through a port-forward.

A Kubernetes port-forward carries one connection per stream, so the relay opens a
port-forward of its own for every connection it accepts; what opens it is given
by the backend, which knows the pod and the API client.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Relay"]

logger = logging.getLogger(__name__)

_LOOPBACK = "127.0.0.1"
_BUFFER = 64 * 1024


class Relay:
    """Listens on ``127.0.0.1:port`` and forwards each connection elsewhere.

    ``open_remote`` returns a connected socket-like object (``recv``,
    ``sendall``, ``fileno``, ``close``); a failure to open it drops the client's
    connection, which the client sees as a reset.
    """

    def __init__(self, open_remote: Callable[[], Any], instance: str) -> None:
        self._open_remote = open_remote
        self._instance = instance
        self._listener = socket.create_server((_LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(
            target=self._accept, name=f"relay {instance}", daemon=True
        ).start()

    def _accept(self) -> None:
        while True:
            try:
                local, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:
                    local.close()
                    return
                self._connections.add(local)
            threading.Thread(
                target=self._serve, args=(local,), name="relay connection", daemon=True
            ).start()

    def _serve(self, local: socket.socket) -> None:
        try:
            remote = self._open_remote()
        except Exception as exc:  # noqa: BLE001 - any failure just drops the client
            logger.warning("port-forward to %s failed: %s", self._instance, exc)
            self._drop(local)
            return
        try:
            _pump(local, remote)
        except OSError as exc:
            logger.debug("relay to %s ended: %s", self._instance, exc)
        finally:
            remote.close()
            self._drop(local)

    def _drop(self, local: socket.socket) -> None:
        with self._lock:
            self._connections.discard(local)
        local.close()

    def close(self) -> None:
        """Stop listening and cut every open connection; closing twice is harmless."""
        with self._lock:
            self._closed = True
            connections = list(self._connections)
        # close() alone does not stop a thread blocked in accept() on Linux: the
        # socket stays open, and accepts, until that call returns. shutdown()
        # wakes it with an error first.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _pump(local: socket.socket, remote: Any) -> None:
    """Copy bytes both ways until either side closes."""
    peers = {local.fileno(): remote, remote.fileno(): local}
    while True:
        readable, _, _ = select.select([local, remote], [], [])
        for source in readable:
            data = source.recv(_BUFFER)
            if not data:
                return
            peers[source.fileno()].sendall(data)
