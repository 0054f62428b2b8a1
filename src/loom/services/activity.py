"""``ActivityService``: let an idle agent wait for something new instead of polling.

The snapshot counts unread DMs, pending work for the caller's capabilities and boundaries,
channel messages newer than what this session last read, and a shutdown request. Waiting
listens on the same subjects with core NATS (JetStream publishes reach core subscribers),
so it wakes as soon as anything arrives, then counts again from the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nats.aio.msg import Msg

from loom.errors import InvalidArgument
from loom.services.agent_state import AgentState
from loom.services.channels import ChannelService
from loom.services.control import ControlService
from loom.services.inbox import InboxService
from loom.services.work import WorkService

if TYPE_CHECKING:
    from loom.runtime import Runtime


@dataclass
class Activity:
    unread_direct: int = 0
    pending_work: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    shutdown_requested: bool = False

    @property
    def anything(self) -> bool:
        return bool(
            self.unread_direct
            or any(self.pending_work.values())
            or any(self.channels.values())
            or self.shutdown_requested
        )

    def to_wire(self) -> dict[str, object]:
        return {
            "unreadDirect": self.unread_direct,
            "pendingWork": self.pending_work,
            "channels": self.channels,
            "shutdownRequested": self.shutdown_requested,
        }


class ActivityService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def snapshot(self) -> Activity:
        state = self.runtime.service(AgentState)
        record = state.record
        channels = self.runtime.service(ChannelService)
        news = {}
        for info in await channels.list():
            # A channel this session never read counts from the moment it first looked.
            seen = channels.last_read.setdefault(info.name, info.last_sequence)
            news[info.name] = max(0, info.last_sequence - seen)
        activity = Activity(channels=news)
        if record is not None:
            activity.unread_direct = await self.runtime.service(InboxService).unread()
            activity.pending_work = await self.runtime.service(WorkService).pending_counts(
                record.capabilities, record.boundaries
            )
        activity.shutdown_requested = (
            await self.runtime.service(ControlService).shutdown_requested(state.guid) is not None
        )
        return activity

    async def wait(self, timeout: float) -> Activity:
        if not 0 <= timeout <= 300:
            raise InvalidArgument("must be between 0 and 300 seconds", field="timeout")
        deadline = time.monotonic() + timeout
        wake = asyncio.Event()

        async def nudge(_msg: Msg) -> None:
            wake.set()

        nc = self.runtime.bus.nc
        subs = [await nc.subscribe(subject, cb=nudge) for subject in self._subjects()]
        try:
            while True:
                wake.clear()
                activity = await self.snapshot()
                left = deadline - time.monotonic()
                if activity.anything or left <= 0:
                    return activity
                with contextlib.suppress(TimeoutError):
                    # Lease lapses and TTL expiries publish nothing: look again now and then.
                    await asyncio.wait_for(wake.wait(), min(left, 5.0))
        finally:
            for sub in subs:
                await sub.unsubscribe()

    def _subjects(self) -> list[str]:
        layout = self.runtime.layout
        state = self.runtime.service(AgentState)
        subjects = [
            layout.channel_subject_wildcard,
            layout.inbox_subject(state.guid),
            layout.wake_subject(state.guid),
            self.runtime.service(ControlService).subject(state.guid),
        ]
        if state.record is not None:
            subjects += [layout.work_capability_wildcard(cap) for cap in state.record.capabilities]
        return subjects
