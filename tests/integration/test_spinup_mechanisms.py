"""Each launch mechanism against its wire protocol, and the manager's limits."""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from loom.errors import Conflict, InvalidArgument
from loom.models.target import Target
from loom.runtime import Runtime
from loom.weft.spinup import mechanisms
from loom.weft.spinup.base import LaunchError, LaunchRequest
from loom.weft.spinup.manager import SpinUpManager
from loom.weft.targets import TargetRegistry, build_target
from tests.fakes.http_peer import Seen, http_peer
from tests.waiting import eventually


def target(mechanism: str, config: dict[str, Any], **extra: Any) -> Target:
    body = {
        "name": "t1",
        "agentType": "coder",
        "mechanism": mechanism,
        "config": config,
        "capabilities": ["python"],
    }
    return build_target(body | extra)


def request(t: Target, tmp_path: Path | None = None) -> LaunchRequest:
    return LaunchRequest(
        target=t, spin_up_id="s-1", project="proj", nats_url="nats://u:pw@10.0.0.1:4222", work_id="w-9",
        capability="python", boundary="corp", log_dir=tmp_path,
    )  # fmt: skip


async def test_local_launch_passes_the_loom_env_without_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "env.txt"
    code = f"import os; open({str(out)!r}, 'w').write(os.environ['LOOM_WORK_ID'] + ' ' + os.environ['LOOM_TARGET'])"
    t = target("local", {"command": [sys.executable, "-c", code, "; rm -rf /"]})
    detail = await mechanisms.launch(t, request(t, tmp_path))
    assert "pid" in detail and "log" in detail
    # The file exists (empty) before the child has written it: wait for the content.
    await eventually(
        lambda: out.exists() and out.read_text() == "w-9 t1", timeout=10, message=f"{out} never held 'w-9 t1'"
    )
    await mechanisms.check(t)
    with pytest.raises(LaunchError, match="not found"):
        await mechanisms.check(target("local", {"command": ["/nonexistent/agent"]}))


async def test_webhook_signs_the_body_and_retries_5xx_then_fails_on_4xx() -> None:
    replies = iter([(503, {"error": "busy"}), (202, {"ok": True})])
    with http_peer(lambda seen: next(replies)) as peer:
        t = target("webhook", {"url": peer.url + "/launch", "secret": "s3cret", "headers": {"X-Team": "a"}})
        assert "202" in await mechanisms.launch(t, request(t))
        last = peer.seen[-1]
        expected = "sha256=" + hmac.new(b"s3cret", last.body, hashlib.sha256).hexdigest()
        assert last.headers["x-loom-signature"] == expected and last.headers["x-team"] == "a"
        body = last.json()
        assert (body["LOOM_WORK_ID"], body["LOOM_TARGET"], body["LOOM_BOUNDARY"]) == ("w-9", "t1", "corp")
        assert body["NATS_URL"] == "nats://10.0.0.1:4222"  # credentials never leave Weft
        assert len(peer.seen) == 2
    with http_peer(lambda seen: (403, {"message": "not allowed here"})) as peer:
        t = target("webhook", {"url": peer.url})
        with pytest.raises(LaunchError, match="403.*not allowed here"):
            await mechanisms.launch(t, request(t))


async def test_github_dispatch_sends_ref_inputs_and_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    def api(seen: Seen) -> tuple[int, Any]:
        if seen.headers.get("authorization") != "Bearer gh-token":
            return 401, {"message": "Bad credentials"}
        if seen.path == "/repos/acme/app/actions/workflows/agent.yml/dispatches":
            return 204, None
        return 200, {"id": 1}

    monkeypatch.setenv("GH_TOKEN_X", "gh-token")
    with http_peer(api) as peer:
        t = target("github-actions", {"repo": "acme/app", "workflow": "agent.yml", "ref": "dev", "tokenEnv": "GH_TOKEN_X",
                                       "apiUrl": peer.url, "inputs": {"model": "big"}})  # fmt: skip
        await mechanisms.launch(t, request(t))
        sent = peer.seen[-1].json()
        assert sent["ref"] == "dev"
        assert sent["inputs"] == sent["inputs"] | {"loom_work_id": "w-9", "loom_target": "t1", "model": "big"}
        assert peer.seen[-1].headers["accept"] == "application/vnd.github+json"
        await mechanisms.check(t)
    monkeypatch.delenv("GH_TOKEN_X")
    with pytest.raises(LaunchError, match="GH_TOKEN_X"):
        await mechanisms.launch(t, request(t))


