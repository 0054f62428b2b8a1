"""The memories one process may read, kept in memory and current from KV watches.

Everything a read needs is maintained incrementally, so no call scans all memories:
per-category lists sorted by creation time (recall walks them newest first and stops at its
limit), an expiry heap (expired memories leave the view as soon as a read looks), per-agent
counters (caps) and the BM25 index (search).

Each key's KV revision is remembered, so a watch entry older than what the cache already
holds (this process's own later write or forget, applied on the spot) is ignored.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

from loom.models.base import utcnow
from loom.models.memory import ORDER, Memory
from loom.services.memory.search import SearchIndex

EXPIRY_SLACK = timedelta(seconds=1)
Entry = tuple[float, str]  # (created timestamp, memory id): sort key inside a category


class MemoryCache:
    def __init__(self) -> None:
        self.memories: dict[str, Memory] = {}
        self.index = SearchIndex()
        self._by_category: dict[str, list[Entry]] = {category: [] for category in ORDER}
        self._expiry: list[tuple[float, str]] = []
        self.per_agent: Counter[str] = Counter()
        self.core_per_agent: Counter[str] = Counter()
        self.expired_since_cleanup = 0
        # (scope, memory id) -> the revision of that key's last applied put or delete; kept
        # after a delete so the watch can't bring a forgotten memory back
        self._revisions: dict[tuple[str, str], int] = {}

    def __len__(self) -> int:
        return len(self.memories)

    def get(self, memory_id: str) -> Memory | None:
        memory = self.memories.get(memory_id)
        return memory if memory is not None and memory.alive(utcnow()) else None

    def put(self, memory: Memory, revision: int | None = None) -> None:
        """Cache ``memory`` as written at ``revision`` (None: restore it regardless)."""
        if not self._newer(memory.scope, memory.memory_id, revision):
            return
        self.drop(memory.memory_id)
        if not memory.alive(utcnow()):
            return
        self.memories[memory.memory_id] = memory
        bisect.insort(self._by_category[memory.category], _entry(memory))
        if memory.expires_at is not None:
            heapq.heappush(self._expiry, (memory.expires_at.timestamp(), memory.memory_id))
        self.per_agent[memory.agent_id] += 1
        if memory.category == "core":
            self.core_per_agent[memory.agent_id] += 1
        self.index.add(memory.memory_id, memory.content + " " + " ".join(memory.tags))

    def drop(self, memory_id: str, scope: str | None = None, revision: int | None = None) -> Memory | None:
        """Remove a memory; with ``scope``, only if the cached one lives in that scope.

        ``revision`` is that of the delete in ``scope``; an older one than the cache holds is ignored.
        """
        if scope is not None and not self._newer(scope, memory_id, revision):
            return None
        memory = self.memories.get(memory_id)
        if memory is None or (scope is not None and memory.scope != scope):
            return None
        del self.memories[memory_id]
        entries = self._by_category[memory.category]
        at = bisect.bisect_left(entries, _entry(memory))
        if at < len(entries) and entries[at][1] == memory_id:
            del entries[at]
        self.per_agent[memory.agent_id] -= 1
        if memory.category == "core":
            self.core_per_agent[memory.agent_id] -= 1
        self.index.remove(memory_id)
        return memory

    def deleted(self, memory_id: str, scope: str, revision: int | None) -> None:
        """The store says a memory is gone; the server's expiry counts as expired."""
        memory = self.drop(memory_id, scope, revision)
        # whole-second TTLs on the server: it may act up to a second before our timestamp
        if memory is not None and memory.expires_at and memory.expires_at <= utcnow() + EXPIRY_SLACK:
            self.expired_since_cleanup += 1

    def _newer(self, scope: str, memory_id: str, revision: int | None) -> bool:
        """Whether a change at ``revision`` is newer than the key's last applied one; if so, note it.

        The watch can deliver an entry after this process applied a later write of the same
        key itself; equal means the cache already holds that change.
        """
        if revision is None:
            return True
        key = (scope, memory_id)
        if revision <= self._revisions.get(key, 0):
            return False
        self._revisions[key] = revision
        return True

    def sweep(self) -> int:
        """Drop memories whose time is up (the server deletes them on its own)."""
        now = utcnow().timestamp()
        dropped = 0
        while self._expiry and self._expiry[0][0] <= now:
            expires, memory_id = heapq.heappop(self._expiry)
            memory = self.memories.get(memory_id)
            if memory is not None and memory.expires_at and memory.expires_at.timestamp() == expires:
                self.drop(memory_id)
                dropped += 1
        self.expired_since_cleanup += dropped
        return dropped

    def ordered(self, keep: Callable[[Memory], bool]) -> Iterator[Memory]:
        """Memories passing ``keep``: core, longterm, shared kinds, recent, tasks; newest first."""
        now = utcnow()
        for rank in sorted(set(ORDER.values())):
            lists = [self._by_category[c] for c, r in ORDER.items() if r == rank]
            merged = heapq.merge(*(reversed(entries) for entries in lists), reverse=True)
            for _, memory_id in merged:
                memory = self.memories[memory_id]
                if memory.alive(now) and keep(memory):
                    yield memory

    def live(self) -> Iterator[Memory]:
        now = utcnow()
        return (m for m in self.memories.values() if m.alive(now))


def _entry(memory: Memory) -> Entry:
    return (memory.created_at.timestamp(), memory.memory_id)
