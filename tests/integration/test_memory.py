"""Pattern through real MCP sessions: scopes, expiry on the server, ranking, ordering, import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats.js.errors import KeyNotFoundError

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.memory.service import MemoryService
from loom.services.memory.store import Source
from tests.mcp_helpers import in_process
from tests.waiting import eventually

MEMORY = ("memory",)


async def test_private_and_personal_stay_private_team_stays_in_the_project(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="ann")) as rt1,
        await Runtime.open(make_settings(agent_id="ben")) as rt2,
        await Runtime.open(make_settings(agent_id="cat", project_id="other-proj-m")) as rt3,
        in_process(rt1, MEMORY) as ann,
        in_process(rt2, MEMORY) as ben,
        in_process(rt3, MEMORY) as cat,
    ):
        private = (await ann.call("remember", content="my private note"))["memoryId"]
        personal = (await ann.call("remember", content="my personal habit", scope="personal"))["memoryId"]
        team = (
            await ann.call("remember", content="team decision: use NATS", scope="team", category="decisions")
        )["memoryId"]
        public = (await ann.call("remember", content="public tip", scope="public", category="learnings"))[
            "memoryId"
        ]

        async def ids(agent: object) -> set[str]:
            return {m["memoryId"] for m in (await agent.call("recall_context"))["memories"]}  # type: ignore[attr-defined]

        assert {private, personal, team, public} <= await ids(ann)
        await eventually(lambda: _has(ids(ben), team), timeout=10)
        ben_sees = await ids(ben)
        assert private not in ben_sees and personal not in ben_sees and public in ben_sees
        await eventually(lambda: _has(ids(cat), public), timeout=10)
        assert team not in await ids(cat)
        assert (await ben.error("forget", memoryId=team)).code == "FORBIDDEN"


async def _has(found: object, memory_id: str) -> bool:
    return memory_id in await found  # type: ignore[operator]


async def test_expiry_is_enforced_by_the_server(runtime: Runtime) -> None:
    async with in_process(runtime, MEMORY) as agent:
        memory_id = (await agent.call("remember", content="short lived", ttlSeconds=2))["memoryId"]
        kv = await runtime.bus.kv(runtime.layout.memory_bucket)
        key = f"private.{runtime.identity.guid}.{memory_id}"
        assert (await kv.get(key)).value

        async def gone_from_server() -> bool:
            try:
                entry = await kv.get(key)
            except KeyNotFoundError:
                return True
            return not entry.value

        await eventually(gone_from_server, timeout=15)
        recalled = await agent.call("recall_context")
        assert memory_id not in [m["memoryId"] for m in recalled["memories"]]


async def test_the_relevant_memory_ranks_first_and_recall_is_ordered(runtime: Runtime) -> None:
    async with in_process(runtime, MEMORY) as agent:
        for i in range(150):
            await agent.call(
                "remember", content=f"routine note {i} about lunch and meetings", category="longterm"
            )
        target = (await agent.call("remember", content="The flaky login test fails when the NATS lease lapses",
                                    tags=["flaky"], category="longterm"))["memoryId"]  # fmt: skip
        ranked = (await agent.call("search_memories", query="why is the login test flaky"))["memories"]
        assert ranked[0]["memoryId"] == target and ranked[0]["score"] > 0
        await agent.call("core_memory", content="I am the reviewer")
        await agent.call("remember_task", content="finish the release")
        recalled = await agent.call("recall_context", limit=200)
        categories = [m["category"] for m in recalled["memories"]]
        assert categories[0] == "core" and categories[-1] == "tasks"
        assert len(recalled["summary"].encode()) <= 4096
        assert (await agent.error("forget", memoryId=recalled["memories"][0]["memoryId"])).code == "FORBIDDEN"
        core_id = recalled["memories"][0]["memoryId"]
        assert (await agent.error("commit_insight", memoryId=core_id)).code == "INVALID_ARGUMENT"


async def test_export_import_round_trip_and_bad_input(make_settings: Callable[..., Settings]) -> None:
    async with await Runtime.open(make_settings(agent_id="exp")) as rt, in_process(rt, MEMORY) as agent:
        await agent.call("remember", content="keep me", tags=["a"], category="longterm")
        exported = (await agent.call("export_memories", scope="private"))["memories"]
        assert (await agent.call("import_memories", memories=exported)) == {
            "imported": 0,
            "skipped": 1,
            "errors": [],
        }
        assert (await agent.call("import_memories", memories=exported, overwriteExisting=True))[
            "imported"
        ] == 1
        assert (await agent.call("export_memories", scope="private"))["memories"] == exported
        assert (await agent.error("remember", content="x", scope="galaxy")).code == "INVALID_ARGUMENT"
        assert (await agent.error("remember", content="x", category="decisions")).code == "INVALID_ARGUMENT"
        assert (await agent.error("remember", content="x", tags=["a.b"])).code == "INVALID_ARGUMENT"
        warned = await agent.call("remember", content="token ghp_" + "a" * 36)
        assert warned["warnings"]


async def test_concurrent_writers_lose_nothing(make_settings: Callable[..., Settings]) -> None:
    runtimes = [await Runtime.open(make_settings(agent_id=f"writer{i}")) for i in range(3)]
    try:

        async def write(rt: Runtime) -> None:
            async with in_process(rt, MEMORY) as agent:
                for i in range(20):
                    await agent.call("remember", content=f"fact {i}", scope="team", category="learnings")

        await asyncio.gather(*(write(rt) for rt in runtimes))
        async with in_process(runtimes[0], MEMORY) as reader:

            async def all_there() -> bool:
                return (
                    len((await reader.call("recall_context", scopes=["team"], limit=200))["memories"]) == 60
                )

            await eventually(all_there, timeout=15)
    finally:
        for rt in runtimes:
            await rt.close()


async def test_commit_insight_moves_across_scopes_and_stops_expiry(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="mover")) as rt1,
        await Runtime.open(make_settings(agent_id="watcher")) as rt2,
        in_process(rt1, MEMORY) as mover,
        in_process(rt2, MEMORY) as watcher,
    ):
        note = await mover.call("remember_task", content="nats needs 2.11 for per-message TTL")
        assert note["expiresAt"] is not None
        promoted = await mover.call("commit_insight", memoryId=note["memoryId"], scope="team")
        assert promoted == {**promoted, "memoryId": note["memoryId"], "scope": "team", "category": "longterm"}
        assert promoted["expiresAt"] is None
        kv = await rt1.bus.kv(rt1.layout.memory_bucket)
        with pytest.raises(KeyNotFoundError):
            await kv.get(f"private.{rt1.identity.guid}.{note['memoryId']}")

        async def watcher_sees_it() -> bool:
            found = (await watcher.call("recall_context", categories=["longterm"]))["memories"]
            return [m["memoryId"] for m in found] == [note["memoryId"]]

        await eventually(watcher_sees_it, timeout=10)
        # the purge of the old private copy must not hide the moved one (same id, new scope)
        mine = (await mover.call("recall_context", scopes=["private", "team"]))["memories"]
        assert [(m["memoryId"], m["scope"]) for m in mine] == [(note["memoryId"], "team")]

        shared = await mover.call("share_learning", memoryId=note["memoryId"], keepOriginal=False)
        assert shared["scope"] == "team" and shared["memoryId"] != note["memoryId"]
        assert (await mover.error("forget", memoryId=note["memoryId"])).code == "NOT_FOUND"


async def test_summary_is_bounded_ordered_and_says_what_is_left_out(runtime: Runtime) -> None:
    async with in_process(runtime, MEMORY) as agent:
        await agent.call(
            "remember_bulk",
            memories=[{"content": f"fact {i}: " + "detail " * 60, "category": "longterm"} for i in range(60)],
        )
        await agent.call("core_memory", content="I am the build engineer")
        recalled = await agent.call("recall_context", limit=200, scopes=["private"])  # others write public
        summary = recalled["summary"]
        assert len(summary.encode()) <= 4096
        assert summary.startswith("Who you are (core):\n- I am the build engineer")
        assert "Long-term knowledge:" in summary and "more; use search_memories" in summary
        longterm = [m for m in recalled["memories"] if m["category"] == "longterm"]
        assert [m["createdAt"] for m in longterm] == sorted((m["createdAt"] for m in longterm), reverse=True)
        assert recalled["counts"] == {"private": 61}
        since = longterm[9]["createdAt"]
        assert (
            len((await agent.call("recall_context", since=since, categories=["longterm"]))["memories"]) >= 10
        )
        assert (await agent.call("recall_context", tags=["nothing"]))["memories"] == []


async def test_cleanup_and_health_report_counts(runtime: Runtime) -> None:
    async with in_process(runtime, MEMORY) as agent:
        # Alive for the count below even on a loaded machine; the sweep waits for its expiry.
        await agent.call("remember", content="brief", ttlSeconds=3)
        await agent.call("remember", content="lasting", category="longterm")
        health = await agent.call("pattern_health")
        assert health["status"] == "ok" and health["nats"] == "connected"
        assert health["memoryCounts"].get("private") == 2
        expired = 0

        async def swept() -> bool:
            nonlocal expired
            expired += (await agent.call("cleanup"))["expired"]
            return expired == 1

        await eventually(swept, timeout=15, message="the 3 s memory was not swept")
        assert (await agent.call("pattern_health"))["memoryCounts"].get("private") == 1
        assert (await agent.call("cleanup")) == {"expired": 0, "trimmed": 0}


class PrivateWatch:
    """The private-scope memory watch, optionally held back until the test lets entries through.

    Held back, it applies an agent's write only after the agent has written again: the order
    a busy server can deliver in, and the one where a cache that trusts the watch goes stale.
    On an idle machine the real watch is prompt and that order (almost) never happens.
    """

    def __init__(self, late: bool) -> None:
        self.late = late
        self.allowed = 0  # live entries (after the initial load) the watch may apply
        self.applied = 0
        self.changed = asyncio.Condition()

    async def allow(self, count: int) -> None:
        """Let the first ``count`` live entries through and wait until they are applied."""
        if self.late:
            async with asyncio.timeout(10), self.changed:
                self.allowed = count
                self.changed.notify_all()
                await self.changed.wait_for(lambda: self.applied >= count)

    async def entries(self, watcher: Any) -> AsyncIterator[Any]:
        loaded = False
        async for entry in watcher:
            if loaded:
                async with self.changed:
                    await self.changed.wait_for(lambda: self.allowed > self.applied)
            yield entry  # the service applies it before asking for the next one
            if loaded:
                async with self.changed:
                    self.applied += 1
                    self.changed.notify_all()
            loaded = loaded or entry is None or entry.delta == 0


@pytest.fixture(params=[False, True], ids=["prompt-watch", "late-watch"])
def private_watch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> PrivateWatch:
    watch = PrivateWatch(late=request.param)
    follow = MemoryService._follow

    async def follow_private_late(self: MemoryService, watcher: Any, source: Source, loaded: Any) -> None:
        await follow(self, watch.entries(watcher) if source.scope == "private" else watcher, source, loaded)

    if watch.late:
        monkeypatch.setattr(MemoryService, "_follow", follow_private_late)
    return watch


async def test_each_read_sees_the_agents_latest_write(runtime: Runtime, private_watch: PrivateWatch) -> None:
    """A watch entry older than the agent's own later write or forget never shows."""
    async with in_process(runtime, MEMORY) as agent:
        memory_id = (await agent.call("remember", content="version 0", category="longterm"))["memoryId"]
        for i in range(1, 21):
            await agent.call("commit_insight", memoryId=memory_id, newContent=f"version {i}")
            await private_watch.allow(i)  # the watch applies "version {i - 1}" only now
            recalled = (await agent.call("recall_context", scopes=["private"]))["memories"]
            assert [m["content"] for m in recalled] == [f"version {i}"]
        for i in range(20):
            fleeting = (await agent.call("remember", content=f"fleeting {i}"))["memoryId"]
            await agent.call("forget", memoryId=fleeting)
            await private_watch.allow(22 + 2 * i)  # ... and the write of what was just forgotten
            assert (await agent.error("forget", memoryId=fleeting)).code == "NOT_FOUND"
