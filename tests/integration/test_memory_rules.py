"""Pattern's rules through real MCP sessions: caps, core protection, bad input, secrets, ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.memory import MemoryService
from loom.services.memory.rules import SECRET
from tests.mcp_helpers import Agent, in_process
from tests.waiting import eventually

MEMORY = ("memory",)


@pytest.fixture
async def runtime(make_settings: Callable[..., Settings]) -> AsyncIterator[Runtime]:
    """A runtime with an agent id of its own: personal and public memories cross projects."""
    async with await Runtime.open(make_settings(agent_id=f"a-{uuid.uuid4().hex[:10]}")) as rt:
        yield rt


async def stored_ids(agent: Agent) -> set[str]:
    """Ids of the memories this agent can read, less public ones (other tests write those)."""
    exported = (await agent.call("export_memories"))["memories"]
    return {m["memoryId"] for m in exported if m["scope"] != "public"}


async def project_messages(rt: Runtime) -> int:
    bucket = rt.layout.memory_bucket
    await rt.bus.kv(bucket)
    return int((await rt.bus.js.stream_info(f"KV_{bucket.name}")).state.messages)


async def test_caps_answer_storage_full_and_store_nothing(runtime: Runtime) -> None:
    service = runtime.service(MemoryService)
    service.max_per_agent, service.max_core = 4, 2
    async with in_process(runtime, MEMORY) as agent:
        await agent.call("core_memory", content="I review code")
        await agent.call("core_memory", content="I write tests first")
        error = await agent.error("core_memory", content="one core too many")
        assert error.code == "STORAGE_FULL" and "core" in error.text
        await agent.call("remember", content="third")
        await agent.call("remember", content="fourth", scope="personal")
        before = await stored_ids(agent)
        error = await agent.error("remember", content="fifth")
        assert error.code == "STORAGE_FULL" and "4 memories" in error.text
        assert await stored_ids(agent) == before

        service.max_per_agent = 100
        service.max_per_project = await project_messages(runtime)
        assert (await agent.error("remember", content="x", scope="team")).code == "STORAGE_FULL"
        # the project cap doesn't count memories kept outside the project
        await agent.call("remember", content="still fine", scope="personal")


async def test_core_memories_need_force_and_only_the_writer_forgets(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="keeper")) as rt1,
        await Runtime.open(make_settings(agent_id="other")) as rt2,
        in_process(rt1, MEMORY) as keeper,
        in_process(rt2, MEMORY) as other,
    ):
        core = (await keeper.call("core_memory", content="I am the release manager"))["memoryId"]
        error = await keeper.error("forget", memoryId=core)
        assert error.code == "FORBIDDEN" and "force" in error.text
        bulk = await keeper.call("forget_bulk", memoryIds=[core])
        assert bulk["forgotten"] == [] and "FORBIDDEN" in bulk["errors"][0]["error"]
        assert core in await stored_ids(keeper)
        assert (await keeper.call("forget", memoryId=core, force=True))["forgotten"] is True
        assert core not in await stored_ids(keeper)

        team = (await keeper.call("remember_learning", content="retries need jitter"))["memoryId"]
        await rt2.service(MemoryService).start()
        assert (await other.error("forget", memoryId=team)).code in ("FORBIDDEN", "NOT_FOUND")
        # importing over someone else's shared memory is refused, even with overwriteExisting
        exported = (await keeper.call("export_memories", scope="team"))["memories"]
        forged = [exported[0] | {"content": "forged"}]

        async def other_sees_it() -> bool:
            return team in await stored_ids(other)

        await eventually(other_sees_it, timeout=10)
        result = await other.call("import_memories", memories=forged, overwriteExisting=True)
        assert result["imported"] == 0 and "FORBIDDEN" in result["errors"][0]["error"]
        assert (await keeper.call("export_memories", scope="team"))["memories"][0][
            "content"
        ] == "retries need jitter"


@pytest.mark.parametrize(
    "secret",
    [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
        "aws key AKIAIOSFODNN7EXAMPLE here",
        "token ghp_" + "a1" * 18,
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6",
        "openai sk-" + "x" * 30,
    ],
)
async def test_secrets_are_stored_with_a_warning(runtime: Runtime, secret: str) -> None:
    async with in_process(runtime, MEMORY) as agent:
        result = await agent.raw("remember", content=secret)
        assert not result.is_error
        assert result.structured_content is not None and result.structured_content["warnings"]
        assert "Warning" in result.content[0].text  # type: ignore[union-attr]
        assert "warnings" not in await agent.call("remember", content="the login test uses a fake clock")
        summary = (await agent.call("recall_context"))["summary"]
        match = SECRET.search(secret)
        assert match is not None and "[redacted]" in summary and match.group() not in summary


async def test_memory_ids_cannot_reach_other_keys(runtime: Runtime) -> None:
    async with in_process(runtime, MEMORY) as agent:
        for bad in ("a.b", "*", ">", "x y", ""):
            error = await agent.error("forget", memoryId=bad)
            assert error.code == "INVALID_ARGUMENT" and "memoryId" in error.text
        mine = (await agent.call("remember", content="fine", category="longterm"))["memoryId"]
        exported = (await agent.call("export_memories"))["memories"][0]
        result = await agent.call(
            "import_memories", memories=[exported | {"memoryId": "x.>"}, exported | {"memoryId": "ok-1"}]
        )
        assert result["imported"] == 1 and result["errors"][0]["index"] == 0
        assert await stored_ids(agent) == {mine, "ok-1"}


BAD_REMEMBER = st.fixed_dictionaries(
    {"content": st.sampled_from(["", "   ", "x" * (32 * 1024 + 1), "ok"])},
    optional={
        "scope": st.sampled_from(["galaxy", "PRIVATE ", "team", "private"]),
        "category": st.sampled_from(["decisions", "gossip", "core", "recent"]),
        "tags": st.lists(st.sampled_from(["a.b", "*", "ok", "x y", ">"]), max_size=12),
        "priority": st.integers(-2, 6),
        "relatedTo": st.lists(st.sampled_from(["a.b", "ok"]), max_size=2),
        "ttlSeconds": st.integers(-5, 3),
        "bogus": st.just(1),
    },
)
FIELDS = {"content", "scope", "category", "tags", "priority", "relatedTo", "ttlSeconds", "bogus"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=BAD_REMEMBER)
async def test_bad_input_names_the_field_and_stores_nothing(runtime: Runtime, args: dict[str, Any]) -> None:
    async with in_process(runtime, MEMORY) as agent:
        before = await project_messages(runtime), await stored_ids(agent)
        result = await agent.raw("remember", **args)
        if result.is_error:
            text = result.content[0].text  # type: ignore[union-attr]
            assert text.startswith("Error [INVALID_ARGUMENT]: "), text
            field = text.split(": ", 2)[1].split(".")[0].split("[")[0]
            assert field in FIELDS, text
            assert (await project_messages(runtime), await stored_ids(agent)) == before
        else:
            assert result.structured_content is not None
            assert result.structured_content["memoryId"] in await stored_ids(agent)
