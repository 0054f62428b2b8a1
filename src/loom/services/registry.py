"""``RegistryService``: register, update and deregister the calling agent; heartbeats.

The record (agents bucket) changes only by compare-and-set, so concurrent writers (the
agent itself, Weft marking activity) never lose each other's update. Presence is a separate
key written every heartbeat with a per-message TTL of three beats: when a process dies, the
server removes its presence and the agent reads as offline with no one left to clean up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nats.js.kv import KeyValue

from loom.bus.layout import PUBLIC_AGENTS_BUCKET
from loom.errors import InvalidArgument, NotFound
from loom.identity import username
from loom.models.agent import AgentRecord, AgentStatus, AgentView, PresenceBeat, Scope, Visibility
from loom.models.base import encode, utcnow
from loom.names import NAME_PATTERN, validate_name, validate_names
from loom.services.agent_state import AgentState
from loom.services.directory import AgentDirectory, AgentFilter
from loom.services.kvstore import cas_write, purge, read

if TYPE_CHECKING:
    from loom.runtime import Runtime

log = logging.getLogger("loom.registry")

MAX_METADATA_BYTES = 16 * 1024
SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential|private[_-]?key", re.I)


@dataclass(frozen=True)
class Registration:
    agent_type: str
    capabilities: list[str] = field(default_factory=list)
    boundaries: list[str] = field(default_factory=list)
    handle: str | None = None
    scope: Scope = "project"
    visibility: Visibility = "project-only"
    max_concurrent_tasks: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)


def handle_from_type(agent_type: str) -> str:
    """``"Senior Dev_Ops"`` → ``senior-dev-ops``: a valid handle derived from the type."""
    slug = re.sub(r"[^a-z0-9-]+", "-", agent_type.lower()).strip("-")[:64] or "agent"
    return slug if NAME_PATTERN.fullmatch(slug) else "agent"


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata is shown to other agents: small, JSON, and never a credential."""
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise InvalidArgument(f"must be at most {MAX_METADATA_BYTES} bytes as JSON", field="metadata")
    for key in metadata:
        if SECRET_KEY.search(key):
            raise InvalidArgument(
                f"key {key!r} looks like a credential; keep secrets out of the registry", field="metadata"
            )
    return metadata


