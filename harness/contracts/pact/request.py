"""The request an interaction replays, and the provider-state values put into it."""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, replace

from harness.contracts.pact.paths import parse_path, replace_at
from harness.contracts.pact.values import Body, Json, as_text

__all__ = ["HttpRequest", "StateGenerator"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StateGenerator:
    """A request value computed from what the provider-state setup returned.

    ``category`` is ``path``, ``query``, ``header`` or ``body``; ``key`` names
    the query parameter, header or body path; ``expression`` reads like
    ``/items/${id}``.
    """

    category: str
    key: str
    expression: str


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The request of an interaction, as the consumer sends it."""

    method: str
    path: str
    query: tuple[tuple[str, str | None], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: Body | None = None
    generators: tuple[StateGenerator, ...] = ()

    def url(self, base: str) -> str:
        """The full URL of this request against a provider at ``base``."""
        url = base.rstrip("/") + "/" + self.path.lstrip("/")

        pairs = [
            urllib.parse.quote(name, safe="")
            + ("" if value is None else "=" + urllib.parse.quote(value, safe=""))
            for name, value in self.query
        ]
        return url + "?" + "&".join(pairs) if pairs else url

    def headers_to_send(self) -> dict[str, str]:
        """The headers, with a content type added when the pact left it out."""
        headers = dict(self.headers)
        named = {name.lower() for name in headers}

        body = self.body
        if (
            body is not None
            and body.content is not None
            and "content-type" not in named
        ):
            headers["Content-Type"] = body.sent_content_type

        return headers

    def encoded_body(self) -> bytes | None:
        """The body as bytes on the wire, encoded per its content type."""
        body = self.body
        if body is None or body.content is None:
            return None
        if isinstance(body.content, bytes):
            return body.content
        if isinstance(body.content, str) and not body.is_json:
            return body.content.encode()
        return json.dumps(body.content).encode()

    def with_state_values(self, values: Mapping[str, Json]) -> HttpRequest:
        """This request with its ``ProviderState`` generators applied."""
        request = self
        for generator in self.generators:
            value = _expand(generator.expression, values)
            if value is not None:
                request = request._generated(generator, value)
        return request

    def _generated(self, generator: StateGenerator, value: Json) -> HttpRequest:
        key, text = generator.key, as_text(value)
        if generator.category == "path":
            return replace(self, path=text)
        if generator.category == "query":
            query = tuple((n, text if n == key else v) for n, v in self.query)
            return replace(self, query=query)
        if generator.category == "header":
            headers = tuple(
                (n, text if n.lower() == key.lower() else v) for n, v in self.headers
            )
            return replace(self, headers=headers)

        if self.body is None or not self.body.is_json:
            return self
        content = replace_at(self.body.content, parse_path(key), value)
        return replace(self, body=replace(self.body, content=content))


_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _expand(expression: str, values: Mapping[str, Json]) -> Json:
    """``/items/${id}`` with the values a provider-state setup returned.

    A lone placeholder keeps the value's JSON type. ``None`` when a value is
    missing, so that the recorded example stays in place.
    """
    names = _PLACEHOLDER.findall(expression)
    if not names or any(name not in values for name in names):
        logger.warning("provider state gave no value for %s", expression)
        return None

    lone = _PLACEHOLDER.fullmatch(expression)
    if lone is not None:
        return values[lone[1]]
    return _PLACEHOLDER.sub(lambda m: as_text(values[m[1]]), expression)
