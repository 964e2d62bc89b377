"""Build the Docker image of every sample service version that rollout.yaml names.

Run ``python3 -m sample_services.build_images`` from the repository. No registry
is needed: three layers of images are built on the local engine.

1. A base image made from Debian packages with debootstrap (bookworm and its
   ``python3``), built only when it is missing.
2. A runtime image: the base plus the Python packages of
   ``runtime-requirements.txt``, installed on the host with ``pip install
   --target`` (the host and bookworm both run Python 3.11).
3. One image per service version, from ``<service>/Dockerfile``, holding the
   service's folder and the shared modules it imports.

Each built image carries a hash of what it was built from; an image whose hash
is unchanged is kept, so a second run only checks.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from harness.core.config import load_system
from harness.core.errors import HarnessError

__all__ = ["BASE_IMAGE", "RUNTIME_IMAGE", "ServiceImage", "main", "service_images"]

logger = logging.getLogger("build_images")

PACKAGE = Path(__file__).resolve().parent
REPOSITORY = PACKAGE.parent

BASE_IMAGE = "rollout-sample/python-base:bookworm"
RUNTIME_IMAGE = "rollout-sample/runtime:latest"
HASH_LABEL = "rollout-sample.content-hash"

_SUITE = "bookworm"
_DEBOOTSTRAP = ("debootstrap", "--variant=minbase", "--include=python3")
# The host's own packages are not the image's: conflicts among them are noise.
_PIP = (sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-conflicts")
_PIP_QUIET = ("--disable-pip-version-check", "--root-user-action=ignore")
_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")


class BuildFailed(HarnessError):
    """An image could not be built; the message carries the build's last lines."""


@dataclass(frozen=True, slots=True)
class ServiceImage:
    """One image to build: a version of a service, tagged as rollout.yaml says."""

    tag: str
    service: str
    version: str

    @property
    def folder(self) -> Path:
        return PACKAGE / self.service


def service_images(config: Path) -> list[ServiceImage]:
    """The images that ``config`` names for versions of the sample services."""
    system = load_system(config)
    images = [
        ServiceImage(spec.image, service.name, spec.name)
        for service in system.services.values()
        for spec in service.versions.values()
        if spec.image
    ]
    for image in images:
        if not (image.folder / "Dockerfile").is_file():
            logger.warning("%s: no %s/Dockerfile, not built", image.tag, image.service)
    return [image for image in images if (image.folder / "Dockerfile").is_file()]


def main(argv: Sequence[str] | None = None) -> int:
    """Build what is missing or changed; 0 on success, 1 when a build failed."""
    parser = argparse.ArgumentParser(prog="python3 -m sample_services.build_images")
    parser.add_argument("--config", type=Path, default=REPOSITORY / "rollout.yaml")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="build_images: %(message)s")

    started = time.monotonic()
    try:
        images = service_images(args.config)
        client = docker.from_env()
        base = ensure_base(client)
        runtime = ensure_runtime(client, base)
        for image in images:
            ensure_service(client, image, runtime)
    except DockerException as exc:
        logger.error("cannot use the Docker engine: %s (is dockerd running?)", exc)
        return 1
    except (HarnessError, OSError, subprocess.CalledProcessError) as exc:
        logger.error("%s", exc)
        return 1
    logger.info("%d images ready in %.1fs", len(images), time.monotonic() - started)
    return 0


def ensure_base(client: Any) -> str:
    """The id of the Debian base image, made with debootstrap if missing."""
    try:
        image_id: str = client.images.get(BASE_IMAGE).id
    except ImageNotFound:
        pass
    else:
        logger.info("%s present", BASE_IMAGE)
        return image_id

    logger.info("%s missing: debootstrap %s (about a minute)", BASE_IMAGE, _SUITE)
    with tempfile.TemporaryDirectory(prefix="rollout-base-") as scratch:
        rootfs, archive = Path(scratch) / "rootfs", Path(scratch) / "rootfs.tar"
        command = [*_DEBOOTSTRAP, _SUITE, str(rootfs), _MIRROR]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        _trim(rootfs)
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        repository, _, tag = BASE_IMAGE.rpartition(":")
        client.api.import_image_from_file(
            str(archive),
            repository=repository,
            tag=tag,
            changes=["ENV LANG=C.UTF-8", 'CMD ["python3"]'],
        )
    return str(client.images.get(BASE_IMAGE).id)


def _trim(rootfs: Path) -> None:
    # Downloaded packages and package lists are only needed to install more,
    # which the images never do.
    for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / folder).glob("*"):
            if entry.is_file():
                entry.unlink()