class RegistryService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.state = runtime.service(AgentState)
        self.directory = runtime.service(AgentDirectory)
        self.session_id = uuid.uuid4().hex
        self._heartbeat: asyncio.Task[None] | None = None
        self._mirrored = False
        runtime.on_close(self._on_close)

    async def _agents(self) -> KeyValue:
        return await self.runtime.bus.kv(self.runtime.layout.agents_bucket)

    # -- registration ---------------------------------------------------------------------
    async def register(self, reg: Registration) -> AgentRecord:
        agent_type = reg.agent_type.strip()
        if not agent_type or len(agent_type) > 64:
            raise InvalidArgument("must be 1..64 characters", field="agentType")
        handle = validate_name(reg.handle, "handle") if reg.handle else self.state.handle
        handle = handle or handle_from_type(agent_type)
        capabilities = validate_names(reg.capabilities, "capabilities")
        boundaries = validate_names(reg.boundaries, "boundaries")
        if not 1 <= reg.max_concurrent_tasks <= 100:
            raise InvalidArgument("must be between 1 and 100", field="maxConcurrentTasks")
        metadata = check_metadata(reg.metadata)
        await self.directory.start()
        guid = self.state.guid if self.state.registered else await self._choose_guid(handle)
        settings = self.runtime.settings
        identity = self.runtime.identity

        def write(current: AgentRecord | None) -> AgentRecord:
            now = utcnow()
            return AgentRecord(
                guid=guid,
                handle=handle,
                agent_type=agent_type,
                capabilities=capabilities,
                boundaries=boundaries,
                hostname=identity.hostname,
                username=username(),
                project_id=settings.project_id,
                scope=reg.scope,
                visibility=reg.visibility,
                max_concurrent_tasks=reg.max_concurrent_tasks,
                metadata=metadata,
                status="online",
                current_task_count=current.current_task_count if current and self.state.registered else 0,
                registered_at=current.registered_at if current else now,
                last_heartbeat=now,
                last_activity_at=now,
                target=settings.target,
                launch_work_id=settings.launch_work_id,
                spin_up_id=settings.spin_up_id,
                session_id=self.session_id,
            )

        record, revision = await cas_write(await self._agents(), guid, AgentRecord, write)
        assert record is not None
        self.state.guid, self.state.handle, self.state.record = guid, handle, record
        beat = await self.beat()
        self._start_heartbeat()
        await self._read_own_writes(revision, beat)
        return record

    async def _choose_guid(self, handle: str) -> str:
        """Same agent, same guid; a different handle is a different agent; never steal the
        guid of another live process."""
        identity = self.runtime.identity
        if identity.explicit:
            return identity.guid
        records, directory = self.directory.records, self.directory

        def free(guid: str) -> bool:
            record = records.get(guid)
            return record is None or not directory.is_online(guid) or record.session_id == self.session_id

        derived = records.get(identity.guid)
        if derived is not None and derived.handle == handle and free(identity.guid):
            return identity.guid
        for record in records.values():
            same = (record.handle, record.hostname) == (handle, identity.hostname)
            if same and not directory.is_online(record.guid):
                return record.guid  # its inbox comes back with it
        if derived is None:
            return identity.guid
        candidate = str(uuid.uuid5(uuid.UUID(identity.guid), handle))
        return candidate if free(candidate) else str(uuid.uuid4())

    # -- presence -------------------------------------------------------------------------
    async def beat(self, status: AgentStatus | None = None) -> int:
        """Write presence; its revision in the presence bucket."""
        record = self.state.require()
        beat = PresenceBeat(
            status=status or record.status,
            current_task_count=record.current_task_count,
            session_id=self.session_id,
        )
        bucket = self.runtime.layout.presence_bucket
        await self.runtime.bus.kv(bucket)
        ttl = self.runtime.settings.presence_ttl
        ack = await self.runtime.bus.js.publish(f"$KV.{bucket.name}.{record.guid}", encode(beat), msg_ttl=ttl)
        await self._mirror(record.model_copy(update={"last_heartbeat": beat.beat_at}))
        return ack.seq

    async def _read_own_writes(self, record_revision: int, presence_revision: int) -> None:
        """Return from a change of this agent only once the directory shows it, so the
        caller's next discover or get_agent_info sees what it just did."""
        layout = self.runtime.layout
        await self.directory.caught_up(layout.agents_bucket.name, record_revision)
        await self.directory.caught_up(layout.presence_bucket.name, presence_revision)

    async def _mirror(self, record: AgentRecord) -> None:
        """Public agents are listed to other projects through a cross-project bucket."""
        public = record.visibility == "public" and record.status != "offline"
        if public:
            await self.runtime.bus.kv(PUBLIC_AGENTS_BUCKET)
            subject = f"$KV.{PUBLIC_AGENTS_BUCKET.name}.{record.guid}"
            await self.runtime.bus.js.publish(
                subject, encode(record), msg_ttl=self.runtime.settings.presence_ttl
            )
        elif self._mirrored:
            await (await self.runtime.bus.kv(PUBLIC_AGENTS_BUCKET)).purge(record.guid)
        self._mirrored = public

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self.runtime.spawn(self._beat_forever(), name="heartbeat")

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.runtime.settings.heartbeat_seconds)
            try:
                await self.beat()
            except Exception as exc:  # a missed beat is retried next interval
                log.warning("heartbeat failed: %s", exc.__class__.__name__)

    # -- updates --------------------------------------------------------------------------
    async def update(self, guid: str, mutate: Callable[[AgentRecord], AgentRecord | None]) -> AgentRecord:
        """CAS-update any agent's record (Weft uses this too)."""
        record, _ = await self._update(guid, mutate)
        return record

    async def _update(
        self, guid: str, mutate: Callable[[AgentRecord], AgentRecord | None]
    ) -> tuple[AgentRecord, int]:
        def apply(current: AgentRecord | None) -> AgentRecord | None:
            if current is None:
                raise NotFound(f"agent {guid} is not registered in this project", field="guid")
            return mutate(current)

        record, revision = await cas_write(await self._agents(), guid, AgentRecord, apply)
        assert record is not None
        if guid == self.state.guid and self.state.record is not None:
            self.state.record = record
        return record, revision

    async def update_presence(
        self,
        status: AgentStatus | None = None,
        current_task_count: int | None = None,
        capabilities: list[str] | None = None,
        boundaries: list[str] | None = None,
    ) -> AgentRecord:
        me = self.state.require()
        if status is None and current_task_count is None and capabilities is None and boundaries is None:
            raise InvalidArgument(
                "give at least one of status, currentTaskCount, capabilities, boundaries", field="arguments"
            )
        if current_task_count is not None and current_task_count < 0:
            raise InvalidArgument("must be >= 0", field="currentTaskCount")
        caps = validate_names(capabilities, "capabilities") if capabilities is not None else None
        bounds = validate_names(boundaries, "boundaries") if boundaries is not None else None

        def change(current: AgentRecord) -> AgentRecord:
            given = {
                "status": status,
                "current_task_count": current_task_count,
                "capabilities": caps,
                "boundaries": bounds,
            }
            updates: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
            updates |= {"last_heartbeat": utcnow(), "session_id": self.session_id}
            return current.model_copy(update=updates)

        record, revision = await self._update(me.guid, change)
        if record.status == "offline":
            beat = await self._stop_presence()
        else:
            beat = await self.beat()
            self._start_heartbeat()  # back from offline: beat again
        await self._read_own_writes(revision, beat)
        return record

    async def deregister(self) -> AgentRecord:
        me = self.state.require()
        record, revision = await self._update(me.guid, lambda r: r.model_copy(update={"status": "offline"}))
        await self._read_own_writes(revision, await self._stop_presence())
        return record

    async def _stop_presence(self) -> int:
        """Remove presence; the revision of the removal in the presence bucket."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        revision = await purge(self.runtime.bus, self.runtime.layout.presence_bucket, self.state.guid)
        if self._mirrored:
            await (await self.runtime.bus.kv(PUBLIC_AGENTS_BUCKET)).purge(self.state.guid)
            self._mirrored = False
        return revision

    async def _on_close(self) -> None:
        if self.state.record is not None and self.state.record.status != "offline":
            await self.deregister()

    # -- reads ----------------------------------------------------------------------------
    async def discover(self, where: AgentFilter) -> list[AgentView]:
        await self.directory.start()
        return self.directory.find(where, self.state.record)

    async def info(self, guid: str) -> AgentView:
        await self.directory.start()
        record = self.directory.records.get(guid)
        if record is None:
            record, _ = await read(await self._agents(), guid, AgentRecord)  # not yet in the cache
        if record is None or not self.directory.visible_to(record, self.state.record):
            raise NotFound(f"no agent {guid} visible to you in this project", field="guid")
        return self.directory.view(record)
