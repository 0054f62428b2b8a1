"""Work item state and dead-letter records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from loom.models.base import Record, utcnow

WorkStatus = Literal[
    "pending", "assigned", "in-progress", "completed", "failed", "cancelled", "dead-lettered"
]
TERMINAL: frozenset[str] = frozenset({"completed", "cancelled", "dead-lettered"})


class WorkError(Record):
    attempt: int
    error: str
    agent: str | None = None
    at: datetime = Field(default_factory=utcnow)


class WorkRecord(Record):
    """One work item in ``loom_P_work`` (key = id). Every change is a compare-and-set."""

    id: str
    task_id: str | None = None
    description: str
    capability: str
    boundary: str | None = None
    priority: int = 5
    deadline: datetime | None = None
    context_data: dict[str, Any] = Field(default_factory=dict)
    preferred_agent_type: str | None = None
    required_agent_type: str | None = None
    offered_by: str | None = None
    offered_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    status: WorkStatus = "pending"
    assigned_to: str | None = None
    progress: int = 0
    progress_message: str | None = None
    attempts: int = 0
    # attempts = attempt_base + deliveries of the current queue message (a DLQ retry resets it)
    attempt_base: int = 0
    max_attempts: int = 3
    lease_expires_at: datetime | None = None
    ack_subject: str | None = None
    result: dict[str, Any] | None = None
    summary: str | None = None
    error: str | None = None
    errors: list[WorkError] = Field(default_factory=list)
    claimed_at: datetime | None = None
    completed_at: datetime | None = None
    generation: int = 0  # bumped on each requeue from the DLQ (dedup id of the queue message)

    def public(self) -> dict[str, Any]:
        """The keys of ``get_work_item``."""
        wire = self.to_wire()
        keys = (
            "id taskId status capability boundary priority assignedTo progress attempts result summary error "
            "offeredBy offeredAt updatedAt"
        ).split()
        return {k: wire.get(k) for k in keys} | {
            "description": self.description,
            "contextData": self.context_data,
        }

    def claimed(self) -> dict[str, Any]:
        """The ``workItem`` of ``claim_work``."""
        wire = self.to_wire()
        keys = (
            "id taskId description capability boundary priority contextData "
            "offeredBy offeredAt attempts leaseExpiresAt"
        ).split()
        return {k: wire.get(k) for k in keys}


class DeadLetter(Record):
    id: str
    work_item: WorkRecord
    reason: str
    attempts: int
    errors: list[WorkError] = Field(default_factory=list)
    failed_at: datetime = Field(default_factory=utcnow)

    def public(self) -> dict[str, Any]:
        """The shape ``list_dead_letter_items`` and ``GET /api/dlq`` return."""
        return {
            "id": self.id,
            "workItem": self.work_item.public(),
            "reason": self.reason,
            "attempts": self.attempts,
            "errors": [e.to_wire() for e in self.errors],
            "failedAt": self.to_wire()["failedAt"],
        }