def test_configs_are_validated_and_secrets_never_shown() -> None:
    with pytest.raises(InvalidArgument, match="config.url"):
        target("webhook", {"url": "ftp://x"})
    with pytest.raises(InvalidArgument, match="config.command"):
        target("local", {"command": []})
    with pytest.raises(InvalidArgument, match="config.repo"):
        target("github-actions", {"repo": "no-slash", "workflow": "w"})
    with pytest.raises(InvalidArgument, match="mechanism"):
        target("ftp", {})
    shown = target(
        "webhook", {"url": "http://h", "secret": "topsecret", "headers": {"Authorization": "Bearer x"}}
    ).public()
    assert "topsecret" not in str(shown) and "Bearer x" not in str(shown)
    assert shown["config"]["hasSecret"] is True


async def test_max_concurrent_and_cooldown_are_enforced(runtime: Runtime, tmp_path: Path) -> None:
    registry = runtime.service(TargetRegistry)
    t = await registry.create(
        {"name": "slow", "agentType": "c", "mechanism": "local", "capabilities": ["python"], "cooldownSeconds": 0,
         "maxConcurrent": 1, "config": {"command": [sys.executable, "-c", "pass"]}}
    )  # fmt: skip
    manager = runtime.service(SpinUpManager)
    manager.log_dir = tmp_path
    # Long enough that the first launch still holds its slot when the second asks, on a loaded machine too.
    manager.registration_timeout = 5.0
    first = await manager.spin_up(t)
    assert first.state == "launched"
    with pytest.raises(Conflict, match="maxConcurrent"):
        await manager.spin_up(await registry.get("slow"))
    # The launched process never registers: the launch times out and frees the slot.
    await eventually(lambda: _state(manager, first.id, "timed-out"), timeout=20)
    # The slot is free again, but a cooldown counts from the last launch.
    cooled = await registry.update("slow", {"cooldownSeconds": 3600})
    with pytest.raises(Conflict, match="cooling down"):
        await manager.spin_up(cooled)


async def _state(manager: SpinUpManager, spin_id: str, state: str) -> bool:
    return any(r.id == spin_id and r.state == state for r in await manager.records())


async def test_a_launch_counts_only_when_the_agent_registers(runtime: Runtime, tmp_path: Path) -> None:
    loom = str(Path(sys.executable).parent / "loom")
    registry = runtime.service(TargetRegistry)
    t = await registry.create(
        {"name": "real", "agentType": "scripted", "mechanism": "local", "capabilities": ["python"],
         "config": {"command": [loom, "agent", "run", "-c", "python", "--idle-exit", "2"],
                    "env": {"NATS_URL": runtime.settings.nats_url}}}
    )  # fmt: skip
    manager = runtime.service(SpinUpManager)
    manager.log_dir = tmp_path
    spun = await manager.spin_up(t)
    await eventually(lambda: _state(manager, spun.id, "registered"), timeout=30)
    assert os.path.exists(tmp_path / f"{spun.id}.log")


async def test_an_unreachable_webhook_is_named_without_its_path_or_query() -> None:
    with http_peer(lambda seen: (204, None)) as peer:
        url = f"{peer.url}/hooks/T0/XYZsecret?token=abc"  # the server is gone once the block ends
    t = target("webhook", {"url": url})
    with pytest.raises(LaunchError, match=r"cannot reach http://127\.0\.0\.1 ") as caught:
        await mechanisms.check(t)
    assert "XYZsecret" not in str(caught.value) and "abc" not in str(caught.value)
