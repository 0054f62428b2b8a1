"""Scenario 3: one writer, then 20 readers catching up on the whole channel history.

Loom: ``ChannelService.send`` one message after another (each waits for its PubAck, as a
tool call does), then 20 runtimes page through the history with ``read(after=...)``
(1000 per page, the most a call allows). Raw: ``js.publish`` one after another, then 20
connections replay the stream with an ordered consumer and parse each message's JSON.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy, StreamConfig

from bench.harness import Row, fmt_ms, stats
from bench.stack import project, runtimes, settings
from loom.runtime import Runtime
from loom.services.channels import ChannelService

SCENARIO = "3 channels"
READERS = 20
PAGE = 1000
CHANNEL = "history"
TEXT = ("lorem ipsum dolor sit amet " * 8)[:200]


def sizes(quick: bool) -> int:
    return 2_000 if quick else 10_000


# -- Loom -------------------------------------------------------------------------------------
async def loom_catch_up(rt: Runtime, count: int) -> float:
    channels = rt.service(ChannelService)
    started = time.perf_counter()
    seen, after, more = 0, 0, True
    while more:
        page = await channels.read(CHANNEL, PAGE, after=after)
        seen += len(page.messages)
        after, more = (page.messages[-1][0] if page.messages else after), page.has_more
    assert seen == count, (seen, count)
    return time.perf_counter() - started


async def loom_run(url: str, count: int) -> tuple[float, float, list[float]]:
    """(write seconds, replay seconds for all readers, each reader's seconds)."""
    project_id = project("ch")
    writer_settings = settings(url, project_id, agent_id="writer", handle="writer")
    async with await Runtime.open(writer_settings) as writer:
        channels = writer.service(ChannelService)
        await channels.create(CHANNEL)
        started = time.perf_counter()
        for i in range(count):
            await channels.send(CHANNEL, f"{i} {TEXT}")
        write = time.perf_counter() - started
    reader_settings = [settings(url, project_id, agent_id=f"reader{i}") for i in range(READERS)]
    async with runtimes(reader_settings) as readers:
        started = time.perf_counter()
        each = await asyncio.gather(*(loom_catch_up(rt, count) for rt in readers))
        replay = time.perf_counter() - started
    return write, replay, list(each)


# -- raw nats-py ------------------------------------------------------------------------------
async def raw_catch_up(url: str, subject: str, count: int) -> float:
    nc = await nats.connect(url)
    try:
        done = asyncio.Event()
        seen = 0

        async def on_message(msg: Msg) -> None:
            nonlocal seen
            json.loads(msg.data)
            seen += 1
            if seen >= count:
                done.set()

        started = time.perf_counter()
        sub = await nc.jetstream().subscribe(
            subject, cb=on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        await asyncio.wait_for(done.wait(), 300)
        seconds = time.perf_counter() - started
        await sub.unsubscribe()
        return seconds
    finally:
        await nc.close()


async def raw_run(url: str, count: int) -> tuple[float, float, list[float]]:
    token = uuid.uuid4().hex[:8]
    subject = f"raw.{token}.ch"
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=f"RAW_CH_{token}", subjects=[subject]))
        started = time.perf_counter()
        for i in range(count):
            body = {"id": str(uuid.uuid4()), "handle": "writer", "message": f"{i} {TEXT}"}
            await js.publish(subject, json.dumps(body).encode())
        write = time.perf_counter() - started
    finally:
        await nc.close()
    started = time.perf_counter()
    each = await asyncio.gather(*(raw_catch_up(url, subject, count) for _ in range(READERS)))
    return write, time.perf_counter() - started, list(each)


async def run(url: str, quick: bool) -> list[Row]:
    count = sizes(quick)
    raw_write, raw_replay, raw_each = await raw_run(url, count)
    loom_write, loom_replay, loom_each = await loom_run(url, count)
    total = count * READERS
    loom_readers = stats([s * 1000 for s in loom_each], loom_replay)
    raw_readers = stats([s * 1000 for s in raw_each], raw_replay)
    return [
        Row(
            SCENARIO, f"send, 1 writer, {count:,} messages", count / loom_write, "msg/s",
            count / raw_write, "raw js.publish", detail="one PubAck awaited per message, both sides",
        ),
        Row(
            SCENARIO, f"catch-up, {READERS} readers x {count:,} messages", total / loom_replay, "msg/s",
            total / raw_replay, "raw ordered consumer",
            detail=f"reader done p50 {fmt_ms(loom_readers.p50)} (raw {fmt_ms(raw_readers.p50)})",
        ),
    ]  # fmt: skip
