"""Every rule the diff applies: its id, its level and what it means.

Ids follow oasdiff's wherever the concept is the same, so that ignore lists carry
over. Schema rules come in families: one suffix (``enum-value-removed``) under a
prefix that says where the schema is (``request-body``, ``request-property``,
``request-parameter``, ``request-parameter-property``, ``response-body``,
``response-property``, ``response-header``, ``response-header-property``).

Whether a change breaks depends on who writes the value. Where the client writes
(request bodies and parameters), a schema that accepts less breaks old clients;
where the server writes (response bodies and headers), a schema that allows more
does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from harness.core.model import Level

__all__ = ["RULES", "Role", "Rule", "level_of", "schema_rule"]

_E, _W, _I = Level.ERROR, Level.WARNING, Level.INFO


class Role(enum.Enum):
    """Where a schema is used, which decides what breaks."""

    REQUEST = "request"
    PARAMETER = "parameter"
    RESPONSE = "response"
    HEADER = "header"

    @property
    def client_writes(self) -> bool:
        """Whether clients write these values (so narrowing breaks them)."""
        return self in (Role.REQUEST, Role.PARAMETER)

    def prefix(self, root: bool) -> str:
        """The rule prefix at the top of the schema (``root``) or inside it."""
        return _PREFIXES[self][0 if root else 1]


_PREFIXES = {
    Role.REQUEST: ("request-body", "request-property"),
    Role.PARAMETER: ("request-parameter", "request-parameter-property"),
    Role.RESPONSE: ("response-body", "response-property"),
    Role.HEADER: ("response-header", "response-header-property"),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """A kind of change and how serious it is."""

    id: str
    level: Level
    summary: str


#: Schema rules where the client writes the value: narrowing breaks.
CLIENT_WRITES: Mapping[str, tuple[Level, str]] = {
    "type-changed": (_E, "the type or format changed; values clients send may fail"),
    "type-generalized": (_I, "the type was widened; every value sent before passes"),
    "became-not-nullable": (_E, "null is no longer accepted"),
    "became-nullable": (_I, "null is accepted now"),
    "became-enum": (_E, "values were restricted to a list"),
    "enum-value-removed": (_E, "a listed value is no longer accepted"),
    "enum-value-added": (_I, "a value was added to the list"),
    "pattern-added": (_E, "a pattern now restricts the values"),
    "pattern-changed": (_W, "the pattern changed; it may reject values sent before"),
    "pattern-removed": (_I, "the pattern was removed"),
    "max-set": (_E, "a maximum was set"),
    "max-decreased": (_E, "the maximum was lowered"),
    "min-set": (_E, "a minimum was set"),
    "min-increased": (_E, "the minimum was raised"),
    "max-length-set": (_E, "a maxLength was set"),
    "max-length-decreased": (_E, "maxLength was lowered"),
    "min-length-increased": (_E, "minLength was raised or set"),
    "max-items-set": (_E, "a maxItems was set"),
    "max-items-decreased": (_E, "maxItems was lowered"),
    "min-items-set": (_E, "a minItems was set"),
    "min-items-increased": (_E, "minItems was raised"),
    "one-of-removed": (_E, "a oneOf alternative is no longer accepted"),
    "one-of-added": (_I, "a oneOf alternative was added"),
    "any-of-removed": (_E, "an anyOf alternative is no longer accepted"),
    "any-of-added": (_I, "an anyOf alternative was added"),
}

#: Schema rules where the server writes the value: widening breaks.
SERVER_WRITES: Mapping[str, tuple[Level, str]] = {
    "type-changed": (_E, "the type or format changed; clients may fail to read it"),
    "type-generalized": (
        _E,
        "the type was widened; clients may get values they cannot read",
    ),
    "type-specialized": (_I, "the type was narrowed"),
    "became-nullable": (_E, "the value may be null now"),
    "became-not-nullable": (_I, "the value is never null now"),
    "enum-value-added": (_E, "a value outside the old list may be returned"),
    "enum-value-removed": (_I, "a listed value is no longer returned"),
    "became-not-enum": (_E, "values are no longer restricted to a list"),
    "pattern-removed": (_E, "the pattern was removed; any string may be returned"),
    "pattern-changed": (
        _W,
        "the pattern changed; returned values may not match the old one",
    ),
    "pattern-added": (_I, "a pattern now restricts returned values"),
    "max-increased": (_E, "the maximum was raised or removed"),
    "min-decreased": (_E, "the minimum was lowered or removed"),
    "max-length-increased": (_E, "maxLength was raised"),
    "max-length-unset": (_E, "maxLength was removed"),
    "min-length-decreased": (_E, "minLength was lowered or removed"),
    "min-items-decreased": (_E, "minItems was lowered"),
    "min-items-unset": (_E, "minItems was removed"),
    "max-items-increased": (_E, "maxItems was raised or removed"),
    "one-of-added": (
        _E,
        "a oneOf alternative may be returned that clients do not know",
    ),
    "one-of-removed": (_I, "a oneOf alternative is no longer returned"),
    "any-of-added": (
        _E,
        "an anyOf alternative may be returned that clients do not know",
    ),
    "any-of-removed": (_I, "an anyOf alternative is no longer returned"),
}

# oasdiff names the response body's removed enum value after the media type.
_RENAMED = {"response-body-enum-value-removed": "response-mediatype-enum-value-removed"}

_FIXED: tuple[Rule, ...] = (
    # Paths and operations.
    Rule("endpoint-added", _I, "an operation was added"),
    Rule("api-path-removed-without-deprecation", _E, "a path was removed"),
    Rule("api-path-removed-with-deprecation", _I, "a deprecated path was removed"),
    Rule("api-path-removed-before-sunset", _E, "a path was removed before its sunset"),
    Rule("api-removed-without-deprecation", _E, "an operation was removed"),
    Rule("api-removed-with-deprecation", _I, "a deprecated operation was removed"),
    Rule("api-removed-before-sunset", _E, "an operation was removed before its sunset"),
    Rule("endpoint-deprecated", _I, "an operation was deprecated"),
    Rule("endpoint-reactivated", _I, "an operation is no longer deprecated"),
    Rule("api-sunset-date-changed-too-small", _E, "the sunset date moved earlier"),
    Rule("sunset-deleted", _E, "the sunset date was removed, deprecation kept"),
    # Parameters.
    Rule("new-required-request-parameter", _E, "a required parameter was added"),
    Rule("new-optional-request-parameter", _I, "an optional parameter was added"),
    Rule("request-parameter-removed", _W, "a parameter was removed"),
    Rule(
        "request-parameter-removed-with-deprecation",
        _I,
        "a deprecated parameter was removed",
    ),
    Rule(
        "request-parameter-removed-before-sunset",
        _E,
        "a parameter was removed before its sunset",
    ),
    Rule("request-parameter-became-required", _E, "a parameter became required"),
    Rule("request-parameter-became-optional", _I, "a parameter became optional"),
    Rule("request-parameter-deprecated", _I, "a parameter was deprecated"),
    Rule("request-parameter-reactivated", _I, "a parameter is no longer deprecated"),
    # Request bodies.
    Rule("request-body-added-required", _E, "a required request body was added"),
    Rule("request-body-added-optional", _I, "an optional request body was added"),
    Rule("request-body-removed", _E, "the request body was removed"),
    Rule("request-body-became-required", _E, "the request body became required"),
    Rule("request-body-became-optional", _I, "the request body became optional"),
    Rule("request-body-media-type-removed", _E, "a request media type was removed"),
    Rule("request-body-media-type-added", _I, "a request media type was added"),
    Rule("new-required-request-property", _E, "a required request property was added"),
    Rule("new-optional-request-property", _I, "an optional request property was added"),
    Rule("request-property-removed", _W, "a request property was removed"),
    Rule("request-property-became-required", _E, "a request property became required"),
    Rule("request-property-became-optional", _I, "a request property became optional"),
    # Responses.
    Rule("response-success-status-removed", _E, "a 2xx response was removed"),
    Rule("response-non-success-status-removed", _I, "a non-2xx response was removed"),
    Rule("response-success-status-added", _I, "a 2xx response was added"),
    Rule("response-non-success-status-added", _I, "a non-2xx response was added"),
    Rule("response-media-type-removed", _E, "a response media type was removed"),
    Rule("response-media-type-added", _I, "a response media type was added"),
    Rule(
        "response-required-property-removed",
        _E,
        "a property the response always had was removed",
    ),
    Rule(
        "response-optional-property-removed",
        _W,
        "a property the response sometimes had was removed",
    ),
    Rule(
        "response-property-became-optional",
        _E,
        "a property the response always had may be missing now",
    ),
    Rule("response-property-became-required", _I, "a property is always present now"),
    Rule("required-response-header-removed", _E, "a required header was removed"),
    Rule("optional-response-header-removed", _I, "an optional header was removed"),
    Rule("response-header-added", _I, "a response header was added"),
    Rule("response-header-became-optional", _E, "a required header became optional"),
    # Security: the level says whether an old client still gets in.
    Rule("api-security-added", _E, "the operation requires other credentials"),
    Rule("api-security-removed", _E, "credentials clients use are no longer accepted"),
    Rule("api-security-scope-added", _E, "a token needs more scopes"),
    Rule("api-security-scope-removed", _I, "a token needs fewer scopes"),
    Rule("api-global-security-added", _E, "the API requires other credentials"),
    Rule(
        "api-global-security-removed",
        _E,
        "credentials clients use are no longer accepted by the API",
    ),
    Rule("api-global-security-scope-added", _E, "tokens need more scopes"),
    Rule("api-global-security-scope-removed", _I, "tokens need fewer scopes"),
)


def _schema_rules() -> list[Rule]:
    found = []
    for role in Role:
        table = CLIENT_WRITES if role.client_writes else SERVER_WRITES
        for root in (True, False):
            for suffix, (level, summary) in table.items():
                found.append(Rule(schema_rule(role, root, suffix), level, summary))
    return found


def schema_rule(role: Role, root: bool, suffix: str) -> str:
    """The id of a schema rule: ``response-property`` + ``enum-value-added``."""
    rule = f"{role.prefix(root)}-{suffix}"
    return _RENAMED.get(rule, rule)


#: Every rule by id.
RULES: Mapping[str, Rule] = {rule.id: rule for rule in (*_FIXED, *_schema_rules())}


def level_of(rule: str) -> Level:
    """The level a rule's findings have unless the finding says otherwise."""
    return RULES[rule].level
