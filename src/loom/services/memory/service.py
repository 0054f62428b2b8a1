"""``MemoryService``: remember, recall, search, move, forget and clean up memories.

Expiry is a per-message TTL on the write, so the server removes an expired memory even when
no Pattern process runs. Each process keeps the memories it may read in a ``MemoryCache``
fed by KV watches (see ``store`` for the key layout), so recall and search never scan the store.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loom.errors import Forbidden, InvalidArgument, NotFound, StorageFull
from loom.models.base import decode, encode, utcnow
from loom.models.memory import Memory
from loom.services.kvstore import purge
from loom.services.memory import rules
from loom.services.memory.cache import MemoryCache
from loom.services.memory.rules import Draft, normalise_scope
from loom.services.memory.store import Placement, Source

if TYPE_CHECKING:
    from loom.runtime import Runtime


class MemoryService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.guid = runtime.identity.guid
        self.placement = Placement(runtime.layout, self.guid, runtime.identity.personal_key(runtime.settings))
        self.cache = MemoryCache()
        # Caps are attributes so an operator (or a test) can lower them for one process.
        self.max_per_agent = rules.MAX_PER_AGENT
        self.max_per_project = rules.MAX_PER_PROJECT
        self.max_core = rules.MAX_CORE
        self._started: asyncio.Future[None] | None = None

    # -- following the store ----------------------------------------------------------------
    async def start(self) -> None:
        """Load what this agent may read and keep following it (once per process)."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            try:
                ready = []
                for source in self.placement.sources():
                    loaded = asyncio.Event()
                    ready.append(loaded)
                    kv = await self.runtime.bus.kv(source.bucket)
                    watcher = await kv.watch(source.keys)
                    self.runtime.spawn(self._follow(watcher, source, loaded), name=f"memory-{source.scope}")
                await asyncio.gather(*(e.wait() for e in ready))
                self._started.set_result(None)
            except BaseException as exc:
                self._started.set_exception(exc)
                self._started = None
                raise
        await asyncio.shield(self._started)
        self.cache.sweep()

    async def _follow(self, watcher: Any, source: Source, loaded: asyncio.Event) -> None:
        async for entry in watcher:
            if entry is None:  # end of the initial replay
                loaded.set()
                continue
            memory_id = entry.key.rsplit(".", 1)[-1]
            memory = decode(Memory, entry.value) if entry.value and entry.operation is None else None
            if memory is None or memory.scope != source.scope:
                # A delete (or a record that doesn't belong here) removes only the copy in
                # this scope: a memory moved to another scope keeps its id.
                self.cache.deleted(memory_id, source.scope, entry.revision)
            else:
                self.cache.put(memory, entry.revision)
            if entry.delta == 0:
                loaded.set()

    # -- writing ----------------------------------------------------------------------------
    def build(self, draft: Draft, memory_id: str | None = None, created_at: datetime | None = None) -> Memory:
        return rules.build(
            draft,
            agent_id=self.guid,
            project_id=self.runtime.settings.project_id,
            memory_id=memory_id,
            created_at=created_at or utcnow(),
        )

    async def _check_room(self, memory: Memory) -> None:
        existing = self.cache.get(memory.memory_id)
        if existing is not None and existing.agent_id != self.guid:
            raise Forbidden("that memory id belongs to another agent", field="memoryId")
        if existing is None and self.cache.per_agent[self.guid] >= self.max_per_agent:
            raise StorageFull(f"you hold {self.max_per_agent} memories; forget some or run cleanup")
        was_core = existing is not None and existing.category == "core"
        if (
            memory.category == "core"
            and not was_core
            and self.cache.core_per_agent[self.guid] >= self.max_core
        ):
            raise StorageFull(f"at most {self.max_core} core memories; forget one with force=true")
        if memory.scope in ("team", "private") and existing is None:
            bucket = self.runtime.layout.memory_bucket
            await self.runtime.bus.kv(bucket)
            info = await self.runtime.bus.js.stream_info(f"KV_{bucket.name}")
            if info.state.messages >= self.max_per_project:
                raise StorageFull(f"this project holds {self.max_per_project} memories; forget some")

    async def store(self, memory: Memory) -> Memory:
        await self.start()
        await self._check_room(memory)
        ttl = None
        if memory.expires_at is not None:
            remaining = (memory.expires_at - utcnow()).total_seconds()
            if remaining <= 0:
                raise InvalidArgument("has already expired", field="expiresAt")
            ttl = float(max(1, math.ceil(remaining)))  # the server counts whole seconds
        bucket, key = self.placement.place(memory.scope, memory.memory_id)
        await self.runtime.bus.kv(bucket)
        ack = await self.runtime.bus.js.publish(f"$KV.{bucket.name}.{key}", encode(memory), msg_ttl=ttl)
        self.cache.put(memory, ack.seq)  # read-your-writes before the watch catches up
        return memory

    async def remember(self, draft: Draft) -> Memory:
        return await self.store(self.build(draft))

    # -- reading ----------------------------------------------------------------------------
    async def get(self, memory_id: str) -> Memory:
        await self.start()
        memory = self.cache.get(rules.check_memory_id(memory_id))
        if memory is None:
            raise NotFound(f"no memory {memory_id} you can read", field="memoryId")
        return memory

    async def select(
        self,
        scopes: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Memory]:
        """Memories in recall order (core … tasks, newest first within each)."""
        await self.start()
        keep = _filter(scopes, categories, tags, since)
        return list(itertools.islice(self.cache.ordered(keep), limit))

    async def search(
        self,
        query: str,
        scopes: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[tuple[Memory, float]]:
        """The ``limit`` best memories for ``query`` (BM25 over content and tags)."""
        if not query.strip():
            raise InvalidArgument("must not be blank", field="query")
        await self.start()
        keep = _filter(scopes, categories, tags, since)
        scores = self.cache.index.search(query)
        # Most queries are answered from the best few; sort everything only when filters
        # reject so many that the first pick comes up short.
        pick = heapq.nlargest(limit * 4 + 50, scores.items(), key=_score)
        found = self._readable(pick, keep, limit)
        if len(found) < limit and len(pick) < len(scores):
            found = self._readable(sorted(scores.items(), key=_score, reverse=True), keep, limit)
        return found

    def _readable(
        self, ranked: list[tuple[str, float]], keep: Callable[[Memory], bool], limit: int
    ) -> list[tuple[Memory, float]]:
        now = utcnow()
        found = []
        for memory_id, score in ranked:
            memory = self.cache.memories.get(memory_id)
            if memory is not None and memory.alive(now) and keep(memory):
                found.append((memory, score))
                if len(found) == limit:
                    break
        return found

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for memory in self.cache.live():
            counts[memory.scope] = counts.get(memory.scope, 0) + 1
        return counts

    # -- changing ---------------------------------------------------------------------------
    async def _purge(self, memory: Memory) -> None:
        """Remove ``memory``'s copy in its scope, from the store and then from the cache."""
        bucket, key = self.placement.place(memory.scope, memory.memory_id)
        revision = await purge(self.runtime.bus, bucket, key)
        self.cache.drop(memory.memory_id, memory.scope, revision)

    async def forget(self, memory_id: str, force: bool = False) -> Memory:
        memory = await self.get(memory_id)
        if memory.agent_id != self.guid:
            raise Forbidden("only the agent that wrote a shared memory can forget it", field="memoryId")
        if memory.category == "core" and not force:
            raise Forbidden("core memories are protected; pass force=true", field="force")
        await self._purge(memory)
        return memory

    async def move(self, memory: Memory, updated: Memory) -> Memory:
        """Store ``updated`` (same id, maybe another scope) and remove the old copy."""
        if memory.agent_id != self.guid:
            raise Forbidden("only the agent that wrote a memory can change it", field="memoryId")
        self.cache.drop(memory.memory_id)
        try:
            stored = await self.store(updated)
        except BaseException:
            self.cache.put(memory)
            raise
        if updated.scope != memory.scope:
            await self._purge(memory)
        return stored

    async def cleanup(self) -> tuple[int, int]:
        """Count what expired since the last cleanup; trim core memories over the cap."""
        await self.start()
        expired, self.cache.expired_since_cleanup = self.cache.expired_since_cleanup, 0
        mine = [m for m in self.cache.live() if m.agent_id == self.guid and m.category == "core"]
        mine.sort(key=lambda m: (-m.priority, -m.created_at.timestamp()))  # keep important, new
        trimmed = mine[self.max_core :]
        for memory in trimmed:
            await self._purge(memory)
        return expired, len(trimmed)


def _score(item: tuple[str, float]) -> float:
    return item[1]


def _filter(
    scopes: Sequence[str] | None,
    categories: Sequence[str] | None,
    tags: Sequence[str] | None,
    since: datetime | None,
) -> Callable[[Memory], bool]:
    wanted = {normalise_scope(s) for s in scopes} if scopes else None
    kinds = set(categories) if categories else None
    tagged = set(tags) if tags else None

    def keep(memory: Memory) -> bool:
        return (
            (wanted is None or memory.scope in wanted)
            and (kinds is None or memory.category in kinds)
            and (tagged is None or not tagged.isdisjoint(memory.tags))
            and (since is None or memory.created_at >= since)
        )

    return keep
