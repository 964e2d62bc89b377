"""Bumps read from the manifests of two revisions of real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.config import load_system
from harness.core.errors import BadInput, ManifestError
from harness.core.model import Bump
from harness.manifests import GitChange, bumps_from_git
from tests.manifests.conftest import WEB_GREEN, GitRepo, workload

API_V1 = "registry.example:5000/acme/api:1.0.0"
API_V2 = "registry.example:5000/acme/api:1.1.0"


def change(repo: GitRepo, base: str, head: str = "HEAD") -> GitChange:
    return bumps_from_git(load_system(repo.root / "rollout.yaml"), base, head)


def problems(error: pytest.ExceptionInfo[BadInput]) -> list[str]:
    return [str(problem) for problem in error.value.problems]


def test_a_tag_bump_is_a_bump_from_the_base_version(acme: GitRepo) -> None:
    base = acme.git("rev-parse", "HEAD")
    acme.write("k8s/api.yaml", workload("api", {"api": API_V2}))
    acme.commit("api 1.1.0")

    found = change(acme, base)

    assert found.bumps == (Bump("api", "v1", "v2"),)
    assert found.baselines == {"api": "v1", "worker": "v1", "web": "blue"}
    [image] = found.changes
    assert (image.service, image.workload, image.container) == (
        "api",
        "Deployment/api",
        "api",
    )
    assert (image.base, image.head) == (API_V1, API_V2)
    assert image.location == "HEAD:k8s/api.yaml, document 1"
    assert not found.unmapped
    assert not found.vanished


def test_a_digest_bump_matches_versions_by_digest(acme: GitRepo) -> None:
    acme.write(
        "k8s/web.yaml", workload("web", {"web": WEB_GREEN}, init={"migrate": WEB_GREEN})
    )
    acme.commit("web green")

    found = change(acme, "HEAD~1")

    assert found.bumps == (Bump("web", "blue", "green"),)


def test_a_version_is_found_by_its_name_when_it_has_no_image(acme: GitRepo) -> None:
    acme.write(
        "k8s/queue.yaml",
        workload(
            "queue",
            {
                "metrics": "prom/statsd-exporter:v0.26.0",
                "worker": "ghcr.io/acme/worker:v2",
            },
            kind="StatefulSet",
        ),
    )
    acme.commit("worker v2")

    assert change(acme, "HEAD~1").bumps == (Bump("worker", "v1", "v2"),)


def test_two_services_bumped_in_one_commit(acme: GitRepo) -> None:
    acme.write("k8s/api.yaml", workload("api", {"api": API_V2}))
    acme.write(
        "k8s/web.yaml", workload("web", {"web": WEB_GREEN}, init={"migrate": WEB_GREEN})
    )
    acme.commit("api and web")

    found = change(acme, "HEAD~1")

    assert found.bumps == (Bump("api", "v1", "v2"), Bump("web", "blue", "green"))
    assert found.candidates == {"api": "v2", "web": "green"}


def test_an_unrelated_edit_bumps_nothing(acme: GitRepo) -> None:
    acme.write(
        "k8s/api.yaml",
        workload("api", {"api": API_V1}).replace(
            "name: api\n", "name: api\n  labels: {team: a}\n", 1
        ),
    )
    acme.write(
        "k8s/api-service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n"
    )
    acme.write("README.md", "# acme\n")
    acme.commit("labels, a service, docs")

    found = change(acme, "HEAD~1")

    assert found.bumps == ()
    assert found.changes == ()
    assert found.notes() == ()


def test_a_workload_renamed_away_from_its_mapping_vanishes(acme: GitRepo) -> None:
    acme.remove("k8s/api.yaml")
    acme.write("k8s/api-server.yaml", workload("api-server", {"api": API_V2}))
    acme.commit("rename api to api-server")

    found = change(acme, "HEAD~1")

    assert found.bumps == ()
    assert found.vanished == ("api",)
    assert found.baselines["api"] == "v1"
    assert "service api has no workload at HEAD" in found.notes()[0]


def test_a_renamed_workload_mapped_by_image_keeps_its_service(acme: GitRepo) -> None:
    acme.remove("k8s/web.yaml")
    acme.write(
        "k8s/storefront.yaml",
        workload("storefront", {"web": WEB_GREEN}, init={"migrate": WEB_GREEN}),
    )
    acme.commit("rename web to storefront, and roll green")

    found = change(acme, "HEAD~1")

    assert found.bumps == (Bump("web", "blue", "green"),)
    assert found.changes[0].workload == "Deployment/storefront"
    assert not found.vanished


def test_an_image_of_no_service_is_reported_not_bumped(acme: GitRepo) -> None:
    acme.write("k8s/cache.yaml", workload("cache", {"redis": "redis:7.2"}))
    acme.commit("redis 7.2")

    found = change(acme, "HEAD~1")

    assert found.bumps == ()
    [unmapped] = found.unmapped
    assert str(unmapped) == "Deployment/cache container redis: redis:7.0 -> redis:7.2"
    assert unmapped.service is None
    assert "maps to no service" in found.notes()[0]


def test_a_service_whose_manifest_is_deleted_vanishes(acme: GitRepo) -> None:
    acme.remove("k8s/web.yaml")
    acme.commit("retire web")

    found = change(acme, "HEAD~1")

    assert found.vanished == ("web",)
    assert found.bumps == ()


def test_a_new_service_appears_without_a_bump(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "fresh")
    repo.write("rollout.yaml", _api_only_config("[k8s]"))
    repo.write("k8s/README.md", "manifests come in the next commit\n")
    repo.commit("empty")
    repo.write("k8s/api.yaml", workload("api", {"api": API_V1}))
    repo.commit("deploy api")

    found = change(repo, "HEAD~1")

    assert found.appeared == ("api",)
    assert found.bumps == ()


def test_head_can_be_any_revision_and_the_working_tree_is_ignored(
    acme: GitRepo,
) -> None:
    base = acme.git("rev-parse", "HEAD")
    acme.write("k8s/api.yaml", workload("api", {"api": API_V2}))
    bumped = acme.commit("api 1.1.0")
    acme.write("k8s/api.yaml", workload("api", {"api": API_V1}))
    acme.commit("revert api")
    acme.write("k8s/web.yaml", workload("web", {"web": WEB_GREEN}))
    status = acme.git("status", "--porcelain")

    assert change(acme, base, bumped).bumps == (Bump("api", "v1", "v2"),)
    assert change(acme, base).bumps == ()
    assert acme.git("status", "--porcelain") == status


def test_a_kustomize_override_is_the_image_that_runs(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "kustomized")
    repo.write("rollout.yaml", _api_only_config("[k8s/overlays/prod]", "prod-api"))
    repo.write("k8s/base/kustomization.yaml", "resources: [api.yaml]\n")
    repo.write("k8s/base/api.yaml", workload("api", {"api": "acme/api:0.9"}))
    repo.write("k8s/overlays/prod/kustomization.yaml", _overlay("1.0.0", "../../base"))
    repo.commit("prod runs 1.0.0")
    repo.write("k8s/overlays/prod/kustomization.yaml", _overlay("1.1.0", "../../base"))
    repo.commit("prod runs 1.1.0")

    found = change(repo, "HEAD~1")

    assert found.bumps == (Bump("api", "v1", "v2"),)
    [image] = found.changes
    assert (image.base, image.head) == (API_V1, API_V2)
    assert image.workload == "prod/Deployment/prod-api"
    assert image.location == "HEAD:k8s/overlays/prod/kustomization.yaml, document 1"


def test_a_folder_with_a_kustomization_below_it_is_read_once(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "mixed")
    repo.write("rollout.yaml", _api_only_config("[k8s]", "prod-api"))
    repo.write("k8s/cache.yaml", workload("cache", {"redis": "redis:7.0"}))
    repo.write("k8s/prod/kustomization.yaml", _overlay("1.0.0", "api.yaml"))
    repo.write("k8s/prod/api.yaml", workload("api", {"api": "acme/api:0.9"}))
    repo.commit("base")
    repo.write("k8s/prod/kustomization.yaml", _overlay("1.1.0", "api.yaml"))
    repo.commit("bump")

    assert change(repo, "HEAD~1").bumps == (Bump("api", "v1", "v2"),)


# Bad input: every case ends in BadInput naming the file, document and key.


def test_a_revision_that_does_not_exist(acme: GitRepo) -> None:
    with pytest.raises(ManifestError) as error:
        change(acme, "no-such-branch")

    assert problems(error)[0].startswith(
        "command line: --base: revision 'no-such-branch' does not exist"
    )
    assert "fetch-depth: 0" in problems(error)[0]


def test_a_head_that_does_not_exist(acme: GitRepo) -> None:
    with pytest.raises(ManifestError, match="--head: revision 'v9'"):
        change(acme, "HEAD", "v9")


def test_a_manifest_that_is_not_yaml(acme: GitRepo) -> None:
    acme.write("k8s/api.yaml", "{{ .Values.image }}: [\n")
    acme.commit("a helm template")

    with pytest.raises(ManifestError) as error:
        change(acme, "HEAD~1")

    [problem] = problems(error)
    assert problem.startswith("HEAD:k8s/api.yaml: document 1: line 2, column 1")
    assert "not valid YAML" in problem


def test_an_image_that_cannot_be_parsed(acme: GitRepo) -> None:
    acme.write(
        "k8s/api.yaml", workload("api", {"api": "registry.example:5000/Acme/api"})
    )
    acme.commit("bad image")

    with pytest.raises(ManifestError) as error:
        change(acme, "HEAD~1")

    [problem] = problems(error)
    assert problem.startswith(
        "HEAD:k8s/api.yaml: document 1: spec.template.spec.containers[0].image: "
        "cannot parse image reference"
    )


def test_an_invalid_workload(acme: GitRepo) -> None:
    acme.write(
        "k8s/api.yaml",
        workload("api", {"api": API_V2}).replace("containers:", "containres:"),
    )
    acme.commit("typo")

    with pytest.raises(ManifestError) as error:
        change(acme, "HEAD~1")

    assert (
        "HEAD:k8s/api.yaml: document 1: spec.template.spec.containres: unknown field"
        in "\n".join(problems(error))
    )


def test_an_image_that_is_no_version_says_where_to_add_it(acme: GitRepo) -> None:
    acme.write(
        "k8s/api.yaml", workload("api", {"api": "registry.example:5000/acme/api:2.0.0"})
    )
    acme.commit("api 2.0.0")

    with pytest.raises(ManifestError) as error:
        change(acme, "HEAD~1")

    [problem] = error.value.problems
    assert problem.file == "HEAD:k8s/api.yaml"
    assert problem.path == "document 1: spec.template.spec.containers[0].image"
    assert problem.message == (
        "image registry.example:5000/acme/api:2.0.0 of service 'api' is none of "
        "its versions"
    )
    assert "services.api.versions" in problem.hint
    assert "image: registry.example:5000/acme/api:2.0.0" in problem.hint


def test_a_service_running_two_versions_at_once(acme: GitRepo) -> None:
    acme.write("k8s/web-canary.yaml", workload("web-canary", {"web": WEB_GREEN}))
    acme.commit("a canary")

    with pytest.raises(ManifestError, match="runs several versions"):
        change(acme, "HEAD~1")


def test_manifest_paths_that_exist_nowhere(acme: GitRepo) -> None:
    acme.write(
        "rollout.yaml",
        (acme.root / "rollout.yaml").read_text().replace("[k8s]", "[deploy]"),
    )

    with pytest.raises(ManifestError) as error:
        change(acme, "HEAD")

    assert problems(error)[0].endswith(
        "manifests[0]: 'deploy' exists at neither HEAD nor HEAD "
        "(hint: fix the path; it is relative to the config file)"
    )


def test_a_config_without_manifests(acme: GitRepo) -> None:
    acme.write(
        "rollout.yaml",
        (acme.root / "rollout.yaml").read_text().replace("manifests: [k8s]\n", ""),
    )

    with pytest.raises(ManifestError, match="no manifest paths are configured"):
        change(acme, "HEAD")


def test_a_config_outside_git(tmp_path: Path) -> None:
    (tmp_path / "rollout.yaml").write_text(_api_only_config("[k8s]"))

    with pytest.raises(
        ManifestError, match="is not inside a git repository git can read"
    ):
        bumps_from_git(load_system(tmp_path / "rollout.yaml"), "HEAD~1")


def _api_only_config(manifests: str, workload_name: str = "api") -> str:
    return f"""
