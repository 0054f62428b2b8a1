"""The deploy/ linters pass on our files and fail on broken ones, so `make test` can fail.

Each broken case is one of our own files with one realistic mistake put in, run through the
same linter with the same options as `make deploy-lint`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.files import DEPLOY, DOCKERFILE, ENTRYPOINT, KUBERNETES, WORKFLOWS, manifests, tool


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("hadolint"), "--no-color", "--config", str(DEPLOY / "hadolint.yaml"), str(path))


def shellcheck(path: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("shellcheck"), str(path))


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return run(
        tool("actionlint"), "-no-color", f"-shellcheck={tool('shellcheck')}", "-pyflakes=", *map(str, paths)
    )


def check_manifests(*paths: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, str(DEPLOY / "check_manifests.py"), *map(str, paths))


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def broken(tmp_path: Path, original: Path, old: str, new: str) -> Path:
    """A copy of ``original`` with one mistake; fails if ``old`` is not in it."""
    text = original.read_text()
    assert old in text, f"{old!r} is not in {original.name}"
    copy = tmp_path / original.name
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_our_files_pass_every_linter() -> None:
    for result in (
        hadolint(DOCKERFILE),
        shellcheck(ENTRYPOINT),
        actionlint(*sorted(WORKFLOWS.glob("*.yml"))),
        check_manifests(*manifests()),
    ):
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("USER 1001:1001", "USER root", "DL3002"),  # the agent image would run as root
        ("install -d -o agent", "cd /workspace && install -d -o agent", "DL3003"),
        ('"uv==${UV_VERSION}"', "uv", "DL3013"),  # an unpinned pip install
    ],
)
def test_hadolint_catches_a_broken_dockerfile(tmp_path: Path, old: str, new: str, rule: str) -> None:
    result = hadolint(broken(tmp_path, DOCKERFILE, old, new))
    assert result.returncode != 0
    assert rule in result.stdout


def test_shellcheck_catches_an_unquoted_expansion(tmp_path: Path) -> None:
    result = shellcheck(broken(tmp_path, ENTRYPOINT, 'exec "$@"\n', "exec $@\n"))
    assert result.returncode != 0
    assert "SC2068" in result.stdout


@pytest.mark.parametrize(
    ("workflow", "old", "new", "expected"),
    [
        # an input the dispatch does not declare
        ("loom-agent.yml", "${{ inputs.loom_target }}\n", "${{ inputs.loom_targets }}\n", "loom_targets"),
        # untrusted text pasted into a shell script
        ("loom-pr-review.yml", 'run: loom-agent once > "$RUNNER_TEMP/review.md"',
         'run: echo "${{ github.event.pull_request.title }}"', "potentially untrusted"),
        ("loom-images.yml", "runs-on: ubuntu-latest", "run-on: ubuntu-latest", "runs-on"),
        # shellcheck on a run: step, through actionlint
        ("loom-agent.yml", 'umask 077', 'rm -rf $RUNNER_TEMP/*', "SC2086"),
    ],
)  # fmt: skip
def test_actionlint_catches_a_broken_workflow(
    tmp_path: Path, workflow: str, old: str, new: str, expected: str
) -> None:
    result = actionlint(broken(tmp_path, WORKFLOWS / workflow, old, new))
    assert result.returncode != 0
    assert expected in result.stdout


@pytest.mark.parametrize(
    ("manifest", "old", "new", "expected"),
    [
        ("weft.yaml", "  replicas: 2", "  replica: 2", "Deployment/weft (Kubernetes 1.30.0): spec: Additional properties"),
        ("nats.yaml", "  replicas: 3", '  replicas: "three"', "StatefulSet/nats (Kubernetes 1.37.0): spec.replicas:"),
        ("agent-job.yaml", "restartPolicy: Never", "restartPolicy: 7", "Job/loom-k8s-claude- (Kubernetes 1.30.0): spec.template.spec.restartPolicy"),
        ("weft.yaml", "apiVersion: apps/v1", "apiVersion: apps/v2", "Couldn't find schema for kind Deployment"),
    ],
)  # fmt: skip
def test_manifest_check_catches_a_broken_manifest(
    tmp_path: Path, manifest: str, old: str, new: str, expected: str
) -> None:
    result = check_manifests(broken(tmp_path, KUBERNETES / manifest, old, new))
    assert result.returncode == 1
    assert expected in result.stdout


def test_manifest_check_refuses_what_is_not_a_kubernetes_object(tmp_path: Path) -> None:
    result = check_manifests(KUBERNETES / "kustomization.yaml")
    assert result.returncode == 1
    assert "Kustomization" in result.stdout
