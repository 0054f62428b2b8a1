"""Memory records (Pattern)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from loom.models.base import Record, utcnow

Scope = Literal["private", "personal", "team", "public"]
ScopeName = Literal["private", "personal", "team", "shared", "public"]  # `shared` = team
Category = Literal["recent", "tasks", "longterm", "core", "decisions", "architecture", "learnings"]
# Memory ids end up inside KV keys: no dots, no wildcards, nothing that could change the key.
MEMORY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ORDER: dict[str, int] = {
    "core": 0,
    "longterm": 1,
    "decisions": 2,
    "architecture": 2,
    "learnings": 2,
    "recent": 3,
    "tasks": 4,
}
PUBLIC_KEYS = "memoryId scope category content tags priority relatedTo agentId createdAt expiresAt".split()


class Memory(Record):
    memory_id: str = Field(pattern=MEMORY_ID_PATTERN)
    scope: Scope
    category: Category
    content: str
    tags: list[str] = Field(default_factory=list)
    priority: int = 2
    related_to: list[str] = Field(default_factory=list)
    agent_id: str
    project_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        wire = self.to_wire()
        return {k: wire.get(k) for k in PUBLIC_KEYS}

    def alive(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now
