"""``AgentDirectory``: the project's agents and their presence, kept in memory by KV watches.

Discovery answers from here, never from a KV scan. An agent is online only while its
presence key exists (the server removes it by TTL when heartbeats stop) and its last beat is
younger than three beat intervals; its own ``status`` (online/busy) applies only then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from nats.js.kv import KeyValue

from loom.bus.layout import PUBLIC_AGENTS_BUCKET, BucketSpec
from loom.models.agent import AgentRecord, AgentStatus, AgentView, PresenceBeat
from loom.models.base import decode, utcnow

if TYPE_CHECKING:
    from loom.runtime import Runtime

log = logging.getLogger("loom.directory")

T = TypeVar("T")
_OPEN = frozenset({"project-only", "public"})  # visible to anyone in the project


@dataclass(frozen=True)
class AgentFilter:
    capability: str | None = None
    boundary: str | None = None
    agent_type: str | None = None
    hostname: str | None = None
    status: AgentStatus | None = None
    include_offline: bool = False

    def matches(self, view: AgentView) -> bool:
        return self.matches_record(view) and self.matches_status(view.status)

    def matches_record(self, agent: AgentRecord | AgentView) -> bool:
        """The filters on what an agent declared (not its presence)."""
        if self.capability and self.capability not in agent.capabilities:
            return False
        if self.boundary and self.boundary not in agent.boundaries:
            return False
        if self.agent_type and agent.agent_type != self.agent_type:
            return False
        return not (self.hostname and agent.hostname != self.hostname)

    @property
    def on_declared(self) -> bool:
        """Does any filter look at what agents declared?"""
        return bool(self.capability or self.boundary or self.agent_type or self.hostname)

    def matches_status(self, status: AgentStatus) -> bool:
        if self.status and status != self.status:
            return False
        return self.include_offline or self.status == "offline" or status != "offline"


@dataclass
class _Cached:
    """A view and what it was built from; still valid while those are the same objects."""

    record: AgentRecord
    beat: PresenceBeat | None
    beat_at: float  # of ``beat``, as a POSIX timestamp
    online: bool
    foreign: bool
    view: AgentView
    derived: dict[str, Any] = field(default_factory=dict)


class AgentDirectory:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.records: dict[str, AgentRecord] = {}
        self.beats: dict[str, PresenceBeat] = {}
        self.foreign: dict[str, AgentRecord] = {}  # public agents of other projects
        self.changed = asyncio.Condition()
        self._listeners: list[Callable[[str], None]] = []
        self._views: dict[str, _Cached] = {}  # records and beats are replaced, never changed
        self._started: asyncio.Future[None] | None = None
        self._seen: dict[str, int] = {}  # bucket name -> last revision applied from its watch

    async def start(self) -> None:
        """Load everything and keep watching; concurrent callers wait for the same load."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            layout = self.runtime.layout
            agents = await self.runtime.bus.kv(layout.agents_bucket)
            presence = await self.runtime.bus.kv(layout.presence_bucket)
            public = await self.runtime.bus.kv(PUBLIC_AGENTS_BUCKET)
            # Whatever was stored before the watches began is applied by the time they have
            # loaded, or was removed (expired presence), which a watch never delivers.
            self._seen = {
                b.name: await self._last_revision(b) for b in (layout.agents_bucket, layout.presence_bucket)
            }
            loaded = [asyncio.Event(), asyncio.Event(), asyncio.Event()]
            self.runtime.spawn(self._follow(agents, self._on_record, loaded[0]), name="directory-agents")
            self.runtime.spawn(self._follow(presence, self._on_beat, loaded[1]), name="directory-presence")
            self.runtime.spawn(self._follow(public, self._on_public, loaded[2]), name="directory-public")
            await asyncio.gather(*(event.wait() for event in loaded))
            self._started.set_result(None)
        await asyncio.shield(self._started)

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(guid)`` whenever an agent's record or presence changes."""
        self._listeners.append(listener)

    async def sync(self, timeout: float = 2.0) -> None:
        """Catch up with every change of the project's agents made anywhere before this call.

        Costs a round trip per bucket, so it is for the rare answer that another process's
        recent write could change (Weft is about to say no agent is online)."""
        await self.start()
        layout = self.runtime.layout
        for bucket in (layout.agents_bucket, layout.presence_bucket):
            await self.caught_up(bucket.name, await self._last_revision(bucket), timeout)

    async def _last_revision(self, bucket: BucketSpec) -> int:
        info = await self.runtime.bus.js.stream_info(f"KV_{bucket.name}")
        return int(info.state.last_seq or 0)

    async def caught_up(self, bucket: str, revision: int, timeout: float = 5.0) -> None:
        """Wait until the watch of ``bucket`` has applied ``revision``: a caller that has just
        written there then reads its own write. Gives up quietly after ``timeout`` (a watch
        that is reconnecting), as the write itself has succeeded."""
        if self._started is None or not self._started.done() or self.runtime.closed.is_set():
            return  # not following yet (the load will read the write), or no reader is left

        def seen() -> bool:
            return self._seen.get(bucket, 0) >= revision

        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(seen), timeout)
            except TimeoutError:
                log.debug("%s watch is behind revision %d", bucket, revision)

    async def _follow(
        self, kv: KeyValue, apply: Callable[[str, bytes | None], None], loaded: asyncio.Event
    ) -> None:
        watcher = await kv.watchall()
        async for entry in watcher:
            if entry is None:  # end of the initial values
                loaded.set()
                continue
            deleted = entry.operation in ("DEL", "PURGE")
            apply(entry.key, None if deleted else entry.value)
            self._seen[entry.bucket] = max(self._seen.get(entry.bucket, 0), entry.revision or 0)
            if entry.delta == 0:
                loaded.set()
            for listener in self._listeners:
                listener(entry.key)
            async with self.changed:
                self.changed.notify_all()

    def _on_record(self, guid: str, value: bytes | None) -> None:
        record = decode(AgentRecord, value, where=guid) if value else None
        if record is None:
            self.records.pop(guid, None)
            self._views.pop(guid, None)
        else:
            self.records[guid] = record

    def _on_public(self, guid: str, value: bytes | None) -> None:
        record = decode(AgentRecord, value, where=guid) if value else None
        if record is None or record.project_id == self.runtime.settings.project_id:
            if self.foreign.pop(guid, None) is not None and guid not in self.records:
                self._views.pop(guid, None)
        else:
            self.foreign[guid] = record

    def _on_beat(self, guid: str, value: bytes | None) -> None:
        beat = decode(PresenceBeat, value, where=guid) if value else None
        if beat is None:
            self.beats.pop(guid, None)
        else:
            self.beats[guid] = beat

    def is_online(self, guid: str) -> bool:
        beat = self.beats.get(guid)
        return beat is not None and beat.beat_at >= self._cutoff()

    def _cutoff(self) -> datetime:
        """The oldest last beat that still counts as online."""
        return utcnow() - timedelta(seconds=self.runtime.settings.presence_ttl)

    def view(self, record: AgentRecord, cutoff: float | None = None) -> AgentView:
        """The agent as discovery shows it; rebuilt only when its record, beat or liveness
        changed. ``cutoff``: the oldest beat still online, as a POSIX timestamp."""
        guid = record.guid
        beat = self.beats.get(guid)
        cut = cutoff if cutoff is not None else self._cutoff().timestamp()
        cached = self._views.get(guid)
        if cached is not None and cached.record is record and cached.beat is beat:
            # Float seconds: comparing aware datetimes is the costliest step when 1,000 are shown.
            online = beat is not None and cached.beat_at >= cut
            if cached.online is online and cached.foreign is (guid in self.foreign):
                return cached.view
        beat_at = beat.beat_at.timestamp() if beat is not None else 0.0
        online = beat is not None and beat_at >= cut
        foreign = guid in self.foreign
        view = self._build_view(record, beat, online, foreign)
        self._views[guid] = _Cached(record, beat, beat_at, online, foreign, view)
        return view

    def derived(self, view: AgentView, key: str, make: Callable[[AgentView], T]) -> T:
        """``make(view)``, computed once while ``view`` is current: views are rebuilt, never
        changed, so what is derived from one holds as long as it does. Don't change the result."""
        cached = self._views.get(view.guid)
        if cached is None or cached.view is not view:
            return make(view)
        if key not in cached.derived:
            cached.derived[key] = make(view)
        return cast(T, cached.derived[key])

    def _build_view(
        self, record: AgentRecord, beat: PresenceBeat | None, online: bool, foreign: bool
    ) -> AgentView:
        if foreign:  # its mirror is refreshed on every beat, with a TTL
            beat = PresenceBeat(status=record.status, current_task_count=record.current_task_count,
                                beat_at=record.last_heartbeat)  # fmt: skip
            online = record.status != "offline"
        status: AgentStatus = "offline"
        if online and beat is not None:
            status = "busy" if beat.status == "busy" else "online"
        return AgentView(
            guid=record.guid,
            handle=record.handle,
            agent_type=record.agent_type,
            capabilities=record.capabilities,
            boundaries=record.boundaries,
            status=status,
            current_task_count=beat.current_task_count if beat and online else record.current_task_count,
            last_heartbeat=beat.beat_at if beat else record.last_heartbeat,
            hostname=record.hostname,
            max_concurrent_tasks=record.max_concurrent_tasks,
            target=record.target,
            launch_work_id=record.launch_work_id,
            spin_up_id=record.spin_up_id,
            last_activity_at=record.last_activity_at,
        )

    def visible_to(self, record: AgentRecord, caller: AgentRecord | None) -> bool:
        """private: only itself; user-only: same user; project-only and public: the project."""
        if caller is not None and caller.guid == record.guid:
            return True
        if record.visibility == "private":
            return False
        if record.visibility == "user-only":
            return caller is not None and caller.username == record.username
        return True

    def find(self, where: AgentFilter, caller: AgentRecord | None = None) -> list[AgentView]:
        """Matching agents, most recent heartbeat first. Declared fields are filtered before
        any view is looked at, and views come from the cache, so a call over 1,000 agents
        builds almost nothing."""
        cutoff = self._cutoff().timestamp()
        declared = where.on_declared
        local = (r for r in self.records.values() if r.visibility in _OPEN or self.visible_to(r, caller))
        public = (r for r in self.foreign.values() if r.visibility == "public")
        found = []
        for source in (local, public):
            for record in source:
                if not declared or where.matches_record(record):
                    view = self.view(record, cutoff)
                    if where.matches_status(view.status):
                        found.append(view)
        found.sort(key=lambda v: v.last_heartbeat, reverse=True)
        return found
