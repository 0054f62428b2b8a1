"""Small helpers over nats-py KV: typed reads and compare-and-set updates with retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from loom.bus.bus import Bus
from loom.bus.layout import BucketSpec
from loom.bus.replay import read_range
from loom.errors import Conflict
from loom.models.base import Record, decode, encode

R = TypeVar("R", bound=Record)

CAS_RETRIES = 20


async def read(kv: KeyValue, key: str, model: type[R]) -> tuple[R | None, int]:
    """The record at ``key`` and its revision (0 when absent or deleted)."""
    try:
        entry = await kv.get(key)
    except KeyNotFoundError:
        return None, 0
    if entry.operation in ("DEL", "PURGE") or not entry.value:
        return None, entry.revision or 0
    return decode(model, entry.value, where=key), entry.revision or 0


async def read_all(bus: Bus, spec: BucketSpec, model: type[R]) -> list[tuple[int, R]]:
    """Every live record of a bucket with its revision, in one consumer fetch (no get per key).

    Deleted keys and server expiry markers carry headers and are skipped, and so is a
    malformed value (logged by ``decode``).
    """
    await bus.kv(spec)
    stream = f"KV_{spec.name}"
    info = await bus.js.stream_info(stream)
    if info.state.messages == 0:
        return []
    batch = await read_range(bus, stream, f"$KV.{spec.name}.>", 0, info.state.messages, last_per_subject=True)
    found = []
    for msg in batch.messages:
        if not msg.data or "KV-Operation" in msg.headers or "Nats-Marker-Reason" in msg.headers:
            continue
        record = decode(model, msg.data, where=msg.subject)
        if record is not None:
            found.append((msg.seq, record))
    return found


async def cas_update(
    kv: KeyValue,
    key: str,
    model: type[R],
    mutate: Callable[[R | None], R | None],
    *,
    known: tuple[R | None, int] | None = None,
) -> R | None:
    """Read, ``mutate``, write only if nobody wrote in between; retry on a lost race.

    ``mutate`` gets the current record (or None) and returns the new one, or None to leave
    it unchanged. Two writers never lose each other's change. ``known`` is a (record,
    revision) the caller has just read: the first attempt starts from it instead of
    reading again (a stale one only costs a retry).
    """
    record, _ = await cas_write(kv, key, model, mutate, known=known)
    return record


async def cas_write(
    kv: KeyValue,
    key: str,
    model: type[R],
    mutate: Callable[[R | None], R | None],
    *,
    known: tuple[R | None, int] | None = None,
) -> tuple[R | None, int]:
    """``cas_update``, also giving the revision the record is now at."""
    for _ in range(CAS_RETRIES):
        current, revision = known if known is not None else await read(kv, key, model)
        known = None
        updated = mutate(current)
        if updated is None:
            return current, revision
        try:
            if revision:
                revision = await kv.update(key, encode(updated), last=revision)
            else:
                revision = await kv.create(key, encode(updated))
        except KeyWrongLastSequenceError:
            continue  # someone wrote in between: read again
        return updated, revision
    raise Conflict(f"{key} is being changed by others; try again")


async def purge(bus: Bus, spec: BucketSpec, key: str) -> int:
    """Remove ``key`` and its history; the revision of the purge marker.

    What ``KeyValue.purge`` sends, except that nats-py drops the revision, and a reader
    that must see its own write needs it.
    """
    await bus.kv(spec)
    headers = {"KV-Operation": "PURGE", "Nats-Rollup": "sub"}
    ack = await bus.js.publish(f"$KV.{spec.name}.{key}", headers=headers)
    return ack.seq
