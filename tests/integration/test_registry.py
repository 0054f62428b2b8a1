"""Registry through real MCP sessions: guids, presence, visibility, CAS, bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loom.config import Settings
from loom.models.agent import AgentRecord
from loom.runtime import Runtime
from loom.services.registry import RegistryService
from tests.mcp_helpers import in_process
from tests.waiting import eventually

TOOLSETS = ("identity", "registry")


async def test_register_discover_and_reregister_keeps_the_guid(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        first = await agent.call(
            "register_agent", agentType="Senior Dev_Ops", capabilities=["Review", "python"]
        )
        assert first["handle"] == "senior-dev-ops"
        assert first["capabilities"] == ["review", "python"]
        again = await agent.call("register_agent", agentType="dev", capabilities=["go"], handle="ann")
        assert again["guid"] == first["guid"] and again["handle"] == "ann"
        found = await agent.call("discover_agents", capability="go")
        assert [a["guid"] for a in found["agents"]] == [first["guid"]]
        assert found["agents"][0]["status"] == "online"
        me = await agent.call("get_my_handle")
        assert me == {"handle": "ann", "guid": first["guid"]}


async def test_same_agent_id_gets_its_guid_back(make_settings: Callable[..., Settings]) -> None:
    guids = []
    for _ in range(2):
        async with (
            await Runtime.open(make_settings(agent_id="builder-7")) as rt,
            in_process(rt, TOOLSETS) as agent,
        ):
            guids.append((await agent.call("register_agent", agentType="dev"))["guid"])
    assert guids[0] == guids[1]


async def test_same_handle_and_host_after_going_offline_gets_the_guid_back(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    async with await Runtime.open(make_settings(cwd=tmp_path / "a")) as rt, in_process(rt, TOOLSETS) as agent:
        first = (await agent.call("register_agent", agentType="dev", handle="bob"))["guid"]
    async with await Runtime.open(make_settings(cwd=tmp_path / "b")) as rt, in_process(rt, TOOLSETS) as agent:
        second = (await agent.call("register_agent", agentType="dev", handle="bob"))["guid"]
    assert first == second


async def test_a_second_live_process_with_the_same_identity_gets_its_own_guid(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings()) as rt1,
        await Runtime.open(make_settings()) as rt2,
        in_process(rt1, TOOLSETS) as a,
        in_process(rt2, TOOLSETS) as b,
    ):
        ga = (await a.call("register_agent", agentType="dev"))["guid"]
        gb = (await b.call("register_agent", agentType="dev"))["guid"]
        assert ga != gb


async def test_presence_expires_on_the_server_when_beats_stop(make_settings: Callable[..., Settings]) -> None:
    watcher_rt = await Runtime.open(make_settings(heartbeat_seconds=1))
    dying = await Runtime.open(make_settings(heartbeat_seconds=1, agent_id="doomed"))
    async with in_process(dying, TOOLSETS) as agent:
        guid = (await agent.call("register_agent", agentType="dev"))["guid"]
    async with in_process(watcher_rt, TOOLSETS) as watcher:
        await watcher.call("register_agent", agentType="watcher")

        async def status() -> str:
            return str((await watcher.call("get_agent_info", guid=guid))["status"])

        # The watcher's directory is fed by a watch: the beat reaches it a moment after the write.
        await eventually(lambda: _is(status, "online"), timeout=10, message="registered agent not online")
        # Simulate a crash: stop the heartbeat and drop the connection without deregistering.
        for task in list(dying._tasks):
            task.cancel()
        await dying.bus.nc.close()
        await eventually(lambda: _is(status, "offline"), timeout=15, message="crashed agent still online")
        presence = await watcher_rt.bus.kv(watcher_rt.layout.presence_bucket)

        async def beat_gone() -> bool:
            # The server TTL is rounded up to whole seconds: the key may outlive the cutoff a little.
            return guid not in await _keys(presence)

        await eventually(beat_gone, timeout=10, message="presence key still on the server")
    await watcher_rt.close()


async def _is(probe: Callable[[], Any], expected: str) -> bool:
    return bool(await probe() == expected)


async def _keys(kv: Any) -> list[str]:
    try:
        return list(await kv.keys())
    except Exception:  # no keys at all
        return []


async def test_deregister_is_offline_at_once(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        guid = (await agent.call("register_agent", agentType="dev"))["guid"]
        assert await agent.call("deregister_agent") == {"guid": guid, "status": "offline"}
        info = await agent.call("get_agent_info", guid=guid)
        assert info["status"] == "offline"
        assert (await agent.call("discover_agents"))["agents"] == []
        assert len((await agent.call("discover_agents", includeOffline=True))["agents"]) == 1


async def test_an_agent_reads_its_own_changes_at_once(runtime: Runtime) -> None:
    """Every change is visible to the next read from the same session, with no waiting."""
    async with in_process(runtime, TOOLSETS) as agent:
        guid = (await agent.call("register_agent", agentType="dev"))["guid"]
        for round_ in range(10):
            status = "busy" if round_ % 2 else "online"
            await agent.call("update_presence", status=status, currentTaskCount=round_)
            info = await agent.call("get_agent_info", guid=guid)
            assert (info["status"], info["currentTaskCount"]) == (status, round_)
            await agent.call("deregister_agent")
            assert (await agent.call("get_agent_info", guid=guid))["status"] == "offline"
            await agent.call("register_agent", agentType="dev")
            assert [a["guid"] for a in (await agent.call("discover_agents"))["agents"]] == [guid]


async def test_concurrent_updates_never_lose_each_other(make_settings: Callable[..., Settings]) -> None:
    async with await Runtime.open(make_settings()) as rt, in_process(rt, TOOLSETS) as agent:
        guid = (await agent.call("register_agent", agentType="dev"))["guid"]
        others = [await Runtime.open(make_settings()) for _ in range(4)]
        try:

            def add(tag: str) -> Callable[[AgentRecord], AgentRecord]:
                return lambda r: r.model_copy(update={"metadata": {**r.metadata, tag: True}})

            await asyncio.gather(
                *(
                    o.service(RegistryService).update(guid, add(f"k{i}-{j}"))
                    for i, o in enumerate(others)
                    for j in range(5)
                )
            )
            record = await others[0].service(RegistryService).update(guid, lambda r: None)
            assert len(record.metadata) == 20
        finally:
            for other in others:
                await other.close()


async def test_visibility_private_and_user_only(make_settings: Callable[..., Settings]) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="hidden")) as rt1,
        await Runtime.open(make_settings(agent_id="seeker")) as rt2,
        in_process(rt1, TOOLSETS) as hidden,
        in_process(rt2, TOOLSETS) as seeker,
    ):
        guid = (await hidden.call("register_agent", agentType="dev", visibility="private"))["guid"]
        await seeker.call("register_agent", agentType="dev")
        await eventually(lambda: _count(seeker, 1), message="seeker not listed")
        assert guid not in [a["guid"] for a in (await seeker.call("discover_agents"))["agents"]]
        assert (await seeker.error("get_agent_info", guid=guid)).code == "NOT_FOUND"
        assert guid in [a["guid"] for a in (await hidden.call("discover_agents"))["agents"]]


async def _count(agent: Any, n: int) -> bool:
    return len((await agent.call("discover_agents"))["agents"]) >= n


async def test_credentials_never_reach_the_registry(make_settings: Callable[..., Settings]) -> None:
    async with await Runtime.open(make_settings()) as rt, in_process(rt, TOOLSETS) as agent:
        error = await agent.error("register_agent", agentType="dev", metadata={"apiToken": "abc"})
        assert error.code == "INVALID_ARGUMENT" and "metadata" in error.text and "abc" not in error.text
        guid = (await agent.call("register_agent", agentType="dev"))["guid"]
        agents = await rt.bus.kv(rt.layout.agents_bucket)
        stored = (await agents.get(guid)).value.decode()
        assert "nats://" not in stored and "password" not in stored.lower()


BAD_REGISTER = st.fixed_dictionaries(
    {"agentType": st.sampled_from(["", " ", "x" * 65, "ok"])},
    optional={
        "capabilities": st.lists(st.sampled_from(["*", ">", "a.b", "x y", "_int", "ok", "A"]), max_size=3),
        "visibility": st.sampled_from(["public", "secret", ""]),
        "maxConcurrentTasks": st.integers(-5, 200),
        "handle": st.sampled_from(["ok", "no spaces", "dots.no", ""]),
        "bogus": st.just(1),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=BAD_REGISTER)
async def test_bad_registration_names_the_field_and_stores_nothing(
    runtime: Runtime, args: dict[str, Any]
) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        result = await agent.raw("register_agent", **args)
        agents = await runtime.bus.kv(runtime.layout.agents_bucket)
        if result.is_error:
            text = result.content[0].text  # type: ignore[union-attr]
            assert text.startswith("Error [INVALID_ARGUMENT]: ")
            assert text.split(": ", 2)[1].split(".")[0].split("[")[0] in (
                "agentType capabilities visibility maxConcurrentTasks handle bogus".split()
            )
        else:
            assert (await agents.get(result.structured_content["guid"])).value  # type: ignore[index]


async def test_public_agents_are_visible_from_other_projects(make_settings: Callable[..., Settings]) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="pub")) as rt1,
        await Runtime.open(make_settings(agent_id="prj")) as rt2,
        await Runtime.open(make_settings(agent_id="far", project_id="far-away-proj")) as rt3,
        in_process(rt1, TOOLSETS) as public,
        in_process(rt2, TOOLSETS) as project_only,
        in_process(rt3, TOOLSETS) as stranger,
    ):
        pub = (
            await public.call("register_agent", agentType="dev", visibility="public", capabilities=["help"])
        )["guid"]
        prj = (await project_only.call("register_agent", agentType="dev"))["guid"]
        await stranger.call("register_agent", agentType="dev")

        async def sees_public() -> bool:
            return pub in [
                a["guid"] for a in (await stranger.call("discover_agents", capability="help"))["agents"]
            ]

        await eventually(sees_public, timeout=10)
        assert prj not in [a["guid"] for a in (await stranger.call("discover_agents"))["agents"]]
        await public.call("deregister_agent")

        async def gone() -> bool:
            return not await sees_public()

        await eventually(gone, timeout=10)


async def test_a_different_handle_from_the_same_place_is_a_different_agent(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    async with await Runtime.open(make_settings(cwd=tmp_path)) as rt, in_process(rt, TOOLSETS) as agent:
        ada = (await agent.call("register_agent", agentType="dev", handle="ada"))["guid"]
    async with await Runtime.open(make_settings(cwd=tmp_path)) as rt, in_process(rt, TOOLSETS) as agent:
        bob = (await agent.call("register_agent", agentType="dev", handle="bob"))["guid"]
    async with await Runtime.open(make_settings(cwd=tmp_path)) as rt, in_process(rt, TOOLSETS) as agent:
        again = (await agent.call("register_agent", agentType="dev", handle="bob"))["guid"]
    assert ada != bob and again == bob


async def test_discovery_follows_every_change_of_an_agent(make_settings: Callable[..., Settings]) -> None:
    """Discovery answers from cached views; each change of record, beat or liveness shows."""
    async with (
        # The seer counts a beat as live for 3 x 3 s, far longer than a step of this test even on
        # a loaded machine; the other agent beats once a minute (and on register and update), so
        # it goes offline in the seer's eyes about 9 s after its last change.
        await Runtime.open(make_settings(agent_id="seer", heartbeat_seconds=3)) as seer_rt,
        in_process(seer_rt, TOOLSETS) as seer,
        await Runtime.open(make_settings(agent_id="moving")) as moving_rt,
        in_process(moving_rt, TOOLSETS) as moving,
    ):
        await seer.call("register_agent", agentType="seer")
        guid = (await moving.call("register_agent", agentType="dev", capabilities=["go"]))["guid"]

        async def shown() -> dict[str, Any] | None:
            found = await seer.call("discover_agents", includeOffline=True)
            return next((a for a in found["agents"] if a["guid"] == guid), None)

        await eventually(lambda: _shows(shown, capabilities=["go"]))
        await moving.call("update_presence", status="busy", capabilities=["rust"])
        await eventually(lambda: _shows(shown, status="busy", capabilities=["rust"]))
        # No beat for longer than the seer's presence TTL: offline, with nothing new in a bucket.
        await eventually(lambda: _shows(shown, status="offline"), timeout=25)
        assert guid not in [a["guid"] for a in (await seer.call("discover_agents"))["agents"]]


async def _shows(probe: Callable[[], Any], **expected: Any) -> bool:
    found = await probe()
    return found is not None and all(found[k] == v for k, v in expected.items())
