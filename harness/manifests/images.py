"""Container image references: ``[registry[:port]/]repository[:tag][@digest]``.

The grammar is the one container engines and registries share (the OCI
distribution ``reference`` grammar); a reference Kubernetes would refuse is
refused here too, with the part that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ImageRef", "parse_image"]

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])"
_DOMAIN = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(
    r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
)
_DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}
_MAX_NAME = 255

# Docker Hub is the registry of a reference that names none, and its
# single-segment names live under library/ (``nginx`` is docker.io/library/nginx).
_DEFAULT_DOMAIN = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference; ``str()`` gives it back as written."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The name as written, without tag or digest, e.g. ``ghcr.io/acme/api``."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def repository(self) -> str:
        """The fully qualified name: ``nginx`` is ``docker.io/library/nginx``."""
        domain = self.domain or _DEFAULT_DOMAIN
        if domain in _HUB_ALIASES:
            path = self.path if "/" in self.path else f"library/{self.path}"
            return f"{_DEFAULT_DOMAIN}/{path}"
        return f"{domain}/{self.path}"

    @property
    def effective_tag(self) -> str | None:
        """The tag an engine pulls: ``latest`` when neither tag nor digest is given."""
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag

    def same_build(self, other: ImageRef) -> bool:
        """Whether ``self`` names the build that ``other`` (a version's image) names.

        A digest in ``other`` must match exactly; without one, the repository and
        tag decide, so ``api:v2@sha256:...`` is the build of a version ``api:v2``.
        """
        if self.repository != other.repository:
            return False
        if other.digest is not None:
            return self.digest == other.digest
        return self.effective_tag == other.effective_tag

    def replaced(
        self, name: str | None, tag: str | None, digest: str | None
    ) -> ImageRef:
        """This image after a kustomize ``images:`` entry: a digest wins over a tag.

        Raises ``ValueError`` when the result is no valid reference.
        """
        base = parse_image(name) if name else self
        if digest:
            result = ImageRef(base.domain, base.path, None, digest)
        elif tag:
            result = ImageRef(base.domain, base.path, tag, None)
        else:
            result = ImageRef(base.domain, base.path, self.tag, self.digest)
        return parse_image(str(result))

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_image(text: str) -> ImageRef:
    """Parse an image reference; raises ``ValueError`` saying what is wrong."""
    if not text or text != text.strip():
        raise ValueError("an image reference cannot be empty or hold spaces")

    rest, _, digest = text.partition("@")
    if digest:
        _check_digest(digest)
    name, tag = _split_tag(rest)
    if tag is not None and not _TAG.fullmatch(tag):
        raise ValueError(
            f"tag {tag!r} is not valid: use letters, digits, '_', '.' and '-', "
            "at most 128, not starting with '.' or '-'"
        )

    domain, path = _split_domain(name)
    if len(name) > _MAX_NAME:
        raise ValueError(f"the name is longer than {_MAX_NAME} characters")
    if domain and not _DOMAIN.fullmatch(domain):
        raise ValueError(f"registry {domain!r} is not a host name with optional port")
    _check_path(path)
    return ImageRef(domain, path, tag, digest or None)


def _check_digest(digest: str) -> None:
    algorithm = digest.partition(":")[0]
    expected = _DIGEST_LENGTHS.get(algorithm)
    hex_part = digest.partition(":")[2]
    if not _DIGEST.fullmatch(digest) or (expected and len(hex_part) != expected):
        raise ValueError(
            f"digest {digest!r} is not algorithm:hex, e.g. sha256: and 64 hex digits"
        )


def _split_tag(text: str) -> tuple[str, str | None]:
    # A colon after the last slash starts the tag; one before it is a port.
    colon = text.rfind(":")
    if colon > text.rfind("/"):
        return text[:colon], text[colon + 1 :]
    return text, None


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    is_domain = (
        any(c in first for c in ".:") or first == "localhost" or first != first.lower()
    )
    if slash and is_domain:
        return first, rest
    return "", name


def _check_path(path: str) -> None:
    if not path:
        raise ValueError("the repository name is empty")
    for component in path.split("/"):
        if component != component.lower():
            raise ValueError(f"repository name {path!r} must be lower case")
        if not _PATH_COMPONENT.fullmatch(component):
            raise ValueError(
                f"repository name {path!r} is not valid: use lower-case letters, "
                "digits and single '.', '_', '__' or '-' between them"
            )
