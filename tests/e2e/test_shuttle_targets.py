"""``shuttle`` targets, spin-up and agent-type routing, as subprocesses against a real ``weft``."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from loom.config import Settings
from loom.runtime import Runtime
from tests.e2e.conftest import WeftProcess
from tests.e2e.shuttle_helpers import run, run_async, shuttle_env
from tests.mcp_helpers import in_process
from tests.readme_targets import examples
from tests.waiting import eventually

# Fields Weft sets itself; everything else must match between the two ways of adding a target.
OWN_FIELDS = {"id", "createdAt", "health", "useCount", "lastUsedAt"}


@pytest.fixture
def env(weft: WeftProcess, tmp_path: Path, project_id: str) -> dict[str, str]:
    return shuttle_env(tmp_path / "cfg", api_url=weft.url, LOOM_PROJECT_ID=project_id)


def comparable(target: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in target.items() if key not in OWN_FIELDS}


def test_readme_examples_create_the_same_target_both_ways(env: dict[str, str], weft: WeftProcess) -> None:
    other = f"t-{uuid.uuid4().hex[:12]}"
    for example in examples():
        added = run(env, *example.argv, "--json")
        assert added.code == 0, f"{example.mechanism}: {added}"
        posted = httpx.post(
            f"{weft.url}/api/targets", json=example.body, headers={"X-Loom-Project": other}, timeout=10
        )
        assert posted.status_code == 201, posted.text
        assert comparable(added.json()) == comparable(posted.json()), example.mechanism


def test_every_mechanism_key_can_be_set_changed_and_removed(env: dict[str, str]) -> None:
    ssh = run(env, "targets", "add", "--name", "box", "--type", "scripted", "--mechanism", "ssh",
              "--host", "box.internal", "--user", "loom", "--command", "loom agent run -c python",
              "--accept-new-host-keys", "--capabilities", "python", "--json")  # fmt: skip
    assert ssh.code == 0, ssh
    assert ssh.json()["config"]["acceptNewHostKeys"] is True
    off = run(env, "targets", "update", "box", "--no-accept-new-host-keys", "--port", "2222", "--json")
    assert off.code == 0, off
    assert (off.json()["config"]["acceptNewHostKeys"], off.json()["config"]["port"]) == (False, 2222)

    secret = "whsec-from-stdin-771"
    hook = run(env, "targets", "add", "--name", "hook", "--type", "t", "--mechanism", "webhook",
               "--url", "http://127.0.0.1:9/go", "--secret", "-", "--capabilities", "docs", "--json",
               stdin=secret + "\n")  # fmt: skip
    assert hook.code == 0, hook
    assert hook.json()["config"]["hasSecret"] is True and secret not in hook.out
    removed = run(env, "targets", "update", "hook", "--config", '{"secret": null}', "--json")
    assert removed.code == 0, removed
    assert "secret" not in removed.json()["config"] and "hasSecret" not in removed.json()["config"]

    k8s = run(env, "targets", "add", "--name", "k8s", "--type", "t", "--mechanism", "kubernetes",
              "--namespace", "agents", "--image", "img:1", "--kubeconfig", "/etc/loom/kubeconfig",
              "--service-account", "loom", "--token-env", "K8S_TOKEN", "--env", "A=1",
              "--resources", '{"requests": {"cpu": "1"}}', "--capabilities", "review", "--json")  # fmt: skip
    assert k8s.code == 0, k8s
    expected = {
        "namespace": "agents", "image": "img:1", "kubeconfig": "/etc/loom/kubeconfig",
        "serviceAccount": "loom", "tokenEnv": "K8S_TOKEN", "env": {"A": "1"},
        "resources": {"requests": {"cpu": "1"}},
    }  # fmt: skip
    assert {key: k8s.json()["config"].get(key) for key in expected} == expected
    moved = run(env, "targets", "update", "k8s", "--k8s-api-server", "https://k8s.example:6443", "--json")
    assert moved.json()["config"]["apiServer"] == "https://k8s.example:6443"
    assert moved.json()["config"]["image"] == "img:1"

    gha = run(env, "targets", "add", "--name", "gha", "--type", "t", "--mechanism", "github-actions",
              "--repo", "acme/app", "--workflow", "agent.yml", "--token-env", "GH_PAT",
              "--github-api-url", "https://ghe.example/api/v3", "--input", "model=sonnet",
              "--capabilities", "review", "--json")  # fmt: skip
    assert gha.code == 0, gha
    config = gha.json()["config"]
    assert (config["tokenEnv"], config["apiUrl"], config["inputs"], config["ref"]) == (
        "GH_PAT", "https://ghe.example/api/v3", {"model": "sonnet"}, "main",
    )  # fmt: skip

    clash = run(env, "--json", "targets", "update", "k8s", "--accept-new-host-keys")
    assert clash.code == 2 and "--accept-new-host-keys" in clash.error()["message"]


def test_spin_up_by_capability_lets_weft_pick_the_target(env: dict[str, str]) -> None:
    idle = f"{sys.executable} -c pass"  # launches, never registers: the slot stays taken
    for name, boundaries in (("personal-box", ["--boundaries", "personal"]), ("any-box", [])):
        added = run(env, "targets", "add", "--name", name, "--type", "scripted", "--mechanism", "local",
                    "--command", idle, "--capabilities", "docs", *boundaries)  # fmt: skip
        assert added.code == 0, added

    bounded = run(env, "spin-up", "--capability", "docs", "--boundary", "personal", "--json")
    assert bounded.code == 0, bounded
    assert bounded.json()["target"] == "personal-box" and bounded.json()["boundary"] == "personal"

    # personal-box is first in routing order but busy now, so Weft moves on to any-box.
    unbounded = run(env, "spin-up", "--capability", "docs", "--json")
    assert unbounded.code == 0, unbounded
    assert unbounded.json()["target"] == "any-box"

    full = run(env, "--json", "spin-up", "--capability", "docs")
    assert full.code == 1 and full.error()["code"] == "CONFLICT", full
    assert "personal-box" in full.error()["message"] and "any-box" in full.error()["message"]

    outside = run(env, "--json", "spin-up", "--capability", "docs", "--boundary", "corporate")
    assert outside.code == 1 and outside.error()["code"] == "NOT_FOUND"
    missing = run(env, "spin-up", "--target", "nope")
    assert missing.code == 1 and "nope" in missing.err

    broken = run(env, "targets", "add", "--name", "broken", "--type", "scripted", "--mechanism", "local",
                 "--command", "/nonexistent/agent-binary", "--capabilities", "lint")  # fmt: skip
    assert broken.code == 0, broken
    failed = run(env, "spin-up", "--capability", "lint", "--json")
    assert failed.code == 1 and failed.json()["status"] == "failed" and failed.json()["error"], failed


async def test_submit_routes_by_required_and_preferred_agent_type(
    env: dict[str, str], settings: Settings
) -> None:
    async with (
        await Runtime.open(settings.model_copy(update={"agent_id": "coder-1"})) as coder_rt,
        await Runtime.open(settings.model_copy(update={"agent_id": "reviewer-1"})) as reviewer_rt,
        in_process(coder_rt) as coder,
        in_process(reviewer_rt) as reviewer,
    ):
        guids = {}
        for agent, agent_type in ((coder, "coder"), (reviewer, "reviewer")):
            registered = await agent.call("register_agent", agentType=agent_type, capabilities=["python"])
            guids[agent_type] = registered["guid"]

        async def both_online() -> bool:
            listed = (await run_async(env, "agents", "list", "--status", "online", "--json")).json()
            return set(guids.values()) <= {a["guid"] for a in listed["agents"]}

        await eventually(both_online, timeout=15, message="Weft sees both agents")

        async def routing(*flags: str) -> dict[str, Any]:
            done = await run_async(env, "submit", "review the parser", "-c", "python", *flags, "--json")
            assert done.code == 0, done
            return dict(done.json()["routing"])

        required = await routing("--required-agent-type", "reviewer")
        assert (required["eligibleAgents"], required["targetAgentType"]) == ([guids["reviewer"]], "reviewer")
        for preferred in ("coder", "reviewer"):
            ranked = await routing("--preferred-agent-type", preferred)
            assert ranked["eligibleAgents"][0] == guids[preferred] and len(ranked["eligibleAgents"]) == 2
            assert ranked["targetAgentType"] == preferred
        nobody = await routing("--required-agent-type", "designer")
        assert nobody["eligibleAgents"] == [] and nobody["spinUpTriggered"] is False

    bad = run(env, "--json", "submit", "x", "-c", "python", "--required-agent-type", " ")
    assert bad.code == 2 and bad.error()["code"] == "INVALID_ARGUMENT"
