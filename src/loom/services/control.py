"""``ControlService``: shutdown requests to agents (written by Weft, read by Warp and workers).

A request is a key (the agent's guid) in the control bucket with a TTL, so a request for an
agent that never comes back does not linger.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from loom.models.base import Record, encode, utcnow
from loom.services.kvstore import read

if TYPE_CHECKING:
    from loom.runtime import Runtime

REQUEST_TTL = 24 * 3600.0


class ShutdownRequest(Record):
    graceful: bool = True
    reason: str = ""
    requested_at: datetime = Field(default_factory=utcnow)


class ControlService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def bucket(self) -> str:
        return self.runtime.layout.control_bucket.name

    def subject(self, guid: str) -> str:
        return f"$KV.{self.bucket}.{guid}"

    async def request_shutdown(self, guid: str, graceful: bool = True, reason: str = "") -> ShutdownRequest:
        await self.runtime.bus.kv(self.runtime.layout.control_bucket)
        request = ShutdownRequest(graceful=graceful, reason=reason[:500])
        await self.runtime.bus.js.publish(self.subject(guid), encode(request), msg_ttl=REQUEST_TTL)
        return request

    async def shutdown_requested(self, guid: str) -> ShutdownRequest | None:
        kv = await self.runtime.bus.kv(self.runtime.layout.control_bucket)
        request, _ = await read(kv, guid, ShutdownRequest)
        return request

    async def clear(self, guid: str) -> None:
        kv = await self.runtime.bus.kv(self.runtime.layout.control_bucket)
        await kv.purge(guid)
