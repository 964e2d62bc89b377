"""Workload documents read with the Kubernetes client's models."""

from __future__ import annotations

import textwrap

import pytest

from harness.core.errors import Problem
from harness.manifests.workloads import Container, read_manifest
from tests.manifests.conftest import workload

FILE = "HEAD:deploy/app.yaml"


def read(text: str) -> tuple[list[Container], list[Problem]]:
    return read_manifest(FILE, textwrap.dedent(text).lstrip("\n").encode())


def problems_of(text: str) -> list[str]:
    containers, problems = read(text)
    assert not containers
    return [f"{p.path}: {p.message}" for p in problems]


@pytest.mark.parametrize(
    ("kind", "image_path"),
    [
        ("Deployment", "spec.template.spec.containers[0].image"),
        ("StatefulSet", "spec.template.spec.containers[0].image"),
        ("DaemonSet", "spec.template.spec.containers[0].image"),
        ("ReplicaSet", "spec.template.spec.containers[0].image"),
        ("Job", "spec.template.spec.containers[0].image"),
        ("CronJob", "spec.jobTemplate.spec.template.spec.containers[0].image"),
        ("Pod", "spec.containers[0].image"),
    ],
    ids=[
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Pod",
    ],
)
def test_every_workload_kind_gives_its_containers(kind: str, image_path: str) -> None:
    containers, problems = read(workload("app", {"app": "acme/app:v1"}, kind=kind))

    assert not problems
    [container] = containers
    assert (container.kind, container.workload, container.name) == (kind, "app", "app")
    assert str(container.image) == "acme/app:v1"
    assert container.location.path == image_path
    assert container.default


def test_init_containers_are_read_and_never_the_default() -> None:
    text = workload("app", {"app": "acme/app:v1"}, init={"migrate": "acme/migrate:v1"})

    containers, _ = read(text)

    assert [(c.name, c.init, c.default) for c in containers] == [
        ("app", False, True),
        ("migrate", True, False),
    ]
    assert containers[1].location.path == "spec.template.spec.initContainers[0].image"


def test_the_annotated_default_container_wins_over_the_first() -> None:
    containers, _ = read(
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          selector: {}
          template:
            metadata:
              annotations: {kubectl.kubernetes.io/default-container: app}
            spec:
              containers:
                - {name: proxy, image: envoyproxy/envoy:v1.30.1}
                - {name: app, image: acme/app:v1}
        """
    )

    assert [c.name for c in containers if c.default] == ["app"]


def test_documents_that_are_not_workloads_are_skipped_and_counted() -> None:
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: app}\n---\n"
        "---\n"
        "apiVersion: acme.example/v1\nkind: Deployment\nmetadata: {name: crd}\n---\n"
        + workload("app", {"app": "acme/app:v1"})
    )

    containers, problems = read(text)

    assert not problems
    assert [c.location.document for c in containers] == [4]


def test_a_list_holds_workloads_with_their_item_paths() -> None:
    containers, _ = read(
        """
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Pod
            metadata: {name: one, namespace: shop}
            spec:
              containers: [{name: app, image: acme/app:v1}]
        """
    )

    [container] = containers
    assert container.location.path == "items[0].spec.containers[0].image"
    assert container.workload_id == "shop/Pod/one"


def test_what_the_api_server_accepts_is_accepted() -> None:
    # Numbers as quantities, a date-like label and a named probe port are all
    # fine for the API server, though the client's models type some as text.
    containers, problems = read(
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
          labels: {released: 2024-01-31}
          creationTimestamp: null
        spec:
          selector: {matchLabels: {app: app}}
          strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
          template:
            metadata: {labels: {app: app}}
            spec:
              containers:
                - name: app
                  image: acme/app:v1
                  resources: {limits: {cpu: 1, memory: 512Mi}, requests: {cpu: 0.5}}
                  readinessProbe: {httpGet: {path: /health, port: http}}
              volumes: [{name: scratch, emptyDir: {sizeLimit: 1}}]
        """
    )

    assert not problems
    assert len(containers) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app}
            spec:
              selector: {}
              template:
                spec:
                  containers: [{image: acme/app:v1}]
            """,
            "document 1: spec.template.spec.containers[0].name: Required value",
        ),
        (
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app}
            spec:
              selector: {}
              replicas: "2"
              template:
                spec:
                  containers: [{name: app, image: acme/app:v1}]
            """,
            "document 1: spec.replicas: Invalid value: '2': must be a valid integer",
        ),
        (
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app}
            spec:
              selector: {}
              template:
                spec:
                  containers: [{name: app, image: acme/app:v1, imagePolicy: Always}]
            """,
            "document 1: spec.template.spec.containers[0].imagePolicy: unknown field",
        ),
        (
            """
            apiVersion: batch/v1
            kind: Job
            metadata: {name: app}
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: acme/app:v1
                      readinessProbe: {httpGet: {port: 80.5}}
            """,
            "document 1: spec.template.spec.containers[0].readinessProbe.httpGet.port: "
            "Invalid value: 80.5: must be a valid integer or a valid string",
        ),
        (
            """
            apiVersion: v1
            kind: Pod
            metadata: {namespace: shop}
            spec:
              containers: [{name: app, image: acme/app:v1}]
            """,
            "document 1: metadata.name: Required value",
        ),
        (
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: app}
            spec:
              containers: [{name: app}]
            """,
            "document 1: spec.containers[0].image: Required value",
        ),
    ],
    ids=[
        "missing-container-name",
        "replicas-as-text",
        "unknown-field",
        "union-port",
        "missing-name",
        "missing-image",
    ],
)
def test_invalid_workloads_are_reported_like_the_api_server(
    text: str, expected: str
) -> None:
    assert expected in problems_of(text)


def test_an_unparsable_image_names_its_key() -> None:
    [problem] = problems_of(workload("app", {"app": "acme/App:v1"}))

    assert problem.startswith(
        "document 1: spec.template.spec.containers[0].image: "
        "cannot parse image reference 'acme/App:v1'"
    )


def test_yaml_errors_name_the_document_and_line() -> None:
    text = workload("app", {"app": "acme/app:v1"}) + "---\nkind: [unclosed\n"

    containers, [problem] = read(text)

    assert len(containers) == 1
    assert problem.file == FILE
    assert problem.path.startswith("document 2: line ")
    assert "not valid YAML" in problem.message


def test_text_that_is_not_utf8_is_refused() -> None:
    containers, [problem] = read_manifest(FILE, b"\xff\xfe\x00")

    assert not containers
    assert problem.message == "not UTF-8 text"
