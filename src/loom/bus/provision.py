"""Idempotent provisioning: make each stream and bucket exist with the limits of its spec.

Creating what is missing is not enough: when a configured limit changes (say a new
``LOOM_REPLICAS`` or a larger channel history), the existing stream is updated in place.
"""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from loom.bus.layout import BucketSpec, Retention, StreamSpec

log = logging.getLogger("loom.bus")

# Server-placed markers make TTL expiry visible to KV watchers (an agent going offline).
EXPIRY_MARKER_TTL = 60.0


def stream_config(spec: StreamSpec, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description or None,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.WORK_QUEUE
        if spec.retention is Retention.WORK_QUEUE
        else RetentionPolicy.LIMITS,
        max_msgs=spec.max_msgs,
        max_bytes=spec.max_bytes,
        max_age=spec.max_age,
        max_msg_size=spec.max_msg_size,
        max_msgs_per_subject=spec.max_msgs_per_subject,
        num_replicas=replicas,
        discard=DiscardPolicy.OLD,
        duplicate_window=spec.duplicate_window,
        allow_direct=True,
        allow_msg_ttl=spec.allow_msg_ttl or None,
        metadata=spec.metadata or None,
    )


def bucket_config(spec: BucketSpec, replicas: int) -> StreamConfig:
    """The stream behind a KV bucket, built the way KV clients expect it."""
    return StreamConfig(
        name=f"KV_{spec.name}",
        description=spec.description or None,
        subjects=[f"$KV.{spec.name}.>"],
        allow_direct=True,
        allow_rollup_hdrs=True,
        allow_msg_ttl=True,
        deny_delete=True,
        discard=DiscardPolicy.NEW,
        duplicate_window=120.0,
        max_bytes=spec.max_bytes,
        max_consumers=-1,
        max_msg_size=spec.max_value_size,
        max_msgs=-1,
        max_msgs_per_subject=spec.history,
        num_replicas=replicas,
        subject_delete_marker_ttl=EXPIRY_MARKER_TTL if spec.ttl_keys else None,
    )


_COMPARED = (
    "subjects",
    "max_msgs",
    "max_bytes",
    "max_age",
    "max_msg_size",
    "max_msgs_per_subject",
    "num_replicas",
    "allow_msg_ttl",
    "subject_delete_marker_ttl",
    "description",
)


def _differs(current: StreamConfig, wanted: StreamConfig) -> list[str]:
    changed = []
    for name in _COMPARED:
        have, want = getattr(current, name), getattr(wanted, name)
        if want is None:
            continue
        if isinstance(want, list):
            have, want = sorted(have or []), sorted(want)
        if have != want:
            changed.append(name)
    return changed


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it when any limit we own differs."""
    try:
        info = await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError:
            info = await js.stream_info(config.name or "")  # lost a creation race: fine
    changed = _differs(info.config, config)
    if changed:
        log.info("updating stream %s: %s", config.name, ", ".join(changed))
        await js.update_stream(config)
