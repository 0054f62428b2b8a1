"""What a valid memory is: limits, defaults per category, and the secret check."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from loom.errors import InvalidArgument
from loom.models.memory import MEMORY_ID_PATTERN, ORDER, Memory, Scope
from loom.names import validate_names

MAX_CONTENT = 32 * 1024
MAX_TAGS = 10
MAX_CORE = 100
MAX_PER_AGENT = 20_000
MAX_PER_PROJECT = 250_000
MAX_TTL = 365 * 86400
SHORT_LIVED_TTL = 86400  # recent and tasks expire after a day unless told otherwise
SHORT_LIVED = {"recent", "tasks"}
SHARED_ONLY = {"decisions", "architecture", "learnings"}
MEMORY_ID = re.compile(MEMORY_ID_PATTERN)
SECRET = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{40,}"
    r"|\bsk-[A-Za-z0-9_-]{20,}"
    r"|\bxox[abpr]-[A-Za-z0-9-]{10,}"
    r"|\bbearer\s+[a-z0-9._~+/=-]{20,})",
    re.I,
)


@dataclass(frozen=True)
class Draft:
    """What a caller asks to remember, before validation."""

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


def check_memory_id(memory_id: str, field: str = "memoryId") -> str:
    if not MEMORY_ID.fullmatch(memory_id):
        raise InvalidArgument("must be 1..64 letters, digits, '_' or '-'", field=field)
    return memory_id


def build(
    draft: Draft,
    *,
    agent_id: str,
    project_id: str,
    memory_id: str | None = None,
    created_at: datetime,
) -> Memory:
    """Validate ``draft`` and turn it into a memory; every failure names its field."""
    scope = normalise_scope(draft.scope)
    if draft.category not in ORDER:
        raise InvalidArgument(f"must be one of {', '.join(ORDER)}", field="category")
    if draft.category in SHARED_ONLY and scope not in ("team", "public"):
        # Decisions, architecture and learnings exist to be shared; a private one is refused
        # rather than silently published, so nothing leaves the agent without being asked.
        raise InvalidArgument(f"{draft.category} memories are team or public", field="scope")
    if not draft.content.strip() or len(draft.content.encode()) > MAX_CONTENT:
        raise InvalidArgument(f"must be 1..{MAX_CONTENT} bytes and not blank", field="content")
    if len(draft.tags) > MAX_TAGS:
        raise InvalidArgument(f"at most {MAX_TAGS} tags", field="tags")
    if not 1 <= draft.priority <= 3:
        raise InvalidArgument("must be 1, 2 or 3", field="priority")
    related = [check_memory_id(r, f"relatedTo[{i}]") for i, r in enumerate(draft.related_to)]
    ttl = draft.ttl_seconds
    if ttl is not None and not 1 <= ttl <= MAX_TTL:
        raise InvalidArgument(f"must be between 1 and {MAX_TTL}", field="ttlSeconds")
    if ttl is None and draft.category in SHORT_LIVED:
        ttl = SHORT_LIVED_TTL
    return Memory(
        memory_id=check_memory_id(memory_id) if memory_id else uuid.uuid4().hex,
        scope=scope,
        category=draft.category,
        content=draft.content,
        tags=validate_names(draft.tags, "tags"),
        priority=draft.priority,
        related_to=related,
        agent_id=agent_id,
        project_id=project_id if scope in ("team", "private") else None,
        created_at=created_at,
        expires_at=created_at + timedelta(seconds=ttl) if ttl else None,
    )


def secret_warning(content: str) -> str | None:
    if SECRET.search(content):
        return "content looks like it contains a secret (key or token); consider forgetting it"
    return None


def redact(text: str) -> str:
    """``text`` with anything that looks like a secret masked (for summaries and reply texts)."""
    return SECRET.sub("[redacted]", text)
