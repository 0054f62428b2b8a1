"""A leader lease in KV with a server-side TTL: one Weft per project runs the background loops.

The holder renews well inside the TTL with a compare-and-set on the key's last sequence;
if it dies, the server expires the key and another Weft takes over within one TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING

from nats.js.errors import APIError, KeyNotFoundError

if TYPE_CHECKING:
    from loom.runtime import Runtime

LEASE_TTL = 5.0
RENEW_EVERY = 1.5


class LeaderLease:
    def __init__(self, runtime: Runtime, name: str = "leader") -> None:
        self.runtime = runtime
        self.key = name
        self.holder = uuid.uuid4().hex
        self.is_leader = asyncio.Event()
        self._revision = 0

    async def _publish(self, expected: int) -> int:
        bucket = self.runtime.layout.weft_bucket
        await self.runtime.bus.kv(bucket)
        ack = await self.runtime.bus.js.publish(
            f"$KV.{bucket.name}.{self.key}",
            self.holder.encode(),
            headers={"Nats-Expected-Last-Subject-Sequence": str(expected)},
            msg_ttl=LEASE_TTL,
        )
        return int(ack.seq)

    async def _current(self) -> tuple[str | None, int]:
        kv = await self.runtime.bus.kv(self.runtime.layout.weft_bucket)
        try:
            entry = await kv.get(self.key)
        except KeyNotFoundError as exc:
            return None, getattr(getattr(exc, "entry", None), "revision", 0) or 0
        return (entry.value.decode() if entry.value else None), entry.revision or 0

    async def run(self) -> None:
        """Try to take or keep the lease forever."""
        while True:
            with contextlib.suppress(APIError, TimeoutError, Exception):
                holder, revision = await self._current()
                if holder in (None, self.holder):
                    expected = self._revision if holder == self.holder else revision
                    self._revision = await self._publish(expected)
                    self.is_leader.set()
                else:
                    self.is_leader.clear()
            await asyncio.sleep(RENEW_EVERY)
