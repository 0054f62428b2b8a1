"""[reservations] reserve_paths, release_paths, list_reservations."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from loom.mcp.toolkit import Reply, ToolArgs, Toolset
from loom.models.reservation import Reservation
from loom.runtime import Runtime
from loom.services.reservations import ReservationService

toolset = Toolset("reservations")


def conflict_data(r: Reservation) -> dict[str, Any]:
    wire = r.to_wire()
    return {k: wire[k] for k in ("path", "holderGuid", "holderHandle", "expiresAt")}


class ReserveArgs(ToolArgs):
    paths: list[str] = Field(min_length=1, max_length=100)
    ttl_seconds: int = Field(default=3600, ge=1, le=86400)
    exclusive: bool = True
    reason: str | None = Field(default=None, max_length=500)


@toolset.tool("reserve_paths", "Reserve paths or globs (advisory) so others don't edit them.", ReserveArgs)
async def reserve_paths(rt: Runtime, args: ReserveArgs) -> Reply:
    granted, conflicts = await rt.service(ReservationService).reserve(
        args.paths, args.ttl_seconds, args.exclusive, args.reason
    )
    text = f"Granted: {', '.join(granted) or 'none'}."
    if conflicts:
        text += " Conflicts: " + ", ".join(f"{c.path} (held by {c.holder_handle})" for c in conflicts)
    return Reply(text, {"granted": granted, "conflicts": [conflict_data(c) for c in conflicts]})


class ReleaseArgs(ToolArgs):
    paths: list[str] | None = None


@toolset.tool("release_paths", "Release your reservations (all of them when paths is null).", ReleaseArgs)
async def release_paths(rt: Runtime, args: ReleaseArgs) -> Reply:
    released = await rt.service(ReservationService).release(args.paths)
    return Reply(f"Released {len(released)} reservation(s).", {"released": released})


class ListArgs(ToolArgs):
    path_prefix: str | None = Field(default=None, max_length=1024)


@toolset.tool("list_reservations", "Current path reservations of the project.", ListArgs, read_only=True)
async def list_reservations(rt: Runtime, args: ListArgs) -> Reply:
    found = await rt.service(ReservationService).list(args.path_prefix)
    data = [
        {
            k: r.to_wire()[k]
            for k in ("path", "holderGuid", "holderHandle", "exclusive", "reason", "expiresAt")
        }
        for r in found
    ]
    lines = [f"{r.path} — {r.holder_handle}{' (shared)' if not r.exclusive else ''}" for r in found]
    return Reply("\n".join(lines) or "No reservations.", {"reservations": data})
