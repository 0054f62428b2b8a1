"""The kubernetes mechanism against a local HTTP server speaking the Kubernetes API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loom.errors import InvalidArgument
from loom.models.target import KubernetesConfig, Target, parse_config
from loom.weft.spinup import mechanisms
from loom.weft.spinup.base import LaunchError, LaunchRequest
from loom.weft.targets import build_target
from tests.fakes.http_peer import Peer, Seen, http_peer

JOBS = "/apis/batch/v1/namespaces/agents/jobs"
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def target(config: dict[str, Any]) -> Target:
    body = {"name": "t1", "agentType": "coder", "mechanism": "kubernetes", "capabilities": ["python"]}
    return build_target(body | {"config": {"namespace": "agents", "image": "loom/agent:1"} | config})


def request(t: Target) -> LaunchRequest:
    return LaunchRequest(
        target=t, spin_up_id="s-1", project="proj", nats_url="nats://u:pw@10.0.0.1:4222",
        work_id="w-9", capability="python", boundary="corp",
    )  # fmt: skip


def status(code: int, message: str) -> tuple[int, Any]:
    """An error the way the API server sends one: a ``Status`` object."""
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": code}


def api_server(allowed: bool = True) -> Any:
    def answer(seen: Seen) -> tuple[int, Any]:
        if seen.headers.get("authorization") != "Bearer kube-token":
            return status(401, "Unauthorized")
        if seen.method == "POST" and seen.path == JOBS:
            job = seen.json()
            if job["spec"]["template"]["spec"]["containers"][0]["image"] == "bad":
                return status(422, 'Job.batch "x" is invalid: image must be pullable')
            return 201, {**job, "metadata": {**job["metadata"], "name": "loom-t1-abc", "namespace": "agents"}}
        if seen.method == "POST" and seen.path == REVIEWS:
            review = seen.json()
            return 201, {
                **review,
                "status": {"allowed": allowed, "reason": "" if allowed else "RBAC: denied"},
            }
        return status(404, "not found")

    return answer


@pytest.fixture
def kube(monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
    monkeypatch.setenv("KUBE_TOKEN", "kube-token")
    with http_peer(api_server()) as peer:
        yield peer


async def test_a_job_is_created_with_labels_env_limits_and_auth(kube: Peer) -> None:
    t = target({"apiServer": kube.url, "tokenEnv": "KUBE_TOKEN", "serviceAccount": "loom-agent",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}, "env": {"MODEL": "big"},
                "envFromSecrets": ["agent-keys"]})  # fmt: skip
    assert await mechanisms.launch(t, request(t)) == "job loom-t1-abc"
    job = kube.seen[-1].json()
    assert kube.seen[-1].path == JOBS
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["metadata"]["generateName"] == "loom-t1-"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] == 3600
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "loom-agent"
    container = pod["containers"][0]
    assert container["image"] == "loom/agent:1"
    assert container["resources"] == {"limits": {"cpu": "1", "memory": "1Gi"}}
    assert container["envFrom"] == [{"secretRef": {"name": "agent-keys"}}]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["LOOM_WORK_ID"] == "w-9" and env["LOOM_PROJECT_ID"] == "proj" and env["MODEL"] == "big"
    assert env["NATS_URL"] == "nats://10.0.0.1:4222"  # credentials never leave Weft
    labels = {"loom.target": "t1", "loom.project": "proj", "loom.work-id": "w-9"}
    assert job["metadata"]["labels"] == labels and job["spec"]["template"]["metadata"]["labels"] == labels


async def test_the_check_asks_whether_jobs_may_be_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_TOKEN", "kube-token")
    for allowed in (True, False):
        with http_peer(api_server(allowed)) as peer:
            t = target({"apiServer": peer.url, "tokenEnv": "KUBE_TOKEN"})
            if allowed:
                await mechanisms.check(t)
            else:
                with pytest.raises(
                    LaunchError, match="may not create Jobs in namespace agents: RBAC: denied"
                ):
                    await mechanisms.check(t)
            attrs = peer.seen[-1].json()["spec"]["resourceAttributes"]
            assert attrs == {"namespace": "agents", "verb": "create", "group": "batch", "resource": "jobs"}


async def test_refusals_carry_the_servers_message_and_no_token(
    kube: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = target({"apiServer": kube.url, "tokenEnv": "KUBE_TOKEN", "image": "bad"})
    with pytest.raises(LaunchError, match="422: .*image must be pullable"):
        await mechanisms.launch(t, request(t))
    monkeypatch.setenv("KUBE_TOKEN", "wrong-secret-token")
    with pytest.raises(LaunchError, match="401: Unauthorized") as caught:
        await mechanisms.launch(t, request(t))
    assert "wrong-secret-token" not in str(caught.value)
    monkeypatch.delenv("KUBE_TOKEN")
    with pytest.raises(LaunchError, match=r"\$KUBE_TOKEN is empty"):
        await mechanisms.launch(t, request(t))


async def test_an_unreachable_api_server_is_a_clear_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_TOKEN", "kube-token")
    with http_peer(api_server()) as peer:
        url = peer.url  # the server is gone once the block ends: its port refuses
    t = target({"apiServer": url, "tokenEnv": "KUBE_TOKEN"})
    with pytest.raises(LaunchError, match="cannot reach the Kubernetes API"):
        await mechanisms.launch(t, request(t))


async def test_a_kubeconfig_file_supplies_server_and_credentials(kube: Peer, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "dev", "cluster": {"server": kube.url}}],
        "users": [{"name": "dev", "user": {"token": "kube-token"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "dev"}}],
    }))  # fmt: skip
    t = target({"kubeconfig": str(kubeconfig)})
    assert await mechanisms.launch(t, request(t)) == "job loom-t1-abc"
    await mechanisms.check(t)
    missing = target({"kubeconfig": str(tmp_path / "absent")})
    with pytest.raises(LaunchError, match="no Kubernetes credentials"):
        await mechanisms.launch(missing, request(missing))


def test_job_settings_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="config.backoffLimit"):
        target({"backoffLimit": 99})
    with pytest.raises(InvalidArgument, match="config.envFromSecrets"):
        target({"envFromSecrets": ["Not_A_Name"]})
    with pytest.raises(InvalidArgument, match="config.namespace"):
        target({"namespace": ""})
    t = target({"backoffLimit": 2, "ttlSecondsAfterFinished": 60})
    config = parse_config("kubernetes", t.config)
    assert isinstance(config, KubernetesConfig)
    spec = mechanisms.job_manifest(config, request(t))["spec"]
    assert isinstance(spec, dict) and (spec["backoffLimit"], spec["ttlSecondsAfterFinished"]) == (2, 60)
