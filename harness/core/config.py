"""Reading and validating ``rollout.yaml``.

Validation collects every problem before it raises, so that a user fixes a
broken file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from harness.core.documents import read_yaml
from harness.core.errors import ConfigError, Problem
from harness.core.model import CheckKind, Edge, Protocol
from harness.core.system import (
    CheckSettings,
    Consumption,
    EdgeSpec,
    ServiceSpec,
    System,
    VersionSpec,
    WorkloadMapping,
)

__all__ = [
    "DEFAULT_CONFIG",
    "load_system",
    "parse_assignments",
    "rollout_schema",
    "unknown_versions",
]

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = "rollout.yaml"

_DEFAULT_CHECKS = {
    Protocol.HTTP: (CheckKind.SPEC_DIFF, CheckKind.PACT, CheckKind.CONFORMANCE),
    Protocol.WEBSOCKET: (CheckKind.STREAM,),
}


def rollout_schema() -> dict[str, Any]:
    """The published JSON Schema of ``rollout.yaml``."""
    text = resources.files("harness.core").joinpath("rollout.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_system(path: str | Path) -> System:
    """Read, validate and resolve a system description.

    Raises :class:`ConfigError` listing every problem found.
    """
    source = Path(path).resolve()
    document = _read_yaml(source)

    problems = list(_schema_problems(document, source))
    if problems:
        raise ConfigError(problems)

    system = _build(document, source)
    problems = list(_semantic_problems(system))
    if problems:
        raise ConfigError(problems)

    logger.debug("loaded %s: %d services", source, len(system.services))
    return system


def parse_assignments(
    values: Iterable[str], option: str, system: System | None = None
) -> dict[str, str]:
    """Parse repeated ``service=version`` command-line values.

    With a system, the service and version must both be known to it.
    """
    result: dict[str, str] = {}
    problems: list[Problem] = []
    for value in values:
        service, sep, version = value.partition("=")
        service, version = service.strip(), version.strip()
        if not sep or not service or not version:
            problems.append(
                Problem(
                    "command line",
                    option,
                    f"{value!r} is not service=version",
                    hint=f"write it as {option} inventory=v2",
                )
            )
            continue
        if system is not None:
            problems.extend(unknown_versions(system, {service: version}, option))
        result[service] = version
    if problems:
        raise ConfigError(problems)
    return result


def unknown_versions(
    system: System, versions: Mapping[str, str], option: str
) -> list[Problem]:
    """What is wrong with ``service: version`` pairs given as ``option``."""
    return [
        problem
        for service, version in versions.items()
        for problem in _check_reference(system, service, version, option)
    ]


def _check_reference(
    system: System, service: str, version: str, option: str
) -> Iterator[Problem]:
    source = str(system.source)
    if service not in system.services:
        yield Problem(
            "command line",
            option,
            f"unknown service {service!r}",
            hint=_did_you_mean(service, system.services)
            or f"services in {source}: " + ", ".join(sorted(system.services)),
        )
        return
    known = system.services[service].versions
    if version not in known:
        yield Problem(
            "command line",
            option,
            f"service {service!r} has no version {version!r} in {source}",
            hint=_did_you_mean(version, known)
            or f"add it under services.{service}.versions, or use one of: "
            + ", ".join(known),
        )


def _read_yaml(source: Path) -> Any:
    hint = f"pass --config PATH or run from the folder holding {DEFAULT_CONFIG}"
    return read_yaml(source, ConfigError, "the system description", hint)


def _schema_problems(document: Any, source: Path) -> Iterator[Problem]:
    if not isinstance(document, dict):
        yield Problem(
            str(source),
            "",
            "the file must hold a mapping",
            hint="start with 'services:'",
        )
        return
    validator = jsonschema.Draft202012Validator(rollout_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        yield from _explain(error, str(source))


def _explain(error: jsonschema.ValidationError, source: str) -> Iterator[Problem]:
    path = _key_path(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = _allowed_keys(error.schema)
        for key in _unexpected_keys(error):
            where = f"{path}.{key}" if path else key
            yield Problem(
                source,
                where,
                "unknown key",
                hint=_did_you_mean(key, allowed) or "remove it",
            )
        return
    if error.validator == "required":
        yield Problem(
            source, path or "(top level)", error.message, hint="add the missing key"
        )
        return
    if error.validator == "oneOf" and error.context:
        yield Problem(
            source,
            path,
            f"{error.instance!r} is not valid here",
            hint="expected "
            + " or ".join(
                str(c.schema.get("type"))
                for c in error.context
                if isinstance(c.schema, dict)
            ),
        )
        return
    hint = (
        str(error.schema.get("description", ""))
        if isinstance(error.schema, dict)
        else ""
    )
    yield Problem(source, path, error.message, hint=hint)


def _unexpected_keys(error: jsonschema.ValidationError) -> list[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    allowed = _allowed_keys(error.schema)
    return sorted(key for key in instance if key not in allowed) or ["?"]


def _allowed_keys(schema: Any) -> set[str]:
    """Keys a schema object allows, following its ``allOf`` references."""
    if not isinstance(schema, dict):
        return set()
    keys = set(schema.get("properties", {}))
    defs = rollout_schema()["$defs"]
    for part in schema.get("allOf", []):
        ref = part.get("$ref", "")
        keys |= set(defs.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
    return keys


def _key_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _build(document: Mapping[str, Any], source: Path) -> System:
    root = source.parent
    settings = CheckSettings(**document.get("settings", {}))
    services = {
        name: _build_service(name, raw, root)
        for name, raw in document["services"].items()
    }
    edges = tuple(_build_edge(raw) for raw in document.get("edges", []))
    return System(
        name=str(document.get("system", source.parent.name)),
        source=source,
        services=services,
        edges=edges,
        settings=settings,
        manifests=tuple(document.get("manifests", [])),
    )


def _build_service(name: str, raw: Mapping[str, Any], root: Path) -> ServiceSpec:
    defaults = {
        key: raw[key]
        for key in ("port", "health", "env", "startup_timeout", "provider_states")
        if key in raw
    }
    versions = {
        version: _build_version(version, {**defaults, **(spec or {})}, root)
        for version, spec in raw["versions"].items()
    }
    return ServiceSpec(
        name=name,
        baseline=str(raw["baseline"]),
        versions=versions,
        kubernetes=WorkloadMapping(**raw.get("kubernetes", {})),
    )


def _build_version(name: str, raw: Mapping[str, Any], root: Path) -> VersionSpec:
    command = raw.get("command", ())
    if isinstance(command, str):
        command = shlex.split(command)
    consumes = {
        provider: Consumption(
            provider=provider,
            pact=_resolve(root, spec.get("pact")),
            messages=_resolve(root, spec.get("messages")),
            built_against=spec.get("built_against"),
        )
        for provider, spec in (raw.get("consumes") or {}).items()
    }
    return VersionSpec(
        name=name,
        command=tuple(command),
        image=raw.get("image"),
        port=int(raw.get("port", 8000)),
        health=str(raw.get("health", "/health")),
        env={key: str(value) for key, value in (raw.get("env") or {}).items()},
        provides=_resolve(root, raw.get("provides")),
        consumes=consumes,
        provider_states=raw.get("provider_states"),
        startup_timeout=float(raw.get("startup_timeout", 30.0)),
    )


def _resolve(root: Path, value: str | None) -> Path | None:
    return (root / value).resolve() if value else None


def _build_edge(raw: Mapping[str, Any]) -> EdgeSpec:
    protocol = Protocol(raw.get("protocol", "http"))
    provider = str(raw["provider"])
    default_env = re.sub(r"[^A-Za-z0-9]", "_", provider).upper() + "_URL"
    checks = (
        tuple(CheckKind(c) for c in raw.get("checks", ())) or _DEFAULT_CHECKS[protocol]
    )
    return EdgeSpec(
        edge=Edge(str(raw["consumer"]), provider, protocol),
        env=str(raw.get("env", default_env)),
        channel=str(raw.get("channel", "/")),
        checks=checks,
        messages=int(raw.get("messages", 3)),
        message_timeout=float(raw.get("message_timeout", 5.0)),
    )


def _semantic_problems(system: System) -> Iterator[Problem]:
    source = str(system.source)
    services = system.services

    for name, service in services.items():
        if service.baseline not in service.versions:
            yield Problem(
                source,
                f"services.{name}.baseline",
                f"{service.baseline!r} is not one of its versions",
                hint=_did_you_mean(service.baseline, service.versions)
                or "use one of: " + ", ".join(service.versions),
            )
        for version in service.versions.values():
            yield from _version_problems(system, name, version)

    seen: set[Edge] = set()
    for index, spec in enumerate(system.edges):
        where = f"edges[{index}]"
        for role in ("consumer", "provider"):
            value = getattr(spec, role)
            if value not in services:
                yield Problem(
                    source,
                    f"{where}.{role}",
                    f"unknown service {value!r}",
                    hint=_did_you_mean(value, services)
                    or "declare it under services, or fix the name",
                )
        if spec.consumer == spec.provider:
            yield Problem(
                source,
                where,
                "a service cannot depend on itself",
                hint="remove this edge",
            )
        if spec.edge in seen:
            yield Problem(source, where, f"duplicate edge {spec.edge}", hint="keep one")
        seen.add(spec.edge)

    cycle = _find_cycle(system)
    if cycle:
        yield Problem(
            source,
            "edges",
            "cyclic dependencies: " + " -> ".join(cycle),
            hint="the process and docker backends start providers before their "
            "consumers; break the cycle or describe one direction only",
        )


def _version_problems(
    system: System, service: str, version: VersionSpec
) -> Iterator[Problem]:
    source = str(system.source)
    where = f"services.{service}.versions.{version.name}"
    files = [("provides", version.provides)]
    for provider, consumption in version.consumes.items():
        key = f"{where}.consumes.{provider}"
        files += [
            (f"consumes.{provider}.pact", consumption.pact),
            (f"consumes.{provider}.messages", consumption.messages),
        ]
        if provider not in system.services:
            yield Problem(
                source,
                key,
                f"unknown service {provider!r}",
                hint=_did_you_mean(provider, system.services)
                or "declare it under services",
            )
            continue
        provider_versions = system.services[provider].versions
        against = consumption.built_against
        if against is not None and against not in provider_versions:
            yield Problem(
                source,
                f"{key}.built_against",
                f"{provider!r} has no version {against!r}",
                hint=_did_you_mean(against, provider_versions)
                or "use one of: " + ", ".join(provider_versions),
            )
        if not any(
            e.consumer == service and e.provider == provider for e in system.edges
        ):
            yield Problem(
                source,
                key,
                f"no edge {service} -> {provider}",
                hint="add it under edges, or remove this entry",
            )

    for key, path in files:
        if path is not None and not path.is_file():
            yield Problem(
                source,
                f"{where}.{key}",
                f"contract file not found: {path}",
                hint="fix the path; it is relative to the config file",
            )


def _find_cycle(system: System) -> list[str]:
    graph: dict[str, list[str]] = {}
    for spec in system.edges:
        graph.setdefault(spec.consumer, []).append(spec.provider)
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        trail.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        trail.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []
