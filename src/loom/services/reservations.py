"""``ReservationService``: advisory leases on paths so two agents don't edit the same files.

Each reservation is a key ``<guid>.<hash of path>`` written with a per-message TTL, so it
expires on the server even if its holder dies. After writing, the writer reads again: if
another agent's overlapping reservation landed first (a lower revision), it yields.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING

from nats.js.kv import KeyValue

from loom.errors import InvalidArgument
from loom.models.base import encode, utcnow
from loom.models.reservation import Reservation
from loom.services.agent_state import AgentState
from loom.services.globs import covers, normalise
from loom.services.kvstore import read_all

if TYPE_CHECKING:
    from loom.runtime import Runtime


def key_for(guid: str, path: str) -> str:
    return f"{guid}.{hashlib.sha256(path.encode()).hexdigest()[:24]}"


class ReservationService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def _kv(self) -> KeyValue:
        return await self.runtime.bus.kv(self.runtime.layout.reservations_bucket)

    async def _all(self) -> list[tuple[int, Reservation]]:
        found = await read_all(self.runtime.bus, self.runtime.layout.reservations_bucket, Reservation)
        now = utcnow()
        return [(revision, r) for revision, r in found if r.expires_at > now]

    @staticmethod
    def _conflicts(mine: Reservation, others: list[tuple[int, Reservation]]) -> list[tuple[int, Reservation]]:
        return [
            (rev, r)
            for rev, r in others
            if r.holder_guid != mine.holder_guid
            and (mine.exclusive or r.exclusive)
            and covers(r.path, mine.path)
        ]

    async def reserve(
        self, paths: list[str], ttl_seconds: int = 3600, exclusive: bool = True, reason: str | None = None
    ) -> tuple[list[str], list[Reservation]]:
        me = self.runtime.service(AgentState).require()
        if not paths or len(paths) > 100:
            raise InvalidArgument("give 1..100 paths", field="paths")
        if not 1 <= ttl_seconds <= 86400:
            raise InvalidArgument("must be between 1 and 86400", field="ttlSeconds")
        wanted = list(dict.fromkeys(normalise(p) for p in paths))
        expires = utcnow() + timedelta(seconds=ttl_seconds)
        existing = await self._all()
        granted: list[Reservation] = []
        conflicts: list[Reservation] = []
        for path in wanted:
            mine = Reservation(
                path=path,
                holder_guid=me.guid,
                holder_handle=me.handle,
                exclusive=exclusive,
                reason=reason,
                expires_at=expires,
            )
            clash = self._conflicts(mine, existing)
            if clash:
                conflicts += [r for _, r in clash]
            else:
                granted.append(mine)
        kv = await self._kv()
        revisions = {}
        for mine in granted:
            ack = await self.runtime.bus.js.publish(
                f"$KV.{self.runtime.layout.reservations_bucket.name}.{key_for(me.guid, mine.path)}",
                encode(mine),
                msg_ttl=float(ttl_seconds),
            )
            revisions[mine.path] = ack.seq
        # Two agents reserving at once both saw no conflict: the later writer yields.
        after = await self._all()
        kept = []
        for mine in granted:
            earlier = [(rev, r) for rev, r in self._conflicts(mine, after) if rev < revisions[mine.path]]
            if earlier:
                await kv.purge(key_for(me.guid, mine.path))
                conflicts += [r for _, r in earlier]
            else:
                kept.append(mine.path)
        return kept, conflicts

    async def release(self, paths: list[str] | None = None) -> list[str]:
        me = self.runtime.service(AgentState).require()
        kv = await self._kv()
        held = [r for _, r in await self._all() if r.holder_guid == me.guid]
        wanted = None if paths is None else {normalise(p) for p in paths}
        released = []
        for reservation in held:
            if wanted is None or reservation.path in wanted:
                await kv.purge(key_for(me.guid, reservation.path))
                released.append(reservation.path)
        return released

    async def list(self, prefix: str | None = None) -> list[Reservation]:
        found = [r for _, r in await self._all()]
        if prefix:
            found = [r for r in found if r.path.startswith(normalise(prefix, "pathPrefix"))]
        return sorted(found, key=lambda r: r.path)
