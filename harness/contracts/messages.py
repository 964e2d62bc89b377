"""Message schemas a consumer accepts: plain JSON Schema or an AsyncAPI document."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

from harness.core.documents import read_yaml
from harness.core.errors import ContractError, Problem

__all__ = ["MessageSchema", "load_message_schema"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MessageSchema:
    """The messages one consumer version accepts on a channel.

    An AsyncAPI document may declare several messages; a message is accepted
    when it matches any of them.
    """

    source: Path
    names: tuple[str, ...]
    validators: tuple[jsonschema.protocols.Validator, ...]

    def problems(self, message: Any) -> list[str]:
        """Why ``message`` is not accepted; empty when it is."""
        best: list[str] = []
        for validator in self.validators:
            errors = sorted(validator.iter_errors(message), key=_depth)
            if not errors:
                return []
            if not best or len(errors) < len(best):
                best = [_describe(error) for error in errors]
        return best


def load_message_schema(path: Path) -> MessageSchema:
    """Read a JSON Schema or AsyncAPI (2.x, 3.x) document of accepted messages."""
    return _load(path, path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=64)
def _load(path: Path, _mtime: int) -> MessageSchema:
    document = _read(path)
    uri = path.resolve().as_uri()
    registry: referencing.Registry[Any] = referencing.Registry(
        retrieve=_retrieve  # type: ignore[call-arg]
    ).with_resource(uri, DRAFT202012.create_resource(document))

    payloads = (
        dict(_asyncapi_payloads(document))
        if "asyncapi" in document
        else {"message": ""}
    )
    if not payloads:
        raise ContractError(
            [
                Problem(
                    str(path),
                    "channels",
                    "no message payloads",
                    hint="declare messages with a payload schema",
                )
            ]
        )

    validators = []
    for pointer in payloads.values():
        schema = {"$ref": f"{uri}#{pointer}"}
        cls = jsonschema.validators.validator_for(
            document, jsonschema.Draft202012Validator
        )
        validator = cls(schema, registry=registry)
        _check_resolves(validator, path, pointer)
        validators.append(validator)
    logger.debug("loaded %d message schemas from %s", len(validators), path)
    return MessageSchema(path, tuple(payloads), tuple(validators))


def _read(path: Path) -> dict[str, Any]:
    document = read_yaml(
        path, ContractError, "the message schema", hint="fix the path in rollout.yaml"
    )
    if not isinstance(document, dict):
        raise ContractError(
            [
                Problem(
                    str(path),
                    "",
                    "expected a schema object",
                    hint="a JSON Schema or an AsyncAPI document",
                )
            ]
        )
    return document


def _asyncapi_payloads(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """JSON pointers of every message payload in an AsyncAPI document."""
    messages = document.get("components", {}).get("messages", {})
    for name, message in messages.items():
        if isinstance(message, dict) and "payload" in message:
            yield name, f"/components/messages/{_escape(name)}/payload"
    # AsyncAPI 2.x also declares messages inline under the channel operations.
    for channel, item in document.get("channels", {}).items():
        for operation in ("subscribe", "publish"):
            message = (item or {}).get(operation, {}).get("message", {})
            if "payload" in message:
                pointer = f"/channels/{_escape(channel)}/{operation}/message/payload"
                yield f"{channel} {operation}", pointer


def _check_resolves(
    validator: jsonschema.protocols.Validator, path: Path, pointer: str
) -> None:
    try:
        validator.is_valid(None)
    except referencing.exceptions.Unresolvable as exc:
        raise ContractError(
            [
                Problem(
                    str(path),
                    pointer,
                    f"broken $ref: {exc}",
                    hint="fix the reference target",
                )
            ]
        ) from None


def _retrieve(uri: str) -> referencing.Resource[Any]:
    if not uri.startswith("file://"):
        raise referencing.exceptions.NoSuchResource(uri)
    document = _read(Path(uri.removeprefix("file://")))
    return DRAFT202012.create_resource(document)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _depth(error: jsonschema.ValidationError) -> int:
    return len(error.absolute_path)


def _describe(error: jsonschema.ValidationError) -> str:
    where = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}"
        for part in error.absolute_path
    )
    if error.validator == "required" and isinstance(error.validator_value, list):
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [key for key in error.validator_value if key not in instance]
        names = ", ".join(f"{where.lstrip('.')}.{key}".lstrip(".") for key in missing)
        return f"message field {names} missing"
    return f"message field {where.lstrip('.') or '(root)'}: {error.message}"
