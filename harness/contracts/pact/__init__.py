"""Pact files: reading specification V2, V3 and V4, and matching responses.

A Pact file lists what a consumer expects of a provider as interactions: a
request, and the response the consumer relies on. Verifying a provider means
replaying each request and comparing the response with the recorded one under
the interaction's matching rules. This package holds everything of that which
needs no network: :func:`load_pact` reads a file, :func:`match_response`
compares a response that the caller obtained.

Matching follows the Pact specification (pact-foundation/pact-specification,
branches version-2 to version-4) as its reference implementation reads it:

* a response may carry keys and headers the consumer does not use; a missing
  key, header or array item is a mismatch (the spec's "be loose with what you
  accept");
* a rule applies at its path and cascades to everything below it; when several
  rule paths match, the most specific wins, an exact name weighing more than
  ``*`` or ``[*]``;
* array sizes (``min``/``max``) and structural rules (``values``, ``eachKey``,
  ``eachValue``, ``arrayContains``) act only where they are declared.

The modules, from the bottom up: ``values`` (JSON values and bodies), ``paths``
(rule paths), ``formats`` (regular expressions and date formats), ``rules`` (the
rules and reading them), ``matchers`` (what each matcher accepts), ``request``
(the request to replay), ``documents`` (the file model and loading it) and
``matching`` (comparing a response).
"""

from __future__ import annotations

from harness.contracts.pact.documents import (
    HttpInteraction,
    PactDocument,
    ProviderState,
    SpecVersion,
    UnsupportedInteraction,
    load_pact,
    parse_pact,
)
from harness.contracts.pact.matching import ActualResponse, match_response
from harness.contracts.pact.request import HttpRequest, StateGenerator

__all__ = [
    "ActualResponse",
    "HttpInteraction",
    "HttpRequest",
    "PactDocument",
    "ProviderState",
    "SpecVersion",
    "StateGenerator",
    "UnsupportedInteraction",
    "load_pact",
    "match_response",
    "parse_pact",
]
