"""``WorkService``: offer, claim (a lease), progress, complete, fail, cancel, read.

At-least-once with leases: a claim acks nothing; completion acks; a lapsed lease lets the
server redeliver; when a delivery would exceed the item's attempts, the claimer moves it to
the dead-letter queue with every error it collected, so no daemon is needed for that.
State lives in the work bucket and changes only by compare-and-set.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nats.aio.msg import Msg
from nats.js.kv import KeyValue

from loom.errors import Conflict, Forbidden, InvalidArgument, NotFound
from loom.models.base import utcnow
from loom.models.work import TERMINAL, DeadLetter, WorkError, WorkRecord
from loom.names import validate_name
from loom.services.agent_state import AgentState
from loom.services.kvstore import cas_update, cas_write, read, read_all
from loom.services.work_queue import Delivery, WorkQueue

if TYPE_CHECKING:
    from loom.runtime import Runtime

MAX_CONTEXT = 1024 * 1024
POLL_INTERVAL = 0.5  # re-check for lease-lapse redeliveries, which publish nothing


@dataclass(frozen=True)
class WorkSpec:
    description: str
    capability: str
    task_id: str | None = None
    priority: int = 5
    boundary: str | None = None
    deadline: datetime | None = None
    context_data: dict[str, Any] = field(default_factory=dict)
    preferred_agent_type: str | None = None
    required_agent_type: str | None = None

    def validated(self) -> WorkSpec:
        if not self.description.strip() or len(self.description) > 64 * 1024:
            raise InvalidArgument("must be 1..65536 characters", field="description")
        if not 1 <= self.priority <= 10:
            raise InvalidArgument("must be between 1 and 10", field="priority")
        if self.deadline is not None and self.deadline <= utcnow():
            raise InvalidArgument("must be in the future", field="deadline")
        if len(str(self.context_data)) > MAX_CONTEXT:
            raise InvalidArgument("must be at most 1 MiB", field="contextData")
        if self.task_id is not None and not 0 < len(self.task_id) <= 128:
            raise InvalidArgument("must be 1..128 characters", field="taskId")
        return WorkSpec(
            description=self.description,
            capability=validate_name(self.capability, "requiredCapability"),
            task_id=self.task_id,
            priority=self.priority,
            boundary=validate_name(self.boundary, "boundary") if self.boundary else None,
            deadline=self.deadline,
            context_data=self.context_data,
            preferred_agent_type=self.preferred_agent_type,
            required_agent_type=self.required_agent_type,
        )


def backoff(attempt: int) -> float:
    """Seconds before a failed item is offered again: 1, 2, 4 ... capped at 30."""
    return float(min(30, 2 ** max(0, attempt - 1)))


MAX_HELD = 1000  # items whose last write this process remembers (an agent holds a few)


class WorkService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue = WorkQueue(runtime)
        # The items this process claimed, as it last wrote them, with their revision: the
        # claimant's next move starts from there instead of reading the record again. A
        # stale copy (someone else wrote since) only costs a compare-and-set retry.
        self._held: dict[str, tuple[WorkRecord, int]] = {}

    async def _kv(self) -> KeyValue:
        return await self.runtime.bus.kv(self.runtime.layout.work_bucket)

    def _hold(self, record: WorkRecord, revision: int) -> None:
        if record.status in TERMINAL:
            self._held.pop(record.id, None)
            return
        if len(self._held) >= MAX_HELD and record.id not in self._held:
            self._held.pop(next(iter(self._held)))  # the oldest: long abandoned
        self._held[record.id] = (record, revision)

    async def _dlq(self) -> KeyValue:
        return await self.runtime.bus.kv(self.runtime.layout.dlq_bucket)

    # -- offering -------------------------------------------------------------------------
    async def offer(self, spec: WorkSpec, offered_by: str | None) -> WorkRecord:
        spec = spec.validated()
        record = WorkRecord(
            id=str(uuid.uuid4()),
            task_id=spec.task_id,
            description=spec.description,
            capability=spec.capability,
            boundary=spec.boundary,
            priority=spec.priority,
            deadline=spec.deadline,
            context_data=spec.context_data,
            preferred_agent_type=spec.preferred_agent_type,
            required_agent_type=spec.required_agent_type,
            offered_by=offered_by,
            max_attempts=self.runtime.settings.work_max_attempts,
        )
        # A fresh uuid has nothing to read: create it (a lost race would only be a retry).
        kv = await self._kv()
        _, revision = await cas_write(kv, record.id, WorkRecord, lambda _: record, known=(None, 0))
        await self.queue.publish(record, revision, dedup=record.id)
        return record

    # -- claiming -------------------------------------------------------------------------
    async def claim(self, capabilities: list[str], timeout_ms: int = 5000) -> WorkRecord | None:
        """The next item for these capabilities (highest priority first), or None at the timeout."""
        me = self.runtime.service(AgentState).require()
        if not 0 <= timeout_ms <= 30_000:
            raise InvalidArgument("must be between 0 and 30000 ms", field="timeout")
        caps = [validate_name(c, "capability") for c in capabilities]
        for cap in caps:
            if cap not in me.capabilities:
                raise Forbidden(f"you did not register capability {cap!r}", field="capability")
        deadline = time.monotonic() + timeout_ms / 1000
        record = await self._claim_once(caps, me.boundaries, me.guid)
        if record is not None or timeout_ms == 0:
            return record
        wake = asyncio.Event()

        async def nudge(_msg: Msg) -> None:
            wake.set()

        # One waiter per profile (capabilities + boundaries) is woken by each offer: any of
        # them can take it, and waking all of them would have every one race for one item.
        # Two offers in a burst may both land on one waiter; the other finds the second item
        # at its next look, within POLL_INTERVAL.
        group = self.queue.wake_group(caps, me.boundaries)
        nc = self.runtime.bus.nc
        subs = [await nc.subscribe(s, queue=group, cb=nudge) for s in self.queue.wake_subjects(caps)]
        try:
            while True:  # looks again once subscribed, so an offer in between is not missed
                wake.clear()
                record = await self._claim_once(caps, me.boundaries, me.guid)
                left = deadline - time.monotonic()
                if record is not None or left <= 0:
                    return record
                try:
                    await asyncio.wait_for(wake.wait(), min(left, POLL_INTERVAL))
                except TimeoutError:
                    pass
        finally:
            for sub in subs:
                await sub.unsubscribe()

    async def _claim_once(self, caps: list[str], boundaries: list[str], guid: str) -> WorkRecord | None:
        counts: dict[str, int] = {}
        for cap in caps:
            counts |= await self.queue.counts(cap)
        for cap, slot, priority in self.queue.candidates(caps, boundaries, counts):
            while (delivery := await self.queue.pull(cap, slot, priority)) is not None:
                record = await self._accept(delivery, guid)
                if record is not None:
                    return record
        return None

    async def _accept(self, delivery: Delivery, guid: str) -> WorkRecord | None:
        """Turn a delivery into a claim, or settle it (gone, finished, out of attempts)."""
        known = delivery.known or await read(await self._kv(), delivery.work_id, WorkRecord)
        current, revision = known
        if current is None or current.status in TERMINAL:
            await self.queue.ack(delivery.ack_subject, b"+TERM")
            return None
        attempts = current.attempt_base + delivery.delivered
        if attempts > current.max_attempts:
            await self._dead_letter(current, "lease lapsed on the last attempt", delivery.ack_subject)
            return None
        lease = utcnow() + timedelta(seconds=self.runtime.settings.work_lease)

        def assign(record: WorkRecord | None) -> WorkRecord | None:
            if record is None or record.status in TERMINAL:
                return None
            errors = list(record.errors)
            if record.status in ("assigned", "in-progress") and record.ack_subject != delivery.ack_subject:
                errors.append(
                    WorkError(attempt=record.attempts, error="lease lapsed", agent=record.assigned_to)
                )
            return record.model_copy(
                update={
                    "status": "assigned",
                    "assigned_to": guid,
                    "attempts": attempts,
                    "lease_expires_at": lease,
                    "ack_subject": delivery.ack_subject,
                    "progress": 0,
                    "errors": errors,
                    "claimed_at": utcnow(),
                    "updated_at": utcnow(),
                }
            )

        kv = await self._kv()
        record, revision = await cas_write(
            kv, delivery.work_id, WorkRecord, assign, known=(current, revision)
        )
        if record is None or record.status != "assigned" or record.ack_subject != delivery.ack_subject:
            await self.queue.ack(delivery.ack_subject, b"+TERM")
            return None
        self._hold(record, revision)
        return record

    # -- the claimant's moves ------------------------------------------------------------
    async def _mine(
        self, work_id: str, known: tuple[WorkRecord | None, int] | None = None
    ) -> tuple[WorkRecord, int]:
        """The caller's claimed item and its revision (``known``: just read by the caller)."""
        record, revision = (
            known or self._held.get(work_id) or await read(await self._kv(), work_id, WorkRecord)
        )
        if record is None:
            raise NotFound(f"no work item {work_id}", field="workItemId")
        guid = self.runtime.service(AgentState).require().guid
        if record.assigned_to != guid:
            raise Forbidden("this item is not assigned to you", field="workItemId")
        if record.status in TERMINAL:
            raise Conflict(f"this item is already {record.status}", field="workItemId")
        return record, revision

    async def _change(self, mine: WorkRecord, revision: int, **updates: Any) -> WorkRecord:
        """CAS-update a claimed item, failing if its lease was lost in between."""

        def apply(record: WorkRecord | None) -> WorkRecord | None:
            if record is None or record.ack_subject != mine.ack_subject or record.status in TERMINAL:
                raise Conflict("your lease on this item lapsed and it was offered again", field="workItemId")
            return record.model_copy(update={**updates, "updated_at": utcnow()})

        try:
            updated, revision = await cas_write(
                await self._kv(), mine.id, WorkRecord, apply, known=(mine, revision)
            )
        except Conflict:
            self._held.pop(mine.id, None)
            raise
        assert updated is not None
        self._hold(updated, revision)
        return updated

    async def report_progress(self, work_id: str, progress: int, message: str | None = None) -> WorkRecord:
        if not 0 <= progress <= 100:
            raise InvalidArgument("must be between 0 and 100", field="progress")
        mine, revision = await self._mine(work_id)
        assert mine.ack_subject
        await self.queue.ack(mine.ack_subject, b"+WPI")
        lease = utcnow() + timedelta(seconds=self.runtime.settings.work_lease)
        return await self._change(
            mine,
            revision,
            status="in-progress",
            progress=progress,
            progress_message=message,
            lease_expires_at=lease,
        )

    async def complete(
        self, work_id: str, result: dict[str, Any] | None = None, summary: str | None = None
    ) -> WorkRecord:
        known: tuple[WorkRecord | None, int] | None = self._held.get(work_id)
        if known is None:  # (a held item is not completed yet, or it would have been let go)
            current, revision = known = await read(await self._kv(), work_id, WorkRecord)
            guid = self.runtime.service(AgentState).require().guid
            if current is not None and current.status == "completed" and current.assigned_to == guid:
                return current  # idempotent
        mine, revision = await self._mine(work_id, known=known)
        record = await self._change(
            mine,
            revision,
            status="completed",
            progress=100,
            result=result or {},
            summary=summary,
            completed_at=utcnow(),
        )
        assert mine.ack_subject
        await self.queue.ack(mine.ack_subject)
        return record

    async def fail(self, work_id: str, error: str, recoverable: bool = True) -> WorkRecord:
        if not error.strip():
            raise InvalidArgument("must not be empty", field="error")
        mine, revision = await self._mine(work_id)
        assert mine.ack_subject
        errors = [*mine.errors, WorkError(attempt=mine.attempts, error=error[:4000], agent=mine.assigned_to)]
        if not recoverable or mine.attempts >= mine.max_attempts:
            failed = mine.model_copy(update={"errors": errors, "error": error[:4000]})
            reason = "failed (not recoverable)" if not recoverable else f"failed {mine.attempts} times"
            return await self._dead_letter(failed, reason, mine.ack_subject)
        record = await self._change(
            mine, revision, status="pending", assigned_to=None, errors=errors, error=error[:4000]
        )
        await self.queue.nak(mine.ack_subject, backoff(mine.attempts))
        return record

    # -- dead letters ---------------------------------------------------------------------
    async def _dead_letter(self, record: WorkRecord, reason: str, ack_subject: str) -> WorkRecord:
        errors = list(record.errors)
        if reason.startswith("lease lapsed"):
            errors.append(WorkError(attempt=record.attempts, error="lease lapsed", agent=record.assigned_to))

        def bury(current: WorkRecord | None) -> WorkRecord | None:
            base = current or record
            return base.model_copy(
                update={
                    "status": "dead-lettered",
                    "errors": errors,
                    "error": record.error,
                    "updated_at": utcnow(),
                }
            )

        self._held.pop(record.id, None)
        buried = await cas_update(await self._kv(), record.id, WorkRecord, bury)
        assert buried is not None
        letter = DeadLetter(
            id=record.id, work_item=buried, reason=reason, attempts=buried.attempts, errors=errors
        )
        await cas_update(await self._dlq(), record.id, DeadLetter, lambda _: letter)
        await self.queue.ack(ack_subject, b"+TERM")
        return buried

    # -- reading and managing -------------------------------------------------------------
    async def get(self, work_id: str) -> WorkRecord:
        record, _ = await read(await self._kv(), work_id, WorkRecord)
        if record is None:
            raise NotFound(f"no work item {work_id}", field="workItemId")
        return record

    async def all(self) -> list[WorkRecord]:
        """Every item of the project, oldest first (Weft paginates over this)."""
        found = await read_all(self.runtime.bus, self.runtime.layout.work_bucket, WorkRecord)
        return sorted((record for _, record in found), key=lambda r: r.offered_at)

    async def cancel(self, work_id: str) -> WorkRecord:
        def stop(record: WorkRecord | None) -> WorkRecord | None:
            if record is None:
                raise NotFound(f"no work item {work_id}", field="workItemId")
            if record.status in TERMINAL:
                raise Conflict(f"already {record.status}", field="workItemId")
            return record.model_copy(update={"status": "cancelled", "updated_at": utcnow()})

        self._held.pop(work_id, None)
        record = await cas_update(await self._kv(), work_id, WorkRecord, stop)
        assert record is not None
        if record.ack_subject:
            await self.queue.ack(record.ack_subject, b"+TERM")
        return record

    async def pending_counts(self, capabilities: list[str], boundaries: list[str]) -> dict[str, int]:
        """Items waiting per capability that an agent with these boundaries could claim."""
        counts: dict[str, int] = {}
        for cap in capabilities:
            per_subject = await self.queue.counts(cap)
            eligible = self.queue.candidates([cap], boundaries, per_subject)
            layout = self.runtime.layout
            counts[cap] = sum(per_subject[layout.work_subject(c, b, p)] for c, b, p in eligible)
        return counts
