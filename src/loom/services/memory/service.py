"""``MemoryService``: remember, recall, search, promote, share, forget, export and import.

Where memories live (keys can't cross a boundary):
    team      loom_P_memory           team.<id>
    private   loom_P_memory           private.<guid>.<id>
    personal  loom__personal_memory   <personal key>.<id>
    public    loom__public_memory     <id>
Expiry is a per-message TTL on the write, so the server removes an expired memory even when
no Pattern process runs. Each process keeps the memories it may read in memory, fed by KV
watches, so recall and search never scan the store.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loom.bus.layout import PERSONAL_MEMORY_BUCKET, PUBLIC_MEMORY_BUCKET, BucketSpec
from loom.errors import Forbidden, InvalidArgument, NotFound, StorageFull
from loom.models.base import decode, encode, utcnow
from loom.models.memory import ORDER, Memory, Scope
from loom.names import validate_names
from loom.services.memory.search import SearchIndex

if TYPE_CHECKING:
    from loom.runtime import Runtime

MAX_CONTENT = 32 * 1024
MAX_TAGS = 10
MAX_CORE = 100
MAX_PER_AGENT = 20_000
SHORT_LIVED = {"recent", "tasks"}
SHARED_ONLY = {"decisions", "architecture", "learnings"}
DAY = 86400
SECRET = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9_-]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}|bearer\s+[a-z0-9._-]{20,})",
    re.I,
)


@dataclass(frozen=True)
class Draft:
    content: str
    scope: str = "private"
    category: str = "recent"
    tags: tuple[str, ...] = ()
    priority: int = 2
    related_to: tuple[str, ...] = ()
    ttl_seconds: int | None = None


def normalise_scope(scope: str) -> Scope:
    scope = "team" if scope == "shared" else scope
    if scope not in ("private", "personal", "team", "public"):
        raise InvalidArgument("must be private, personal, team (or shared) or public", field="scope")
    return scope  # type: ignore[return-value]


class MemoryService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.guid = runtime.identity.guid
        self.personal = runtime.identity.personal_key(runtime.settings)
        self.memories: dict[str, Memory] = {}
        self.index = SearchIndex()
        self._started: asyncio.Future[None] | None = None

    # -- where things live ----------------------------------------------------------------
    def _place(self, scope: str, memory_id: str) -> tuple[BucketSpec, str]:
        layout = self.runtime.layout
        if scope == "team":
            return layout.memory_bucket, f"team.{memory_id}"
        if scope == "private":
            return layout.memory_bucket, f"private.{self.guid}.{memory_id}"
        if scope == "personal":
            return PERSONAL_MEMORY_BUCKET, f"{self.personal}.{memory_id}"
        return PUBLIC_MEMORY_BUCKET, memory_id

    def _readable(self) -> list[tuple[BucketSpec, str]]:
        layout = self.runtime.layout
        return [
            (layout.memory_bucket, "team.>"),
            (layout.memory_bucket, f"private.{self.guid}.>"),
            (PERSONAL_MEMORY_BUCKET, f"{self.personal}.>"),
            (PUBLIC_MEMORY_BUCKET, ">"),
        ]

    async def start(self) -> None:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            loaded = []
            for bucket, keys in self._readable():
                ready = asyncio.Event()
                loaded.append(ready)
                kv = await self.runtime.bus.kv(bucket)
                self.runtime.spawn(self._follow(kv, keys, ready), name=f"memory-{keys}")
            await asyncio.gather(*(e.wait() for e in loaded))
            self._started.set_result(None)
        await asyncio.shield(self._started)

    async def _follow(self, kv: Any, keys: str, ready: asyncio.Event) -> None:
        watcher = await kv.watch(keys)
        async for entry in watcher:
            if entry is None:
                ready.set()
                continue
            memory_id = entry.key.rsplit(".", 1)[-1]
            memory = decode(Memory, entry.value) if entry.value and entry.operation is None else None
            if memory is None:
                self.memories.pop(memory_id, None)
                self.index.remove(memory_id)
            else:
                self.memories[memory_id] = memory
                self.index.add(memory_id, memory.content + " " + " ".join(memory.tags))
            if entry.delta == 0:
                ready.set()

    def _live(self) -> list[Memory]:
        now = utcnow()
        return [m for m in self.memories.values() if m.expires_at is None or m.expires_at > now]

    # -- writing --------------------------------------------------------------------------
    def build(self, draft: Draft, memory_id: str | None = None, created_at: datetime | None = None) -> Memory:
        scope = normalise_scope(draft.scope)
        if draft.category not in ORDER:
            raise InvalidArgument(f"must be one of {', '.join(ORDER)}", field="category")
        if draft.category in SHARED_ONLY and scope not in ("team", "public"):
            raise InvalidArgument(f"{draft.category} memories are team or public", field="scope")
        if not draft.content.strip() or len(draft.content.encode()) > MAX_CONTENT:
            raise InvalidArgument(f"must be 1..{MAX_CONTENT} bytes", field="content")
        if len(draft.tags) > MAX_TAGS:
            raise InvalidArgument(f"at most {MAX_TAGS} tags", field="tags")
        if not 1 <= draft.priority <= 3:
            raise InvalidArgument("must be 1, 2 or 3", field="priority")
        ttl = draft.ttl_seconds
        if ttl is not None and not 1 <= ttl <= 365 * DAY:
            raise InvalidArgument("must be between 1 and 31536000", field="ttlSeconds")
        if ttl is None and draft.category in SHORT_LIVED:
            ttl = DAY
        created = created_at or utcnow()
        return Memory(
            memory_id=memory_id or uuid.uuid4().hex,
            scope=scope,
            category=draft.category,
            content=draft.content,
            tags=validate_names(draft.tags, "tags"),
            priority=draft.priority,
            related_to=list(draft.related_to),
            agent_id=self.guid,
            project_id=self.runtime.settings.project_id if scope in ("team", "private") else None,
            created_at=created,
            expires_at=created + timedelta(seconds=ttl) if ttl else None,
        )

    def _check_caps(self, memory: Memory) -> None:
        mine = [m for m in self._live() if m.agent_id == self.guid and m.memory_id != memory.memory_id]
        if len(mine) >= MAX_PER_AGENT:
            raise StorageFull(f"you hold {MAX_PER_AGENT} memories; forget or cleanup some", field="content")
        if memory.category == "core" and sum(m.category == "core" for m in mine) >= MAX_CORE:
            raise StorageFull(f"at most {MAX_CORE} core memories", field="category")

    async def store(self, memory: Memory) -> Memory:
        await self.start()
        self._check_caps(memory)
        bucket, key = self._place(memory.scope, memory.memory_id)
        await self.runtime.bus.kv(bucket)
        ttl = (memory.expires_at - utcnow()).total_seconds() if memory.expires_at else None
        if ttl is not None and ttl < 1:
            raise InvalidArgument("has already expired", field="expiresAt")
        await self.runtime.bus.js.publish(f"$KV.{bucket.name}.{key}", encode(memory), msg_ttl=ttl)
        self.memories[memory.memory_id] = memory  # read-your-writes before the watch catches up
        self.index.add(memory.memory_id, memory.content + " " + " ".join(memory.tags))
        return memory

    async def remember(self, draft: Draft) -> Memory:
        return await self.store(self.build(draft))

    @staticmethod
    def secret_warning(content: str) -> str | None:
        if SECRET.search(content):
            return "content looks like it contains a secret (key or token); consider forgetting it"
        return None

    # -- reading --------------------------------------------------------------------------
    async def get(self, memory_id: str) -> Memory:
        await self.start()
        memory = self.memories.get(memory_id)
        if memory is None or (memory.expires_at and memory.expires_at <= utcnow()):
            raise NotFound(f"no memory {memory_id} you can read", field="memoryId")
        return memory

    async def select(
        self,
        scopes: list[str] | None = None,
        categories: list[str] | None = None,
        tags: list[str] | None = None,
        since: datetime | None = None,
    ) -> list[Memory]:
        await self.start()
        wanted = {normalise_scope(s) for s in scopes} if scopes else None
        found = [
            m
            for m in self._live()
            if (wanted is None or m.scope in wanted)
            and (not categories or m.category in categories)
            and (not tags or set(tags) & set(m.tags))
            and (since is None or m.created_at >= since)
        ]
        found.sort(key=lambda m: (ORDER[m.category], -m.created_at.timestamp()))
        return found

    async def search(self, query: str, **filters: Any) -> list[tuple[Memory, float]]:
        if not query.strip():
            raise InvalidArgument("must not be empty", field="query")
        allowed = {m.memory_id: m for m in await self.select(**filters)}
        scores = self.index.search(query)
        ranked = sorted(((allowed[i], s) for i, s in scores.items() if i in allowed), key=lambda x: -x[1])
        return ranked

    # -- changing -------------------------------------------------------------------------
    async def forget(self, memory_id: str, force: bool = False) -> Memory:
        memory = await self.get(memory_id)
        if memory.scope in ("team", "public") and memory.agent_id != self.guid:
            raise Forbidden("only the agent that wrote it can forget a shared memory", field="memoryId")
        if memory.category == "core" and not force:
            raise Forbidden("core memories are protected; pass force=true", field="force")
        bucket, key = self._place(memory.scope, memory_id)
        kv = await self.runtime.bus.kv(bucket)
        await kv.purge(key)
        self.memories.pop(memory_id, None)
        self.index.remove(memory_id)
        return memory

    async def move(self, memory: Memory, **changes: Any) -> Memory:
        """Store a changed copy (new scope or category) and remove the old one."""
        updated = memory.model_copy(update=changes)
        stored = await self.store(updated)
        if updated.scope != memory.scope:
            bucket, key = self._place(memory.scope, memory.memory_id)
            await (await self.runtime.bus.kv(bucket)).purge(key)
        return stored

    async def cleanup(self) -> tuple[int, int]:
        """Drop what expired but is still cached, and trim core memories over the cap."""
        await self.start()
        now = utcnow()
        expired = [i for i, m in self.memories.items() if m.expires_at and m.expires_at <= now]
        for memory_id in expired:
            self.memories.pop(memory_id, None)
            self.index.remove(memory_id)
        return len(expired), 0
