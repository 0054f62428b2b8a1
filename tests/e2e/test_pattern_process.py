"""``pattern`` as separate OS processes over stdio: concurrent writers, identity, personal scope."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.memory import MemoryService
from tests.mcp_helpers import subprocess_agent
from tests.waiting import eventually

PER_WRITER = 15


async def test_three_pattern_processes_write_at_once_and_lose_nothing(
    bin_path: Callable[[str], str],
    agent_env: Callable[..., dict[str, str]],
    make_settings: Callable[..., Settings],
) -> None:
    async def write(name: str) -> list[str]:
        async with subprocess_agent(bin_path("pattern"), agent_env(LOOM_AGENT_ID=name)) as agent:
            ids = []
            for i in range(PER_WRITER):
                reply = await agent.call("remember", content=f"{name} learned fact {i}", scope="team",
                                         category="learnings", tags=[name])  # fmt: skip
                ids.append(reply["memoryId"])
            bulk = await agent.call(
                "remember_bulk", memories=[{"content": f"{name} note", "scope": "shared"}]
            )
            return ids + bulk["memoryIds"]

    written = await asyncio.gather(*(write(f"writer{i}") for i in range(3)))
    expected = {memory_id for ids in written for memory_id in ids}
    assert len(expected) == 3 * (PER_WRITER + 1)

    async with await Runtime.open(make_settings(agent_id="reader")) as reader:
        service = reader.service(MemoryService)

        async def all_there() -> bool:
            return {m.memory_id for m in await service.select(scopes=["team"])} == expected

        await eventually(all_there, timeout=20)
        ranked = await service.search("writer1 learned fact", tags=["writer1"])
        assert {m.memory_id for m, _ in ranked} == set(written[1][:PER_WRITER])


async def test_pattern_and_warp_agree_and_personal_memories_follow_the_agent(
    bin_path: Callable[[str], str], agent_env: Callable[..., dict[str, str]]
) -> None:
    here = agent_env(LOOM_AGENT_ID="travelling-agent")
    elsewhere = agent_env(LOOM_AGENT_ID="travelling-agent", LOOM_PROJECT_ID="another-project-p")
    stranger = agent_env(LOOM_AGENT_ID="someone-else", LOOM_PROJECT_ID="another-project-p")
    async with (
        subprocess_agent(bin_path("warp"), here) as warp,
        subprocess_agent(bin_path("pattern"), here) as pattern,
    ):
        guid = (await warp.call("register_agent", agentType="dev"))["guid"]
        habit = (await pattern.call("remember", content="I prefer small commits", scope="personal"))[
            "memoryId"
        ]
        secret = (await pattern.call("remember", content="private to this project"))["memoryId"]
        recalled = (await pattern.call("recall_context"))["memories"]
        assert {m["agentId"] for m in recalled if m["memoryId"] in (habit, secret)} == {guid}

    async with (
        subprocess_agent(bin_path("pattern"), elsewhere) as same_agent,
        subprocess_agent(bin_path("pattern"), stranger) as other,
    ):
        seen = {m["memoryId"] for m in (await same_agent.call("recall_context"))["memories"]}
        assert habit in seen and secret not in seen
        assert habit not in {m["memoryId"] for m in (await other.call("recall_context"))["memories"]}
        assert (await other.error("forget", memoryId=habit)).code == "NOT_FOUND"
