"""Page arithmetic of channel reads, and the decoded messages a process read lately.

A stored channel message never changes, so once read and decoded it can be served again
without asking the server for it, as long as it is still in the channel: the reader asks
for the channel's state (first and last sequence, and when the stream was created) on
every read and serves only sequences inside first..last of that same stream. Loom never
deletes single channel messages; a purge or a discarded oldest message moves ``first``, and
a channel deleted and made again has a new creation time, which drops what was kept of it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from loom.models.base import decode
from loom.models.messages import ChannelMessage

T = TypeVar("T")

PER_CHANNEL = 1000  # one page of the largest size
BUDGET_BYTES = 4 * 1024 * 1024  # of stored message bytes, over all channels
LARGEST_KEPT = 16 * 1024  # bigger messages are read from the server every time


def page_range(
    first: int, last: int, limit: int, before: int | None, after: int | None
) -> tuple[int, int, bool]:
    """(start, end, has_more) of a page: the newest ``limit``, or those before/after a sequence."""
    if after is not None:
        start = max(after + 1, first)
        end = min(last, start + limit - 1)
        return start, end, end < last
    end = min(last, before - 1) if before is not None else last
    start = max(first, end - limit + 1)
    return start, end, start > first


@dataclass
class Kept:
    """One decoded message (None when malformed: skipped, as on every read) and what callers
    derived from it."""

    message: ChannelMessage | None
    size: int
    derived: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Channel:
    created: str
    messages: dict[int, Kept] = field(default_factory=dict)
    size: int = 0


class RecentMessages:
    """Decoded messages per channel, bounded by count per channel and by bytes overall."""

    def __init__(self) -> None:
        self._channels: OrderedDict[str, _Channel] = OrderedDict()  # least recently read first
        self._size = 0

    def run(self, name: str, created: str, start: int, end: int) -> list[tuple[int, Kept]] | None:
        """Every message ``start..end`` of the channel, or None when any of them is not kept."""
        channel = self._channel(name, created)
        found = [(seq, channel.messages.get(seq)) for seq in range(start, end + 1)]
        if any(kept is None for _, kept in found):
            return None
        return cast(list[tuple[int, Kept]], found)

    def has(self, name: str, created: str, start: int, end: int) -> bool:
        channel = self._channels.get(name)
        if channel is None or channel.created != created:
            return False
        return all(seq in channel.messages for seq in range(start, end + 1))

    def keep(self, name: str, created: str, seq: int, data: bytes) -> Kept:
        """Decode a message read from the server and keep it when it is small enough."""
        kept = Kept(decode(ChannelMessage, data, where=f"#{name}@{seq}"), len(data))
        if kept.size <= LARGEST_KEPT:
            channel = self._channel(name, created)
            old = channel.messages.get(seq)
            channel.messages[seq] = kept
            change = kept.size - (old.size if old else 0)
            channel.size += change
            self._size += change
        return kept

    def trim(self, name: str) -> None:
        """Back within bounds after a read: other channels go first, least recently read first,
        then the oldest messages of this one."""
        while self._size > BUDGET_BYTES and len(self._channels) > 1:
            other = next(n for n in self._channels if n != name)
            self._size -= self._channels.pop(other).size
        channel = self._channels.get(name)
        if channel is None or (len(channel.messages) <= PER_CHANNEL and self._size <= BUDGET_BYTES):
            return
        keep = PER_CHANNEL * 9 // 10  # trimmed with room to spare, so sorting is rare
        for seq in sorted(channel.messages):
            if len(channel.messages) <= keep and self._size <= BUDGET_BYTES:
                break
            kept = channel.messages.pop(seq)
            channel.size -= kept.size
            self._size -= kept.size

    def derived(self, name: str, seq: int, message: ChannelMessage, key: str, make: Callable[[], T]) -> T:
        """``make()``, computed once per kept message. Don't change the result."""
        channel = self._channels.get(name)
        kept = channel.messages.get(seq) if channel else None
        if kept is None or kept.message is not message:
            return make()
        if key not in kept.derived:
            kept.derived[key] = make()
        return cast(T, kept.derived[key])

    def _channel(self, name: str, created: str) -> _Channel:
        channel = self._channels.get(name)
        if channel is None or channel.created != created:  # new, or deleted and made again
            if channel is not None:
                self._size -= channel.size
            channel = self._channels[name] = _Channel(created)
        self._channels.move_to_end(name)
        return channel
