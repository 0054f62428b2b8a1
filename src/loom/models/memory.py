"""Memory records (Pattern)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from loom.models.base import Record, utcnow

Scope = Literal["private", "personal", "team", "public"]
Category = Literal["recent", "tasks", "longterm", "core", "decisions", "architecture", "learnings"]
ORDER: dict[str, int] = {
    "core": 0,
    "longterm": 1,
    "decisions": 2,
    "architecture": 2,
    "learnings": 2,
    "recent": 3,
    "tasks": 4,
}


class Memory(Record):
    memory_id: str
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
        keys = "memoryId scope category content tags priority agentId createdAt expiresAt relatedTo".split()
        return {k: wire.get(k) for k in keys}
