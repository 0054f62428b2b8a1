"""The base of every wire record: pydantic, camelCase JSON, a schema version.

Records are JSON with camelCase keys (the same keys the MCP tools and REST API return).
``decode`` never raises on bad data: a malformed or unknown record is logged and skipped,
so one bad entry can't break a listing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

log = logging.getLogger("loom.models")

R = TypeVar("R", bound="Record")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and ``Z``."""
    if ts is None:
        return None
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Record(BaseModel):
    """A versioned wire record. Subclasses set ``SCHEMA`` when their shape changes."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    SCHEMA: ClassVar[int] = 1
    v: int = 1

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict with camelCase keys and ISO timestamps."""
        return self.model_dump(mode="json", by_alias=True, exclude={"v"})


def encode(record: Record) -> bytes:
    return record.model_dump_json(by_alias=True).encode()


def decode(model: type[R], data: bytes | str | None, *, where: str = "") -> R | None:
    """Parse ``data`` as ``model``; log and return ``None`` when it is malformed or too new."""
    if not data:
        return None
    try:
        record = model.model_validate_json(data)
    except ValidationError as exc:
        log.warning(
            "skipping malformed %s record%s: %s",
            model.__name__,
            f" at {where}" if where else "",
            exc.errors()[0]["msg"],
        )
        return None
    if record.v > model.SCHEMA:
        log.warning(
            "skipping %s record of newer schema v%d%s",
            model.__name__,
            record.v,
            f" at {where}" if where else "",
        )
        return None
    return record
