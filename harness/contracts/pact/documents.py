"""The model of a Pact file, and reading files of specification V2 to V4 into it.

:func:`load_pact` keeps the documents it read: loading an unchanged file again
costs a ``stat`` call.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import json
import logging
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.contracts.pact.request import HttpRequest, StateGenerator
from harness.contracts.pact.rules import NO_RULES, RuleList, RuleReader, RuleSet
from harness.contracts.pact.values import Body, Json
from harness.core.errors import ContractError, Problem

__all__ = [
    "ExpectedResponse",
    "HttpInteraction",
    "PactDocument",
    "ProviderState",
    "SpecVersion",
    "UnsupportedInteraction",
    "header_values",
    "load_pact",
    "parse_pact",
]

logger = logging.getLogger(__name__)


class SpecVersion(enum.Enum):
    """The Pact specification a file is written to; V1 files read as V2."""

    V2 = 2
    V3 = 3
    V4 = 4


@dataclass(frozen=True, slots=True)
class ProviderState:
    """A state the provider must be put in before an interaction is replayed."""

    name: str
    params: Mapping[str, Json] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExpectedResponse:
    """The response an interaction relies on, and the rules it is matched by.

    ``body`` is ``None`` when the consumer does not look at the body.
    """

    status: int
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    body: Body | None = None
    body_rules: RuleSet = NO_RULES
    header_rules: Mapping[str, RuleList] = field(default_factory=dict)
    status_rules: RuleList | None = None

    @property
    def unverified_body(self) -> str:
        """Why the body cannot be compared by this package, or ``""``."""
        if self.body is not None and self.body.is_xml:
            return "XML bodies are not compared by the pact check"
        return ""


@dataclass(frozen=True, slots=True)
class HttpInteraction:
    """One request and the response a consumer expects for it.

    A ``pending`` interaction (V4) is still being worked on: its failures are
    reported but do not fail the verification.
    """

    description: str
    request: HttpRequest
    response: ExpectedResponse
    provider_states: tuple[ProviderState, ...] = ()
    pending: bool = False


@dataclass(frozen=True, slots=True)
class UnsupportedInteraction:
    """An interaction this check does not replay (messages, plugins)."""

    description: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class PactDocument:
    """A Pact file: the consumer, the provider and the interactions."""

    source: Path
    consumer: str
    provider: str
    version: SpecVersion
    interactions: tuple[HttpInteraction, ...]
    unsupported: tuple[UnsupportedInteraction, ...] = ()


_HINT_JSON = "a Pact file is a JSON document written by a Pact consumer test"
_HINT_SHAPE = "regenerate the file with a Pact library, or compare it with the spec"
_SINGLE_VALUE_HEADERS = frozenset(
    {"date", "expires", "last-modified", "if-modified-since", "retry-after"}
    | {"if-unmodified-since", "set-cookie", "user-agent", "www-authenticate"}
)


def load_pact(path: str | Path) -> PactDocument:
    """Read and check a Pact file; repeated loads of an unchanged file are free.

    Raises :class:`ContractError` naming the file, the key path and the fix.
    """
    source = Path(path).resolve()
    try:
        stat = source.stat()
    except OSError as error:
        problem = Problem(
            str(source),
            "",
            f"cannot read the Pact file: {error.strerror}",
            "check the pact path under consumes in rollout.yaml",
        )
        raise ContractError([problem]) from error

    return _load(source, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _load(source: Path, mtime_ns: int, size: int) -> PactDocument:
    # The modification time and size are part of the cache key: an edited
    # file is read again.
    logger.debug("reading pact %s (%d bytes, mtime %d)", source, size, mtime_ns)

    try:
        raw = json.loads(source.read_bytes())
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        problem = Problem(str(source), where, f"invalid JSON: {error.msg}", _HINT_JSON)
        raise ContractError([problem]) from error
    except (OSError, UnicodeDecodeError) as error:
        problem = Problem(str(source), "", f"cannot read the Pact file: {error}")
        raise ContractError([problem]) from error

    return parse_pact(raw, source)


def parse_pact(document: Json, source: str | Path = "<pact>") -> PactDocument:
    """Build a :class:`PactDocument` from a decoded Pact file.

    Raises :class:`ContractError` listing every problem found.
    """
    reader = _Reader(Path(source))
    pact = reader.document(document)
    if reader.problems or pact is None:
        raise ContractError(reader.problems)
    return pact


class _Reader:
    """Reads one Pact document into the model, collecting every problem."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str, hint: str = _HINT_SHAPE) -> None:
        self.problems.append(Problem(str(self.source), path, message, hint))

    def missing_or(self, path: str, value: Json, message: str) -> None:
        """Record that a required value is missing, or else ``message``."""
        self.problem(path, "required key is missing" if value is None else message)

    def document(self, raw: Json) -> PactDocument | None:
        if not isinstance(raw, dict):
            self.problem("", "a Pact file holds a JSON object", _HINT_JSON)
            return None

        version = self.version(raw)
        names = [self.party(raw, role) for role in ("consumer", "provider")]
        entries = self.entries(raw)

        interactions: list[HttpInteraction] = []
        unsupported: list[UnsupportedInteraction] = []
        for index, entry in enumerate(entries):
            found = self.interaction(f"interactions[{index}]", entry, version)
            if isinstance(found, HttpInteraction):
                interactions.append(found)
            elif found is not None:
                unsupported.append(found)

        unsupported += self.messages(raw)
        return PactDocument(
            self.source,
            names[0],
            names[1],
            version,
            tuple(interactions),
            tuple(unsupported),
        )

    def version(self, raw: Mapping[str, Json]) -> SpecVersion:
        metadata = raw.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        declared = metadata.get("pactSpecification") or metadata.get(
            "pact-specification"
        )
        text = declared.get("version") if isinstance(declared, dict) else None
        text = text or metadata.get("pactSpecificationVersion")

        if text is None:
            return self.inferred_version(raw)

        major = re.match(r"\s*[vV]?(\d+)", str(text))
        if major and 1 <= int(major[1]) <= 4:
            return SpecVersion(max(2, int(major[1])))
        self.problem(
            "metadata.pactSpecification.version",
            f"unknown Pact specification version {text!r}",
            "this check reads Pact specification versions 1 to 4",
        )
        return SpecVersion.V4

    @staticmethod
    def inferred_version(raw: Mapping[str, Json]) -> SpecVersion:
        entries = raw.get("interactions")
        if isinstance(entries, list) and any(
            isinstance(entry, dict) and "type" in entry for entry in entries
        ):
            return SpecVersion.V4
        return SpecVersion.V3

    def party(self, raw: Mapping[str, Json], role: str) -> str:
        party = raw.get(role)
        name = party.get("name") if isinstance(party, dict) else None
        if not isinstance(name, str) or not name:
            self.problem(f"{role}.name", f"the {role} name is missing")
            return ""
        return name

    def entries(self, raw: Mapping[str, Json]) -> list[Json]:
        entries = raw.get("interactions")
        if entries is None and "messages" in raw:
            return []
        if not isinstance(entries, list):
            self.missing_or("interactions", entries, "not a list")
            return []
        return entries

    def messages(self, raw: Mapping[str, Json]) -> list[UnsupportedInteraction]:
        # V3 message pacts keep their interactions under "messages".
        entries = raw.get("messages")
        return [
            UnsupportedInteraction(
                str(entry.get("description", f"message {index}")),
                "message",
                "message interactions are not replayed over HTTP",
            )
            for index, entry in enumerate(entries if isinstance(entries, list) else [])
            if isinstance(entry, dict)
        ]

    def interaction(
        self, path: str, raw: Json, version: SpecVersion
    ) -> HttpInteraction | UnsupportedInteraction | None:
        if not isinstance(raw, dict):
            self.problem(path, "an interaction is a JSON object")
            return None

        description = self.text(raw, "description", path)
        if version is SpecVersion.V4:
            unsupported = self.unsupported(path, raw, description)
            if unsupported is not None:
                return unsupported

        request = self.request(f"{path}.request", raw.get("request"), version)
        response = self.response(f"{path}.response", raw.get("response"), version)
        if request is None or response is None:
            return None

        states = self.states(path, raw)
        pending = raw.get("pending") is True
        return HttpInteraction(description, request, response, states, pending)

    def unsupported(
        self, path: str, raw: Mapping[str, Json], description: str
    ) -> UnsupportedInteraction | None:
        kind = raw.get("type")
        if not isinstance(kind, str):
            self.problem(f"{path}.type", "a V4 interaction needs a type")
            return UnsupportedInteraction(description, "unknown", "no type")
        if kind != "Synchronous/HTTP":
            reason = f"{kind} interactions are not replayed over HTTP"
            return UnsupportedInteraction(description, kind, reason)
        if raw.get("pluginConfiguration") or raw.get("transport") not in (
            None,
            "http",
            "https",
        ):
            reason = "the interaction needs a Pact plugin"
            return UnsupportedInteraction(description, kind, reason)
        return None

    def text(self, raw: Mapping[str, Json], key: str, path: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str):
            self.missing_or(f"{path}.{key}", value, "not a string")
            return ""
        return value

    def states(self, path: str, raw: Mapping[str, Json]) -> tuple[ProviderState, ...]:
        legacy = raw.get("providerState")
        if isinstance(legacy, str) and legacy:
            return (ProviderState(legacy),)

        states = raw.get("providerStates") or []
        if not isinstance(states, list):
            self.problem(f"{path}.providerStates", "not a list")
            return ()

        found = []
        for index, state in enumerate(states):
            where = f"{path}.providerStates[{index}]"
            name = state.get("name") if isinstance(state, dict) else None
            params = (state.get("params") or {}) if isinstance(state, dict) else {}
            if not isinstance(name, str) or not isinstance(params, dict):
                self.problem(where, "a provider state has a name and params")
                continue
            found.append(ProviderState(name, params))
        return tuple(found)

    def request(self, path: str, raw: Json, version: SpecVersion) -> HttpRequest | None:
        if not isinstance(raw, dict):
            self.missing_or(path, raw, "not an object")
            return None

        method, target = self.text(raw, "method", path), self.text(raw, "path", path)
        headers = self.headers(f"{path}.headers", raw.get("headers"))
        joined = tuple((name, ", ".join(values)) for name, values in headers)

        return HttpRequest(
            method.upper(),
            target,
            self.query(f"{path}.query", raw.get("query")),
            joined,
            self.body(f"{path}.body", raw, version, headers),
            self.generators(f"{path}.generators", raw.get("generators")),
        )

    def query(self, path: str, raw: Json) -> tuple[tuple[str, str | None], ...]:
        if raw is None or raw == "":
            return ()
        if isinstance(raw, str):
            return tuple(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        if not isinstance(raw, dict):
            self.problem(path, "a query is a string (V2) or an object of lists")
            return ()

        pairs: list[tuple[str, str | None]] = []
        for name, values in raw.items():
            for value in values if isinstance(values, list) else [values]:
                pairs.append((name, None if value is None else str(value)))
        return tuple(pairs)

    def headers(self, path: str, raw: Json) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problem(path, "headers are an object of names to values")
            return ()

        found = []
        for name, value in raw.items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(item, str) for item in values):
                self.problem(f"{path}.{name}", "a header value is a string")
                continue
            found.append((name, tuple(values)))
        return tuple(found)

    def body(
        self,
        path: str,
        part: Mapping[str, Json],
        version: SpecVersion,
        headers: Iterable[tuple[str, tuple[str, ...]]],
    ) -> Body | None:
        if "body" not in part:
            return None

        declared = next(
            (v[0] for n, v in headers if n.lower() == "content-type" and v), ""
        )
        raw = part["body"]
        if version is not SpecVersion.V4 or raw is None:
            return Body(raw, declared)
        if not isinstance(raw, dict) or "content" not in raw:
            self.problem(path, "a V4 body is an object with content and contentType")
            return None

        content_type = raw.get("contentType") or declared
        return Body(self.content(path, raw, content_type), str(content_type))

    def content(self, path: str, raw: Mapping[str, Json], content_type: str) -> Json:
        content, encoded = raw.get("content"), str(raw.get("encoded", False)).lower()
        try:
            if encoded == "json" and isinstance(content, str):
                return json.loads(content)
            if encoded in ("base64", "true") and isinstance(content, str):
                data = base64.b64decode(content, validate=True)
                return json.loads(data) if "json" in content_type.lower() else data
        except (binascii.Error, ValueError):
            self.problem(
                f"{path}.content", f"cannot decode content encoded as {encoded}"
            )
        return content

    def generators(self, path: str, raw: Json) -> tuple[StateGenerator, ...]:
        """The request's ``ProviderState`` generators; other kinds are left out.

        Those produce random values in place of the examples, and the examples
        are valid values already.
        """
        if not isinstance(raw, dict):
            return ()

        found: list[StateGenerator] = []
        for category, entries in raw.items():
            keyed = {"": entries} if category == "path" else entries
            for key, generator in keyed.items() if isinstance(keyed, dict) else ():
                if (
                    isinstance(generator, dict)
                    and generator.get("type") == "ProviderState"
                ):
                    expression = generator.get("expression")
                    if isinstance(expression, str):
                        found.append(StateGenerator(category, key, expression))
                    else:
                        self.problem(f"{path}.{category}", "expression is missing")
        return tuple(found)

    def response(
        self, path: str, raw: Json, version: SpecVersion
    ) -> ExpectedResponse | None:
        if not isinstance(raw, dict):
            self.missing_or(path, raw, "not an object")
            return None

        status = raw.get("status")
        if not isinstance(status, int) or not 100 <= status <= 599:
            message = f"{status!r} is not an HTTP status"
            self.missing_or(f"{path}.status", status, message)

        headers = tuple(
            (name, header_values(name, values))
            for name, values in self.headers(f"{path}.headers", raw.get("headers"))
        )

        rules = RuleReader(self, f"{path}.matchingRules")
        rules.read(raw.get("matchingRules"))

        return ExpectedResponse(
            status if isinstance(status, int) else 0,
            headers,
            self.body(f"{path}.body", raw, version, headers),
            RuleSet(tuple(rules.body)),
            rules.header,
            rules.status,
        )


def header_values(name: str, values: Sequence[str]) -> tuple[str, ...]:
    """Split a header on commas, as Pact does for headers that list values."""
    if name.lower() in _SINGLE_VALUE_HEADERS:
        return tuple(value.strip() for value in values)
    return tuple(
        part.strip() for value in values for part in value.split(",") if part.strip()
    )
