"""Pattern latency at 10k and 100k memories against a real nats-server.

    .venv/bin/python bench/memory_bench.py [--sizes 10000,100000]

Memories are written with pipelined KV publishes (the fast path for seeding); then a fresh
process-level reader loads them from its KV watches and we time remember, recall and search,
both on the service and through a real in-memory MCP session.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp import Client

from loom.bus.embedded import EmbeddedNats
from loom.config import load_settings
from loom.mcp.server import build_server
from loom.models.base import encode, utcnow
from loom.models.memory import Memory
from loom.runtime import Runtime
from loom.services.memory import Draft, MemoryService

WORDS = [f"w{i}" for i in range(20_000)] + "nats lease flaky login deploy cache index retry".split()


KINDS = ["longterm", "learnings", "recent"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
    if rng.random() < 0.1:  # one word in a tenth of all memories: a broad query
        words.append("common")
    return " ".join(words)


async def seed(rt: Runtime, count: int, rng: random.Random) -> float:
    bucket = rt.layout.memory_bucket
    await rt.bus.kv(bucket)
    started = time.perf_counter()
    for start in range(0, count, 2000):
        batch = []
        for i in range(start, min(count, start + 2000)):
            memory = Memory(
                memory_id=uuid.uuid4().hex, scope="team", category=rng.choice(KINDS),
                content=sentence(rng), tags=[f"t{i % 50}"], agent_id=f"seed{i % 20}",
                project_id=rt.settings.project_id, created_at=utcnow(),
            )  # fmt: skip
            subject = f"$KV.{bucket.name}.team.{memory.memory_id}"
            batch.append(rt.bus.js.publish(subject, encode(memory)))
        await asyncio.gather(*batch)
    return time.perf_counter() - started


async def timed(runs: int, call: Callable[[int], Awaitable[Any]]) -> str:
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms"


async def run(url: str, size: int) -> None:
    rng = random.Random(size)
    project = f"bench-{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        env={"NATS_URL": url, "LOOM_PROJECT_ID": project}, config_path=None, agent_id="bench"
    )
    async with await Runtime.open(settings) as writer:
        seconds = await seed(writer, size, rng)
    print(f"\n== {size:,} memories (seeded in {seconds:.1f} s, pipelined publishes)")
    async with await Runtime.open(settings) as rt:
        service = rt.service(MemoryService)
        started = time.perf_counter()
        await service.start()
        print(f"load from KV watch: {time.perf_counter() - started:.2f} s, {len(service.cache):,} cached")
        print(
            "remember (service):", await timed(200, lambda i: service.remember(Draft(content=sentence(rng))))
        )
        print("recall limit 50 (service):", await timed(200, lambda i: service.select(limit=50)))
        print(
            "recall tag filter (service):", await timed(200, lambda i: service.select(tags=["t7"], limit=50))
        )
        print("search rare words (service):", await timed(200, lambda i: service.search(sentence(rng)[:12])))
        print("search broad word (service):", await timed(50, lambda i: service.search("common retry")))
        async with Client(build_server(rt, ["memory"])) as client:
            print(
                "remember (MCP):",
                await timed(200, lambda i: client.call_tool("remember", {"content": sentence(rng)})),
            )
            print("recall_context (MCP):", await timed(100, lambda i: client.call_tool("recall_context", {})))
            print(
                "search_memories (MCP):",
                await timed(
                    200, lambda i: client.call_tool("search_memories", {"query": "flaky login lease"})
                ),
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS so far: {rss:.0f} MiB")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        async with EmbeddedNats(data_dir=Path(tmp)) as server:
            for size in sizes:
                await run(server.url, size)


if __name__ == "__main__":
    asyncio.run(main())
