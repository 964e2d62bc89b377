"""The files of a git revision, read with plumbing commands only.

Nothing here checks out, stashes or writes: the working tree and the index stay
exactly as the user left them, whatever revision is read.
"""

from __future__ import annotations

import logging
import posixpath
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.core.errors import EnvironmentFailure, ManifestError, Problem

__all__ = ["GitRepository", "Revision", "join"]

logger = logging.getLogger(__name__)

_BLOB_MODES = ("100644", "100755")


class GitRepository:
    """A git repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def containing(cls, folder: Path, source: str) -> GitRepository:
        """The repository ``folder`` belongs to; ``source`` names who asked."""
        result = _git(folder, "rev-parse", "--show-toplevel")
        if result.returncode != 0:
            # git says why: no repository, or one it refuses (safe.directory).
            said = result.stderr.decode(errors="replace").strip().splitlines()
            raise ManifestError(
                [
                    Problem(
                        source,
                        "manifests",
                        f"{folder} is not inside a git repository git can read"
                        + (f" ({said[0]})" if said else ""),
                        hint="run from a clone; --base and --head name git revisions",
                    )
                ]
            )
        return cls(Path(result.stdout.decode().strip()))

    def relative(self, path: Path) -> str | None:
        """``path`` relative to the repository root, or None when outside it."""
        try:
            inside = path.relative_to(self.root)
        except ValueError:
            return None
        return inside.as_posix() if inside.parts else "."

    def revision(self, name: str, option: str) -> Revision:
        """The commit ``name`` resolves to; ``option`` is where the name came from."""
        verify = ("rev-parse", "--verify", "--quiet", "--end-of-options")
        result = _git(self.root, *verify, f"{name}^{{commit}}")
        if result.returncode != 0:
            raise ManifestError(
                [
                    Problem(
                        "command line",
                        option,
                        f"revision {name!r} does not exist in {self.root}",
                        hint="fetch it first (git fetch origin <branch>); in GitHub "
                        "Actions check out with fetch-depth: 0",
                    )
                ]
            )
        commit = result.stdout.decode().strip()
        listing = self._checked("ls-tree", "-r", "-z", "--full-tree", commit)
        logger.debug("revision %s is %s", name, commit)
        return Revision(self, name, commit, _blobs(listing))

    def read_blobs(self, ids: Iterable[str]) -> list[bytes]:
        """The contents of blobs, in the order asked, read by one git process."""
        wanted = list(ids)
        if not wanted:
            return []
        out = self._checked(
            "cat-file", "--batch", stdin="".join(f"{i}\n" for i in wanted)
        )
        contents = []
        position = 0
        for _ in wanted:
            header_end = out.index(b"\n", position)
            size = int(out[position:header_end].split()[2])
            start = header_end + 1
            contents.append(out[start : start + size])
            position = start + size + 1
        return contents

    def _checked(self, *args: str, stdin: str | None = None) -> bytes:
        result = _git(self.root, *args, stdin=stdin)
        if result.returncode != 0:
            raise EnvironmentFailure(
                f"git {args[0]} failed in {self.root}: "
                + result.stderr.decode(errors="replace").strip()
            )
        return result.stdout


class Revision:
    """The files of one commit; contents are read on demand and kept."""

    def __init__(
        self, repo: GitRepository, name: str, commit: str, blobs: Mapping[str, str]
    ) -> None:
        self.name = name
        self.commit = commit
        self._repo = repo
        self._blobs = blobs
        self._contents: dict[str, bytes] = {}

    def label(self, path: str) -> str:
        """How a file of this revision is named in messages: ``REV:path``."""
        return f"{self.name}:{path}"

    def is_file(self, path: str) -> bool:
        """Whether ``path`` is a regular file of this revision."""
        return path in self._blobs

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a folder holding files in this revision."""
        prefix = _prefix(path)
        return any(file.startswith(prefix) for file in self._blobs)

    def files_under(self, folder: str) -> list[str]:
        """Every file below ``folder``, at any depth, in path order."""
        prefix = _prefix(folder)
        return sorted(path for path in self._blobs if path.startswith(prefix))

    def read(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The contents of ``paths`` (files of this revision)."""
        wanted = [p for p in dict.fromkeys(paths) if p not in self._contents]
        blobs = self._repo.read_blobs(self._blobs[p] for p in wanted)
        self._contents.update(zip(wanted, blobs, strict=True))
        return {path: self._contents[path] for path in paths}


def join(folder: str, relative: str) -> str:
    """``relative`` resolved against ``folder``, both repository paths."""
    joined = posixpath.normpath(posixpath.join(folder, relative))
    return "." if joined in ("", ".") else joined


def _prefix(folder: str) -> str:
    return "" if folder in ("", ".") else folder.rstrip("/") + "/"


def _blobs(listing: bytes) -> dict[str, str]:
    blobs = {}
    for entry in listing.decode("utf-8", errors="surrogateescape").split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, kind, object_id = meta.split()
        # Symbolic links and submodules hold no manifest text of their own.
        if kind == "blob" and mode in _BLOB_MODES:
            blobs[path] = object_id
    return blobs


def _git(
    cwd: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise EnvironmentFailure(
            "git is not installed; it is needed to read manifests at a revision"
        ) from None
