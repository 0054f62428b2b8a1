"""The per-project background work of Weft (run by the lease holder only):

- follow the work bucket and emit work events and metrics;
- follow the agent directory and emit agent events;
- ask agents launched by a target to shut down when idle longer than its idleTimeoutSeconds;
- check target health on a schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from loom.models.base import decode, utcnow
from loom.models.work import WorkRecord
from loom.services.control import ControlService
from loom.services.directory import AgentDirectory
from loom.services.registry import RegistryService
from loom.weft.events import EventLog
from loom.weft.lease import LeaderLease
from loom.weft.metrics import Metrics
from loom.weft.spinup.manager import SpinUpManager, check_health
from loom.weft.targets import TargetRegistry

if TYPE_CHECKING:
    from loom.runtime import Runtime

log = logging.getLogger("loom.weft")

IDLE_CHECK_EVERY = 2.0
HEALTH_CHECK_EVERY = 300.0


class Coordinator:
    def __init__(self, runtime: Runtime, metrics: Metrics) -> None:
        self.runtime = runtime
        self.metrics = metrics
        self.events = runtime.service(EventLog)
        self.lease = runtime.service(LeaderLease)
        self.retiring: set[str] = set()
        runtime.service(SpinUpManager).emit = self.events.publish

    def start(self) -> None:
        self.runtime.spawn(self.lease.run(), name="weft-lease")
        self.runtime.spawn(self._lead(), name="weft-coordinator")

    async def _lead(self) -> None:
        await self.lease.is_leader.wait()
        log.info("leading project %s", self.runtime.settings.project_id)
        directory = self.runtime.service(AgentDirectory)
        await directory.start()
        directory.on_change(lambda guid: self._schedule_agent_event(guid))
        await asyncio.gather(self._follow_work(), self._retire_idle(), self._check_targets())

    def _schedule_agent_event(self, guid: str) -> None:
        self.runtime.spawn(self._agent_event(guid), name="agent-event")

    async def _agent_event(self, guid: str) -> None:
        if not self.lease.is_leader.is_set():
            return
        directory = self.runtime.service(AgentDirectory)
        record = directory.records.get(guid)
        if record is not None:
            await self.events.publish("agent", directory.view(record).to_wire())

    async def _follow_work(self) -> None:
        project = self.runtime.settings.project_id
        kv = await self.runtime.bus.kv(self.runtime.layout.work_bucket)
        watcher = await kv.watchall()
        seen: dict[str, str] = {}
        async for entry in watcher:
            if entry is None or entry.value is None:
                continue
            record = decode(WorkRecord, entry.value, where=entry.key)
            if (
                record is None
                or seen.get(record.id) == f"{record.status}/{record.attempts}/{record.progress}"
            ):
                continue
            first_claim = record.status == "assigned" and record.attempts == 1 and record.claimed_at
            if first_claim and record.claimed_at:
                self.metrics.submit_to_claim.labels(project).observe(
                    (record.claimed_at - record.offered_at).total_seconds()
                )
            if record.status in ("completed", "cancelled", "dead-lettered"):
                self.metrics.finished.labels(project, record.status).inc()
            seen[record.id] = f"{record.status}/{record.attempts}/{record.progress}"
            await self.events.publish("work", record.public())
            await self._touch_agent(record)

    async def _touch_agent(self, record: WorkRecord) -> None:
        """Claims and completions are activity: the idle clock of that agent restarts."""
        if record.assigned_to is None:
            return
        with contextlib.suppress(Exception):
            await self.runtime.service(RegistryService).update(
                record.assigned_to, lambda r: r.model_copy(update={"last_activity_at": utcnow()})
            )

    async def _retire_idle(self) -> None:
        directory = self.runtime.service(AgentDirectory)
        targets = self.runtime.service(TargetRegistry)
        control = self.runtime.service(ControlService)
        while True:
            await asyncio.sleep(IDLE_CHECK_EVERY)
            with contextlib.suppress(Exception):
                timeouts = {t.name: t.idle_timeout_seconds for t in await targets.list()}
                for record in list(directory.records.values()):
                    if record.target not in timeouts or not directory.is_online(record.guid):
                        continue
                    view = directory.view(record)
                    idle_for = utcnow() - (record.last_activity_at or record.registered_at)
                    busy = view.current_task_count > 0 or view.status == "busy"
                    if not busy and idle_for > timedelta(seconds=timeouts[record.target]):
                        if record.guid not in self.retiring:
                            self.retiring.add(record.guid)
                            await control.request_shutdown(record.guid, True, "idle")
                            await self.events.publish(
                                "agent", {"guid": record.guid, "shutdownRequested": "idle"}
                            )

    async def _check_targets(self) -> None:
        targets = self.runtime.service(TargetRegistry)
        while True:
            with contextlib.suppress(Exception):
                for target in await targets.list():
                    if target.enabled:
                        checked = await check_health(self.runtime, target)
                        await self.events.publish("target", checked.public())
            await asyncio.sleep(HEALTH_CHECK_EVERY)
