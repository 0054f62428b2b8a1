"""The session-start summary: what an agent should read first, in at most 4 KB."""

from __future__ import annotations

from collections.abc import Sequence

from loom.models.memory import Memory
from loom.services.memory.rules import redact

SUMMARY_BYTES = 4096
LINE_CHARS = 240
HEADINGS = {
    "core": "Who you are (core)",
    "longterm": "Long-term knowledge",
    "decisions": "Team decisions",
    "architecture": "Architecture",
    "learnings": "Learnings",
    "recent": "Recent",
    "tasks": "Open tasks",
}


def summarise(memories: Sequence[Memory], limit: int = SUMMARY_BYTES) -> str:
    """Headed sections in recall order; stops (and says how many were left out) at ``limit``."""
    lines: list[str] = []
    size = 0
    heading = None
    for shown, memory in enumerate(memories):
        first = redact((memory.content.strip().splitlines() or [""])[0])
        if len(first) > LINE_CHARS:
            first = first[: LINE_CHARS - 1] + "…"
        tags = f" #{' #'.join(memory.tags)}" if memory.tags else ""
        block = [f"- {first}{tags} ({memory.scope})"]
        if HEADINGS[memory.category] != heading:
            block.insert(0, f"{HEADINGS[memory.category]}:")
        cost = sum(len(line.encode()) + 1 for line in block)
        tail = f"… {len(memories) - shown} more; use search_memories or recall_context with filters."
        if size + cost + len(tail.encode()) + 1 > limit:
            lines.append(tail)
            break
        heading = HEADINGS[memory.category]
        lines.extend(block)
        size += cost
    return "\n".join(lines)
