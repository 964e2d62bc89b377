"""Image references as engines and registries read them."""

from __future__ import annotations

import pytest

from harness.manifests.images import ImageRef, parse_image

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest", "repository"),
    [
        ("nginx", "", "nginx", None, None, "docker.io/library/nginx"),
        ("nginx:1.25", "", "nginx", "1.25", None, "docker.io/library/nginx"),
        ("acme/api:v2", "", "acme/api", "v2", None, "docker.io/acme/api"),
        (
            "localhost:5000/team/api:v1",
            "localhost:5000",
            "team/api",
            "v1",
            None,
            "localhost:5000/team/api",
        ),
        (
            f"registry.example:443/api@{DIGEST_A}",
            "registry.example:443",
            "api",
            None,
            DIGEST_A,
            "registry.example:443/api",
        ),
        (
            f"ghcr.io/acme/api:v2@{DIGEST_A}",
            "ghcr.io",
            "acme/api",
            "v2",
            DIGEST_A,
            "ghcr.io/acme/api",
        ),
        ("[::1]:5000/api:v1", "[::1]:5000", "api", "v1", None, "[::1]:5000/api"),
        (
            "index.docker.io/library/redis:7",
            "index.docker.io",
            "library/redis",
            "7",
            None,
            "docker.io/library/redis",
        ),
        (
            "my_team/a__b.c-d:x",
            "",
            "my_team/a__b.c-d",
            "x",
            None,
            "docker.io/my_team/a__b.c-d",
        ),
    ],
    ids=[
        "bare-name",
        "tag",
        "hub-namespace",
        "registry-with-port",
        "digest",
        "tag-and-digest",
        "ipv6-registry",
        "hub-alias",
        "separators",
    ],
)
def test_references_are_split_into_their_parts(
    text: str,
    domain: str,
    path: str,
    tag: str | None,
    digest: str | None,
    repository: str,
) -> None:
    image = parse_image(text)

    assert image == ImageRef(domain, path, tag, digest)
    assert image.repository == repository
    assert str(image) == text


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        (" nginx", "spaces"),
        ("API:v1", "lower case"),
        ("acme/API", "lower case"),
        ("api:-v1", "tag '-v1'"),
        ("api@sha256:abc", "digest"),
        ("api@sha256:" + "g" * 64, "digest"),
        ("api//v1", "repository name"),
        ("a:b:c", "repository name"),
        ("bad_host.example/api", "registry"),
    ],
    ids=[
        "empty",
        "spaces",
        "upper-case-single-name",
        "upper-case-name",
        "tag-starting-with-dash",
        "short-digest",
        "digest-not-hex",
        "empty-path-component",
        "two-colons",
        "underscore-in-registry",
    ],
)
def test_invalid_references_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_image(text)


@pytest.mark.parametrize(
    ("running", "version", "same"),
    [
        ("acme/api:v2", "acme/api:v2", True),
        ("docker.io/acme/api:v2", "acme/api:v2", True),
        ("nginx", "nginx:latest", True),
        (f"acme/api:v2@{DIGEST_A}", "acme/api:v2", True),
        (f"acme/api@{DIGEST_A}", f"acme/api@{DIGEST_A}", True),
        (f"acme/api:v2@{DIGEST_B}", f"acme/api:v2@{DIGEST_A}", False),
        (f"acme/api@{DIGEST_A}", "acme/api:v2", False),
        ("acme/api:v2", "acme/api:v3", False),
        ("ghcr.io/acme/api:v2", "acme/api:v2", False),
    ],
    ids=[
        "equal",
        "explicit-hub",
        "implicit-latest",
        "digest-pinned-tag",
        "equal-digest",
        "other-digest",
        "digest-without-tag",
        "other-tag",
        "other-registry",
    ],
)
def test_same_build(running: str, version: str, same: bool) -> None:
    assert parse_image(running).same_build(parse_image(version)) is same


@pytest.mark.parametrize(
    ("original", "name", "tag", "digest", "expected"),
    [
        ("acme/api:v2", None, "v3", None, "acme/api:v3"),
        ("acme/api:v2", "ghcr.io/acme/api", None, None, "ghcr.io/acme/api:v2"),
        ("acme/api:v2", None, "v3", DIGEST_B, f"acme/api@{DIGEST_B}"),
        ("acme/api:v2", "mirror.example/api", "v4", None, "mirror.example/api:v4"),
        (f"acme/api@{DIGEST_A}", None, "v3", None, "acme/api:v3"),
    ],
    ids=[
        "new-tag",
        "new-name-keeps-tag",
        "digest-wins",
        "new-name-and-tag",
        "tag-replaces-digest",
    ],
)
def test_kustomize_replacement(
    original: str, name: str | None, tag: str | None, digest: str | None, expected: str
) -> None:
    replaced = parse_image(original).replaced(name, tag, digest)

    assert str(replaced) == expected


def test_replacement_refuses_an_invalid_tag() -> None:
    with pytest.raises(ValueError, match="tag"):
        parse_image("acme/api:v1").replaced(None, "not a tag", None)