def ensure_runtime(client: Any, base: str) -> str:
    """The id of the runtime image, rebuilt when its requirements changed."""
    dockerfile = PACKAGE / "runtime.Dockerfile"
    requirements = PACKAGE / "runtime-requirements.txt"
    digest = _digest(base, _contents([dockerfile, requirements], PACKAGE))
    if _current_hash(client, RUNTIME_IMAGE) == digest:
        logger.info("%s up to date", RUNTIME_IMAGE)
        return str(client.images.get(RUNTIME_IMAGE).id)

    logger.info("building %s", RUNTIME_IMAGE)
    with tempfile.TemporaryDirectory(prefix="rollout-runtime-") as scratch:
        context = Path(scratch)
        target = str(context / "site-packages")
        subprocess.run(
            [*_PIP, *_PIP_QUIET, "--target", target, "-r", str(requirements)],
            check=True,
        )
        shutil.copy(dockerfile, context / "Dockerfile")
        return _build(
            client,
            RUNTIME_IMAGE,
            digest,
            path=str(context),
            buildargs={"BASE": BASE_IMAGE},
        )


def ensure_service(client: Any, image: ServiceImage, runtime: str) -> str:
    """The id of one service version's image, rebuilt when its sources changed."""
    module = image.folder / f"{image.version}.py"
    if not module.is_file():
        raise BuildFailed(
            f"{image.tag}: no module {module} for version {image.version}"
        )

    files = sorted({*_files(image.folder), *_shared_modules(image.folder)})
    contents = _contents(files, PACKAGE)
    digest = _digest(runtime, image.version, contents)
    if _current_hash(client, image.tag) == digest:
        logger.info("%s up to date", image.tag)
        return str(client.images.get(image.tag).id)

    logger.info("building %s", image.tag)
    return _build(
        client,
        image.tag,
        digest,
        fileobj=_tar(contents),
        custom_context=True,
        dockerfile=f"{image.service}/Dockerfile",
        buildargs={"RUNTIME": RUNTIME_IMAGE, "VERSION": image.version},
    )


def _build(client: Any, tag: str, digest: str, **options: Any) -> str:
    previous = _image_id(client, tag)
    started = time.monotonic()
    try:
        built, _ = client.images.build(
            tag=tag, labels={HASH_LABEL: digest}, rm=True, forcerm=True, **options
        )
    except BuildError as exc:
        lines = [
            str(step.get("stream", step.get("error", ""))).rstrip()
            for step in exc.build_log
        ]
        tail = "\n".join(line for line in lines if line)[-2000:]
        raise BuildFailed(f"building {tag} failed: {exc.msg}\n{tail}") from None
    logger.info("built %s in %.1fs", tag, time.monotonic() - started)

    if previous and previous != built.id:
        _remove_untagged(client, previous)
    return str(built.id)


def _remove_untagged(client: Any, image_id: str) -> None:
    # The image a rebuild replaced is left without a tag; remove it unless a
    # container or another image still uses it.
    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)
    except (ImageNotFound, APIError) as exc:
        logger.debug("kept %s: %s", image_id, exc)


def _current_hash(client: Any, tag: str) -> str | None:
    try:
        labels = client.images.get(tag).labels or {}
    except ImageNotFound:
        return None
    found: str | None = labels.get(HASH_LABEL)
    return found


def _image_id(client: Any, tag: str) -> str | None:
    try:
        return str(client.images.get(tag).id)
    except ImageNotFound:
        return None


def _files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path


def _shared_modules(folder: Path) -> set[Path]:
    """The package's top-level modules that the folder's code imports, transitively."""
    found: set[Path] = {PACKAGE / "__init__.py"}
    pending = [path for path in _files(folder) if path.suffix == ".py"]
    while pending:
        for name in _imported(pending.pop()):
            module = PACKAGE / f"{name}.py"
            if module.is_file() and module not in found:
                found.add(module)
                pending.append(module)
    return found


def _imported(source: Path) -> Iterator[str]:
    """Names of ``sample_services.X`` modules that ``source`` imports."""
    prefix = f"{PACKAGE.name}."
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith(prefix):
                yield name.removeprefix(prefix).split(".")[0]


def _contents(files: Iterable[Path], root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in files}


def _digest(*parts: str | dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            digest.update(part.encode() + b"\0")
            continue
        for name, data in sorted(part.items()):
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _tar(contents: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in sorted(contents.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


if __name__ == "__main__":
    sys.exit(main())