format: 1
manifests: {manifests}
services:
  api:
    baseline: v1
    kubernetes: {{workload: {workload_name}}}
    versions:
      v1: {{image: "{API_V1}"}}
      v2: {{image: "{API_V2}"}}
"""


def _overlay(tag: str, resource: str) -> str:
    return f"""
resources: [{resource}]
namePrefix: prod-
namespace: prod
images:
  - name: acme/api
    newName: registry.example:5000/acme/api
    newTag: {tag}
"""


@pytest.mark.parametrize(
    ("kustomization", "expected"),
    [
        (
            "resources: [api.yaml, missing.yaml]\n",
            "HEAD:k8s/kustomization.yaml: document 1: resources[1]: "
            "'missing.yaml' does not exist at HEAD",
        ),
        (
            "resources: [api.yaml]\nimages: [{name: acme/api, newTag: 'not a tag'}]\n",
            "HEAD:k8s/kustomization.yaml: document 1: images[0]: "
            "the override gives no valid image reference",
        ),
        (
            "resources: [../../outside]\n",
            "HEAD:k8s/kustomization.yaml: document 1: resources[0]: "
            "'../../outside' is outside the repository",
        ),
        (
            "resources: [api.yaml, ../k8s]\n",
            "HEAD:k8s/kustomization.yaml: document 1: resources[1]: "
            "'../k8s' includes itself",
        ),
    ],
    ids=["missing-resource", "invalid-tag", "outside-the-repository", "cycle"],
)
def test_a_broken_kustomization(
    tmp_path: Path, kustomization: str, expected: str
) -> None:
    repo = GitRepo(tmp_path / "broken")
    repo.write("rollout.yaml", _api_only_config("[k8s]"))
    repo.write("k8s/api.yaml", workload("api", {"api": "acme/api:0.9"}))
    repo.write("k8s/kustomization.yaml", kustomization)
    repo.commit("broken")

    with pytest.raises(ManifestError) as error:
        change(repo, "HEAD")

    assert problems(error)[0].startswith(expected)
