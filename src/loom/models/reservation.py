"""Path reservations."""

from __future__ import annotations

from datetime import datetime

from loom.models.base import Record


class Reservation(Record):
    path: str
    holder_guid: str
    holder_handle: str
    exclusive: bool = True
    reason: str | None = None
    expires_at: datetime
