"""Reading a run of stored messages with one consumer fetch (not one request per message)."""

from __future__ import annotations

import contextlib

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError


async def read_range(
    js: JetStreamContext,
    stream: str,
    subject: str,
    start_seq: int,
    count: int,
    *,
    last_per_subject: bool = False,
) -> list[Msg]:
    """Up to ``count`` messages on ``subject`` from ``start_seq`` on, oldest first.

    An ephemeral, memory-backed consumer with no acks is created at the start sequence and
    drained with a single batch fetch; it is removed afterwards (and by the server after a
    short inactivity if we die first).
    """
    if count <= 0:
        return []
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
    sub = await js.pull_subscribe(subject, stream=stream, config=config)
    try:
        try:
            return list(await sub.fetch(count, timeout=5))
        except NatsTimeout:
            return []
    finally:
        with contextlib.suppress(Exception):
            info = await sub.consumer_info()
            await sub.unsubscribe()
            await js.delete_consumer(stream, info.name)


async def subject_count(js: JetStreamContext, stream: str, subject: str) -> int:
    """How many stored messages ``subject`` has (0 when the stream is missing)."""
    try:
        info = await js.stream_info(stream, subjects_filter=subject)
    except NotFoundError:
        return 0
    return int((info.state.subjects or {}).get(subject, 0))
