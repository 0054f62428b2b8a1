"""Coordinator events: published to the project's events stream, streamed to clients as SSE.

The stream sequence is the SSE event id, so a client that reconnects with ``Last-Event-ID``
resumes exactly where it stopped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from loom.models.base import iso, utcnow

if TYPE_CHECKING:
    from loom.runtime import Runtime

KINDS = ("agent", "work", "target", "spin-up")


class EventLog:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def publish(self, kind: str, payload: dict[str, Any]) -> None:
        layout = self.runtime.layout
        await self.runtime.bus.stream(layout.events_stream)
        event = {"kind": kind, "at": iso(utcnow()), "data": payload}
        await self.runtime.bus.js.publish(layout.event_subject(kind), json.dumps(event, default=str).encode())

    async def follow(self, after: int | None = None) -> AsyncIterator[tuple[int, dict[str, Any]]]:
        """Events as they happen, forever; with ``after``, first those after that sequence.

        ``after=0`` replays what the stream still holds, so a client can read a history
        without a race between subscribing and the first event.
        """
        layout = self.runtime.layout
        await self.runtime.bus.stream(layout.events_stream)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.NEW if after is None else DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=None if after is None else after + 1,
            ack_policy=AckPolicy.NONE,
            mem_storage=True,
            inactive_threshold=60.0,
        )
        queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue(maxsize=10_000)

        async def deliver(msg: Any) -> None:
            await queue.put((msg.metadata.sequence.stream, json.loads(msg.data)))

        sub = await self.runtime.bus.js.subscribe(
            f"{layout.prefix}.events.>", cb=deliver, ordered_consumer=True, config=config
        )
        try:
            while True:
                yield await queue.get()
        finally:
            await sub.unsubscribe()
