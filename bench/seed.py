"""Seeding a project fast: pipelined JetStream publishes in the records' own wire format.

Seeding is not what is measured, so it skips the per-call path (one awaited PubAck each)
and writes exactly what the services would have written.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Iterable
from typing import Any

from loom.models.agent import AgentRecord, PresenceBeat
from loom.models.base import encode
from loom.models.messages import ChannelMessage
from loom.runtime import Runtime
from loom.services.channels import ChannelService

BATCH = 2000


async def pipelined(publishes: Iterable[Awaitable[Any]]) -> None:
    """Await publishes ``BATCH`` at a time (their PubAcks arrive together)."""
    batch: list[Awaitable[Any]] = []
    for publish in publishes:
        batch.append(publish)
        if len(batch) >= BATCH:
            await asyncio.gather(*batch)
            batch = []
    await asyncio.gather(*batch)


def agent_guids(count: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(count)]


def capability_of(index: int) -> str:
    """One agent in a hundred shares each capability (``cap0`` .. ``cap99``)."""
    return f"cap{index % 100}"


async def seed_agents(rt: Runtime, guids: list[str]) -> None:
    """Registry records plus a live presence beat for every guid, as ``register`` writes them."""
    agents = rt.layout.agents_bucket.name
    await rt.bus.kv(rt.layout.agents_bucket)
    await rt.bus.kv(rt.layout.presence_bucket)
    project = rt.settings.project_id

    def record(i: int, guid: str) -> bytes:
        return encode(
            AgentRecord(
                guid=guid, handle=f"agent-{i}", agent_type="bench", capabilities=[capability_of(i), "bench"],
                hostname=f"host-{i % 20}", project_id=project, session_id=uuid.uuid4().hex,
            )
        )  # fmt: skip

    await pipelined(
        rt.bus.js.publish(f"$KV.{agents}.{guid}", record(i, guid)) for i, guid in enumerate(guids)
    )
    await beat(rt, guids)


async def beat(rt: Runtime, guids: list[str]) -> None:
    """One heartbeat for each guid: a presence value with the TTL of three beats."""
    bucket = rt.layout.presence_bucket.name
    ttl = rt.settings.presence_ttl
    await pipelined(
        rt.bus.js.publish(f"$KV.{bucket}.{guid}", encode(PresenceBeat()), msg_ttl=ttl) for guid in guids
    )


async def heartbeat_forever(rt: Runtime, guids: list[str], counter: list[int], tick: float = 0.1) -> None:
    """Every agent beats once per ``LOOM_HEARTBEAT_SECONDS``, spread evenly over the interval."""
    interval = rt.settings.heartbeat_seconds
    per_tick = max(1, round(len(guids) * tick / interval))
    position = 0
    next_tick = time.monotonic()
    while True:
        chunk = [guids[(position + k) % len(guids)] for k in range(per_tick)]
        position = (position + per_tick) % len(guids)
        await beat(rt, chunk)
        counter[0] += len(chunk)
        next_tick += tick
        await asyncio.sleep(max(0.0, next_tick - time.monotonic()))


async def seed_channel(rt: Runtime, channel: str, count: int, size: int = 200) -> None:
    """A channel with ``count`` messages of about ``size`` bytes each."""
    await rt.service(ChannelService).create(channel)
    subject = rt.layout.channel_subject(channel)
    text = ("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size]

    def message(i: int) -> ChannelMessage:
        return ChannelMessage(id=str(uuid.uuid4()), handle=f"writer-{i % 7}", message=f"{i} {text}")

    await pipelined(
        rt.bus.js.publish(subject, encode(m), headers={"Nats-Msg-Id": m.id})
        for m in (message(i) for i in range(count))
    )
