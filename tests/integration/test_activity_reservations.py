"""wait_for_activity and path reservations through real MCP sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.js.errors import KeyNotFoundError

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.control import ControlService
from loom.services.reservations import key_for
from tests.mcp_helpers import in_process
from tests.waiting import eventually

TOOLSETS = ("identity", "registry", "channels", "direct", "work", "activity", "reservations")


async def test_wait_returns_at_once_with_timeout_zero_and_early_on_news(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="idle")) as rt1,
        await Runtime.open(make_settings(agent_id="busy")) as rt2,
        in_process(rt1, TOOLSETS) as idle,
        in_process(rt2, TOOLSETS) as busy,
    ):
        guid = (await idle.call("register_agent", agentType="w", capabilities=["build"]))["guid"]
        await busy.call("register_agent", agentType="w", capabilities=["build"])
        quiet = await idle.call("wait_for_activity", timeout=0)
        assert quiet["unreadDirect"] == 0 and quiet["shutdownRequested"] is False
        assert quiet["pendingWork"] == {"build": 0}

        for action in ("dm", "post", "work", "shutdown"):
            waiting = asyncio.create_task(idle.call("wait_for_activity", timeout=60))
            await eventually(lambda w=waiting: not w.done(), timeout=1)  # type: ignore[misc]
            if action == "dm":
                await busy.call("send_direct_message", recipientGuid=guid, message="hi")
                assert (await asyncio.wait_for(waiting, 20))["unreadDirect"] == 1
                await idle.call("read_direct_messages")
            elif action == "post":
                await busy.call("send_message", channel="general", message="news")
                assert (await asyncio.wait_for(waiting, 20))["channels"]["general"] == 1
                await idle.call("read_messages", channel="general")
            elif action == "work":
                await busy.call("broadcast_work_offer", description="x", requiredCapability="build")
                assert (await asyncio.wait_for(waiting, 20))["pendingWork"] == {"build": 1}
                item = (await idle.call("claim_work", capability="build", timeout=0))["workItem"]
                await idle.call("complete_work", workItemId=item["id"])

                async def drained() -> bool:
                    # The ack is a plain publish: the server drops the item from the queue a moment later.
                    snapshot = await idle.call("wait_for_activity", timeout=0)
                    return bool(snapshot["pendingWork"] == {"build": 0})

                await eventually(drained, timeout=10, message="the completed item is still counted")
            else:
                await rt2.service(ControlService).request_shutdown(guid, reason="idle")
                assert (await asyncio.wait_for(waiting, 20))["shutdownRequested"] is True


async def test_reservations_conflict_coexist_expire_and_release(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="r1")) as rt1,
        await Runtime.open(make_settings(agent_id="r2")) as rt2,
        in_process(rt1, TOOLSETS) as a,
        in_process(rt2, TOOLSETS) as b,
    ):
        await a.call("register_agent", agentType="w", handle="ann")
        await b.call("register_agent", agentType="w", handle="ben")
        got = await a.call("reserve_paths", paths=["src/**"], reason="refactor")
        assert got == {"granted": ["src/**"], "conflicts": []}
        clash = await b.call("reserve_paths", paths=["src/a.py", "docs/x.md"])
        assert clash["granted"] == ["docs/x.md"]
        assert [(c["path"], c["holderHandle"]) for c in clash["conflicts"]] == [("src/**", "ann")]
        shared1 = await a.call("reserve_paths", paths=["README.md"], exclusive=False)
        shared2 = await b.call("reserve_paths", paths=["README.md"], exclusive=False)
        assert shared1["granted"] == shared2["granted"] == ["README.md"]
        assert (await a.call("release_paths", paths=["src/**"]))["released"] == ["src/**"]
        assert (await b.call("reserve_paths", paths=["src/a.py"]))["granted"] == ["src/a.py"]
        listed = await a.call("list_reservations", pathPrefix="src")
        assert [r["holderHandle"] for r in listed["reservations"]] == ["ben"]
        await a.call("reserve_paths", paths=["tmp/x"], ttlSeconds=1)
        kv = await rt1.bus.kv(rt1.layout.reservations_bucket)
        key = key_for(rt1.identity.guid, "tmp/x")

        async def gone() -> bool:
            try:
                entry = await kv.get(key)  # straight from the server, no Loom process involved
            except KeyNotFoundError:
                return True
            return not entry.value  # only the server's expiry marker is left

        await eventually(gone, timeout=15, message="reservation did not expire on the server")
        bad = await a.error("reserve_paths", paths=["../../etc"])
        assert bad.code == "INVALID_ARGUMENT" and "paths" in bad.text


async def test_two_agents_reserving_at_once_never_both_win(make_settings: Callable[..., Settings]) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="x1")) as rt1,
        await Runtime.open(make_settings(agent_id="x2")) as rt2,
        in_process(rt1, TOOLSETS) as a,
        in_process(rt2, TOOLSETS) as b,
    ):
        await a.call("register_agent", agentType="w")
        await b.call("register_agent", agentType="w")
        for round_ in range(5):
            path = f"race/{round_}.py"
            ra, rb = await asyncio.gather(
                a.call("reserve_paths", paths=[path]), b.call("reserve_paths", paths=[path])
            )
            assert len(ra["granted"]) + len(rb["granted"]) <= 1
