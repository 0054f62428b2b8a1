"""``SpinUpManager``: launch an agent from a target within its limits, and follow the launch.

The decision to launch is a compare-and-set on the target record (cooldown and
``maxConcurrent`` are checked inside it), so two Weft processes can't both launch for one
slot. A launch succeeds only when the new agent registers with ``LOOM_TARGET`` = the target
name (and the spin-up id): requested → launched → registered | failed | timed-out.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nats.js.kv import KeyValue

from loom.errors import Conflict, LoomError
from loom.models.agent import AgentRecord
from loom.models.base import encode, utcnow
from loom.models.target import Health, SpinUp, Target
from loom.services.directory import AgentDirectory
from loom.services.kvstore import cas_update, read, read_all
from loom.weft.routing import Need
from loom.weft.spinup import mechanisms
from loom.weft.spinup.base import LaunchError, LaunchRequest
from loom.weft.targets import TargetRegistry

if TYPE_CHECKING:
    from loom.runtime import Runtime

log = logging.getLogger("loom.spinup")

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]
ACTIVE = ("requested", "launched")
SPIN_UP_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
RECORD_TTL = 7 * 86400.0


async def _no_events(kind: str, payload: dict[str, Any]) -> None:
    return None


class SpinUpManager:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.targets = runtime.service(TargetRegistry)
        self.directory = runtime.service(AgentDirectory)
        self.emit: Emit = _no_events
        self.registration_timeout = 120.0
        self.log_dir: Path | None = None

    async def _kv(self) -> KeyValue:
        return await self.runtime.bus.kv(self.runtime.layout.spinups_bucket)

    async def records(self, target_name: str | None = None) -> list[SpinUp]:
        found = await read_all(self.runtime.bus, self.runtime.layout.spinups_bucket, SpinUp)
        records = [r for _, r in found if target_name is None or r.target == target_name]
        return sorted(records, key=lambda r: r.requested_at)

    async def record(self, spin_up_id: str) -> SpinUp | None:
        if not SPIN_UP_ID.fullmatch(spin_up_id):  # ids are UUIDs; anything else can't be a key
            return None
        record, _ = await read(await self._kv(), spin_up_id, SpinUp)
        return record

    async def _running(self, target: Target) -> int:
        await self.directory.sync()  # an agent of this target that registered just now counts
        agents = [
            r
            for r in self.directory.records.values()
            if r.target == target.name and self.directory.is_online(r.guid)
        ]
        pending = [r for r in await self.records(target.name) if r.state in ACTIVE]
        return len(agents) + len(pending)

    async def spin_up(
        self,
        target: Target,
        work_id: str | None = None,
        capability: str | None = None,
        boundary: str | None = None,
    ) -> SpinUp:
        if not target.enabled:
            raise Conflict(f"target {target.name} is disabled", field="target")
        running = await self._running(target)
        now = utcnow()

        def claim_slot(current: Target | None) -> Target | None:
            if current is None:
                raise Conflict(f"target {target.name} was removed", field="target")
            if running >= current.max_concurrent:
                raise Conflict(
                    f"target {current.name} is at maxConcurrent={current.max_concurrent}", field="target"
                )
            if current.last_used_at and now - current.last_used_at < timedelta(
                seconds=current.cooldown_seconds
            ):
                raise Conflict(
                    f"target {current.name} is cooling down ({current.cooldown_seconds:.0f}s)", field="target"
                )
            return current.model_copy(update={"last_used_at": now, "use_count": current.use_count + 1})

        await cas_update(await self.targets.kv(), target.id, Target, claim_slot)
        record = SpinUp(
            id=str(uuid.uuid4()), target=target.name, target_id=target.id, work_id=work_id,
            capability=capability, boundary=boundary,
        )  # fmt: skip
        record = await self._save(record)
        request = LaunchRequest(
            target=target, spin_up_id=record.id, project=self.runtime.settings.project_id,
            nats_url=self.runtime.settings.nats_url, work_id=work_id, capability=capability,
            boundary=boundary, log_dir=self.log_dir,
        )  # fmt: skip
        try:
            detail = await mechanisms.launch(target, request)
        except LaunchError as exc:
            return await self._save(record.model_copy(update={"state": "failed", "detail": str(exc)}))
        except Exception as exc:  # an unexpected launch error is a failed launch, not a crash
            log.exception("launch from %s failed", target.name)
            return await self._save(
                record.model_copy(update={"state": "failed", "detail": exc.__class__.__name__})
            )
        record = await self._save(record.model_copy(update={"state": "launched", "detail": detail}))
        self.runtime.spawn(self._await_registration(record), name=f"spinup-{record.id}")
        return record

    async def spin_up_first(
        self, targets: list[Target], need: Need, work_id: str | None = None
    ) -> tuple[tuple[Target, SpinUp] | None, list[str]]:
        """Launch on the first target (in routing order) with a free slot now; say why others didn't."""
        errors = []
        for target in targets:
            try:
                spun = await self.spin_up(target, work_id, need.capability, need.boundary)
            except LoomError as exc:  # at its limit, cooling down, disabled: try the next target
                errors.append(exc.reason)  # each reason names its target
                continue
            return (target, spun), errors
        return None, errors

    async def _await_registration(self, record: SpinUp) -> None:
        await self.directory.start()
        deadline = asyncio.get_running_loop().time() + self.registration_timeout
        while asyncio.get_running_loop().time() < deadline:
            agent = await self._answering_agent(record)
            if agent is not None:
                await self._save(record.model_copy(update={"state": "registered", "agent_guid": agent.guid}))
                return
            async with self.directory.changed:
                try:
                    await asyncio.wait_for(self.directory.changed.wait(), 1.0)
                except TimeoutError:
                    pass
        await self._save(
            record.model_copy(update={"state": "timed-out", "detail": "the agent never registered"})
        )

    async def _answering_agent(self, record: SpinUp) -> AgentRecord | None:
        candidates = [a for a in self.directory.records.values() if answers(record, a)]
        exact = [a for a in candidates if a.spin_up_id == record.id]
        if exact or not candidates:
            return exact[0] if exact else None
        # Matched without an id: an agent another launch was credited with can't answer this one
        # too. The records are read only here, not on every look.
        credited = {r.agent_guid for r in await self.records(record.target) if r.id != record.id}
        return next((a for a in candidates if a.guid not in credited), None)

    async def _save(self, record: SpinUp) -> SpinUp:
        record = record.model_copy(update={"updated_at": utcnow()})
        await self._kv()
        await self.runtime.bus.js.publish(
            f"$KV.{self.runtime.layout.spinups_bucket.name}.{record.id}", encode(record), msg_ttl=RECORD_TTL
        )
        await self.emit("spin-up", record.to_wire())
        return record


def answers(record: SpinUp, agent: AgentRecord) -> bool:
    """Whether this agent's registration is the one the launch was waiting for.

    An agent started with our env carries ``LOOM_SPINUP_ID``: an exact match. One started by
    a receiver that passes on only some fields (a webhook, a workflow) is matched by target,
    work item and time, so a launch is never credited with an agent that was already there.
    """
    if agent.spin_up_id:
        return agent.spin_up_id == record.id
    if agent.target != record.target or agent.registered_at < record.requested_at:
        return False
    return not (record.work_id and agent.launch_work_id and agent.launch_work_id != record.work_id)


async def check_health(runtime: Runtime, target: Target) -> Target:
    """Run the mechanism's real health check and store the result on the target."""
    started = asyncio.get_running_loop().time()
    try:
        await mechanisms.check(target)
        health = Health(status="healthy")
    except LaunchError as exc:
        health = Health(status="unhealthy", error=str(exc))
    health = health.model_copy(
        update={
            "checked_at": utcnow(),
            "latency_ms": round((asyncio.get_running_loop().time() - started) * 1000, 1),
        }
    )
    return await runtime.service(TargetRegistry).change(target.id, health=health)
