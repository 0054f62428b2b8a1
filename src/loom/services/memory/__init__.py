"""Pattern: scoped, expiring, searchable memory for agents."""

from loom.services.memory.rules import Draft
from loom.services.memory.service import MemoryService

__all__ = ["Draft", "MemoryService"]
