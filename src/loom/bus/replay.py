"""Reading a run of stored messages in one round trip (not one request per message).

The fast path is a batched direct get (``$JS.API.DIRECT.GET`` with ``batch``, server 2.11+):
one request, the server streams the messages back and ends with an ``EOB`` status. Streams
that don't serve direct gets fall back to an ephemeral consumer drained with one fetch.

Every replica of a stream answers direct gets, and a follower may not have applied the
newest writes yet; a consumer reads from the leader. So a run found incomplete is read again
through a consumer, and callers that must see the newest message (an inbox, where a missed
one would wait for the next read) pass ``direct=False`` on replicated streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

if TYPE_CHECKING:
    from loom.bus.bus import Bus

READ_TIMEOUT = 5.0
_SUB_PENDING_BYTES = 256 * 1024 * 1024  # as nats-py allows a consumer fetch (a big page)


@dataclass(frozen=True)
class Stored:
    """One stored message: its stream sequence, subject, payload and headers."""

    seq: int
    subject: str
    data: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Batch:
    messages: list[Stored]
    pending: int  # matching messages stored after the last one returned


def _direct_supported(bus: Bus) -> bool:
    version = bus.nc.connected_server_version
    return bool(version) and (version.major, version.minor) >= (2, 11)


@dataclass(frozen=True)
class _Reply:
    messages: list[Msg]
    status: str
    headers: dict[str, str]  # of the closing status message


async def _direct_get(bus: Bus, stream: str, request: dict[str, Any], timeout: float) -> _Reply:
    """One batched direct get: the messages the server streams back, then its closing status."""
    loop = asyncio.get_running_loop()
    got: list[Msg] = []
    ended: asyncio.Future[dict[str, str]] = loop.create_future()

    async def collect(msg: Msg) -> None:
        headers = msg.headers or {}
        if "Status" not in headers:
            got.append(msg)
        elif not ended.done():
            ended.set_result(headers)

    inbox = bus.nc.new_inbox()
    sub = await bus.nc.subscribe(inbox, cb=collect, pending_bytes_limit=_SUB_PENDING_BYTES)
    try:
        await bus.nc.publish(f"$JS.API.DIRECT.GET.{stream}", json.dumps(request).encode(), reply=inbox)
        try:
            status = await asyncio.wait_for(ended, timeout)
        except TimeoutError:
            # No closing status (a dropped reply, a slow-consumer cut): an incomplete answer
            # that the callers treat like any other non-204 one, reading through a consumer.
            return _Reply(got, "timeout", {})
    finally:
        await sub.unsubscribe()
    return _Reply(got, status["Status"], status)


async def direct_batch(
    bus: Bus, stream: str, subject: str, start_seq: int, count: int, *, timeout: float = READ_TIMEOUT
) -> Batch | None:
    """Up to ``count`` messages on ``subject`` from ``start_seq`` on, by one batched direct get.

    ``None`` when the stream does not answer direct gets (``allow_direct`` off, an older
    server, no responder), so the caller can read another way.
    """
    if count <= 0:
        return Batch([], 0)
    if not _direct_supported(bus):
        return None
    request = {"seq": max(1, start_seq), "batch": count, "next_by_subj": subject}
    reply = await _direct_get(bus, stream, request, timeout)
    if reply.status == "204":  # end of batch
        messages = []
        for msg in reply.messages:
            headers = msg.headers or {}
            messages.append(Stored(int(headers["Nats-Sequence"]), headers["Nats-Subject"], msg.data, headers))
        return Batch(messages, int(reply.headers.get("Nats-Num-Pending", 0)))
    if reply.status == "404":  # nothing stored from start_seq on
        return Batch([], 0)
    return None


async def read_run(bus: Bus, stream: str, subject: str, start_seq: int, end_seq: int) -> list[Stored]:
    """Messages ``start_seq..end_seq`` of ``subject``, where every sequence in between is
    expected to be there (a channel's own stream).

    Asked for without per-message headers, which halves the client's work per message; the
    sequences follow from the count, checked against the last sequence the server reports.
    Any gap (or a replica behind the leader), and the run is read again through a consumer.
    """
    count = end_seq - start_seq + 1
    if count <= 0:
        return []
    if _direct_supported(bus):
        request = {"seq": start_seq, "batch": count, "next_by_subj": subject, "no_hdr": True}
        reply = await _direct_get(bus, stream, request, READ_TIMEOUT)
        whole = len(reply.messages) == count and reply.headers.get("Nats-Last-Sequence") == str(end_seq)
        if reply.status == "204" and whole:
            return [Stored(start_seq + i, subject, m.data, {}) for i, m in enumerate(reply.messages)]
    batch = await consumer_range(bus, stream, subject, start_seq, count)
    return [m for m in batch.messages if m.seq <= end_seq]


async def read_range(
    bus: Bus,
    stream: str,
    subject: str,
    start_seq: int,
    count: int,
    *,
    last_per_subject: bool = False,
    direct: bool = True,
) -> Batch:
    """Up to ``count`` messages on ``subject`` from ``start_seq`` on (or the last message of
    each subject it matches), oldest first; ``direct=False`` reads through a consumer."""
    if count <= 0:
        return Batch([], 0)
    if direct and not last_per_subject:
        batch = await direct_batch(bus, stream, subject, start_seq, count)
        if batch is not None:
            return batch
    return await consumer_range(bus, stream, subject, start_seq, count, last_per_subject=last_per_subject)


async def consumer_range(
    bus: Bus,
    stream: str,
    subject: str,
    start_seq: int,
    count: int,
    *,
    last_per_subject: bool = False,
) -> Batch:
    """``read_range`` through an ephemeral, memory-backed consumer with no acks, drained
    with one fetch and removed afterwards (and by the server after a short inactivity if we
    die first)."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.LAST_PER_SUBJECT
        if last_per_subject
        else DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=None if last_per_subject else max(1, start_seq),
        ack_policy=AckPolicy.NONE,
        mem_storage=True,
        inactive_threshold=30.0,
        max_waiting=1,
        filter_subject=subject,
    )
    sub = await bus.js.pull_subscribe(subject, stream=stream, config=config)
    name, available = None, 0
    try:
        info = await sub.consumer_info()
        name = info.name
        # Asking for no more than is there keeps the fetch from waiting out its timeout.
        available = info.num_pending or 0
        wanted = min(count, available)
        try:
            raw = list(await sub.fetch(wanted, timeout=READ_TIMEOUT)) if wanted else []
        except NatsTimeout:
            raw = []
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
            if name is not None:
                await bus.js.delete_consumer(stream, name)
    messages = [Stored(m.metadata.sequence.stream, m.subject, m.data, dict(m.headers or {})) for m in raw]
    pending = raw[-1].metadata.num_pending if raw else available
    return Batch(messages, pending)


async def subject_count(bus: Bus, stream: str, subject: str) -> int:
    """How many stored messages ``subject`` has (0 when the stream is missing)."""
    try:
        info = await bus.js.stream_info(stream, subjects_filter=subject)
    except NotFoundError:
        return 0
    return int((info.state.subjects or {}).get(subject, 0))
