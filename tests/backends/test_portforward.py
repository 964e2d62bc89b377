"""The relay behind every kubernetes instance URL, on plain loopback sockets.

The far side here is an echo server on 127.0.0.1 instead of a port-forward:
the relay only needs something that opens a connected socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from harness.backends.portforward import Relay


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """The address of a server on 127.0.0.1 that sends back what it receives."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(1024):
                    connection.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()
    server.close()


def exchange(port: int, message: bytes) -> bytes:
    """Send ``message`` to 127.0.0.1:port and read the answer until it is whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(message)
        received = b""
        while len(received) < len(message) and (data := client.recv(1024)):
            received += data
        return received


def test_each_connection_reaches_the_far_side(echo: tuple[str, int]) -> None:
    relay = Relay(lambda: socket.create_connection(echo), "echo@v1")
    try:
        answers = [exchange(relay.port, f"hello {n}".encode()) for n in range(3)]
    finally:
        relay.close()

    assert answers == [b"hello 0", b"hello 1", b"hello 2"]


def test_a_far_side_that_cannot_be_opened_drops_the_client() -> None:
    def refuse() -> socket.socket:
        raise ConnectionRefusedError("no pod")

    relay = Relay(refuse, "gone@v1")
    try:
        # Closed with the message unread or not: an end of stream or a reset.
        try:
            answer = exchange(relay.port, b"anyone?")
        except ConnectionResetError:
            answer = b""
    finally:
        relay.close()

    assert answer == b""


def test_a_closed_relay_refuses_new_connections(echo: tuple[str, int]) -> None:
    relay = Relay(lambda: socket.create_connection(echo), "echo@v1")

    relay.close()
    relay.close()

    with pytest.raises(OSError):
        exchange(relay.port, b"late")
