"""The pact check, replaying Pact files against a real HTTP provider on loopback."""

from __future__ import annotations

import importlib.metadata
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.checks.base import CheckContext
from harness.checks.pact import CHECK
from harness.core.errors import ContractError
from harness.core.model import (
    Cell,
    CheckKind,
    CheckResult,
    Edge,
    Level,
    Outcome,
    Pairing,
)
from harness.core.system import (
    CheckSettings,
    Consumption,
    EdgeSpec,
    ServiceSpec,
    System,
    VersionSpec,
)

STATES = "/_pact/state"


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class StubProvider:
    """A provider that answers as a test tells it, and records what it got.

    Requests to ``/_pact/state`` are provider-state changes; they are answered
    with ``state_status`` and ``state_values``.
    """

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], Answer] = {}
        self.received: list[Received] = []
        self.state_status = 200
        self.state_values: dict[str, Any] = {}
        self.url = ""

    def answer(self, method: str, path: str, answer: Answer) -> None:
        self.answers[(method, path)] = answer

    @property
    def state_changes(self) -> list[Any]:
        return [r.json() for r in self.received if r.path == STATES]

    @property
    def requests(self) -> list[Received]:
        return [r for r in self.received if r.path != STATES]

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        received = Received(
            handler.command, handler.path, headers, handler.rfile.read(length)
        )
        self.received.append(received)
        if handler.path == STATES:
            answer = Answer(self.state_status, self.state_values)
        else:
            route = (handler.command, handler.path.split("?")[0])
            answer = self.answers.get(route, Answer(404, {"error": "no route"}))
        time.sleep(answer.delay)
        self.send(handler, answer)

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        headers = {"Content-Type": "application/json", **answer.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def handler_for(stub: StubProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stub.respond(self)

        do_POST = do_PUT = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what the stub recorded instead."""

    return Handler


@pytest.fixture
def provider() -> Iterator[StubProvider]:
    stub = StubProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(stub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_port}"
    yield stub
    server.shutdown()
    server.server_close()
    thread.join()


def context_for(
    pact: Path | None,
    provider_url: str | None,
    states: str | None = STATES,
    timeout: float = 5.0,
) -> CheckContext:
    """A cell ``shop@v1 -> stock@v2`` whose consumer holds ``pact``."""
    consumes = {"stock": Consumption("stock", pact=pact)} if pact else {}
    shop = ServiceSpec("shop", "v1", {"v1": VersionSpec("v1", consumes=consumes)})
    stock = ServiceSpec(
        "stock", "v1", {"v2": VersionSpec("v2", provider_states=states)}
    )
    edge = EdgeSpec(Edge("shop", "stock"), env="STOCK_URL")
    system = System(
        name="shop",
        source=Path("rollout.yaml"),
        services={"shop": shop, "stock": stock},
        edges=(edge,),
        settings=CheckSettings(request_timeout=timeout),
    )
    cell = Cell(edge.edge, "v1", "v2", Pairing.PROVIDER_AHEAD)
    return CheckContext(system, cell, edge, provider_url=provider_url)


def write_pact(
    folder: Path, *interactions: dict[str, Any], version: str = "3.0.0"
) -> Path:
    path = folder / "shop-stock.json"
    document = {
        "consumer": {"name": "shop"},
        "provider": {"name": "stock"},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": version}},
    }
    path.write_text(json.dumps(document))
    return path


ITEM_LOOKUP = {
    "description": "a request for an item",
    "providerStates": [{"name": "an item exists", "params": {"id": 7}}],
    "request": {
        "method": "GET",
        "path": "/items/7",
        "query": {"verbose": ["true"]},
        "headers": {"Accept": "application/json"},
    },
    "response": {
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": {"id": 7, "name": "lamp", "stock": 3, "quantity": 3},
        "matchingRules": {
            "body": {
                "$.name": {"matchers": [{"match": "type"}]},
                "$.stock": {"matchers": [{"match": "integer"}]},
                "$.quantity": {"matchers": [{"match": "integer"}]},
            }
        },
    },
}
ITEM = {"id": 7, "name": "desk", "stock": 12, "quantity": 1, "colour": "red"}


def run(context: CheckContext) -> CheckResult:
    result = CHECK.run(context)
    assert result.kind is CheckKind.PACT
    return result


def messages(result: CheckResult, level: Level = Level.ERROR) -> list[str]:
    return [f.message for f in result.findings if f.level is level]


def test_compatible_provider_is_verified_with_its_states_set_up(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.answer("GET", "/items/7", Answer(body=ITEM))

    result = run(context_for(write_pact(tmp_path, ITEM_LOOKUP), provider.url))

    assert result.outcome is Outcome.COMPATIBLE, result.findings
    assert result.summary == "1 of 1 interactions verified"
    assert provider.state_changes == [
        {"state": "an item exists", "params": {"id": 7}, "action": "setup"},
        {"state": "an item exists", "params": {"id": 7}, "action": "teardown"},
    ]
    [sent] = provider.requests
    assert (sent.method, sent.path) == ("GET", "/items/7?verbose=true")
    assert sent.headers["accept"] == "application/json"


def test_mismatches_name_the_path_and_the_interaction(
    provider: StubProvider, tmp_path: Path
) -> None:
    broken = {"id": 7, "name": "desk", "quantity": "ten"}
    provider.answer("GET", "/items/7", Answer(body=broken))

    result = run(context_for(write_pact(tmp_path, ITEM_LOOKUP), provider.url))

    assert result.outcome is Outcome.INCOMPATIBLE
    assert messages(result) == [
        "a request for an item: $.stock: expected key is missing",
        "a request for an item: $.quantity: expected an integer, got 'ten'",
    ]
    assert result.summary == "0 of 1 interactions verified"
    assert {f.location for f in result.findings} == {"shop-stock.json"}


def test_failed_state_setup_is_a_finding_naming_the_state(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.state_status = 500
    provider.answer("GET", "/items/7", Answer(body=ITEM))

    result = run(context_for(write_pact(tmp_path, ITEM_LOOKUP), provider.url))

    assert result.outcome is Outcome.INCOMPATIBLE
    [message] = messages(result)
    assert message.startswith(
        "a request for an item: setup of provider state 'an item exists' failed: "
        "HTTP 500"
    )
    assert provider.requests == []
    assert [change["action"] for change in provider.state_changes] == ["setup"]


def test_unreachable_provider_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    result = run(context_for(write_pact(tmp_path, ITEM_LOOKUP), url))

    assert result.outcome is Outcome.ERROR
    assert "provider stock@v2 cannot be reached" in result.summary
    assert "connection refused" in result.summary


def test_provider_that_does_not_answer_in_time_is_an_error(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.answer("GET", "/items/7", Answer(body=ITEM, delay=1.0))
    context = context_for(write_pact(tmp_path, ITEM_LOOKUP), provider.url, timeout=0.2)

    result = run(context)

    assert result.outcome is Outcome.ERROR
    assert "no answer within 0.2s" in result.summary


def test_consumer_without_a_pact_is_skipped(tmp_path: Path) -> None:
    result = run(context_for(None, "http://127.0.0.1:1"))

    assert result.outcome is Outcome.SKIPPED
    assert result.summary == "shop@v1 holds no pact for stock"


def test_states_without_an_endpoint_are_reported_and_the_replay_goes_on(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.answer("GET", "/items/7", Answer(body=ITEM))

    context = context_for(write_pact(tmp_path, ITEM_LOOKUP), provider.url, states=None)
    result = run(context)

    assert result.outcome is Outcome.COMPATIBLE
    [warning] = messages(result, Level.WARNING)
    assert "needs provider state 'an item exists'" in warning
    assert provider.state_changes == []


def test_state_values_feed_provider_state_generators(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.state_values = {"id": 42}
    provider.answer("GET", "/items/42", Answer(body=ITEM))
    lookup = {
        **ITEM_LOOKUP,
        "request": {
            "method": "GET",
            "path": "/items/7",
            "generators": {
                "path": {"type": "ProviderState", "expression": "/items/${id}"}
            },
        },
    }

    result = run(context_for(write_pact(tmp_path, lookup), provider.url))

    assert result.outcome is Outcome.COMPATIBLE, result.findings
    assert [r.path for r in provider.requests] == ["/items/42"]


def test_v4_messages_are_reported_and_pending_failures_do_not_fail(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.answer("POST", "/items", Answer(status=500, body={"error": "boom"}))
    create = {
        "type": "Synchronous/HTTP",
        "description": "create an item",
        "pending": True,
        "request": {
            "method": "POST",
            "path": "/items",
            "body": {"content": {"name": "lamp"}, "contentType": "application/json"},
        },
        "response": {"status": 201},
    }
    message = {
        "type": "Asynchronous/Messages",
        "description": "an item was created",
        "contents": {"content": {"id": 1}},
    }

    result = run(
        context_for(write_pact(tmp_path, create, message, version="4.0"), provider.url)
    )

    assert result.outcome is Outcome.COMPATIBLE
    assert (
        result.summary == "0 of 2 interactions verified (1 not supported by this check)"
    )
    assert messages(result, Level.WARNING) == [
        "create an item (pending): status: expected 201, got 500",
        "an item was created: not replayed: "
        "Asynchronous/Messages interactions are not replayed over HTTP",
    ]
    [sent] = provider.requests
    assert sent.json() == {"name": "lamp"}
    assert sent.headers["content-type"] == "application/json"


def test_redirects_are_compared_not_followed(
    provider: StubProvider, tmp_path: Path
) -> None:
    provider.answer("POST", "/items", Answer(302, headers={"Location": "/items/9"}))
    provider.answer("GET", "/items/9", Answer(body=ITEM))
    create = {
        "description": "create an item",
        "request": {"method": "POST", "path": "/items"},
        "response": {"status": 302, "headers": {"Location": "/items/9"}},
    }

    result = run(context_for(write_pact(tmp_path, create), provider.url))

    assert result.outcome is Outcome.COMPATIBLE, result.findings
    assert [r.path for r in provider.requests] == ["/items"]


def test_preflight_rejects_a_broken_pact(tmp_path: Path) -> None:
    broken = tmp_path / "shop-stock.json"
    broken.write_text('{"consumer": {"name": "shop"}, "interactions": [')

    with pytest.raises(ContractError, match="invalid JSON"):
        CHECK.preflight(context_for(broken, None))


def test_preflight_accepts_a_good_pact_without_a_provider(tmp_path: Path) -> None:
    CHECK.preflight(context_for(write_pact(tmp_path, ITEM_LOOKUP), None))


# --- Pact files written by Pact's own consumer library ----------------------


def _pact_python_version() -> str | None:
    try:
        return importlib.metadata.version("pact-python")
    except importlib.metadata.PackageNotFoundError:
        return None


requires_pact_python = pytest.mark.skipif(
    _pact_python_version() is None,
    reason="pact-python is not installed; install the test extra to prove that "
    "Pact files written by Pact's own core are read correctly",
)


def write_with_pact_python(folder: Path, specification: str) -> Path:
    """A pact written by pact-python's consumer API, with matchers and states."""
    from pact import Pact, match

    pact = Pact("shop", "stock").with_specification(specification)
    (
        pact.upon_receiving("a request for an item")
        .given("an item exists", id=7, name="lamp")
        .with_request("GET", "/items/7")
        .with_query_parameter("verbose", "true")
        .with_header("Accept", "application/json")
        .will_respond_with(200)
        .with_header("X-Trace", match.regex("abc-1", regex=r"abc-\d+"))
        .with_body(
            {
                "id": match.int(7),
                "name": match.str("lamp"),
                "price": match.decimal(9.5),
                "tags": match.each_like(match.str("red"), min=1),
                "created": match.datetime(
                    "2024-01-02T03:04:05Z", format="%Y-%m-%dT%H:%M:%SZ"
                ),
                "attrs": match.each_key_matches(
                    {"color": "red"}, rules=match.regex("color", regex="[a-z]+")
                ),
            },
            content_type="application/json",
        )
    )
    with pact.serve(addr="127.0.0.1") as server:
        sent = requests.get(
            f"{server.url}/items/7?verbose=true",
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert sent.status_code == 200
    pact.write_file(folder, overwrite=True)
    return folder / "shop-stock.json"


GOOD_ITEM = {
    "id": 12,
    "name": "desk",
    "price": 120.25,
    "tags": ["oak", "large"],
    "created": "2025-06-30T12:00:00Z",
    "attrs": {"size": "big"},
    "extra": True,
}
TRACE = {"X-Trace": "abc-77"}


def pact_verifier_accepts(provider: StubProvider, pact: Path) -> bool:
    """Whether Pact's own verifier passes the stub provider on this pact."""
    from pact import Verifier

    verifier = (
        Verifier("stock", host="127.0.0.1")
        .add_transport(url=provider.url)
        .add_source(pact)
        .state_handler(provider.url + STATES, body=True, teardown=True)
    )
    try:
        verifier.verify()
    except RuntimeError:
        return False
    return True


@requires_pact_python
@pytest.mark.parametrize("specification", ["V3", "V4"])
@pytest.mark.parametrize(
    ("answer", "found"),
    [
        pytest.param(Answer(body=GOOD_ITEM, headers=TRACE), [], id="compatible"),
        pytest.param(
            Answer(body={**GOOD_ITEM, "id": "12", "tags": []}, headers=TRACE),
            [
                "a request for an item: $.id: expected an integer, got '12'",
                "a request for an item: $.tags: expected at least 1 item, got []",
            ],
            id="wrong-type-and-empty-array",
        ),
        pytest.param(
            Answer(body={**GOOD_ITEM, "created": "30/06/2025"}, headers=TRACE),
            [
                "a request for an item: $.created: expected a date and time in the "
                """format "yyyy-MM-dd'T'HH:mm:ss'Z'", got '30/06/2025'""",
            ],
            id="wrong-timestamp-format",
        ),
        pytest.param(
            Answer(body={**GOOD_ITEM, "attrs": {"Size!": "big"}}, headers={}),
            [
                "a request for an item: header 'X-Trace': expected header is missing",
                "a request for an item: $.attrs: key 'Size!' is not a value matching "
                "regex '[a-z]+'",
            ],
            id="missing-header-and-bad-key",
        ),
    ],
)
def test_pacts_written_by_pact_python_are_replayed_like_pact_does(
    provider: StubProvider,
    tmp_path: Path,
    specification: str,
    answer: Answer,
    found: list[str],
) -> None:
    pact = write_with_pact_python(tmp_path, specification)
    provider.answer("GET", "/items/7", answer)

    result = run(context_for(pact, provider.url))

    assert messages(result) == found
    expected = Outcome.INCOMPATIBLE if found else Outcome.COMPATIBLE
    assert result.outcome is expected
    assert provider.state_changes[:2] == [
        {
            "state": "an item exists",
            "params": {"id": 7, "name": "lamp"},
            "action": "setup",
        },
        {
            "state": "an item exists",
            "params": {"id": 7, "name": "lamp"},
            "action": "teardown",
        },
    ]
    assert pact_verifier_accepts(provider, pact) is (not found)
