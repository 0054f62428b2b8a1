"""``DeadLetterQueue``: list, retry and discard the items that ran out of attempts.

Items get here from ``WorkService`` (a last lease that lapsed, a failure past the attempts,
an unrecoverable failure); each letter holds the item as it was and every error it collected.
A retry queues the item again under a new generation, so the queue's duplicate window never
mistakes it for the original offer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loom.errors import InvalidArgument, NotFound
from loom.models.base import utcnow
from loom.models.work import DeadLetter, WorkRecord
from loom.services.kvstore import cas_write, read, read_all
from loom.services.work import WorkService

if TYPE_CHECKING:
    from nats.js.kv import KeyValue

    from loom.runtime import Runtime


class DeadLetterQueue:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.work = runtime.service(WorkService)

    async def _letter(self, work_id: str) -> tuple[KeyValue, DeadLetter]:
        kv = await self.runtime.bus.kv(self.runtime.layout.dlq_bucket)
        letter, _ = await read(kv, work_id, DeadLetter)
        if letter is None:
            raise NotFound(f"no dead-lettered item {work_id}", field="itemId")
        return kv, letter

    async def list(self, capability: str | None = None, limit: int = 20) -> list[DeadLetter]:
        """The newest letters first, of one capability or all."""
        if not 1 <= limit <= 100:
            raise InvalidArgument("must be between 1 and 100", field="limit")
        found = await read_all(self.runtime.bus, self.runtime.layout.dlq_bucket, DeadLetter)
        letters = [d for _, d in found if capability is None or d.work_item.capability == capability]
        letters.sort(key=lambda d: d.failed_at, reverse=True)
        return letters[:limit]

    async def retry(self, work_id: str, reset_attempts: bool = False) -> WorkRecord:
        """Offer the item again: with one more attempt, or all of them when ``reset_attempts``."""
        kv, letter = await self._letter(work_id)

        def requeue(record: WorkRecord | None) -> WorkRecord | None:
            base = record or letter.work_item
            attempts = 0 if reset_attempts else base.attempts
            limit = self.runtime.settings.work_max_attempts if reset_attempts else base.attempts + 1
            return base.model_copy(
                update={
                    "status": "pending",
                    "assigned_to": None,
                    "attempt_base": attempts,
                    "attempts": attempts,
                    "max_attempts": limit,
                    "ack_subject": None,
                    "generation": base.generation + 1,
                    "updated_at": utcnow(),
                }
            )

        work_kv = await self.runtime.bus.kv(self.runtime.layout.work_bucket)
        record, revision = await cas_write(work_kv, work_id, WorkRecord, requeue)
        assert record is not None
        await self.work.queue.publish(record, revision, dedup=f"{record.id}-g{record.generation}")
        await kv.purge(work_id)
        return record

    async def discard(self, work_id: str) -> None:
        kv, _ = await self._letter(work_id)
        await kv.purge(work_id)
