"""Scenario 2: the work pipeline through the services (no MCP) beside raw nats-py.

Loom: one offerer and 8 competing workers (8 runtimes, 8 connections), offer → claim →
complete. Raw: the same shape with nats-py alone on a work-queue stream: pipelined publish,
8 workers sharing one durable pull consumer, batched fetch + ack.

Two figures: throughput with everything offered at once, and the claim latency when items
are offered at a steady 100/s (from the start of the offer to the worker holding the item,
for both sides alike).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable

import nats
from nats.js.api import RetentionPolicy, StreamConfig

from bench.harness import Row, Stats, at_least_ratio, at_most, fmt_ms, stats
from bench.stack import project, runtimes, settings
from loom.runtime import Runtime
from loom.services.registry import Registration, RegistryService
from loom.services.work import WorkService, WorkSpec

SCENARIO = "2 work"
WORKERS = 8
CAPABILITY = "pipe"
OFFERS_IN_FLIGHT = 32
PACED_RATE = 100.0


def sizes(quick: bool) -> tuple[int, float]:
    """(items for throughput, seconds of paced offering)."""
    return (1_000, 3.0) if quick else (10_000, 10.0)


class Tally:
    """Shared by the workers of one run: how many are done and when each was claimed."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.done = 0
        self.finished = asyncio.Event()
        self.submitted: dict[str, float] = {}
        self.latency_ms: list[float] = []

    def claimed(self, item_id: str) -> None:
        started = self.submitted.get(item_id)
        if started is not None:
            self.latency_ms.append((time.perf_counter() - started) * 1000)

    def completed(self) -> None:
        self.done += 1
        if self.done >= self.target:
            self.finished.set()


async def offer_all(count: int, offer: Callable[[int], Awaitable[None]], rate: float | None) -> None:
    """Offer ``count`` items: as fast as possible (bounded in flight), or at ``rate`` per second."""
    if rate is not None:
        start = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            await offer(i)
        return
    gate = asyncio.Semaphore(OFFERS_IN_FLIGHT)

    async def one(i: int) -> None:
        async with gate:
            await offer(i)

    await asyncio.gather(*(one(i) for i in range(count)))


# -- Loom -------------------------------------------------------------------------------------
async def loom_worker(rt: Runtime, tally: Tally) -> None:
    work = rt.service(WorkService)
    while not tally.finished.is_set():
        record = await work.claim([CAPABILITY], 200)
        if record is None:
            continue
        tally.claimed(record.id)
        await work.complete(record.id, {}, None)
        tally.completed()


async def loom_run(url: str, count: int, rate: float | None) -> tuple[float, Tally]:
    project_id = project("work")
    names = ["offerer", *(f"worker{i}" for i in range(WORKERS))]
    async with runtimes([settings(url, project_id, agent_id=n) for n in names]) as (offerer, *workers):
        for n, rt in enumerate(workers):
            registration = Registration(agent_type="bench", capabilities=[CAPABILITY], handle=f"w{n}")
            await rt.service(RegistryService).register(registration)
        service = offerer.service(WorkService)
        await service.queue.ready()
        tally = Tally(count)

        async def offer(i: int) -> None:
            started = time.perf_counter()
            record = await service.offer(WorkSpec(description=f"item {i}", capability=CAPABILITY), None)
            tally.submitted[record.id] = started

        tasks = [asyncio.create_task(loom_worker(rt, tally)) for rt in workers]
        started = time.perf_counter()
        await offer_all(count, offer, rate)
        await asyncio.wait_for(tally.finished.wait(), 600)
        seconds = time.perf_counter() - started
        await asyncio.gather(*tasks)
    return seconds, tally


# -- raw nats-py ------------------------------------------------------------------------------
async def raw_worker(url: str, stream: str, subject: str, tally: Tally, batch: int) -> None:
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().pull_subscribe(subject, durable="raw-workers", stream=stream)
        while not tally.finished.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=0.2)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                continue
            for msg in msgs:
                tally.claimed(json.loads(msg.data)["id"])
                await msg.ack()
                tally.completed()
    finally:
        await nc.close()


async def raw_run(url: str, count: int, rate: float | None) -> tuple[float, Tally]:
    token = uuid.uuid4().hex[:8]
    stream, subject = f"RAW_WORK_{token}", f"raw.{token}.work"
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        config = StreamConfig(name=stream, subjects=[subject], retention=RetentionPolicy.WORK_QUEUE)
        await js.add_stream(config)
        await js.pull_subscribe(subject, durable="raw-workers", stream=stream)  # create the consumer once
        tally = Tally(count)
        batch = 1 if rate is not None else 50
        tasks = [asyncio.create_task(raw_worker(url, stream, subject, tally, batch)) for _ in range(WORKERS)]

        async def publish(i: int) -> None:
            item_id = str(uuid.uuid4())
            tally.submitted[item_id] = time.perf_counter()
            await js.publish(subject, json.dumps({"id": item_id, "description": f"item {i}"}).encode())

        started = time.perf_counter()
        await offer_all(count, publish, rate)
        await asyncio.wait_for(tally.finished.wait(), 600)
        seconds = time.perf_counter() - started
        await asyncio.gather(*tasks)
    finally:
        await nc.close()
    return seconds, tally


async def run(url: str, quick: bool) -> list[Row]:
    count, paced_seconds = sizes(quick)
    raw_seconds, _ = await raw_run(url, count, None)
    loom_seconds, loom_tally = await loom_run(url, count, None)
    paced = int(PACED_RATE * paced_seconds)
    _, raw_paced = await raw_run(url, paced, PACED_RATE)
    _, loom_paced = await loom_run(url, paced, PACED_RATE)
    loom_lat: Stats = stats(loom_paced.latency_ms, paced_seconds)
    raw_lat: Stats = stats(raw_paced.latency_ms, paced_seconds)
    busy: Stats = stats(loom_tally.latency_ms, loom_seconds)
    return [
        Row(
            SCENARIO, f"pipeline items, {count:,} items, {WORKERS} workers", count / loom_seconds, "/s",
            count / raw_seconds, "raw nats-py", at_least_ratio(0.3),
            f"offer→claim under load p50 {fmt_ms(busy.p50)}", extra={"offer_to_claim": busy.figures()},
        ),
        Row(
            SCENARIO, f"claim latency p99 at {PACED_RATE:.0f} items/s offered", loom_lat.p99, "ms",
            raw_lat.p99, "raw nats-py p99", at_most(10, "ms"),
            f"p50 {fmt_ms(loom_lat.p50)}, raw p50 {fmt_ms(raw_lat.p50)}; {paced:,} items, offer → claimed",
            higher_is_better=False, extra={"loom": loom_lat.figures(), "raw": raw_lat.figures()},
        ),
    ]  # fmt: skip
