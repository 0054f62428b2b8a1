"""Scenario 5: Pattern's remember, recall_context and search_memories at 10,000 and 100,000.

Memories are seeded with pipelined KV publishes; then a fresh runtime loads them from its KV
watches (timed: that is Pattern's start-up) and we time the tools through a real MCP session
(in memory, so the figure is the server's work plus the protocol) beside the no-op floor
(``get_my_handle``) of the same session, and the service calls alone.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client

from bench.harness import Row, Stats, at_most, fmt_ms, interleaved
from bench.seed import pipelined
from bench.stack import project, settings
from loom.mcp.server import build_server
from loom.models.base import encode, utcnow
from loom.models.memory import Memory
from loom.runtime import Runtime
from loom.services.memory import Draft, MemoryService

SCENARIO = "5 memory"
WORDS = [f"w{i}" for i in range(20_000)] + "nats lease flaky login deploy cache index retry".split()
KINDS = ["longterm", "learnings", "recent"]
BROAD = "common retry"  # "common" is in a tenth of all memories


def sizes(quick: bool) -> tuple[tuple[int, ...], int]:
    """(memory counts, calls per tool)."""
    return ((2_000, 10_000), 60) if quick else ((10_000, 100_000), 300)


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
    if rng.random() < 0.1:
        words.append("common")
    return " ".join(words)


def query(rng: random.Random, i: int) -> str:
    """Mostly two or three rare words; every tenth query a broad one."""
    return BROAD if i % 10 == 0 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 3)))


async def seed(rt: Runtime, count: int, rng: random.Random) -> float:
    bucket = rt.layout.memory_bucket
    await rt.bus.kv(bucket)
    project_id = rt.settings.project_id

    def publish(i: int) -> Awaitable[Any]:
        memory = Memory(
            memory_id=uuid.uuid4().hex, scope="team", category=rng.choice(KINDS), content=sentence(rng),
            tags=[f"t{i % 50}"], agent_id=f"seed{i % 20}", project_id=project_id, created_at=utcnow(),
        )  # fmt: skip
        return rt.bus.js.publish(f"$KV.{bucket.name}.team.{memory.memory_id}", encode(memory))

    started = time.perf_counter()
    await pipelined(publish(i) for i in range(count))
    return time.perf_counter() - started


def tool_calls(client: Client, rng: random.Random) -> dict[str, Callable[[int], Awaitable[Any]]]:
    async def call(tool: str, **arguments: Any) -> None:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, result

    return {
        "floor": lambda i: call("get_my_handle"),
        "remember": lambda i: call("remember", content=sentence(rng)),
        "recall_context": lambda i: call("recall_context"),
        "search_memories": lambda i: call("search_memories", query=query(rng, i)),
    }


def service_calls(service: MemoryService, rng: random.Random) -> dict[str, Callable[[int], Awaitable[Any]]]:
    return {
        "remember": lambda i: service.remember(Draft(content=sentence(rng))),
        "recall_context": lambda i: service.select(limit=50),
        "search_memories": lambda i: service.search(query(rng, i)),
    }


async def one_size(url: str, count: int, runs: int) -> tuple[float, dict[str, Stats], dict[str, Stats]]:
    rng = random.Random(count)
    project_id = project("mem")
    async with await Runtime.open(settings(url, project_id, agent_id="seeder")) as writer:
        await seed(writer, count, rng)
    async with await Runtime.open(settings(url, project_id, agent_id="bench-pattern")) as rt:
        service = rt.service(MemoryService)
        started = time.perf_counter()
        await service.start()
        load = time.perf_counter() - started
        local = await interleaved(service_calls(service, rng), runs, rounds=3)
        async with Client(build_server(rt, ["identity", "memory"])) as client:
            mcp = await interleaved(tool_calls(client, rng), runs, rounds=3)
    return load, mcp, local


def rows(count: int, load: float, mcp: dict[str, Stats], local: dict[str, Stats]) -> list[Row]:
    floor = mcp["floor"]
    n = f"{count:,} memories"

    def tool(name: str, goal: float | None = None) -> Row:
        return Row(
            SCENARIO, f"{name} p99, {n}", mcp[name].p99, "ms", floor.p99, "no-op floor p99",
            at_most(goal, "ms") if goal else None,
            f"p50 {fmt_ms(mcp[name].p50)}; service {local[name].brief()}", higher_is_better=False,
            extra={"mcp": mcp[name].figures(), "service": local[name].figures(), "floor": floor.figures()},
        )  # fmt: skip

    return [
        Row(SCENARIO, f"load at start (KV watch replay), {n}", load, "s", higher_is_better=False),
        tool("remember"),
        tool("recall_context"),
        tool("search_memories", 50 if count >= 100_000 else None),
    ]


async def run(url: str, quick: bool) -> list[Row]:
    counts, runs = sizes(quick)
    found: list[Row] = []
    for count in counts:
        load, mcp, local = await one_size(url, count, runs)
        found += rows(count, load, mcp, local)
    return found
