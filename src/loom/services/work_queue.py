"""Queue mechanics: durable pull consumers per (capability, boundary slot, priority) subject.

A claim is a single ``no_wait`` pull request, so it returns at once when the subject is
empty and no client library minimum leaks into ``claim_work(timeout=...)``. The message's
ack reply subject is kept in the work record, so any process can later ack, nak or extend
the lease of that delivery by publishing to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from loom.bus.layout import NO_BOUNDARY, PRIORITY_LEVELS
from loom.errors import Unavailable
from loom.models.base import decode, encode
from loom.models.work import WorkRecord

if TYPE_CHECKING:
    from loom.runtime import Runtime


REVISION_HEADER = "Loom-Revision"


@dataclass(frozen=True)
class Delivery:
    work_id: str
    ack_subject: str
    delivered: int  # 1 on the first delivery
    offered: tuple[WorkRecord, int] | None = None  # the record as offered, and its revision

    @property
    def known(self) -> tuple[WorkRecord | None, int] | None:
        """What the record most likely is now: as offered, on the first delivery only (a later
        one follows a claim). A stale guess only costs the claim a compare-and-set retry."""
        return self.offered if self.delivered == 1 else None


def parse_delivered(ack_subject: str) -> int:
    """``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`` (v1 form),
    or the v2 form with domain and account hash tokens in front."""
    tokens = ack_subject.split(".")
    return int(tokens[4] if len(tokens) == 9 else tokens[-5])


def parse_delivery(msg: Msg) -> Delivery | None:
    """A queue message: the offered record with its revision, or (queued by an older Loom)
    the item's id alone; None when it is neither."""
    delivered = parse_delivered(msg.reply)
    if not msg.data.startswith(b"{"):
        return Delivery(msg.data.decode(), msg.reply, delivered)
    record = decode(WorkRecord, msg.data, where=msg.subject)  # logs what it could not read
    if record is None:  # the claim reads the record itself, by the id if there is one
        try:
            return Delivery(str(json.loads(msg.data)["id"]), msg.reply, delivered)
        except (ValueError, KeyError, TypeError):
            return None
    revision = int((msg.headers or {}).get(REVISION_HEADER, 0))
    return Delivery(record.id, msg.reply, delivered, (record, revision) if revision else None)


class WorkQueue:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._consumers: set[str] = set()
        self._subjects: dict[tuple[str, str | None, int], str] = {}  # every claim looks at them all

    @property
    def stream(self) -> str:
        return self.runtime.layout.work_stream.name

    async def ready(self) -> None:
        await self.runtime.bus.stream(self.runtime.layout.work_stream)

    def subject(self, capability: str, boundary: str | None, priority: int) -> str:
        key = (capability, boundary, priority)
        subject = self._subjects.get(key)
        if subject is None:
            subject = self._subjects[key] = self.runtime.layout.work_subject(capability, boundary, priority)
        return subject

    async def publish(self, record: WorkRecord, revision: int, dedup: str) -> None:
        """Queue ``record`` (at ``revision`` in the work bucket): the message carries the
        record, so the claim needs no read before its compare-and-set."""
        await self.ready()
        subject = self.subject(record.capability, record.boundary, record.priority)
        headers = {"Nats-Msg-Id": dedup, REVISION_HEADER: str(revision)}
        await self.runtime.bus.js.publish(subject, encode(record), headers=headers)

    async def counts(self, capability: str) -> dict[str, int]:
        """Stored messages per subject of one capability (pending plus claimed-not-acked).

        Asked of the stream-info API directly: only ``state.subjects`` is needed, and every
        claim asks, so the full ``StreamInfo`` nats-py would build is skipped."""
        await self.ready()
        request = json.dumps({"subjects_filter": self.runtime.layout.work_capability_wildcard(capability)})
        msg = await self.runtime.bus.nc.request(
            f"$JS.API.STREAM.INFO.{self.stream}", request.encode(), timeout=5
        )
        reply = json.loads(msg.data)
        if "error" in reply:
            raise Unavailable(f"the work queue did not answer: {reply['error'].get('description', '')}")
        return dict(reply.get("state", {}).get("subjects") or {})

    def candidates(
        self, capabilities: list[str], boundaries: list[str], counts: dict[str, int]
    ) -> list[tuple[str, str | None, int]]:
        """Subjects worth a pull, highest priority first: (capability, boundary, priority)."""
        slots: list[str | None] = [None, *boundaries]
        return [
            (cap, slot, priority)
            for priority in PRIORITY_LEVELS
            for cap in capabilities
            for slot in slots
            if counts.get(self.subject(cap, slot, priority), 0) > 0
        ]

    async def _consumer(self, capability: str, boundary: str | None, priority: int) -> str:
        layout = self.runtime.layout
        name = layout.work_consumer(capability, boundary, priority)
        if name not in self._consumers:
            config = ConsumerConfig(
                durable_name=name,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.runtime.settings.work_lease,
                max_deliver=-1,  # attempts are counted by us, so the DLQ gets every item
                filter_subject=layout.work_subject(capability, boundary, priority),
                max_ack_pending=-1,
            )
            # Create-or-update: a changed LOOM_WORK_LEASE updates the consumer's ack_wait.
            await self.runtime.bus.js.add_consumer(self.stream, config)
            self._consumers.add(name)
        return name

    async def pull(self, capability: str, boundary: str | None, priority: int) -> Delivery | None:
        """One message from that subject's consumer, or None at once when it has none."""
        consumer = await self._consumer(capability, boundary, priority)
        request = json.dumps({"batch": 1, "no_wait": True}).encode()
        # Old style (an inbox of its own): a delivered message keeps its original subject, so
        # nats-py's shared request inbox, which finds the waiter by subject, would drop it.
        while True:
            msg: Msg = await self.runtime.bus.nc.request(
                f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{consumer}", request, timeout=5, old_style=True
            )
            if msg.headers and msg.headers.get("Status") or not msg.reply:
                return None  # 404 no messages / 408 request expired
            delivery = parse_delivery(msg)
            if delivery is not None:
                return delivery
            await self.ack(msg.reply, b"+TERM")  # no item can come of it: don't offer it again

    async def ack(self, ack_subject: str, kind: bytes = b"+ACK") -> None:
        """``+ACK`` done, ``+WPI`` extend the lease, ``+TERM`` drop, ``-NAK {...}`` redeliver later."""
        await self.runtime.bus.nc.publish(ack_subject, kind)

    async def nak(self, ack_subject: str, delay_seconds: float) -> None:
        payload = json.dumps({"delay": int(delay_seconds * 1e9)}).encode()
        await self.ack(ack_subject, b"-NAK " + payload)

    def wake_subjects(self, capabilities: list[str]) -> list[str]:
        return [self.runtime.layout.work_capability_wildcard(cap) for cap in capabilities]

    @staticmethod
    def wake_group(capabilities: list[str], boundaries: list[str]) -> str:
        """A queue group shared by waiters that could take exactly the same items."""
        profile = json.dumps([sorted(capabilities), sorted(boundaries)]).encode()
        return "loom-claim-" + hashlib.sha256(profile).hexdigest()[:16]


__all__ = ["NO_BOUNDARY", "Delivery", "WorkQueue", "parse_delivered"]
